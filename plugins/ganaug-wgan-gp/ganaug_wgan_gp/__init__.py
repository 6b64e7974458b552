"""Conditional WGAN-GP for ganaug.

Generator: ganaug's cdcgan generator (conditional batch norm, nearest upsampling), which suits
any size from 8 to 64. Critic: strided convolutions with layer norm (batch norm would break the
per-sample gradient penalty), a projection term for the class, no sigmoid. Losses:
``critic = D(fake) - D(real) + gp_weight * (||grad D(x_hat)|| - 1)^2 + drift * D(real)^2`` on random
interpolates ``x_hat`` of real and fake images of the same class, and ``generator = -D(fake)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

import ganaug
from ganaug.plugins.builtin.cdcgan import CDCGANGenerator, _layout

__version__ = "0.1.0"


@dataclass
class WGANGPConfig(ganaug.GANConfig):
    """Hyper-parameters of the conditional WGAN-GP."""

    z_dim: int = 64
    g_channels: int = 64
    """Width of the generator's last block (earlier blocks double it, up to 4x)."""
    d_channels: int = 64
    """Width of the critic's first block (later blocks double it, up to 4x)."""
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    beta1: float = 0.0
    beta2: float = 0.9
    d_steps: int = 5
    """Critic updates per generator update."""
    gp_weight: float = 10.0
    """Weight of the gradient penalty."""
    drift: float = 1e-3
    """Weight of the drift term that keeps critic scores near zero."""
    ema_decay: float = 0.999


class Critic(nn.Module):
    def __init__(self, cfg: WGANGPConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels, height, width = image_shape
        n_down, _ = _layout(height, width)
        widths = [channels] + [min(4 * cfg.d_channels, cfg.d_channels * 2**i) for i in range(n_down)]
        layers: list[nn.Module] = []
        size = (height, width)
        for a, b in zip(widths, widths[1:]):
            size = ((size[0] + 1) // 2, (size[1] + 1) // 2)
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.LayerNorm([b, *size]), nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers)
        self.linear = nn.Linear(widths[-1], 1)
        self.embed = nn.Embedding(num_classes, widths[-1])

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.body(x).sum(dim=(2, 3))
        return self.linear(h).squeeze(1) + (self.embed(labels) * h).sum(dim=1)


class WGANGP(ganaug.GAN):
    """Conditional WGAN-GP: layer-norm critic with projection, gradient penalty, EMA generator."""

    config_class = WGANGPConfig

    def __init__(self, config: WGANGPConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__(config, num_classes, image_shape)
        self.generator = CDCGANGenerator(config, num_classes, self.image_shape)  # type: ignore[arg-type]
        self.discriminator = Critic(config, num_classes, self.image_shape)
        self.init_ema()

    def gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean of (||grad_x D(x, y)|| - 1)^2 over random interpolates of real and fake images."""
        alpha = torch.rand(len(real), 1, 1, 1, device=real.device, dtype=real.dtype)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        scores = self.discriminator(mixed, labels)
        (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
        return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()

    def discriminator_loss(self, real, fake, labels, fake_labels):
        real_scores = self.discriminator(real, labels)
        fake_scores = self.discriminator(fake, fake_labels)
        # Interpolate between images of the same class: the fakes are conditioned on the real labels.
        penalty = self.gradient_penalty(real, fake.to(real.dtype), labels)
        return (fake_scores.mean() - real_scores.mean() + self.config.gp_weight * penalty
                + self.config.drift * (real_scores ** 2).mean())

    def generator_loss(self, fake, z, fake_labels):
        return -self.discriminator(fake, fake_labels).mean()


@ganaug.hookimpl
def register_generators(register):
    register("wgan-gp", WGANGP, aliases=("wgangp",),
             description="conditional WGAN-GP (layer-norm projection critic, gradient penalty, EMA)")
    register("test_wgan-gp", WGANGP, description="tiny WGAN-GP for tests",
             defaults={"z_dim": 8, "g_channels": 8, "d_channels": 8, "d_steps": 2, "ema_decay": 0.9})
