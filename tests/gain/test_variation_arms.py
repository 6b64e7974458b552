"""The gain protocol with an image-to-image generator: its synthetic arms are variations of real images."""

from __future__ import annotations

import torch

import ganaug
from ganaug.gain import evaluate_gain
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
