"""SyntheticMix with an image-to-image generator: synthetic items are variations of the mix's own real items."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

import ganaug
from ganaug import ConfigError, SyntheticMix
from ganaug.metrics.fidelity import FidelityReport
from ganaug.testing import make_tiny_data


@pytest.fixture(scope="module")
def img2img(store):
    return ganaug.fit(store, "test_img2img", steps=3, batch_size=8, progress=False)


@pytest.fixture(scope="module")
def real():
    data = make_tiny_data((1, 8, 8), num_classes=4, per_class=6, seed=7)  # not the training images
    return TensorDataset(data.images, data.labels)


def passing(generator):
    return FidelityReport(generator.classes, [0.9] * 4, [0.9] * 4, min_fidelity=0.8)


def synthetic_items(mix):
    return [mix[i] for i in range(mix.n_real, len(mix))]


def test_synthetic_items_are_variations_of_the_mix_real_items(img2img, real):
    mix = SyntheticMix(real, img2img, ratio=0.5, fidelity=passing(img2img), seed=3, variation_strength=0.3)
    assert mix.n_synthetic == len(real)
    assert img2img.sources is not mix.generator.sources  # the user's generator is left as it was
    assert torch.equal(mix.generator.sources.images, real.tensors[0])
    for image, label in synthetic_items(mix):
        sources = real.tensors[0][real.tensors[1] == label]
        # an inpainting variation keeps its source outside the box: some source agrees on most pixels
        agreement = (sources == image).flatten(1).float().mean(1).max()
        assert agreement >= 0.5, agreement
    again = SyntheticMix(real, img2img, ratio=0.5, fidelity=passing(img2img), seed=3, variation_strength=0.3)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(synthetic_items(mix), synthetic_items(again)))
    mix.set_epoch(1)
    assert not all(torch.equal(a[0], b[0]) for a, b in zip(synthetic_items(mix), synthetic_items(again)))


def test_variations_work_with_the_class_policies_and_the_gate(img2img, real):
    labels = real.tensors[1]
    keep = [i for i in range(len(real)) if labels[i] < 2 or (labels[i] == 2 and i % 6 < 2) or i % 6 == 0]
    rare = TensorDataset(real.tensors[0][keep], labels[keep])  # 6, 6, 2 and 1 images
    fidelity = FidelityReport(img2img.classes, [0.9, 0.9, 0.9, 0.1], [0.9] * 4, min_fidelity=0.8)
    with pytest.warns(UserWarning, match="'class3'"):
        mix = SyntheticMix(rare, img2img, ratio=None, class_policy="balance", fidelity=fidelity)
    counts = mix.class_counts()
    assert [counts[c]["real"] for c in img2img.classes] == [6, 6, 2, 1]
    assert counts["class2"]["synthetic"] == 4 and counts["class3"]["synthetic"] == 0


def test_variation_strength_is_checked(img2img, real, generator):
    with pytest.raises(ConfigError, match="variation_strength=1.5"):
        SyntheticMix(real, img2img, fidelity=None, variation_strength=1.5)
    with pytest.raises(ConfigError, match="image-to-image generators"):
        SyntheticMix(real, generator, fidelity=None, variation_strength=0.5)
