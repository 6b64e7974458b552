"""How close restored images are to the clean originals: PSNR and SSIM, one value per image.

Both return a score per image rather than a batch mean, so that a caller can average them and give a
confidence interval (:func:`ganaug.metrics.stats.mean_ci`) or compare two methods image by image
(:func:`ganaug.metrics.stats.paired_difference`). They take uint8 batches, the form in which
:meth:`ganaug.TrainedGenerator.restore` returns images, and score them as floats in [0, 1] with
``data_range=1.0`` through :mod:`torchmetrics.functional.image`.
"""

from __future__ import annotations

import math

import torch
from torchmetrics.functional.image import (
    peak_signal_noise_ratio,
    structural_similarity_index_measure,
)

from ganaug.errors import DataError

SSIM_WINDOW = 11
"""SSIM's usual Gaussian window (Wang et al. 2004: 11x11, sigma 1.5), used when the images are that large."""
SSIM_SIGMA = 1.5


def _check_pair(restored: torch.Tensor, clean: torch.Tensor, what: str) -> None:
    for name, images in (("restored", restored), ("clean", clean)):
        if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.dim() != 4:
            raise DataError(f"{what}: {name} images must be a uint8 tensor (N, C, H, W); got "
                            f"{getattr(images, 'dtype', type(images).__name__)} of shape "
                            f"{tuple(getattr(images, 'shape', ()))}")
    if restored.shape != clean.shape:
        raise DataError(f"{what}: restored images of shape {tuple(restored.shape)} and clean images of shape "
                        f"{tuple(clean.shape)} differ; give one clean image per restored one, same size")


def _unit(images: torch.Tensor) -> torch.Tensor:
    return images.float() / 255.0


def psnr(restored: torch.Tensor, clean: torch.Tensor, *, finite: bool = False) -> torch.Tensor:
    """Peak signal-to-noise ratio of each restored image against its clean original, in dB.

    Args:
        restored: the images to score.
        clean: the originals.
        finite: identical images have an infinite PSNR, which makes a mean over images infinite too;
            with ``finite=True`` they score as if one pixel were one level off, the highest finite PSNR
            at this size (``10 * log10(255**2 * C * H * W)``, 77 dB for 28x28 grey), so averages stay
            finite and identical images still rank first.

    Returns:
        float32 (N,): higher is closer.

    Shape:
        restored, clean: (N, C, H, W) uint8, the same shape.
    """
    _check_pair(restored, clean, "psnr")
    if len(restored) == 0:
        return torch.empty(0)
    scores = peak_signal_noise_ratio(_unit(restored), _unit(clean), data_range=1.0, reduction="none", dim=(1, 2, 3))
    if finite:
        ceiling = 10.0 * math.log10(255.0**2 * restored[0].numel())
        scores = torch.where(torch.isinf(scores), torch.full_like(scores, ceiling), scores)
    return scores


def ssim_window(height: int, width: int) -> int:
    """SSIM's Gaussian window side for images of ``height`` x ``width``: 11, or the largest odd size that fits.

    The usual 11x11 window is larger than an 8x8 image; a window that does not fit would average
    mostly reflected padding, so it shrinks to the largest odd size <= min(H, W) (7 for 8x8).
    """
    side = min(SSIM_WINDOW, height, width)
    return side if side % 2 else side - 1


def ssim(restored: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Structural similarity of each restored image against its clean original (mean over pixels and channels).

    The Gaussian window is 11x11 with sigma 1.5 (the usual SSIM) when the images are at least 11
    pixels on each side. Smaller images get the largest odd window that fits (:func:`ssim_window`,
    e.g. 7 for 8x8), and sigma shrinks in proportion (``1.5 * window / 11``). The sigma is what sets
    the window: torchmetrics' Gaussian SSIM ignores ``kernel_size`` and derives the window from sigma
    (``2 * int(3.5 * sigma + 0.5) + 1``), so passing a smaller ``kernel_size`` alone would change nothing.

    Returns:
        float32 (N,): 1 for identical images, lower (down to -1) for less similar ones.

    Shape:
        restored, clean: (N, C, H, W) uint8, the same shape.
    """
    _check_pair(restored, clean, "ssim")
    if len(restored) == 0:
        return torch.empty(0)
    window = ssim_window(*restored.shape[-2:])
    sigma = SSIM_SIGMA * window / SSIM_WINDOW
    return structural_similarity_index_measure(_unit(restored), _unit(clean), gaussian_kernel=True, sigma=sigma,
                                               kernel_size=window, data_range=1.0, reduction="none")
