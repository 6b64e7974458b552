"""Per-class fidelity: real images pass, mislabelled ones fail by name, rare classes are judged fairly."""

from __future__ import annotations

import json
import math
import warnings

import pytest
import torch

import ganaug
from ganaug.metrics.fidelity import FidelityJudge, FidelityReport
from ganaug.testing import make_tiny_data


def long_tail():
    """3 classes of 40, 12 and 4 images (a stripe per class), plus a held-out set drawn alike."""
    full = make_tiny_data((1, 12, 12), num_classes=3, per_class=60, seed=1)
    keep = torch.cat([torch.arange(0, 40), torch.arange(60, 72), torch.arange(120, 124)])
    held = torch.cat([torch.arange(40, 60), torch.arange(100, 120), torch.arange(160, 180)])
    return full.subset(keep), full.subset(held)


def test_real_held_out_images_pass_and_mislabelled_ones_fail():
    train, held = long_tail()
    judge = FidelityJudge(train.images, train.labels, train.classes)
    assert all(r > 0.9 for r in judge.real_recall)
    honest = judge.judge(held.images, held.labels)
    assert honest.failing == [] and min(honest.fidelity) > 0.9
    swapped = judge.judge(held.images, (held.labels + 1) % 3)
    assert swapped.failing == ["class0", "class1", "class2"] and max(swapped.fidelity) < 0.1
    assert "'class2' 0% (real images 100%, fail line 80%)" in swapped.warning()


def test_the_rare_class_is_not_out_voted_by_the_common_one():
    train, held = long_tail()
    judge = FidelityJudge(train.images, train.labels, train.classes)
    rare = held.labels == 2
    assert float((judge.predict(held.images[rare]) == 2).double().mean()) > 0.9


def test_a_small_class_yardstick_is_shrunk_toward_the_mean_over_classes():
    train, _ = long_tail()
    labels = train.labels.clone()
    labels[[0, 1, 2, 3]], labels[40] = 1, 2  # a few wrong labels, so that the classes' recalls differ
    counts = torch.bincount(labels).tolist()  # 36, 15 and 5 images
    raw = FidelityJudge(train.images, labels, train.classes, prior_images=0)
    assert raw.real_recall == raw.cross_validated_recall
    assert len(set(raw.cross_validated_recall)) == 3, "the fixture must give the classes different recalls"
    judge = FidelityJudge(train.images, labels, train.classes)
    assert judge.cross_validated_recall == raw.cross_validated_recall
    mean = sum(raw.cross_validated_recall) / 3
    expected = [(r * n + 10 * mean) / (n + 10) for r, n in zip(raw.cross_validated_recall, counts)]
    assert judge.real_recall == pytest.approx(expected)


def test_a_yardstick_of_one_wrong_image_in_five_is_not_taken_at_face_value():
    from ganaug.metrics.fidelity import _shrunk

    shrunk = _shrunk([0.9, 0.9, 0.2], [500, 100, 5], 10.0)
    assert shrunk[2] == pytest.approx((0.2 * 5 + 10 * (2.0 / 3)) / 15)  # 0.51: the gate fails samples below 41%
    assert abs(shrunk[0] - 0.9) < 0.01  # a large class keeps its own
    assert math.isnan(_shrunk([0.5, math.nan], [4, 1], 10.0)[1])  # an unjudged class stays unjudged
    train, _ = long_tail()
    with pytest.raises(ganaug.ConfigError, match="prior_images"):
        FidelityJudge(train.images, train.labels, train.classes, prior_images=-1)


def test_a_class_with_one_image_is_unjudged_not_failed():
    store = make_tiny_data((1, 8, 8), num_classes=3, per_class=10)
    store = store.subset(torch.arange(21))  # class 2 keeps one image
    judge = FidelityJudge(store.images, store.labels, store.classes)
    report = judge.judge(store.images, store.labels)
    assert math.isnan(report.real_recall[2]) and math.isnan(report.fidelity[2])
    assert report.unjudged == ["class2"] and "class2" not in report.failing
    assert report.passes(2) is None


@pytest.mark.parametrize("kind", ["pixels", "cnn"])
def test_no_class_with_two_images_is_a_clear_error_not_a_division_by_zero(kind):
    store = make_tiny_data((1, 8, 8), num_classes=2, per_class=1)
    with pytest.raises(ganaug.DataError, match="at least one class with 2 or more real images"):
        FidelityJudge(store.images, store.labels, store.classes, kind=kind)


def test_training_on_one_image_per_class_warns_and_trains_without_fidelity(tmp_path):
    store = make_tiny_data((1, 8, 8), num_classes=2, per_class=1)
    with pytest.warns(UserWarning, match="no class has 2 or more images"):
        generator = ganaug.fit(store, "test_cdcgan", steps=1, batch_size=2, progress=False, out=tmp_path / "run")
    assert generator.fidelity is None


def test_the_fail_line_allows_for_the_error_of_a_yardstick_from_few_images():
    # yardstick 0.6 from 30 images (20 real + the prior's 10): standard error sqrt(0.6 * 0.4 / 30) ~ 0.089
    few = FidelityReport(["a", "b", "c"], [0.40, 0.30, 0.40], [0.6, 0.6, 0.6], min_fidelity=0.8,
                         yardstick_images=[30.0, 30.0, 510.0])
    assert few.fail_line[0] == pytest.approx(0.8 * (0.6 - 2 * math.sqrt(0.6 * 0.4 / 30)))
    assert few.passes(0) is True  # below 0.8 x 0.6 = 0.48, but within the yardstick's error
    assert few.passes(1) is False  # far below even the lower bound
    assert few.passes(2) is False  # 500 real images: the yardstick is sure, the line stays near 0.48
    assert few.failing == ["b", "c"]
    legacy = FidelityReport(["a"], [0.40], [0.6], min_fidelity=0.8)  # saved before the margin: the plain line
    assert legacy.fail_line == [pytest.approx(0.48)] and legacy.failing == ["a"]
    assert FidelityReport(["a"], [0.40], [0.6], 0.8, yardstick_images=[30.0], margin=0.0).failing == ["a"]


def test_the_judge_reports_the_images_each_yardstick_rests_on():
    train, held = long_tail()
    judge = FidelityJudge(train.images, train.labels, train.classes, prior_images=10)
    assert judge.yardstick_images == [50.0, 22.0, 14.0]
    report = judge.judge(held.images, held.labels)
    assert report.yardstick_images == [50.0, 22.0, 14.0] and report.margin == 2.0


def test_report_record_and_relative_fidelity():
    report = FidelityReport(["a", "b"], [0.45, 0.9], [0.9, 0.9], min_fidelity=0.8)
    assert report.relative == [0.5, 1.0]
    assert report.failing == ["a"]
    record = report.as_record()
    assert record["fidelity"] == [0.45, 0.9] and record["fidelity_failing"] == ["a"]
    assert record["fidelity_mean"] == pytest.approx(0.675)


def test_training_logs_fidelity_warns_by_class_and_saves_it(tmp_path):
    data = make_tiny_data((1, 8, 8), num_classes=3, per_class=8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        generator = ganaug.fit(data, "test_cdcgan", steps=2, batch_size=8, out=tmp_path, progress=False,
                               sample_every=1, collapse_warning_after=0, min_fidelity=1.0, tensorboard=False)
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    scored = [r for r in records if "fidelity" in r]
    assert scored and all(len(r["fidelity"]) == 3 and len(r["fidelity_real_recall"]) == 3 for r in scored)
    failing = scored[-1]["fidelity_failing"]
    assert failing, "a 2-step generator's samples cannot match real images under min_fidelity=1"
    assert any(f"'{failing[0]}'" in str(w.message) and "not recognisable" in str(w.message) for w in caught)
    assert generator.fidelity is not None
    assert generator.fidelity.fidelity == pytest.approx(scored[-1]["fidelity"], abs=1e-4)
    loaded = ganaug.load(tmp_path / "generator")
    assert loaded.fidelity == generator.fidelity
