"""The gain protocol with an image-to-image generator: its synthetic arms are variations of real images."""

from __future__ import annotations

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


def test_gain_trains_an_image_family_per_seed():
    store = make_tiny_data((1, 8, 8), num_classes=3, per_class=12)
    report = evaluate_gain(store, train_gan=True, gan_model="test_img2img", gan_steps=2, per_class=4, ratios=(0.5,),
                           seeds=1, steps=2, batch_size=8, progress=False, quality_samples=3)
    assert report.config["generator"]["conditioning"] == "image" and len(report.runs) == len(report.arms)
