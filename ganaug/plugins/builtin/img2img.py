"""``img2img``: an image-to-image GAN that inpaints, denoises and enhances, and makes variations of real images.

In the spirit of pix2pix (Isola et al. 2017) and context-encoder inpainting (Pathak et al. 2016),
trained self-supervised on the user's labelled images (:mod:`ganaug.image_gan`):

* **U-Net generator**: the corrupted image, its mask and a latent broadcast over the pixels go in;
  an encoder of strided convolutions, a class embedding added at the bottleneck, a decoder with skip
  connections. Known pixels (outside an inpainting mask) are pasted back, so G only draws what is missing.
* **Conditional patch discriminator** with spectral norm: it sees the candidate image beside the
  corrupted input and mask, and scores every patch, with a projection term for the class.
* **Losses**: hinge on the patch scores, plus ``l1_weight`` times the L1 distance to the real image
  (the reconstruction term that keeps the output faithful; pix2pix used 100).
* **EMA** of G's weights, sampled instead of the raw G.

Group norm rather than batch norm, so a restored image does not depend on what else is in the batch.
Image sizes 8 to 128 (any H, W in that range), 1 or 3 channels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganaug.errors import ConfigError
from ganaug.image_gan import ImageGAN, ImageGANConfig
from ganaug.plugins.hookspecs import hookimpl

MIN_SIZE, MAX_SIZE = 8, 128


@dataclass
class Img2ImgConfig(ImageGANConfig):
    """Hyper-parameters of ``img2img``."""

    limits: ClassVar[dict] = {"g_channels": {"minimum": 1, "maximum": 4096}, "d_channels": {"minimum": 1, "maximum": 4096},
                              "l1_weight": {"minimum": 0}}

    g_channels: int = 32
    """Width of the U-Net's first level; deeper levels double it, up to 4x."""
    d_channels: int = 32
    """Width of the patch discriminator's first block; later blocks double it, up to 4x."""
    l1_weight: float = 100.0
    """Weight of the L1 reconstruction term against the adversarial one."""
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    ema_decay: float = 0.999

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("g_channels", "d_channels"):
            if getattr(self, name) < 1:
                raise ConfigError(f"img2img: {name}={getattr(self, name)} must be >= 1")
        if self.l1_weight < 0:
            raise ConfigError(f"img2img: l1_weight={self.l1_weight} must be >= 0")


def _levels(height: int, width: int) -> int:
    """Downsamplings of the U-Net: down to about 4 pixels on the short side, 1 to 4 of them."""
    return max(1, min(4, int(math.floor(math.log2(min(height, width) / 4))) + 1))


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(channels, 8), channels)


class UNetGenerator(nn.Module):
    def __init__(self, cfg: Img2ImgConfig, num_classes: int, image_shape: tuple[int, int, int],
                 in_channels: int) -> None:
        super().__init__()
        self.channels = image_shape[0]
        levels = _levels(*image_shape[1:])
        widths = [cfg.g_channels * min(2**i, 4) for i in range(levels + 1)]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1), _norm(widths[0]), nn.LeakyReLU(0.2))
        self.downs = nn.ModuleList(
            nn.Sequential(nn.Conv2d(a, b, 4, stride=2, padding=1), _norm(b), nn.LeakyReLU(0.2))
            for a, b in zip(widths, widths[1:]))
        self.embed = nn.Embedding(num_classes, widths[-1])
        self.ups = nn.ModuleList(
            nn.Sequential(nn.Conv2d(b + a, a, 3, padding=1), _norm(a), nn.ReLU())
            for a, b in zip(reversed(widths[:-1]), reversed(widths[1:])))
        self.head = nn.Conv2d(widths[0], self.channels, 3, padding=1)

    def forward(self, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.stem(inputs)
        skips = [h]
        for down in self.downs:
            h = down(h)
            skips.append(h)
        h = h + self.embed(labels)[:, :, None, None]
        for up, skip in zip(self.ups, reversed(skips[:-1])):
            h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
            h = up(torch.cat([h, skip], dim=1))
        return ImageGAN.keep_known(torch.tanh(self.head(h)), inputs, self.channels)


class PatchDiscriminator(nn.Module):
    def __init__(self, cfg: Img2ImgConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels = image_shape[0]
        levels = min(3, _levels(*image_shape[1:]))
        widths = [2 * channels + 1] + [cfg.d_channels * min(2**i, 4) for i in range(levels)]
        blocks = []
        for a, b in zip(widths, widths[1:]):
            blocks += [spectral_norm(nn.Conv2d(a, b, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
        self.blocks = nn.Sequential(*blocks)
        top = widths[-1]
        self.final = spectral_norm(nn.Conv2d(top, top, 3, padding=1))
        self.score = spectral_norm(nn.Conv2d(top, 1, 1))
        self.embed = spectral_norm(nn.Embedding(num_classes, top))

    def forward(self, image: torch.Tensor, condition: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Patch scores (B, 1, h, w) of ``image`` given the corrupted input and mask."""
        h = F.leaky_relu(self.final(self.blocks(torch.cat([image, condition], dim=1))), 0.2)
        projection = (self.embed(labels)[:, :, None, None] * h).sum(dim=1, keepdim=True)
        return self.score(h) + projection


class Img2Img(ImageGAN):
    """U-Net generator and conditional patch discriminator, hinge plus L1 (see the module docstring)."""

    config_class = Img2ImgConfig
    config: Img2ImgConfig

    def __init__(self, config: Img2ImgConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__(config, num_classes, image_shape)
        self.check_image_shape("img2img", MIN_SIZE, MAX_SIZE)
        self.generator = UNetGenerator(config, num_classes, self.image_shape, self.input_channels)
        self.discriminator = PatchDiscriminator(config, num_classes, self.image_shape)
        self.init_ema()

    def discriminator_loss(self, real, fake, labels, fake_labels, *, inputs):
        condition = self.condition(inputs)
        real_scores = self.discriminator(real, condition, labels)
        fake_scores = self.discriminator(fake, condition, fake_labels)
        return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()

    def generator_loss(self, fake, inputs, fake_labels, *, real):
        adversarial = -self.discriminator(fake, self.condition(inputs), fake_labels).mean()
        return adversarial + self.config.l1_weight * (fake - real).abs().mean()


@hookimpl
def register_generators(register):
    register("img2img", Img2Img, description="image-to-image GAN (U-Net G, conditional patch D, hinge + L1): "
             "inpainting, denoising, enhancement and variations of real images")
    register("test_img2img", Img2Img, description="tiny img2img for tests: trains in seconds on CPU",
             defaults={"z_dim": 2, "g_channels": 8, "d_channels": 8, "ema_decay": 0.9})
