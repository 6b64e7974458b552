"""``biggan``: a residual conditional GAN for colour images of 8 to 256 pixels, built for little data.

BigGAN's architecture (Brock et al. 2019) with the small-data training of DiffAugment (Zhao et al.
2020) and LeCam regularisation (Tseng et al. 2021), as in their reference code:

* **Residual generator** whose blocks upsample 2x, with **conditional batch norm** fed by a **shared
  class embedding** concatenated with the noise (BigGAN's "shared embedding, skip-z"): every layer's
  gain and bias are linear maps of ``[z, embed(y)]``, so classes share what they have in common.
* **Residual projection discriminator** (Miyato and Koyama 2018): D scores
  ``linear(h) + <embed(y), h>`` on its pooled features; **spectral norm** in D and G.
* **Optional self-attention** (SAGAN) after the generator block and before the discriminator block
  at one resolution (``attention``, e.g. 32 or 64).
* **Hinge loss**, **DiffAugment** (colour, translation, cutout) on real and fake images alike.
* **LeCam regularisation**: D's outputs on real images are pulled toward a moving average of its
  outputs on fake images and vice versa, which keeps D from becoming over-confident on a few hundred
  images (the divergence that ends small-data GAN training).
* **EMA of the generator's weights**, sampled instead of the raw generator.

Depth follows the resolution: the generator starts at 4 pixels (the shorter side) and doubles up to
the image; widths are ``g_channels`` (``d_channels``) times 1, 2, 4, capped at ``max_multiplier``,
the widest blocks where the images are smallest. Non-square images are drawn at the next multiple
and cropped. 1 or 3 channels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganaug.diffaugment import check_policy, diff_augment, parse_policy
from ganaug.errors import ConfigError
from ganaug.gan import GAN, GANConfig
from ganaug.plugins.hookspecs import hookimpl

MIN_SIZE, MAX_SIZE = 8, 256


@dataclass
class BigGANConfig(GANConfig):
    """Hyper-parameters of ``biggan``."""

    limits: ClassVar[dict] = {"g_channels": {"minimum": 1, "maximum": 1024}, "d_channels": {"minimum": 1, "maximum": 1024},
                              "shared_dim": {"minimum": 1, "maximum": 1024}, "max_multiplier": {"minimum": 1,
                                                                                                 "maximum": 16},
                              "attention": {"minimum": 0}, "lecam": {"minimum": 0},
                              "lecam_decay": {"minimum": 0, "maximum": 1},
                              "diffaugment": {"check": check_policy}}

    z_dim: int = 128
    """Noise length."""
    shared_dim: int = 128
    """Length of the class embedding shared by every conditional batch norm of G."""
    g_channels: int = 32
    """Width of the generator's last block; earlier blocks are 2x, 4x... wider, up to max_multiplier."""
    d_channels: int = 32
    """Width of the discriminator's first block; later blocks are 2x, 4x... wider, up to max_multiplier."""
    max_multiplier: int = 4
    """The widest block is this many times g_channels (d_channels)."""
    attention: int = 0
    """Resolution (pixels, the shorter side) of the self-attention layer in G and D; 0: none."""
    g_spectral_norm: bool = True
    """Spectral norm in G as well as D (BigGAN)."""
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.0
    beta2: float = 0.999
    ema_decay: float = 0.999
    diffaugment: str = "auto"
    """Comma list of DiffAugment policies (translation, cutout, color), 'auto' (translation,cutout;
    plus color for RGB) or 'none'."""
    lecam: float = 0.3
    """Weight of the LeCam regulariser of D; 0 disables it."""
    lecam_decay: float = 0.9
    """Decay of the moving averages of D's outputs on real and fake images that LeCam pulls toward."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.attention and (self.attention < 4 or self.attention & (self.attention - 1)):
            raise ConfigError(f"biggan: attention={self.attention} must be 0 (none) or a power of 2 of at least 4 "
                              "(the resolution of the self-attention layer)")


def layout(height: int, width: int) -> tuple[int, tuple[int, int]]:
    """Number of 2x resolution changes and the size at the narrowest point for an image of height x width."""
    steps = max(1, int(math.floor(math.log2(min(height, width) / 4))))
    return steps, (math.ceil(height / 2**steps), math.ceil(width / 2**steps))


def widths(channels: int, steps: int, max_multiplier: int) -> list[int]:
    """Widths from the narrowest resolution (index 0) to the image's (index ``steps``)."""
    return [channels * min(max_multiplier, 2 ** (steps - i)) for i in range(steps + 1)]


def _init(module: nn.Module) -> nn.Module:
    """Orthogonal initialisation (BigGAN's) for a conv or linear layer; zero bias."""
    nn.init.orthogonal_(module.weight)
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)
    return module


def _sn(module: nn.Module, use: bool = True) -> nn.Module:
    return spectral_norm(_init(module)) if use else _init(module)


class ConditionalNorm(nn.Module):
    """Batch norm whose gain and bias are linear in the conditioning vector ``[z, embed(y)]``."""

    def __init__(self, channels: int, cond_dim: int, sn: bool) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = _sn(nn.Linear(cond_dim, channels, bias=False), sn)
        self.bias = _sn(nn.Linear(cond_dim, channels, bias=False), sn)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.norm(x) * (1.0 + self.gain(cond)[:, :, None, None]) + self.bias(cond)[:, :, None, None]


class SelfAttention(nn.Module):
    """SAGAN's self-attention (keys and values pooled 2x), added back with a learnt gain that starts at 0."""

    def __init__(self, channels: int, sn: bool) -> None:
        super().__init__()
        inner = max(1, channels // 8)
        self.query = _sn(nn.Conv2d(channels, inner, 1, bias=False), sn)
        self.key = _sn(nn.Conv2d(channels, inner, 1, bias=False), sn)
        self.value = _sn(nn.Conv2d(channels, max(1, channels // 2), 1, bias=False), sn)
        self.out = _sn(nn.Conv2d(max(1, channels // 2), channels, 1, bias=False), sn)
        self.gain = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        query = self.query(x).flatten(2)  # (B, C', HW)
        key = F.max_pool2d(self.key(x), 2).flatten(2) if min(h, w) >= 2 else self.key(x).flatten(2)
        value = F.max_pool2d(self.value(x), 2).flatten(2) if min(h, w) >= 2 else self.value(x).flatten(2)
        attention = torch.softmax(query.transpose(1, 2) @ key, dim=-1)  # (B, HW, HW/4)
        out = (value @ attention.transpose(1, 2)).view(b, -1, h, w)
        return x + self.gain * self.out(out)


class GeneratorBlock(nn.Module):
    """norm, ReLU, 2x upsample, conv, norm, ReLU, conv; plus an upsampled 1x1-conv shortcut."""

    def __init__(self, in_channels: int, out_channels: int, cond_dim: int, sn: bool) -> None:
        super().__init__()
        self.norm1 = ConditionalNorm(in_channels, cond_dim, sn)
        self.conv1 = _sn(nn.Conv2d(in_channels, out_channels, 3, padding=1), sn)
        self.norm2 = ConditionalNorm(out_channels, cond_dim, sn)
        self.conv2 = _sn(nn.Conv2d(out_channels, out_channels, 3, padding=1), sn)
        self.shortcut = _sn(nn.Conv2d(in_channels, out_channels, 1), sn)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.norm1(x, cond)), scale_factor=2.0, mode="nearest")
        h = self.conv2(F.relu(self.norm2(self.conv1(h), cond)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DiscriminatorBlock(nn.Module):
    """(ReLU,) conv, ReLU, conv, 2x average pool; plus a 1x1-conv shortcut. The first block has no
    leading ReLU and pools its shortcut before the conv (BigGAN's "optimised" input block)."""

    def __init__(self, in_channels: int, out_channels: int, *, first: bool, down: bool) -> None:
        super().__init__()
        self.first, self.down = first, down
        self.conv1 = _sn(nn.Conv2d(in_channels, out_channels, 3, padding=1))
        self.conv2 = _sn(nn.Conv2d(out_channels, out_channels, 3, padding=1))
        self.shortcut = _sn(nn.Conv2d(in_channels, out_channels, 1)) if in_channels != out_channels or down else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        if self.down:
            h = F.avg_pool2d(h, 2)
        skip = x
        if self.shortcut is not None:
            if self.first and self.down:
                skip = self.shortcut(F.avg_pool2d(x, 2))
            else:
                skip = self.shortcut(x)
                skip = F.avg_pool2d(skip, 2) if self.down else skip
        return h + skip


class BigGANGenerator(nn.Module):
    def __init__(self, cfg: BigGANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels, self.height, self.width = image_shape
        steps, self.base = layout(self.height, self.width)
        w = widths(cfg.g_channels, steps, cfg.max_multiplier)
        sn, cond_dim = cfg.g_spectral_norm, cfg.z_dim + cfg.shared_dim
        self.shared = _init(nn.Embedding(num_classes, cfg.shared_dim))
        self.dense = _sn(nn.Linear(cfg.z_dim, w[0] * self.base[0] * self.base[1]), sn)
        self.blocks = nn.ModuleList(GeneratorBlock(a, b, cond_dim, sn) for a, b in zip(w, w[1:]))
        resolutions = [min(self.base) * 2 ** (i + 1) for i in range(steps)]
        self.attention_after = resolutions.index(cfg.attention) if cfg.attention in resolutions else -1
        self.attention = SelfAttention(w[self.attention_after + 1], sn) if self.attention_after >= 0 else None
        self.out_norm = nn.BatchNorm2d(w[-1])
        self.to_image = _sn(nn.Conv2d(w[-1], channels, 3, padding=1), sn)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cond = torch.cat([z, self.shared(labels)], dim=1)
        h = self.dense(z).view(z.shape[0], -1, *self.base)
        for i, block in enumerate(self.blocks):
            h = block(h, cond)
            if i == self.attention_after:
                h = self.attention(h)
        out = torch.tanh(self.to_image(F.relu(self.out_norm(h))))
        return out[..., : self.height, : self.width]


class BigGANDiscriminator(nn.Module):
    def __init__(self, cfg: BigGANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels, height, width = image_shape
        steps, _ = layout(height, width)
        w = widths(cfg.d_channels, steps, cfg.max_multiplier)[::-1]  # narrow at the image, wide at the bottom
        blocks, attention_before = [], -1
        resolution = min(height, width)
        for i, (a, b) in enumerate(zip([channels] + w[:-1], w[:-1])):
            if resolution == cfg.attention:
                attention_before = i
            blocks.append(DiscriminatorBlock(a, b, first=i == 0, down=True))
            resolution //= 2
        blocks.append(DiscriminatorBlock(w[-2], w[-1], first=False, down=False))
        self.blocks = nn.ModuleList(blocks)
        self.attention_before = attention_before
        self.attention = SelfAttention(([channels] + w)[attention_before], True) if attention_before >= 1 else None
        if self.attention is None:
            self.attention_before = -1
        self.linear = _sn(nn.Linear(w[-1], 1))
        self.embed = spectral_norm(_init(nn.Embedding(num_classes, w[-1])))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = x
        for i, block in enumerate(self.blocks):
            if i == self.attention_before:
                h = self.attention(h)
            h = block(h)
        h = F.relu(h).sum(dim=(2, 3))
        return self.linear(h).squeeze(1) + (self.embed(labels) * h).sum(dim=1)


class BigGAN(GAN):
    """Residual conditional GAN with projection D, spectral norm, hinge, DiffAugment, LeCam and EMA."""

    config_class = BigGANConfig

    def __init__(self, config: BigGANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__(config, num_classes, image_shape)
        self.check_image_shape("biggan", MIN_SIZE, MAX_SIZE)
        if config.attention and config.attention > min(self.image_shape[1:]):
            raise ConfigError(f"biggan: attention={config.attention} is larger than the images "
                              f"({self.image_shape[1]}x{self.image_shape[2]}); pass 0 or a smaller power of 2")
        self.policy = parse_policy(config.diffaugment, self.image_shape[0])
        self.generator = BigGANGenerator(config, num_classes, self.image_shape)
        self.discriminator = BigGANDiscriminator(config, num_classes, self.image_shape)
        # LeCam's moving averages of D's mean output on real and fake images; NaN until the first step
        self.register_buffer("lecam_real", torch.tensor(float("nan")))
        self.register_buffer("lecam_fake", torch.tensor(float("nan")))
        self.init_ema()

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.policy) if self.policy else x

    def discriminator_loss(self, real, fake, labels, fake_labels):
        real_scores = self.discriminator(self._augment(real), labels)
        fake_scores = self.discriminator(self._augment(fake), fake_labels)
        loss = F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()
        if self.config.lecam > 0:
            self._update_lecam(real_scores.detach().float().mean(), fake_scores.detach().float().mean())
            lecam = (F.relu(real_scores - self.lecam_fake).pow(2).mean()
                     + F.relu(self.lecam_real - fake_scores).pow(2).mean())
            loss = loss + self.config.lecam * lecam
        return loss

    @torch.no_grad()
    def _update_lecam(self, real_mean: torch.Tensor, fake_mean: torch.Tensor) -> None:
        decay = self.config.lecam_decay
        for buffer, value in ((self.lecam_real, real_mean), (self.lecam_fake, fake_mean)):
            buffer.copy_(torch.where(torch.isnan(buffer), value, decay * buffer + (1 - decay) * value))

    def generator_loss(self, fake, z, fake_labels):
        return -self.discriminator(self._augment(fake), fake_labels).mean()


@hookimpl
def register_generators(register):
    register("biggan", BigGAN, description="residual conditional GAN for colour images 8-256 px (BigGAN blocks, "
             "projection D, spectral norm, hinge, DiffAugment, LeCam, EMA)")
    register("test_biggan", BigGAN, description="tiny biggan for tests: trains in seconds on CPU",
             defaults={"z_dim": 8, "shared_dim": 8, "g_channels": 4, "d_channels": 4, "ema_decay": 0.9})
