"""PSNR and SSIM per image: identical images score best, more noise scores lower, bad shapes are refused."""

from __future__ import annotations

import math

import pytest
import torch

from ganaug.errors import DataError
from ganaug.metrics.restoration import psnr, ssim, ssim_window


def _images(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def _noisy(images: torch.Tensor, sigma: float, seed: int = 1) -> torch.Tensor:
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed))
    return (images.float() + sigma * 255 * noise).round().clamp(0, 255).to(torch.uint8)


@pytest.mark.parametrize("shape", [(3, 1, 8, 8), (2, 3, 28, 28)])
def test_identical_images_score_best(shape):
    clean = _images(shape)
    assert torch.isinf(psnr(clean, clean)).all()
    assert psnr(clean, clean, finite=True) == pytest.approx([10 * math.log10(255**2 * math.prod(shape[1:]))] * shape[0])
    assert ssim(clean, clean) == pytest.approx([1.0] * shape[0], abs=1e-5)


@pytest.mark.parametrize("shape", [(4, 1, 8, 8), (4, 3, 16, 12)])
def test_more_noise_scores_lower_on_both(shape):
    clean = _images(shape)
    slight, strong = _noisy(clean, 0.05), _noisy(clean, 0.3)
    assert psnr(slight, clean).shape == (shape[0],) and ssim(slight, clean).shape == (shape[0],)
    assert (psnr(strong, clean) < psnr(slight, clean)).all()
    assert (ssim(strong, clean) < ssim(slight, clean)).all()
    one_noisy = psnr(_noisy(clean[:1], 0.3), clean[:1])  # one value per image, whatever else is in the batch
    assert psnr(torch.cat([_noisy(clean[:1], 0.3), slight[1:]]), clean)[0] == pytest.approx(float(one_noisy[0]))


def test_ssim_window_fits_small_images():
    assert ssim_window(28, 28) == 11
    assert ssim_window(8, 8) == 7
    assert ssim_window(10, 64) == 9
    clean = _images((2, 1, 8, 8))
    assert ssim(_noisy(clean, 0.1), clean).isfinite().all()


@pytest.mark.parametrize("metric", [psnr, ssim])
def test_bad_shapes_are_refused_with_the_shapes(metric):
    clean = _images((2, 1, 8, 8))
    with pytest.raises(DataError, match=r"\(2, 1, 8, 8\).*\(2, 1, 8, 7\)"):
        metric(clean, clean[..., :7])
    with pytest.raises(DataError, match=r"uint8.*\(2, 8, 8\)"):
        metric(clean[:, 0], clean[:, 0])
    with pytest.raises(DataError, match="uint8"):
        metric(clean.float(), clean)
