"""The CNN fidelity judge: it sees colour, its yardstick is cross-validated, rare classes count, seeds repeat."""

from __future__ import annotations

import math

import pytest
import torch

import ganaug
from ganaug.data import ImageStore
from ganaug.metrics.batch_augment import augment_batch, resolve_preset
from ganaug.metrics.fidelity import FidelityJudge, judge_kind
from ganaug.metrics.judge_net import CnnJudgeConfig

TINY = CnnJudgeConfig(width=8, max_steps=80)


def coloured(per_class: list[int], seed: int = 0, size: int = 12) -> ImageStore:
    """Noisy RGB images whose class is their tint alone (red, green, blue, or yellow): the same brightness
    pattern everywhere, so a judge must see colour to tell them apart."""
    generator = torch.Generator().manual_seed(seed)
    tints = torch.tensor([[1.0, 0.3, 0.3], [0.3, 1.0, 0.3], [0.3, 0.3, 1.0], [0.9, 0.9, 0.2]])
    labels = torch.cat([torch.full((n,), k) for k, n in enumerate(per_class)])
    texture = torch.rand(len(labels), 1, size, size, generator=generator)
    images = (texture * tints[labels][:, :, None, None] * 255).to(torch.uint8)
    return ImageStore(images, labels, [f"tint{k}" for k in range(len(per_class))])


def test_auto_picks_the_cnn_for_colour_and_larger_images_and_pixels_for_tiny_grey_ones():
    assert judge_kind((1, 8, 8)) == "pixels" and judge_kind((1, 12, 12)) == "pixels"
    assert judge_kind((3, 8, 8)) == "cnn" and judge_kind((1, 28, 28)) == "cnn"
    assert judge_kind((3, 32, 32), "pixels") == "pixels"
    with pytest.raises(ganaug.ConfigError, match="kind"):
        judge_kind((1, 8, 8), "knn")


def test_the_cnn_judge_tells_classes_apart_by_colour_where_the_pixel_judge_cannot():
    train, held = coloured([30] * 4), coloured([30] * 4, seed=1)
    judge = FidelityJudge(train.images, train.labels, train.classes, kind="cnn", cnn=TINY, device="cpu")
    assert judge.kind == "cnn" and min(judge.real_recall) > 0.9
    report = judge.judge(held.images, held.labels)
    assert min(report.fidelity) > 0.9 and report.failing == []
    swapped = judge.judge(held.images, (held.labels + 1) % 4)
    assert swapped.failing == train.classes
    features = judge.features(held.images[:5])
    assert features.shape == (5, 3 * 4 * TINY.width)  # three fold networks side by side


def test_the_yardstick_is_cross_validated_so_mislabelled_images_lower_it():
    train = coloured([24, 24, 24])
    labels = train.labels.clone()
    labels[:6] = 1  # six red images called green: a judge that saw them could memorise them; one that did not cannot
    judge = FidelityJudge(train.images, labels, train.classes, kind="cnn", cnn=TINY, device="cpu", prior_images=0)
    recall = judge.cross_validated_recall
    assert recall[0] > 0.9 and recall[2] > 0.9
    assert recall[1] <= 24 / 30 + 0.05, f"the six mislabelled images were judged green: {recall}"


def test_a_rare_class_is_recognised_next_to_common_ones():
    train, held = coloured([60, 20, 5]), coloured([30, 30, 30], seed=1)
    judge = FidelityJudge(train.images, train.labels, train.classes, kind="cnn", cnn=TINY, device="cpu")
    predicted = judge.predict(held.images)
    assert float((predicted[held.labels == 2] == 2).double().mean()) > 0.9


def test_same_seed_same_judge():
    train, held = coloured([12, 12, 12]), coloured([10, 10, 10], seed=1)
    first, second = (FidelityJudge(train.images, train.labels, train.classes, kind="cnn", cnn=TINY, device="cpu",
                                   seed=3) for _ in range(2))
    assert first.cross_validated_recall == second.cross_validated_recall
    assert torch.equal(first.features(held.images), second.features(held.images))
    before = torch.random.get_rng_state()
    FidelityJudge(train.images, train.labels, train.classes, kind="cnn", cnn=TINY, device="cpu", seed=3)
    assert torch.equal(torch.random.get_rng_state(), before), "the caller's RNG was touched"


def test_a_class_with_one_image_is_unjudged_and_never_predicted():
    train = coloured([12, 12, 1])
    judge = FidelityJudge(train.images, train.labels, train.classes, kind="cnn", cnn=TINY, device="cpu")
    assert judge.judged_classes == [0, 1] and math.isnan(judge.real_recall[2])
    assert 2 not in judge.predict(coloured([5, 5, 5], seed=1).images).tolist()


def test_the_pixel_judge_is_still_there_and_has_features():
    store = ganaug.testing.make_tiny_data((3, 8, 8), num_classes=3, per_class=12)
    judge = FidelityJudge(store.images, store.labels, store.classes, kind="pixels")
    assert judge.kind == "pixels" and min(judge.real_recall) > 0.9
    assert judge.features(store.images).shape == (36, judge.components)


def test_batch_augmentation_is_seeded_and_keeps_digits_upright():
    images = torch.rand(16, 3, 8, 8)
    moved = [augment_batch(images, torch.Generator().manual_seed(1), "microscopy") for _ in range(2)]
    assert torch.equal(moved[0], moved[1]) and moved[0].shape == images.shape
    assert not torch.equal(moved[0], images) and 0 <= moved[0].min() and moved[0].max() <= 1
    assert resolve_preset("auto", 1) == "digits" and resolve_preset("auto", 3) == "microscopy"
    column = torch.zeros(1, 1, 8, 8)
    column[..., 2] = 1.0  # a flip or quarter turn would move the bright column's weight to the right or to a row
    digits = augment_batch(column.repeat(64, 1, 1, 1), torch.Generator().manual_seed(0), "digits", shift=0.0)
    assert (digits[..., :4].sum((1, 2, 3)) > digits[..., 4:].sum((1, 2, 3))).all()
    with pytest.raises(ganaug.ConfigError, match="preset"):
        resolve_preset("cells", 3)
