"""The contract of image-to-image families: G restores a corrupted real image of a known class.

A noise-to-image family (:class:`ganaug.gan.GAN`, ``conditioning = "noise"``) maps noise and a class
to an image. An image-to-image family (:class:`ImageGAN`, ``conditioning = "image"``) maps a
*corrupted real image*, the mask of what to regenerate, a short latent vector and the class to an
image. It is trained self-supervised on the user's labelled images: the trainer corrupts each real
batch on the fly (:mod:`ganaug.corruptions`: masks, noise, downscaling), G restores it, D judges the
result against the real image given the same corrupted input, and a reconstruction term ties the
result to the real image. No paired data is needed.

What the trainer calls, beyond the noise families' contract:

* ``sample_noise(n)``: one row per image holding the latent (``z_dim``), the corruption's uniforms
  and its pixel noise, all from the trainer's checkpointed noise stream (exact resume for free);
* ``generator_inputs(real, z)``: corrupt ``real`` with ``z`` and pack the result for G:
  ``(B, C + 1 + z_dim, H, W)`` = corrupted image, mask, latent broadcast over the pixels;
* ``discriminator_loss(real, fake, labels, fake_labels, *, inputs)`` and
  ``generator_loss(fake, inputs, fake_labels, *, real)``: the same losses with the condition
  (``inputs``) and the target (``real``) that an image-to-image loss needs.

A trained family restores images (:meth:`ganaug.TrainedGenerator.restore`) and makes *variations* of
real images (corrupt, then restore: :meth:`ganaug.TrainedGenerator.variations`), which keep their
source's class and identity, so they can augment a class with a handful of images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ganaug import corruptions
from ganaug.errors import ConfigError
from ganaug.gan import GAN, GANConfig


@dataclass
class ImageGANConfig(GANConfig):
    """Options every image-to-image family has."""

    limits: ClassVar[dict] = {"mask_area_min": {"above": 0, "maximum": 1}, "mask_area_max": {"above": 0, "maximum": 1},
                              "noise_min": {"minimum": 0}, "noise_max": {"minimum": 0},
                              "enhance_factor": {"minimum": 1, "maximum": 64},
                              "variation_strength": {"minimum": 0, "maximum": 1}}

    z_dim: int = 8
    """Length of the latent vector given to G beside the corrupted image (variety of the fill)."""
    tasks: str = "inpaint,denoise,enhance"
    """Comma list of the corruptions trained on (each batch mixes them): inpaint, denoise, enhance."""
    mask_area_min: float = 0.1
    """Smallest share of the image a training mask covers."""
    mask_area_max: float = 0.5
    """Largest share of the image a training mask covers."""
    noise_min: float = 0.05
    """Smallest noise level (standard deviation, in units of the pixel range) trained on."""
    noise_max: float = 0.4
    """Largest noise level trained on."""
    enhance_factor: int = 2
    """Downscaling factor that enhancement learns to undo."""
    variation_task: str = "inpaint"
    """The corruption a variation of a real image starts from."""
    variation_strength: float = 0.5
    """Where in the task's range a variation's corruption lies (0: slightest, 1: strongest)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        tasks = self.task_list()
        unknown = [t for t in (*tasks, self.variation_task) if t not in corruptions.TASKS]
        if unknown or not tasks:
            raise ConfigError(f"tasks={self.tasks!r}, variation_task={self.variation_task!r}: choose from "
                              f"{', '.join(corruptions.TASKS)}")
        for low, high, what in ((self.mask_area_min, self.mask_area_max, "mask_area"),
                                (self.noise_min, self.noise_max, "noise")):
            if not 0 < low <= high <= 1:
                raise ConfigError(f"{what}_min={low}, {what}_max={high}: need 0 < min <= max <= 1")
        if self.enhance_factor < 1:
            raise ConfigError(f"enhance_factor={self.enhance_factor}: must be >= 1")
        if not 0 <= self.variation_strength <= 1:
            raise ConfigError(f"variation_strength={self.variation_strength}: must be in [0, 1]")

    def task_list(self) -> tuple[str, ...]:
        return tuple(t.strip() for t in self.tasks.split(",") if t.strip())


class ImageGAN(GAN):
    """Base class of image-to-image families: G maps ``(inputs, labels)`` to images in [-1, 1], where
    ``inputs`` is :meth:`pack`'s ``(B, C + 1 + z_dim, H, W)`` tensor. Subclasses build the two networks
    and define the two losses (with the keyword arguments described in the module docstring)."""

    config_class: ClassVar[type[GANConfig]] = ImageGANConfig
    conditioning: ClassVar[str] = "image"
    config: ImageGANConfig

    @property
    def input_channels(self) -> int:
        """Channels of G's input: the image's, the mask and the latent."""
        return self.image_shape[0] + 1 + self.config.z_dim

    def sample_noise(self, n: int, *, device: torch.device | str | None = None,
                     generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, z_dim + corruption uniforms + C*H*W) standard normal: the latent and all of a corruption's
        randomness, so that it comes from the caller's (checkpointed or seeded) generator."""
        device = device if device is not None else next(self.generator.parameters()).device
        channels, height, width = self.image_shape
        size = self.config.z_dim + corruptions.UNIFORMS + channels * height * width
        return torch.randn(n, size, device=device, generator=generator)

    def _split(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        latent_end = self.config.z_dim
        uniform_end = latent_end + corruptions.UNIFORMS
        latent = z[:, :latent_end]
        uniforms = corruptions.normal_to_uniform(z[:, latent_end:uniform_end])
        return latent, uniforms, z[:, uniform_end:].reshape(len(z), *self.image_shape)

    def corrupt(self, real: torch.Tensor, z: torch.Tensor, *, task: str | None = None,
                strength: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Corrupt ``real`` (in [-1, 1]) with the randomness in ``z``: ``(corrupted, masks)``.

        Without ``task`` each image gets one of the configured tasks; without ``strength`` a random
        point of the task's range.
        """
        cfg = self.config
        _, uniforms, pixel_noise = self._split(z)
        return corruptions.corrupt(real, uniforms, pixel_noise.to(real.dtype), tasks=cfg.task_list(),
                                   area=(cfg.mask_area_min, cfg.mask_area_max), sigma=(cfg.noise_min, cfg.noise_max),
                                   factor=cfg.enhance_factor, strength=strength, task=task)

    def pack(self, corrupted: torch.Tensor, masks: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """G's input: the corrupted image, its mask and the latent broadcast over the pixels."""
        latent = self._split(z)[0].to(corrupted.dtype)
        height, width = corrupted.shape[-2:]
        spread = latent[:, :, None, None].expand(-1, -1, height, width)
        return torch.cat([corrupted, masks.to(corrupted.dtype), spread], dim=1)

    def generator_inputs(self, real: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.pack(*self.corrupt(real, z), z)

    def condition(self, inputs: torch.Tensor) -> torch.Tensor:
        """The part of G's input that D sees too: corrupted image and mask (not the latent)."""
        return inputs[:, : self.image_shape[0] + 1]

    @staticmethod
    def keep_known(output: torch.Tensor, inputs: torch.Tensor, channels: int) -> torch.Tensor:
        """Paste the known pixels back: where the mask is 0 the corrupted input *is* the image."""
        corrupted, masks = inputs[:, :channels], inputs[:, channels: channels + 1]
        return masks * output + (1.0 - masks) * corrupted
