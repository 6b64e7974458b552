"""``dcgan``: the seed design, the TensorFlow DCGAN tutorial's MNIST layout made class-conditional.

Generator: dense to (H/4)x(W/4)x256, then 5x5 transposed convolutions to 128 (stride 1), 64
(stride 2) and C (stride 2, tanh), with batch norm and LeakyReLU. Discriminator: 5x5 convolutions
to 64 and 128 with stride 2, LeakyReLU and dropout 0.3, then a dense layer to one logit.
Conditioning: a label embedding concatenated to the noise (G) and a label plane concatenated to
the image (D). Losses: the non-saturating BCE of the tutorial. At 28x28 the layout is exactly the
tutorial's; other sizes use ceil(H/4) x ceil(W/4) at the start and crop the output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.gan import GAN, GANConfig
from ganaug.plugins.hookspecs import hookimpl

LEAK = 0.3  # Keras' LeakyReLU default, used by the tutorial


@dataclass
class DCGANConfig(GANConfig):
    """Hyper-parameters of the conditional DCGAN."""

    limits: ClassVar[dict] = {"embed_dim": {"minimum": 1, "maximum": 65536}, "dropout": {"minimum": 0, "below": 1}}

    z_dim: int = 100
    """Noise length (the tutorial's ``noise_dim``)."""
    embed_dim: int = 50
    """Length of the label embedding concatenated to the noise."""
    dropout: float = 0.3
    """Dropout after each discriminator convolution."""


class DCGANGenerator(nn.Module):
    def __init__(self, cfg: DCGANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels, self.height, self.width = image_shape
        self.base = (math.ceil(self.height / 4), math.ceil(self.width / 4))
        self.embed = nn.Embedding(num_classes, cfg.embed_dim)
        self.dense = nn.Sequential(
            nn.Linear(cfg.z_dim + cfg.embed_dim, self.base[0] * self.base[1] * 256, bias=False),
            nn.BatchNorm1d(self.base[0] * self.base[1] * 256),
            nn.LeakyReLU(LEAK),
        )
        self.convs = nn.Sequential(
            nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(LEAK),
            nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.LeakyReLU(LEAK),
            nn.ConvTranspose2d(64, channels, 5, stride=2, padding=2, output_padding=1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.dense(torch.cat([z, self.embed(labels)], dim=1))
        out = self.convs(h.view(-1, 256, *self.base))
        return out[..., : self.height, : self.width]


class DCGANDiscriminator(nn.Module):
    def __init__(self, cfg: DCGANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels, height, width = image_shape
        self.plane = (height, width)
        self.label_plane = nn.Embedding(num_classes, height * width)
        self.convs = nn.Sequential(
            nn.Conv2d(channels + 1, 64, 5, stride=2, padding=2),
            nn.LeakyReLU(LEAK),
            nn.Dropout(cfg.dropout),
            nn.Conv2d(64, 128, 5, stride=2, padding=2),
            nn.LeakyReLU(LEAK),
            nn.Dropout(cfg.dropout),
            nn.Flatten(),
        )
        self.dense = nn.Linear(128 * math.ceil(math.ceil(height / 2) / 2) * math.ceil(math.ceil(width / 2) / 2), 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        plane = self.label_plane(labels).view(-1, 1, *self.plane).to(x.dtype)
        return self.dense(self.convs(torch.cat([x, plane], dim=1))).squeeze(1)


class DCGAN(GAN):
    """Conditional DCGAN with non-saturating BCE losses (Adam 2e-4, beta1 0.5)."""

    config_class = DCGANConfig

    def __init__(self, config: DCGANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__(config, num_classes, image_shape)
        self.generator = DCGANGenerator(config, num_classes, self.image_shape)
        self.discriminator = DCGANDiscriminator(config, num_classes, self.image_shape)
        self.init_ema()

    def discriminator_loss(self, real, fake, labels, fake_labels):
        real_logits = self.discriminator(real, labels)
        fake_logits = self.discriminator(fake, fake_labels)
        return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))

    def generator_loss(self, fake, z, fake_labels):
        logits = self.discriminator(fake, fake_labels)
        return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


@hookimpl
def register_generators(register):
    register("dcgan", DCGAN, description="conditional DCGAN, the TensorFlow tutorial's MNIST layout")
