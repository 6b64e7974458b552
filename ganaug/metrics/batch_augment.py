"""Classic augmentation of whole float batches with torch ops, seeded: what the CNN fidelity judge trains with.

Albumentations works one image at a time in Python; the judge augments every batch of every
training step, so the same kinds of move (the presets of :mod:`ganaug.gain.augment`) are done here as
a few tensor operations on the batch:

* ``digits``: small affine moves (scale, translation); no flips, which turn one digit into another;
* ``photos``: a horizontal flip, small affine moves, and for colour a mild colour jitter;
* ``microscopy``: images without an orientation (cells, slides): every flip and 90-degree turn,
  small affine moves, and for colour a mild colour jitter (stains and illumination vary);
* ``none``: the batch as it is.

Every random draw comes from the ``torch.Generator`` passed in, so a batch's augmentation is a
function of the generator's state only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganaug.errors import ConfigError

PRESETS = ("auto", "digits", "photos", "microscopy", "none")


def resolve_preset(preset: str, channels: int) -> str:
    """``"auto"`` is ``digits`` for grayscale images and ``microscopy`` for colour ones; other names are checked."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown augmentation preset {preset!r}; choose from {', '.join(PRESETS)}")
    if preset == "auto":
        return "digits" if channels == 1 else "microscopy"
    return preset


def augment_batch(images: torch.Tensor, generator: torch.Generator, preset: str, *, shift: float = 0.1,
                  scale: float = 0.1, jitter: float = 0.2) -> torch.Tensor:
    """A randomly moved copy of each image of a float batch in [0, 1].

    Args:
        images: float images in [0, 1].
        generator: the CPU generator every random draw comes from.
        preset: ``digits``, ``photos``, ``microscopy`` or ``none`` (``auto`` resolved by :func:`resolve_preset`).
        shift: the largest translation, as a share of the image side.
        scale: the largest zoom in or out, as a share (0.1: 0.9x to 1.1x).
        jitter: the largest change of brightness, contrast and saturation, as a share (colour images only).

    Returns:
        the augmented batch, same shape and device.

    Shape:
        images: (B, C, H, W); returns (B, C, H, W).
    """
    preset = resolve_preset(preset, images.shape[1])
    if preset == "none" or not len(images):
        return images
    x = images
    if preset in ("photos", "microscopy"):
        x = _where(_coin(x, generator), x.flip(-1), x)
    if preset == "microscopy":
        x = _where(_coin(x, generator), x.flip(-2), x)
        if x.shape[-1] == x.shape[-2]:  # with both flips, a transpose reaches every 90-degree turn
            x = _where(_coin(x, generator), x.transpose(-1, -2), x)
    x = _affine(x, generator, shift, scale, reflect=preset == "microscopy")
    if x.shape[1] == 3 and preset != "digits" and jitter > 0:
        x = _colour_jitter(x, generator, jitter)
    return x


def _coin(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(len(x), generator=generator) < 0.5).to(x.device)[:, None, None, None]


def _where(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.where(mask, a, b)


def _uniform(n: int, generator: torch.Generator, spread: float, *shape: int) -> torch.Tensor:
    """Draws in [-spread, spread]."""
    return (torch.rand(n, *shape, generator=generator) * 2 - 1) * spread


def _affine(x: torch.Tensor, generator: torch.Generator, shift: float, scale: float, *, reflect: bool) -> torch.Tensor:
    """Zoom and translate each image (bilinear); borders reflected for orientation-free images, else black."""
    if shift <= 0 and scale <= 0:
        return x
    n = len(x)
    zoom = 1 + _uniform(n, generator, scale)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = zoom
    theta[:, :, 2] = _uniform(n, generator, 2 * shift, 2)  # grid coordinates span 2 per image side
    grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection" if reflect else "zeros",
                         align_corners=False)


def _colour_jitter(x: torch.Tensor, generator: torch.Generator, jitter: float) -> torch.Tensor:
    """Brightness, contrast and saturation each scaled by a factor in [1 - jitter, 1 + jitter] per image."""
    brightness, contrast, saturation = (1 + _uniform(len(x), generator, jitter, 1, 1, 1).to(x) for _ in range(3))
    x = x * brightness
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (x - mean) * contrast + mean
    grey = x.mean(1, keepdim=True)
    return ((x - grey) * saturation + grey).clamp(0, 1)
