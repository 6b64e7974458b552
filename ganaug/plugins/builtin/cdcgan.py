"""``cdcgan`` (the default): a data-efficient conditional GAN for small labelled sets.

What makes it work on little data, and what each part is for:

* **Projection discriminator with spectral norm** (Miyato and Koyama 2018): D scores
  ``linear(h) + <embed(y), h>``, which conditions far better than concatenating labels, and
  spectral norm keeps D Lipschitz, so gradients neither vanish nor explode.
* **Hinge loss** on that discriminator.
* **DiffAugment** (translation and cutout; colour too for RGB) on real and fake images alike, so D
  cannot memorise a few hundred images.
* **EMA of the generator's weights**, sampled instead of the raw generator: smoother, better images.
* **Against collapse within a class**: a mode-seeking term (Mao et al. 2019) rewards G for
  making two images of the same class differ as much as their noise vectors differ, and a
  minibatch-standard-deviation feature lets D see a batch with too little variety.
* **Conditional batch norm** in G: each class gets its own gain and bias per layer.
* **Transitional conditioning** (Shahbazi et al. 2022, "Collapse by conditioning"), off by default:
  with ``transition_end > 0`` training starts unconditional, so every class's images teach G and D
  what images look like, and the class conditioning is faded in linearly between the steps
  ``transition_start`` and ``transition_end`` (absolute steps, so a resumed or extended run follows the
  same schedule): G's class embedding and
  conditional batch norm, and D's projection term, are scaled by that strength. It targets long-tailed
  and small sets, where the rare classes alone cannot teach their shapes.

Image sizes 8 to 64 (any H, W in that range), 1 or 3 channels.
"""

from __future__ import annotations

import math
import warnings
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

MIN_SIZE, MAX_SIZE = 8, 64


@dataclass
class CDCGANConfig(GANConfig):
    """Hyper-parameters of ``cdcgan``."""

    limits: ClassVar[dict] = {"g_channels": {"minimum": 1, "maximum": 4096}, "d_channels": {"minimum": 1, "maximum": 4096},
                              "mode_seeking": {"minimum": 0}, "transition_start": {"minimum": 0},
                              "transition_end": {"minimum": 0},
                              "diffaugment": {"check": check_policy}}

    z_dim: int = 64
    """Noise length."""
    g_channels: int = 64
    """Width of the generator's last block; earlier blocks double it, up to 4x."""
    d_channels: int = 64
    """Width of the discriminator's first block; later blocks double it, up to 4x."""
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.0
    beta2: float = 0.99
    ema_decay: float = 0.999
    diffaugment: str = "auto"
    """Comma list of DiffAugment policies (translation, cutout, color), 'auto' (translation,cutout;
    plus color for RGB) or 'none'."""
    mode_seeking: float = 0.1
    """Weight of the mode-seeking term; 0 disables it."""
    minibatch_std: bool = True
    """Append the batch's standard deviation as a feature map in D."""
    transition_start: int = 0
    """Steps trained unconditionally before the class conditioning fades in."""
    transition_end: int = 0
    """Step at which the conditioning is fully on; 0 conditions from the start (no transition)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.transition_start <= self.transition_end:
            raise ConfigError(f"cdcgan needs 0 <= transition_start ({self.transition_start}) <= transition_end "
                              f"({self.transition_end})")


def _layout(height: int, width: int) -> tuple[int, tuple[int, int]]:
    """Number of 2x upsamplings and the starting spatial size for an image of height x width."""
    n_up = max(1, int(math.floor(math.log2(min(height, width) / 4))))
    return n_up, (math.ceil(height / 2**n_up), math.ceil(width / 2**n_up))


class ConditionalBatchNorm(nn.Module):
    """Batch norm whose gain and bias are looked up per class."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Embedding(num_classes, channels)
        self.bias = nn.Embedding(num_classes, channels)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        gain, bias = self.gain(labels)[:, :, None, None], self.bias(labels)[:, :, None, None]
        if strength != 1.0:
            gain, bias = gain * strength, bias * strength
        return self.norm(x) * (1.0 + gain) + bias


class CDCGANGenerator(nn.Module):
    def __init__(self, cfg: CDCGANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels, self.height, self.width = image_shape
        n_up, self.base = _layout(self.height, self.width)
        widths = [min(4 * cfg.g_channels, cfg.g_channels * 2 ** (n_up - i)) for i in range(n_up + 1)]
        self.embed = nn.Embedding(num_classes, cfg.z_dim)
        self.dense = nn.Linear(2 * cfg.z_dim, widths[0] * self.base[0] * self.base[1])
        self.dense_norm = ConditionalBatchNorm(widths[0], num_classes)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(widths, widths[1:]))
        self.norms = nn.ModuleList(ConditionalBatchNorm(b, num_classes) for b in widths[1:])
        self.to_image = nn.Conv2d(widths[-1], channels, 3, padding=1)
        self.condition_strength = 1.0  # transitional conditioning: 0 unconditional, 1 fully conditional

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        strength = self.condition_strength
        embedding = self.embed(labels) if strength == 1.0 else self.embed(labels) * strength
        h = self.dense(torch.cat([z, embedding], dim=1)).view(z.shape[0], -1, *self.base)
        h = F.relu(self.dense_norm(h, labels, strength))
        for conv, norm in zip(self.convs, self.norms):
            h = F.relu(norm(conv(F.interpolate(h, scale_factor=2.0, mode="nearest")), labels, strength))
        out = torch.tanh(self.to_image(h))
        return out[..., : self.height, : self.width]


class ProjectionDiscriminator(nn.Module):
    def __init__(self, cfg: CDCGANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels, height, width = image_shape
        n_down, _ = _layout(height, width)
        widths = [channels] + [min(4 * cfg.d_channels, cfg.d_channels * 2**i) for i in range(n_down)]
        blocks = []
        for a, b in zip(widths, widths[1:]):
            blocks += [spectral_norm(nn.Conv2d(a, b, 3, padding=1)), nn.LeakyReLU(0.2),
                       spectral_norm(nn.Conv2d(b, b, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
        self.blocks = nn.Sequential(*blocks)
        self.minibatch_std = cfg.minibatch_std
        top = widths[-1]
        self.final = spectral_norm(nn.Conv2d(top + int(cfg.minibatch_std), top, 3, padding=1))
        self.linear = spectral_norm(nn.Linear(top, 1))
        self.embed = spectral_norm(nn.Embedding(num_classes, top))
        self.condition_strength = 1.0

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.blocks(x)
        if self.minibatch_std:
            std = h.float().std(dim=0, unbiased=False).mean() if h.shape[0] > 1 else h.new_zeros(())
            h = torch.cat([h, std.to(h.dtype).expand(h.shape[0], 1, *h.shape[2:])], dim=1)
        h = F.leaky_relu(self.final(h), 0.2).sum(dim=(2, 3))
        projection = (self.embed(labels) * h).sum(dim=1)
        if self.condition_strength != 1.0:
            projection = projection * self.condition_strength
        return self.linear(h).squeeze(1) + projection


class CDCGAN(GAN):
    """Projection-discriminator conditional GAN with DiffAugment, EMA and a mode-seeking term."""

    config_class = CDCGANConfig

    def __init__(self, config: CDCGANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__(config, num_classes, image_shape)
        self.check_image_shape("cdcgan", MIN_SIZE, MAX_SIZE)
        self.policy = parse_policy(config.diffaugment, self.image_shape[0])
        self.generator = CDCGANGenerator(config, num_classes, self.image_shape)
        self.discriminator = ProjectionDiscriminator(config, num_classes, self.image_shape)
        self.init_ema()

    def on_step(self, step: int, total_steps: int) -> None:
        """Transitional conditioning: the class conditioning's strength at ``step`` (1 without a transition)."""
        cfg = self.config
        if cfg.transition_end <= 0:
            return
        start, end = cfg.transition_start, cfg.transition_end
        if step == total_steps and step < end:
            warnings.warn(f"cdcgan's training ended at step {step}, before the class conditioning was fully on "
                          f"(transition_end={end}); train for at least transition_end steps", stacklevel=2)
        strength = 1.0 if step >= end else 0.0 if step < start else (step - start) / max(end - start, 1e-9)
        for network in (self.generator, self.discriminator, getattr(self, "ema_generator", None)):
            if network is not None:
                network.condition_strength = float(strength)

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.policy) if self.policy else x

    def fake_labels(self, real_labels: torch.Tensor) -> torch.Tensor:
        # The mode-seeking term compares image i with image i + B/2: give both the same class.
        if self.config.mode_seeking <= 0 or len(real_labels) < 2:
            return real_labels
        half = len(real_labels) // 2
        return torch.cat([real_labels[:half], real_labels[: len(real_labels) - half]])

    def discriminator_loss(self, real, fake, labels, fake_labels):
        real_scores = self.discriminator(self._augment(real), labels)
        fake_scores = self.discriminator(self._augment(fake), fake_labels)
        return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()

    def generator_loss(self, fake, z, fake_labels):
        loss = -self.discriminator(self._augment(fake), fake_labels).mean()
        if self.config.mode_seeking > 0 and len(fake) >= 2:
            half = len(fake) // 2
            image_gap = (fake[:half] - fake[half: 2 * half]).abs().flatten(1).mean(1)
            noise_gap = (z[:half] - z[half: 2 * half]).abs().mean(1)
            loss = loss + self.config.mode_seeking / ((image_gap / noise_gap).mean() + 1e-5)
        return loss


@hookimpl
def register_generators(register):
    register("cdcgan", CDCGAN, description="data-efficient conditional GAN (projection D, spectral norm, "
             "hinge, DiffAugment, EMA, mode seeking); the default")
    register("test_cdcgan", CDCGAN, description="tiny cdcgan for tests: trains in seconds on CPU",
             defaults={"z_dim": 8, "g_channels": 8, "d_channels": 8, "ema_decay": 0.9})
