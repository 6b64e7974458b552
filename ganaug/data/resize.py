"""How an image is brought to ``image_size=``: the resize rules, one geometry for files and for arrays.

* ``"crop"`` (the default): scale the shorter side to the size, then cut the centre. Done as: the
  largest centred region with the target's aspect ratio (rounded to whole pixels) is resized to the size.
* ``"squash"``: stretch the whole image to the size (the aspect ratio is not kept; ganaug's rule before
  the option existed).
* ``"pad"``: scale the longer side to the size and centre the image on black.

An image with the target's aspect ratio (a square image resized to a square) comes out the same under
every rule. The filter is bilinear with antialiasing in both paths: PIL's ``Image.BILINEAR`` for image
files (:func:`resize_pil`), torch's ``interpolate(..., antialias=True)`` for arrays, tensors and stores
(:func:`resize_batch`), written to match PIL's: the two differ by rounding, at most one level.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from PIL import Image

from ganaug.errors import DataError

ResizeRule = Literal["crop", "squash", "pad"]
RESIZE_RULES: tuple[str, ...] = ("crop", "squash", "pad")
DEFAULT_RESIZE = "crop"


def check_rule(resize: str) -> str:
    """``resize`` if it names a rule, else a DataError listing them."""
    if resize not in RESIZE_RULES:
        raise DataError(f"resize={resize!r} is not a resize rule; use one of {', '.join(RESIZE_RULES)}")
    return resize


def crop_box(height: int, width: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the largest centred region of a ``height`` x ``width`` image with the
    aspect ratio of ``size`` (H, W), in whole pixels."""
    target_h, target_w = size
    if width * target_h > height * target_w:  # wider than the target: cut the sides
        keep_w = max(1, min(width, round(height * target_w / target_h)))
        left = (width - keep_w) // 2
        return 0, left, height, left + keep_w
    keep_h = max(1, min(height, round(width * target_h / target_w)))
    top = (height - keep_h) // 2
    return top, 0, top + keep_h, width


def pad_layout(height: int, width: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(inner height, inner width, top, left): where a ``height`` x ``width`` image scaled to fit inside
    ``size`` (H, W) sits, centred."""
    target_h, target_w = size
    scale = min(target_h / height, target_w / width)
    inner_h = max(1, min(target_h, round(height * scale)))
    inner_w = max(1, min(target_w, round(width * scale)))
    return inner_h, inner_w, (target_h - inner_h) // 2, (target_w - inner_w) // 2


def resize_pil(image: Image.Image, size: tuple[int, int], resize: str = DEFAULT_RESIZE,
               resample: int = Image.BILINEAR) -> Image.Image:
    """``image`` (mode L or RGB, or any mode ``resample`` supports) at ``size`` (H, W) by the rule ``resize``."""
    width, height = image.size
    if (height, width) == tuple(size):
        return image
    target_h, target_w = size
    if resize == "crop":
        top, left, bottom, right = crop_box(height, width, size)
        if (bottom - top, right - left) != (height, width):
            image = image.crop((left, top, right, bottom))
        return image.resize((target_w, target_h), resample)
    if resize == "pad":
        inner_h, inner_w, top, left = pad_layout(height, width, size)
        canvas = Image.new(image.mode, (target_w, target_h))
        canvas.paste(image.resize((inner_w, inner_h), resample), (left, top))
        return canvas
    return image.resize((target_w, target_h), resample)


def resize_batch(images: torch.Tensor, size: tuple[int, int] | None, resize: str = DEFAULT_RESIZE) -> torch.Tensor:
    """uint8 (N, C, H, W) images, all of one size, at ``size`` by the rule ``resize``.

    Shape:
        (N, C, H, W) -> (N, C, size[0], size[1]), uint8.
    """
    if size is None or tuple(images.shape[-2:]) == tuple(size):
        return images
    height, width = images.shape[-2:]
    if resize == "crop":
        top, left, bottom, right = crop_box(height, width, size)
        return _interpolate(images[..., top:bottom, left:right], size)
    if resize == "pad":
        inner_h, inner_w, top, left = pad_layout(height, width, size)
        out = torch.zeros(*images.shape[:-2], *size, dtype=torch.uint8)
        out[..., top:top + inner_h, left:left + inner_w] = _interpolate(images, (inner_h, inner_w))
        return out
    return _interpolate(images, size)


def _interpolate(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(images.shape[-2:]) == tuple(size):
        return images.contiguous()
    out = F.interpolate(images.float(), size=size, mode="bilinear", antialias=True, align_corners=False)
    return out.round().clamp(0, 255).to(torch.uint8)
