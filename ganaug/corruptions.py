"""Corruptions that image-to-image families learn to undo: masks (inpainting), noise (denoising), blur.

Every function works on a batch in the generators' range [-1, 1], shape (B, C, H, W), and takes its
randomness from *uniform* numbers given by the caller (one row per image), never from a global RNG:
the trainer draws them from its checkpointed noise stream, so a resumed run corrupts exactly as an
uninterrupted one would, and sampling with a seed is reproducible.

A mask has shape (B, 1, H, W), 1 where the image is to be regenerated. Denoising and enhancement
regenerate everywhere (mask of ones); inpainting regenerates the masked region and keeps the rest.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F

from ganaug.errors import ConfigError, DataError

TASKS = ("inpaint", "denoise", "enhance")
UNIFORMS = 6
"""Uniform numbers per image that :func:`corrupt` reads (task choice, strength, box position and shape)."""


def normal_to_uniform(values: torch.Tensor) -> torch.Tensor:
    """Standard-normal draws to uniform (0, 1) through the normal CDF (families draw normal noise)."""
    return 0.5 * (1.0 + torch.erf(values / math.sqrt(2.0)))


def box_masks(shape: tuple[int, int], area: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """One rectangle per image covering about ``area`` (a fraction, per image) of it.

    Args:
        shape: (H, W).
        area: (B,) fractions in (0, 1].
        u: (B, 3) uniforms: aspect ratio, then the top-left corner's position.
    """
    height, width = shape
    aspect = torch.exp((u[:, 0] - 0.5) * math.log(4.0))  # 1/2 to 2
    box_h = (torch.sqrt(area * aspect) * height).round().clamp(1, height)
    box_w = (torch.sqrt(area / aspect) * width).round().clamp(1, width)
    top = ((height - box_h + 1) * u[:, 1]).floor().clamp(max=height - 1)
    left = ((width - box_w + 1) * u[:, 2]).floor().clamp(max=width - 1)
    rows = torch.arange(height, device=u.device).view(1, height, 1)
    cols = torch.arange(width, device=u.device).view(1, 1, width)
    inside = ((rows >= top.view(-1, 1, 1)) & (rows < (top + box_h).view(-1, 1, 1))
              & (cols >= left.view(-1, 1, 1)) & (cols < (left + box_w).view(-1, 1, 1)))
    return inside.unsqueeze(1).to(torch.float32)


def apply_mask(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Blank the masked pixels (to 0, mid-grey in [-1, 1])."""
    return images * (1.0 - masks)


def add_noise(images: torch.Tensor, sigma: torch.Tensor, pixel_noise: torch.Tensor) -> torch.Tensor:
    """Gaussian noise of standard deviation ``sigma`` (per image, in units of the 0..1 pixel range)."""
    return (images + 2.0 * sigma.view(-1, 1, 1, 1) * pixel_noise).clamp(-1.0, 1.0)


def degrade(images: torch.Tensor, factor: int) -> torch.Tensor:
    """Downscale by ``factor`` (area average) and back up (bilinear): the input of enhancement."""
    if factor <= 1:
        return images
    height, width = images.shape[-2:]
    small = F.interpolate(images, size=(max(1, height // factor), max(1, width // factor)), mode="area")
    return F.interpolate(small, size=(height, width), mode="bilinear", align_corners=False)


def corrupt(images: torch.Tensor, uniforms: torch.Tensor, pixel_noise: torch.Tensor, *, tasks: tuple[str, ...],
            area: tuple[float, float], sigma: tuple[float, float], factor: int,
            strength: float | None = None, task: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupt each image by one of ``tasks`` (chosen per image); returns ``(corrupted, masks)``.

    Args:
        images: (B, C, H, W) in [-1, 1].
        uniforms: (B, :data:`UNIFORMS`) in (0, 1).
        pixel_noise: (B, C, H, W) standard normal, for denoising.
        tasks: the corruptions to choose from, uniformly.
        area: (smallest, largest) mask area for inpainting.
        sigma: (smallest, largest) noise level for denoising.
        factor: downscaling factor for enhancement.
        strength: instead of a random strength in each range, this point of it (0: smallest, 1: largest).
        task: use this corruption for every image instead of choosing.
    """
    unknown = [t for t in ((task,) if task else tasks) if t not in TASKS]
    if unknown:
        raise ConfigError(f"unknown corruption {unknown[0]!r}; choose from {', '.join(TASKS)}")
    batch = len(images)
    level = uniforms[:, 1] if strength is None else torch.full((batch,), float(strength), device=images.device)
    choice = (uniforms[:, 0] * len(tasks)).long().clamp(max=len(tasks) - 1)
    chosen = [tasks[i] for i in choice.tolist()] if task is None else [task] * batch
    corrupted, masks = images.clone(), torch.ones(batch, 1, *images.shape[-2:], device=images.device)
    for name in set(chosen):
        rows = torch.tensor([i for i, t in enumerate(chosen) if t == name], device=images.device)
        part = images[rows]
        if name == "inpaint":
            box = box_masks(images.shape[-2:], area[0] + level[rows] * (area[1] - area[0]), uniforms[rows, 2:5])
            corrupted[rows], masks[rows] = apply_mask(part, box), box
        elif name == "denoise":
            corrupted[rows] = add_noise(part, sigma[0] + level[rows] * (sigma[1] - sigma[0]), pixel_noise[rows])
        else:
            corrupted[rows] = degrade(part, factor)
    return corrupted, masks


MASK_GREY_LIMIT = 0.1
"""A mask with more than this share of grey pixels (neither near 0 nor near 1) is refused as not black and white;
below it, the grey pixels of a compressed or resized mask's edges are rounded."""


def binary_masks(masks: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) masks in 0..1 or 0..255 as floats of 0 and 1; grey masks and masks that mark nothing are
    refused, since either would return the input unchanged without a word."""
    if not torch.isfinite(masks).all() or masks.min() < 0 or masks.max() > 255:
        raise DataError("restore: masks must hold 0 (pixel kept) and 1 or 255 (pixel missing); these hold values "
                        f"from {masks.min().item():g} to {masks.max().item():g}")
    values = masks / 255.0 if masks.max() > 1 else masks
    grey = ((values > 0.1) & (values < 0.9)).flatten(1).float().mean(1)
    worst = int(grey.argmax())
    if grey[worst] > MASK_GREY_LIMIT:
        example = values[worst][(values[worst] > 0.1) & (values[worst] < 0.9)][0].item()
        raise DataError(f"restore: mask {worst} is grey on {100 * grey[worst]:.0f}% of its pixels (e.g. "
                        f"{example:.2f}); a mask is black and white: 1 (or 255) where a pixel is missing, 0 where "
                        "it is kept")
    binary = (values > 0.5).float()
    empty = torch.nonzero(binary.flatten(1).sum(1) == 0).flatten().tolist()
    if len(empty) == len(binary):
        raise DataError("restore: no mask marks a pixel missing, so there is nothing to inpaint; mark the missing "
                        "pixels with 1 (or 255, white in a mask image)")
    if empty:
        warnings.warn(f"restore: {len(empty)} of {len(binary)} masks mark no pixel missing (first: image {empty[0]}); "
                      "those images come back unchanged", stacklevel=3)
    return binary
