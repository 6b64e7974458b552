"""The gain protocol with an image-to-image generator: its synthetic arms are variations of real images."""

from __future__ import annotations

import pytest
import torch

import ganaug
from ganaug.errors import ConfigError
from ganaug.gain import evaluate_gain, protocol
from ganaug.gain.arms import Arm, arm_from_name, arms_for
from ganaug.gain.config import GainConfig
from ganaug.testing import make_tiny_data


def test_gain_with_an_image_family_uses_variations_of_each_seed_subset():
    store = make_tiny_data((1, 8, 8), num_classes=3, per_class=12)
    generator = ganaug.fit(store, "test_img2img", steps=2, batch_size=8, progress=False)
    generator.sources = None  # as after ganaug.load: the protocol gives it each seed's subset
    report = evaluate_gain(store, generator=generator, per_class=4, ratios=(0.5,), seeds=2, steps=3, batch_size=8,
                           progress=False, quality_samples=3, fidelity_gate=False)
    runs = [r for r in report.runs if r["arm"] == "real+classic+synthetic@0.5"]
    assert len(runs) == 2 and all(r["n_synthetic"] > 0 for r in runs)
    assert report.config["generator"] == {"model": "test_img2img", "conditioning": "image"}
    assert "variations of the real training images (test_img2img" in report.to_markdown()
    novelty = [item["novelty"] for item in report.quality]
    assert len(novelty) == 2 and all(len(n) == 3 and all(v >= 0 for v in n) for n in novelty)
    assert "Novelty of the variations" in report.to_markdown()


def test_gain_trains_an_image_family_per_seed(monkeypatch):
    store = make_tiny_data((1, 8, 8), num_classes=3, per_class=12)
    store.images[:, 0, 0, 0] = torch.arange(36, dtype=torch.uint8)  # every image unique: pixel 0 is its index
    trained: list[tuple[str, set[int]]] = []
    real_fit = ganaug.train.trainer.fit

    def spy(data, model, *args, **kwargs):
        trained.append((model, set(data.images[:, 0, 0, 0].tolist())))
        return real_fit(data, model, *args, **kwargs)

    monkeypatch.setattr(ganaug.train.trainer, "fit", spy)
    report = evaluate_gain(store, train_gan=True, gan_model="test_img2img", gan_steps=2, per_class=4, ratios=(0.5,),
                           seeds=2, steps=2, batch_size=8, progress=False, quality_samples=3)
    assert report.config["generator"]["conditioning"] == "image" and len(report.runs) == 2 * len(report.arms)
    assert [model for model, _ in trained] == ["test_img2img", "test_img2img"]
    assert all(len(ids) == 12 for _, ids in trained) and trained[0][1] != trained[1][1]  # each seed's own subset


def test_variation_strengths_add_the_classic_synthetic_arms_again_by_name():
    config = GainConfig(ratios=(0.5,), imbalance=10.0, variation_strengths=(0.75, 1.0))
    names = [arm.name for arm in arms_for(config)]
    assert "real+classic+synthetic@auto, variation strength 0.75" in names
    assert "real+classic+synthetic@balance, variation strength 1, balanced sampling" in names
    assert "real+synthetic@0.5, variation strength 1" not in names  # classic arms only, as synthetic_weights
    for name in names:
        assert arm_from_name(name).name == name
    assert arm_from_name("real+classic+synthetic@auto, variation strength 0.75") == Arm(classic=True, auto=True,
                                                                                        strength=0.75)
    picked = arms_for(GainConfig(ratios=(0.5,), imbalance=10.0, variation_strengths=(0.75,),
                                 arms=("real+classic+synthetic@auto", "real+classic+synthetic@auto, variation strength 0.75")))
    assert [arm.name for arm in picked if arm.synthetic] == ["real+classic+synthetic@auto",
                                                             "real+classic+synthetic@auto, variation strength 0.75"]


def test_a_strength_arm_draws_its_variations_at_that_strength(monkeypatch):
    store = make_tiny_data((1, 8, 8), num_classes=3, per_class=12)
    generator = ganaug.fit(store, "test_img2img", steps=2, batch_size=8, progress=False)
    strengths: dict[str, float | None] = {}
    real_mix = protocol.SyntheticMix

    def spy(*args, **kwargs):
        mix = real_mix(*args, **kwargs)
        if mix.n_synthetic:
            strengths[kwargs.get("transform") is not None] = mix.generator.variation_strength
        return mix

    monkeypatch.setattr(protocol, "SyntheticMix", spy)
    report = evaluate_gain(store, generator=generator, per_class=4, ratios=(0.5,), seeds=1, steps=2, batch_size=8,
                           progress=False, quality_samples=3, fidelity_gate=False, synthetic_only=False,
                           variation_strengths=(1.0,), arms=("real+synthetic@0.5", "real+classic+synthetic@0.5, "
                                                             "variation strength 1"))
    assert [run["arm"] for run in report.runs if run["n_synthetic"]] == ["real+synthetic@0.5",
                                                                         "real+classic+synthetic@0.5, variation strength 1"]
    assert strengths == {False: None, True: 1.0}  # None: the family's variation_strength
    assert list(report.config["variation_strengths"]) == [1.0]


def test_variation_strengths_are_refused_for_a_noise_family_before_any_training(monkeypatch):
    store = make_tiny_data((1, 8, 8), num_classes=3, per_class=12)
    generator = ganaug.fit(store, "test_cdcgan", steps=1, batch_size=8, progress=False)
    with pytest.raises(ConfigError, match=r"variation_strengths=\[0.75\]: 'test_cdcgan' draws images from noise"):
        evaluate_gain(store, generator=generator, variation_strengths=(0.75,), progress=False)
    monkeypatch.setattr(ganaug.train.trainer, "fit", lambda *a, **k: pytest.fail("trained before refusing"))
    with pytest.raises(ConfigError, match="gan_model='auto' picks a family that draws images from noise"):
        evaluate_gain(store, train_gan=True, variation_strengths=(0.75,), progress=False)
    with pytest.raises(ConfigError, match="variation_strengths"):
        GainConfig(variation_strengths=(1.5,))
