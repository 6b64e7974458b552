"""The generator contract: what every GAN family, built-in or plugin, provides to the trainer.

A family subclasses :class:`GAN`, sets ``config_class`` to a dataclass of its hyper-parameters
(deriving from :class:`GANConfig`), builds ``self.generator`` and ``self.discriminator`` in
``__init__`` and defines the two losses. The one trainer (:mod:`ganaug.train`) does the rest:
batches, optimisers, EMA, checkpoints, logs. So a new family is a model and two loss functions,
not another training loop.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import torch
from torch import nn

from ganaug.configs import option, validate
from ganaug.errors import ConfigError


@dataclass
class GANConfig:
    """Hyper-parameters every family has; families extend it with their own fields.

    Validated on construction (types from the annotations, limits from :func:`~ganaug.configs.option`),
    for families' subclasses too. Not frozen, so that plugins' plain ``@dataclass`` subclasses work.
    """

    z_dim: int = option(128, "Length of the noise vector fed to the generator.", minimum=1, maximum=65536)
    lr_g: float = option(2e-4, "Adam learning rate of the generator.", above=0)
    lr_d: float = option(2e-4, "Adam learning rate of the discriminator.", above=0)
    beta1: float = option(0.5, "Adam beta1 for both networks.", minimum=0, maximum=1)
    beta2: float = option(0.999, "Adam beta2 for both networks.", minimum=0, maximum=1)
    d_steps: int = option(1, "Discriminator updates per generator update (5 for WGAN-GP style critics).", minimum=1)
    ema_decay: float = option(0.0, "Decay of the exponential moving average of the generator weights; 0 disables "
                              "EMA.", minimum=0, maximum=1)

    def __post_init__(self) -> None:
        validate(self)


class GAN(nn.Module):
    """Base class of a conditional GAN family.

    Subclasses must set ``config_class`` and, in ``__init__``, ``self.generator`` (a module
    mapping ``(z, labels)`` to images in [-1, 1] of ``image_shape``) and ``self.discriminator``;
    and implement :meth:`discriminator_loss` and :meth:`generator_loss`.

    Args:
        config: an instance of ``config_class``.
        num_classes: number of classes K; labels are 0..K-1.
        image_shape: (C, H, W) of the images to generate.
    """

    config_class: ClassVar[type[GANConfig]] = GANConfig
    conditioning: ClassVar[str] = "noise"
    """What G is conditioned on: ``"noise"`` (noise and class: ``generator(z, labels)``) or ``"image"``
    (a corrupted real image, its mask and the class: see :class:`ganaug.image_gan.ImageGAN`)."""
    generator: nn.Module
    discriminator: nn.Module

    def __init__(self, config: GANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.config = config
        self.num_classes = int(num_classes)
        self.image_shape = tuple(int(s) for s in image_shape)

    # -- set-up --------------------------------------------------------------------------------

    def check_image_shape(self, family: str, min_size: int, max_size: int) -> None:
        """Refuse an image shape the family's networks cannot take (1 or 3 channels, sides in range)."""
        channels, height, width = self.image_shape
        if not (min_size <= height <= max_size and min_size <= width <= max_size) or channels not in (1, 3):
            raise ConfigError(
                f"{family} supports 1 or 3 channels and sizes {min_size} to {max_size}; got (C, H, W) = "
                f"{self.image_shape}. Resize with image_size= (--image-size) or convert with channels="
            )

    def init_ema(self) -> None:
        """Create ``self.ema_generator`` (a frozen copy of the generator) when EMA is enabled."""
        if self.config.ema_decay > 0:
            self.ema_generator = copy.deepcopy(self.generator).requires_grad_(False)

    @property
    def sampling_generator(self) -> nn.Module:
        """The network to sample from: the EMA copy when there is one."""
        ema = getattr(self, "ema_generator", None)
        return ema if ema is not None else self.generator

    def configure_optimizers(self, fused: bool | None = None) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        """Adam for G and for D with the configured learning rates and betas."""
        cfg = self.config
        betas = (cfg.beta1, cfg.beta2)
        kwargs: dict[str, Any] = {"fused": True} if fused else {}
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr_g, betas=betas, **kwargs)
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=cfg.lr_d, betas=betas, **kwargs)
        return opt_g, opt_d

    # -- what the trainer calls ------------------------------------------------------------------

    def sample_noise(self, n: int, *, device: torch.device | str | None = None,
                     generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard normal noise of shape (n, z_dim)."""
        device = device if device is not None else next(self.generator.parameters()).device
        return torch.randn(n, self.config.z_dim, device=device, generator=generator)

    def on_step(self, step: int, total_steps: int) -> None:
        """Called by the trainer before each training step (``step`` counts from 0), on the plain modules.

        The default does nothing. A family whose training follows a schedule (``cdcgan``'s
        transitional conditioning) sets it here; it must depend on ``step`` and ``total_steps`` only,
        so a resumed run follows the same schedule.
        """

    def generator_inputs(self, real: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """What the trainer feeds G with ``labels`` for a real batch and its noise; noise families: ``z``."""
        return z

    def fake_labels(self, real_labels: torch.Tensor) -> torch.Tensor:
        """Labels to condition the fake batch on; by default those of the real batch."""
        return real_labels

    def discriminator_loss(self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor,
                           fake_labels: torch.Tensor) -> torch.Tensor:
        """Loss of D on a real batch and a (detached) fake batch.

        Shape:
            real, fake: (B, C, H, W) in [-1, 1]; labels, fake_labels: (B,) int64.
        """
        raise NotImplementedError

    def generator_loss(self, fake: torch.Tensor, z: torch.Tensor, fake_labels: torch.Tensor) -> torch.Tensor:
        """Loss of G on a fake batch generated from ``z`` and ``fake_labels`` (gradients flow to G)."""
        raise NotImplementedError

    # -- description -----------------------------------------------------------------------------

    def config_dict(self) -> dict[str, Any]:
        """The config as plain JSON-able values."""
        return {f.name: getattr(self.config, f.name) for f in fields(self.config)}


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """``ema = decay * ema + (1 - decay) * model`` for parameters; buffers (BN statistics) are copied."""
    ema_params = list(ema.parameters())
    params = [p.detach() for p in model.parameters()]
    torch._foreach_lerp_(ema_params, params, 1.0 - decay)
    for ema_buffer, buffer in zip(ema.buffers(), model.buffers()):
        ema_buffer.copy_(buffer)


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 images 0..255 to float in [-1, 1] (the generator's output range)."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] to uint8 0..255."""
    return images.float().add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)
