"""A conditional MLP GAN for ganaug, the plugin built step by step in docs/writing-a-plugin.md."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import ganaug


@dataclass
class MLPGANConfig(ganaug.GANConfig):
    """Hyper-parameters of the MLP GAN."""

    z_dim: int = 32
    hidden: int = 256
    """Width of the hidden layers of both networks."""


class MLPGenerator(nn.Module):
    def __init__(self, cfg: MLPGANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.image_shape = image_shape
        self.embed = nn.Embedding(num_classes, cfg.z_dim)
        self.net = nn.Sequential(
            nn.Linear(2 * cfg.z_dim, cfg.hidden), nn.LeakyReLU(0.2),
            nn.Linear(cfg.hidden, cfg.hidden), nn.LeakyReLU(0.2),
            nn.Linear(cfg.hidden, math.prod(image_shape)), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, self.embed(labels)], dim=1)).view(-1, *self.image_shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, cfg: MLPGANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, math.prod(image_shape))
        self.net = nn.Sequential(
            nn.Linear(2 * math.prod(image_shape), cfg.hidden), nn.LeakyReLU(0.2),
            nn.Linear(cfg.hidden, cfg.hidden), nn.LeakyReLU(0.2),
            nn.Linear(cfg.hidden, 1),
        )

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x.flatten(1), self.embed(labels)], dim=1)).squeeze(1)


class MLPGAN(ganaug.GAN):
    """Conditional MLP GAN with the non-saturating loss."""

    config_class = MLPGANConfig

    def __init__(self, config: MLPGANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__(config, num_classes, image_shape)
        self.generator = MLPGenerator(config, num_classes, self.image_shape)
        self.discriminator = MLPDiscriminator(config, num_classes, self.image_shape)
        self.init_ema()

    def discriminator_loss(self, real, fake, labels, fake_labels):
        return (F.softplus(-self.discriminator(real, labels)).mean()
                + F.softplus(self.discriminator(fake, fake_labels)).mean())

    def generator_loss(self, fake, z, fake_labels):
        return F.softplus(-self.discriminator(fake, fake_labels)).mean()


@ganaug.hookimpl
def register_generators(register):
    register("mlp-gan", MLPGAN, description="conditional MLP GAN (the plugin tutorial's example)")
