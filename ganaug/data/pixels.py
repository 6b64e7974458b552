"""Convert one image, or a batch, to uint8 (C, H, W) following the documented rules.

* Float images in [0, 1] are scaled by 255; float images in [-1, 1] (with negatives) are mapped
  to [0, 255]; float images already in [0, 255] are rounded. NaN or inf is an error.
* Integer images up to 255 are taken as they are. uint16 images (and PIL's 16-bit modes) with values
  above 255 are 16-bit: divided by 257 (65535 becomes 255). Other integer images with values above
  255 are refused (:func:`too_bright`): their scale is unknown, and clipping or guessing would change
  the images in silence. Boolean images become 0/255.
* A fourth (alpha) channel is dropped; PIL palette, CMYK, 1-bit and 16-bit images are converted to
  L or RGB. ``channels=1`` or ``channels=3`` converts every image to grayscale or RGB.
* ``image_size=`` resizes every image (bilinear, antialiased) by a rule of :mod:`ganaug.data.resize`
  (``resize=``: ``"crop"`` by default, ``"squash"``, ``"pad"``), so mixed sizes can be combined.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np
import torch
from PIL import Image

from ganaug.data.resize import DEFAULT_RESIZE, resize_batch
from ganaug.errors import DataError

SizeArg = Union[int, tuple[int, int], None]


def float_value_range(low: float, high: float) -> str | None:
    """The range rule for float images, by their smallest and largest values.

    Returns ``"unit"`` for [0, 1], ``"symmetric"`` for [-1, 1] (with negatives), ``"byte"`` for
    [0, 255], or None for anything else (normalised with a mean and standard deviation, say).
    """
    if low >= 0.0 and high <= 1.0:
        return "unit"
    if low >= -1.0 and high <= 1.0:
        return "symmetric"
    if low >= 0.0 and high <= 255.0:
        return "byte"
    return None


def _pil_to_array(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ("L", "RGB"):
        return np.asarray(image)
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image).astype(np.float64)
        top = 65535.0 if array.max() > 255 else 255.0
        return np.rint(np.clip(array, 0, top) * (255.0 / top)).astype(np.uint8)
    if mode == "F":
        return np.asarray(image, dtype=np.float32)
    if mode in ("1", "LA"):
        return np.asarray(image.convert("L"))
    return np.asarray(image.convert("RGB"))  # P, RGBA, CMYK, YCbCr, LAB, HSV...


def _image_to_chw_uint8(image: Any, where: str, channels: int | None) -> torch.Tensor:
    if isinstance(image, Image.Image):
        array = _pil_to_array(image)
        layout_hwc = True
    elif isinstance(image, torch.Tensor):
        array = image.detach().cpu().numpy()
        layout_hwc = False
    elif isinstance(image, np.ndarray):
        array = image
        layout_hwc = True
    else:
        raise DataError(f"{where}: image is a {type(image).__name__}; use a PIL image, numpy array or tensor")
    if array.ndim == 2:
        array = array[None]
    elif array.ndim == 3:
        first, last = array.shape[0] in (1, 3, 4), array.shape[-1] in (1, 3, 4)
        if first and (not layout_hwc or not last):
            pass
        elif last:
            array = array.transpose(2, 0, 1)
        else:
            raise DataError(f"{where}: image of shape {array.shape} has no channel axis of size 1, 3 or 4")
    else:
        raise DataError(f"{where}: image must be HW, HWC or CHW; got shape {array.shape}")
    tensor = torch.from_numpy(np.array(_to_uint8(array, where), copy=True, order="C"))
    if tensor.shape[0] == 4:
        tensor = tensor[:3]
    return _convert_channels_batch(tensor[None], channels)[0]


def _to_uint8(array: np.ndarray, where: str, span: tuple[float, float] | None = None) -> np.ndarray:
    """Scale an image array of any numeric dtype to uint8 following the module's documented rules.

    ``span`` is the (min, max) of the whole data set when ``array`` is one chunk of it, so that every
    chunk is scaled by the same rule.
    """
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype.kind in "iu":
        low, high = (int(v) for v in span) if span else (int(array.min()), int(array.max()))
        if low < 0:
            raise DataError(f"{where}: integer image has negative values (min {low}); use 0..255")
        if high > 255 and array.dtype != np.uint16:
            raise too_bright(where, array.dtype, high)
        if high > 255:  # 16-bit
            return np.rint(array * (255.0 / 65535.0)).astype(np.uint8)
        return array.astype(np.uint8)
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            flat = int(np.argmax(~finite.reshape(-1)))
            raise DataError(
                f"{where}: float image holds NaN or inf (first at flat position {flat}); clean the data first"
            )
        low, high = (float(v) for v in span) if span else (float(array.min()), float(array.max()))
        value_range = float_value_range(low, high)
        if value_range == "unit":
            scaled = array * 255.0
        elif value_range == "symmetric":
            scaled = (array + 1.0) * 127.5
        elif value_range == "byte":
            scaled = array
        else:
            raise DataError(
                f"{where}: float image values span {low:.3g}..{high:.3g}; expected [0, 1], [-1, 1] or [0, 255]"
            )
        return np.rint(scaled).astype(np.uint8)
    raise DataError(f"{where}: images of dtype {array.dtype} are not supported")


def too_bright(where: str, dtype: np.dtype, high: int, image: int | None = None) -> DataError:
    """The error for integer images (not uint16) with values above 255: ``where`` names the source, ``image``
    the index of an image that holds the largest value ``high`` when ``where`` is a batch."""
    which = f" (image {image})" if image is not None else ""
    return DataError(f"{where}: {dtype} image values go up to {high}{which}, above 255; scale them to 0..255 "
                     "uint8, or pass floats in 0..1 (16-bit images: divide by 257, or store them as uint16)")


def _convert_channels_batch(images: torch.Tensor, channels: int | None) -> torch.Tensor:
    """Convert (N, C, H, W) uint8 images to ``channels`` channels (ITU-R 601 luma for grey)."""
    if channels is None or images.shape[1] == channels:
        return images
    if channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (images.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)


def _resize_batch(images: torch.Tensor, size: tuple[int, int] | None, resize: str = DEFAULT_RESIZE) -> torch.Tensor:
    return resize_batch(images, size, resize)


def _unify(images: list[torch.Tensor], size, channels, kind: str, names: list[str] | None = None,
           resize: str = DEFAULT_RESIZE) -> list[torch.Tensor]:
    """Make sure every image has the first one's channel count, then resize when asked (by the rule
    ``resize``), else make sure every image has the first one's size."""
    first = images[0].shape
    for index, image in enumerate(images):
        if image.shape != first and (size is None or image.shape[0] != first[0]):
            raise mixed_shapes(names[index] if names else f"{kind} {index}", tuple(image.shape), tuple(first))
    if size is not None:
        return [resize_batch(im[None], size, resize)[0] for im in images]
    return images


def mixed_shapes(who: str, shape: tuple[int, ...], first: tuple[int, ...]) -> DataError:
    """The error for an image whose (C, H, W) ``shape`` differs from the first image's, with the option that fixes it."""
    which = "channel counts" if shape[0] != first[0] else "sizes"
    fix = "channels=1 or 3 (--channels)" if which == "channel counts" else "image_size= (--image-size)"
    return DataError(f"{who} has shape {tuple(shape)} (C, H, W) but the first image has {tuple(first)}: "
                     f"images of mixed {which}; pass {fix} to convert them all")


def _normalise_size(image_size: SizeArg) -> tuple[int, int] | None:
    if image_size is None:
        return None
    if isinstance(image_size, bool) or isinstance(image_size, (str, bytes, float)):
        raise DataError(f"image_size={image_size!r} must be a positive int or (H, W)")
    if isinstance(image_size, int):
        size = (image_size, image_size)
    else:
        try:
            size = tuple(int(s) for s in image_size)  # type: ignore[assignment]
        except (TypeError, ValueError):
            raise DataError(f"image_size={image_size!r} must be a positive int or (H, W)") from None
    if len(size) != 2 or min(size) < 1 or max(size) > 4096:
        raise DataError(f"image_size={image_size!r} must be a positive int or (H, W)")
    return size  # type: ignore[return-value]
