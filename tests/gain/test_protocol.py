"""The gain protocol: every arm runs, statistics match hand computations, no test image reaches the GAN."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import ganaug
from ganaug.cli import main
from ganaug.gain import evaluate_gain
from ganaug.gain.arms import REAL
from ganaug.gain.subsets import draw_subset
from ganaug.metrics.quality import frechet_distance, prdc
from ganaug.metrics.stats import mean_ci, paired_difference
from ganaug.testing import make_tiny_data

FAST = {"seeds": 2, "steps": 3, "batch_size": 16, "progress": False, "quality_samples": 6, "fidelity_gate": False}


@pytest.fixture(scope="module")
def generator(tiny_generator):
    return tiny_generator


def test_mean_ci_by_hand():
    interval = mean_ci([1.0, 2.0, 3.0])
    # t_{0.975, 2} = 4.302653; s = 1; half width = 4.302653 / sqrt(3) = 2.484138
    assert interval.mean == 2.0
    assert interval.low == pytest.approx(2.0 - 2.484138, abs=1e-5)
    assert interval.high == pytest.approx(2.0 + 2.484138, abs=1e-5)
    assert np.isnan(mean_ci([5.0]).low)


def test_paired_difference_by_hand():
    d = paired_difference([1.0, 2.0, 3.0], [0.0, 0.0, 1.0])  # differences 1, 2, 2
    # mean 5/3, s = 0.57735, t = (5/3) / (0.57735 / sqrt 3) = 5.0 with 2 df: two-sided p = 0.037750
    assert d.mean == pytest.approx(5 / 3)
    assert d.high - d.mean == pytest.approx(4.302653 * 0.5773503 / 3 ** 0.5, abs=1e-5)
    assert d.p_value == pytest.approx(0.037750, abs=1e-5)
    assert paired_difference([1.0, 2.0], [1.0, 2.0]).p_value == 1.0


def test_quality_measures_on_known_sets():
    torch.manual_seed(0)
    real = torch.randn(60, 4)
    assert frechet_distance(real, real) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(real, real + 3.0) == pytest.approx(4 * 9.0, rel=1e-6)  # mean shift only
    same = prdc(real, real, k=3)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    collapsed = prdc(real, real[:1].repeat(60, 1) + 1e-3 * torch.randn(60, 4), k=3)
    assert collapsed["precision"] == 1.0 and collapsed["recall"] < 0.2 and collapsed["coverage"] < 0.2


def test_draw_subset_per_class_and_imbalance():
    labels = torch.arange(4).repeat_interleave(20)
    index = draw_subset(labels, 4, per_class=5, imbalance=None, seed=1)
    assert torch.bincount(labels[index]).tolist() == [5, 5, 5, 5]
    assert torch.equal(index, draw_subset(labels, 4, per_class=5, imbalance=None, seed=1))
    assert not torch.equal(index, draw_subset(labels, 4, per_class=5, imbalance=None, seed=2))
    tail = draw_subset(labels, 4, per_class=None, imbalance=8.0, seed=0)
    assert torch.bincount(labels[tail]).tolist() == [20, 10, 5, 2]  # 20 * 8^(-k/3), rounded


def test_every_arm_runs_and_is_reproducible(generator, tmp_path):
    store = make_tiny_data(num_classes=4, per_class=20)
    report = ganaug.evaluate_gain(store, generator=generator, ratios=(0.5,), out=tmp_path, **FAST)
    assert report.arm_names == ["real", "real+classic", "real+synthetic@0.5", "real+classic+synthetic@0.5",
                           "synthetic-only"]
    assert len(report.runs) == 10
    for run in report.runs:
        assert set(run["metrics"]) == {"accuracy", "balanced_accuracy", "macro_f1", "per_class_recall"}
        assert len(run["metrics"]["per_class_recall"]) == 4
    only = [r for r in report.runs if r["arm"] == "synthetic-only"][0]
    assert only["n_real"] == 0 and only["n_synthetic"] > 0
    assert [r["n_synthetic"] for r in report.runs if r["arm"] == REAL.name] == [0, 0]
    for name in ("gain.json", "gain.md", "gain_vs_ratio.png", "per_class_recall.png"):
        assert (tmp_path / name).stat().st_size > 0
    saved = json.loads((tmp_path / "gain.json").read_text())
    assert saved["comparisons"]["real+classic+synthetic@0.5"]["vs real+classic"]["balanced_accuracy"]["n"] == 2
    assert len(saved["verdict"]) == 3 and "classic augmentation" in saved["verdict"][1]
    assert saved["verdict"][2].startswith("against the best arm without synthetic data")
    again = evaluate_gain(store, generator=generator, ratios=(0.5,), **FAST)
    assert [r["metrics"] for r in again.runs] == [r["metrics"] for r in report.runs]


def test_logreg_classifier_and_custom_factory(generator):
    store = make_tiny_data(num_classes=4, per_class=20)
    report = evaluate_gain(store, generator=generator, classifier="logreg", ratios=(0.25,), synthetic_only=False,
                           **FAST)
    assert report.quality[0]["note"].startswith("scikit-learn")

    def factory(num_classes, image_shape, seed):
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, num_classes))

    report = evaluate_gain(store, generator=generator, classifier_factory=factory, ratios=(0.25,), **FAST)
    assert len(report.runs) == 2 * 5


def test_no_test_image_reaches_gan_training(monkeypatch):
    # Every image is unique: pixel 0 and 1 encode its index.
    store = make_tiny_data(num_classes=4, per_class=20)
    store.images[:, 0, 0, 0] = torch.arange(80, dtype=torch.uint8)
    store.images[:, 0, 0, 1] = 200
    seen: list[torch.Tensor] = []
    real_fit = ganaug.train.trainer.fit

    def spy(data, *args, **kwargs):
        seen.append(data.images[:, 0, 0, 0].clone())
        return real_fit(data, *args, **kwargs)

    monkeypatch.setattr(ganaug.train.trainer, "fit", spy)
    report = evaluate_gain(store, train_gan=True, gan_model="test_cdcgan", gan_steps=1, gan_batch_size=8,
                           per_class=5, test_size=0.25, **FAST)
    from sklearn.model_selection import train_test_split

    _, test_idx = train_test_split(np.arange(80), test_size=0.25, random_state=0, stratify=store.labels.numpy())
    test_ids = set(test_idx.tolist())
    assert len(seen) == 2
    for ids in seen:
        assert not test_ids & set(ids.tolist()), "a test image reached GAN training"
        assert len(ids) == 20  # per_class=5, 4 classes: only what the classifier may see
    assert report.gan_training_sets and all(len(s) == 20 for s in report.gan_training_sets)


def test_keep_generators_saves_each_seeds_generator(tmp_path):
    store = make_tiny_data(num_classes=4, per_class=20)
    evaluate_gain(store, train_gan=True, gan_model="test_cdcgan", gan_steps=1, gan_batch_size=8, per_class=5,
                  keep_generators=True, out=tmp_path / "gain", **{**FAST, "seed": 3})
    kept = [ganaug.load(tmp_path / "gain" / "generators" / f"seed{seed}") for seed in (3, 4)]
    assert [g.model for g in kept] == ["test_cdcgan"] * 2 and kept[0].classes == store.classes
    with pytest.raises(ganaug.ConfigError, match="keep_generators saves the generators that train_gan trains"):
        evaluate_gain(store, train_gan=True, gan_model="test_cdcgan", keep_generators=True, **FAST)


def test_a_seeds_generator_trained_ahead_is_the_protocols(tmp_path):
    """train_seed_generator(seed_subset(...)) gives the very weights that train_gan trains for that seed."""
    from safetensors.torch import load_file

    from ganaug.gain import GainConfig
    from ganaug.gain.protocol import seed_subset, train_seed_generator

    store, test = make_tiny_data(num_classes=4, per_class=20), make_tiny_data(num_classes=4, per_class=4, seed=9)
    options = {"gan_model": "test_cdcgan", "gan_steps": 2, "gan_batch_size": 8, "per_class": 5}
    evaluate_gain(store, test, train_gan=True, keep_generators=True, out=tmp_path / "gain",
                  **{**FAST, "seeds": 1, "seed": 3}, **options)
    config = GainConfig(train_gan=True, device="cpu", progress=False, **options)
    ahead = train_seed_generator(store.subset(seed_subset(store, config, 3)), config, 3)
    ahead.save(tmp_path / "ahead")
    kept, trained = (load_file(tmp_path / name / "generator.safetensors") for name in ("gain/generators/seed3", "ahead"))
    assert kept.keys() == trained.keys() and all(torch.equal(kept[k], trained[k]) for k in kept)
    train_seed_generator(store.subset(seed_subset(store, config, 4)), config, 4).save(tmp_path / "other")
    other = load_file(tmp_path / "other" / "generator.safetensors")
    assert not all(torch.equal(kept[k], other[k]) for k in kept)  # another seed: another generator


def test_bad_options(generator):
    store = make_tiny_data(num_classes=4, per_class=20)
    with pytest.raises(ganaug.ConfigError, match="not both"):
        evaluate_gain(store, generator=generator, train_gan=True, **FAST)
    with pytest.raises(ganaug.ConfigError, match="pass a trained generator"):
        evaluate_gain(store, **FAST)
    with pytest.raises(ganaug.ConfigError, match=r"ratios=\(1.0,\) must be > 0 and < 1"):
        evaluate_gain(store, generator=generator, ratios=(1.0,), **FAST)
    with pytest.raises(ganaug.ConfigError, match=r"seeds=0 must be >= 1"):
        evaluate_gain(store, generator=generator, **{**FAST, "seeds": 0})
    with pytest.raises(ganaug.ConfigError, match=r"per_class=-3 must be >= 1"):
        evaluate_gain(store, generator=generator, per_class=-3, **FAST)
    with pytest.raises(ganaug.ConfigError, match=r"'step' \(did you mean 'steps'\?\)"):
        evaluate_gain(store, generator=generator, step=3)
    with pytest.raises(ganaug.DataError, match="per_class=50"):
        evaluate_gain(store, generator=generator, per_class=50, **FAST)


def test_gain_cli(tmp_path):
    store = make_tiny_data(num_classes=4, per_class=20)
    np.savez(tmp_path / "d.npz", x=store.images[:, 0].numpy(), y=store.labels.numpy())
    result = CliRunner().invoke(main, ["gain", str(tmp_path / "d.npz"), "--train-gan", "--gan-model", "test_cdcgan",
                                       "--gan-steps", "1", "--seeds", "2", "--steps", "2", "--ratios", "0.5",
                                       "--out", str(tmp_path / "g"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "| synthetic-only |" in result.output and "classic augmentation" in result.output
    assert (tmp_path / "g" / "gain.md").exists()
    bad = CliRunner().invoke(main, ["gain", str(tmp_path / "d.npz"), "--train-gan", "--ratios", "x"],
                             catch_exceptions=False)
    assert bad.exit_code == 1 and "--ratios" in bad.output, bad.output
