"""The WGAN-GP family passes ganaug's generator contract."""

import math

import torch
from torch import nn

import ganaug
from ganaug.testing import GeneratorContract


class TestWGANGP(GeneratorContract):
    generator_name = "test_wgan-gp"


class TestWGANGPRGB(GeneratorContract):
    generator_name = "test_wgan-gp"
    image_shape = (3, 12, 12)


class LinearCritic(nn.Module):
    """D(x, y) = <w, x> + b_y, so grad_x D = w everywhere: its norm is ``||w||`` at every input."""

    def __init__(self, gradient_norm: float, image_shape=(1, 8, 8), num_classes: int = 2) -> None:
        super().__init__()
        weight = torch.randn(math.prod(image_shape), generator=torch.Generator().manual_seed(0))
        self.weight = nn.Parameter(weight * (gradient_norm / weight.norm()))
        self.bias = nn.Parameter(torch.arange(num_classes, dtype=torch.float32))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.weight + self.bias[labels]


def _gan_with_linear_critic(gradient_norm: float):
    gan = ganaug.create_generator("test_wgan-gp", num_classes=2, image_shape=(1, 8, 8))
    gan.discriminator = LinearCritic(gradient_norm)
    return gan


def _batch():
    generator = torch.Generator().manual_seed(1)
    real = torch.rand(4, 1, 8, 8, generator=generator) * 2 - 1
    fake = torch.rand(4, 1, 8, 8, generator=generator) * 2 - 1
    return real, fake, torch.tensor([0, 1, 0, 1])


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic():
    gan = _gan_with_linear_critic(1.0)
    real, fake, labels = _batch()
    penalty = gan.gradient_penalty(real, fake, labels)
    assert penalty.ndim == 0
    torch.testing.assert_close(penalty, torch.tensor(0.0), atol=1e-6, rtol=0)


def test_gradient_penalty_is_squared_excess_norm_and_weighted_in_the_critic_loss():
    """A critic with gradient norm 2 is penalised (2 - 1)^2 = 1, times ``gp_weight`` in the loss."""
    gan = _gan_with_linear_critic(2.0)
    real, fake, labels = _batch()
    penalty = gan.gradient_penalty(real, fake, labels)
    torch.testing.assert_close(penalty, torch.tensor(1.0), atol=1e-5, rtol=0)

    cfg = gan.config
    assert cfg.gp_weight == 10.0
    with torch.no_grad():
        real_scores = gan.discriminator(real, labels)
        fake_scores = gan.discriminator(fake, labels)
    rest = fake_scores.mean() - real_scores.mean() + cfg.drift * (real_scores ** 2).mean()
    loss = gan.discriminator_loss(real, fake, labels, labels)
    torch.testing.assert_close(loss.detach() - rest, torch.tensor(cfg.gp_weight * (2 - 1) ** 2),
                               atol=1e-4, rtol=0)
