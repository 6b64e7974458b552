"""The WGAN-GP family passes ganaug's generator contract."""

import torch

import ganaug
from ganaug.testing import GeneratorContract


class TestWGANGP(GeneratorContract):
    generator_name = "test_wgan-gp"


class TestWGANGPRGB(GeneratorContract):
    generator_name = "test_wgan-gp"
    image_shape = (3, 12, 12)


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic():
    gan = ganaug.create_generator("test_wgan-gp", num_classes=2, image_shape=(1, 8, 8))
    real = torch.rand(4, 1, 8, 8)
    penalty = gan.gradient_penalty(real, real.clone(), torch.tensor([0, 1, 0, 1]))
    assert penalty.ndim == 0 and penalty >= 0
