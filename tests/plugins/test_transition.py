"""cdcgan's transitional conditioning: unconditional first, class conditioning faded in, exact resume."""

from __future__ import annotations

import pytest
import torch

import ganaug
from ganaug import ConfigError, create_generator
from ganaug.testing import make_tiny_data


def test_strength_ramps_between_the_two_fractions():
    gan = create_generator("test_cdcgan", num_classes=3, image_shape=(1, 8, 8), transition_start=20,
                           transition_end=60)
    strengths = []
    for step in (0, 19, 20, 40, 59, 60, 99):
        gan.on_step(step, 100)
        strengths.append(gan.generator.condition_strength)
        assert gan.discriminator.condition_strength == gan.ema_generator.condition_strength == strengths[-1]
    assert strengths == pytest.approx([0.0, 0.0, 0.0, 0.5, 0.975, 1.0, 1.0])


def test_unconditional_strength_ignores_the_label():
    gan = create_generator("test_cdcgan", num_classes=3, image_shape=(1, 8, 8), transition_end=5).eval()
    z = torch.randn(2, gan.config.z_dim)
    gan.on_step(0, 10)
    assert torch.equal(gan.generator(z, torch.tensor([0, 0])), gan.generator(z, torch.tensor([1, 2])))
    gan.on_step(10, 10)
    assert not torch.equal(gan.generator(z, torch.tensor([0, 0])), gan.generator(z, torch.tensor([1, 2])))


def test_training_with_a_transition_resumes_exactly_and_ends_fully_conditional(tmp_path):
    data = make_tiny_data()
    options = {"batch_size": 8, "progress": False, "checkpoint_every": 2, "transition_end": 4, "tensorboard": False}
    straight = ganaug.fit(data, "test_cdcgan", steps=6, out=tmp_path / "a", **options)
    ganaug.fit(data, "test_cdcgan", steps=3, out=tmp_path / "b", **options)
    resumed = ganaug.fit(data, "test_cdcgan", steps=6, out=tmp_path / "b", resume=True, **options)
    for key, value in straight.gan.state_dict().items():
        assert torch.equal(value, resumed.gan.state_dict()[key]), key
    assert straight.network.condition_strength == 1.0
    assert torch.equal(ganaug.load(tmp_path / "a").sample(per_class=2, seed=4), straight.sample(per_class=2, seed=4))


def test_bad_transition_is_refused():
    with pytest.raises(ConfigError, match="transition_start"):
        create_generator("test_cdcgan", num_classes=3, image_shape=(1, 8, 8), transition_start=6,
                         transition_end=2)
