"""The form of the real items (PIL, ndarray or tensor; layout; range), so synthetic ones can match it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganaug.data.pixels import float_value_range
from ganaug.errors import DataError


@dataclass(frozen=True)
class ItemFormat:
    """How the real dataset's images look: PIL, ndarray or tensor, layout, dtype and value range."""

    kind: str  # "pil" | "ndarray" | "tensor"
    layout: str  # "HW" | "HWC" | "CHW"
    dtype: Any = None
    value_range: str = "uint8"  # "uint8" (0..255) | "unit" (0..1) | "symmetric" (-1..1)
    pil_mode: str = ""
    tensor_type: Any = None
    """A ``torch.Tensor`` subclass the real images have (``torchvision.tv_tensors.Image``), kept on synthetic ones."""

    def render(self, image: torch.Tensor) -> Any:
        """Convert one uint8 (C, H, W) tensor to this format."""
        if self.kind == "pil":
            array = image.permute(1, 2, 0).numpy()
            pil = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
            return pil.convert(self.pil_mode) if pil.mode != self.pil_mode else pil
        values: torch.Tensor = image
        if self.value_range == "unit":
            values = image.float() / 255.0
        elif self.value_range == "symmetric":
            values = image.float() / 127.5 - 1.0
        if self.layout == "HW":
            values = values[0]
        elif self.layout == "HWC":
            values = values.permute(1, 2, 0)
        if self.kind == "tensor":
            values = values.to(self.dtype).contiguous()
            return self.tensor_type(values) if self.tensor_type is not None else values
        return np.ascontiguousarray(values.numpy()).astype(self.dtype, copy=False)


def check_size(image: Any, image_shape: tuple[int, int, int]) -> None:
    """Refuse a real image whose height and width differ from the generator's (C, H, W) ``image_shape``.

    Run before any work: otherwise the fidelity judge, fitted on the real images, fails inside
    scikit-learn on the generator's samples. Only a size that no reading of the axes (CHW, HWC, HW) gives is
    refused; the rest (channels, layout) is :func:`detect_format`'s.
    """
    sizes: list[tuple[int, ...]] = []
    if isinstance(image, Image.Image):
        sizes = [(image.size[1], image.size[0])]
    elif isinstance(image, (torch.Tensor, np.ndarray)):
        shape = tuple(image.shape)
        if len(shape) == 2:
            sizes = [shape]
        elif len(shape) == 3:
            sizes = [size for size, channel in ((shape[1:], shape[0]), (shape[:2], shape[-1])) if channel in (1, 3, 4)]
    height, width = image_shape[1:]
    if sizes and (height, width) not in sizes:
        size = sizes[0]
        target = str(height) if height == width else f"({height}, {width})"
        raise DataError(f"real images are {size[0]}x{size[1]} (HxW, item 0) but the generator makes {height}x{width}; "
                        "train the generator at the real images' size, or load the real data to match: "
                        f"SyntheticMix(ganaug.load_data(real, image_size={target}), ...)")


def detect_format(samples: Sequence[Any], image_shape: tuple[int, int, int]) -> ItemFormat:
    """Infer the real items' image format from a few of them, checking it fits ``image_shape``."""
    channels, height, width = image_shape
    first = samples[0]
    check_size(first, image_shape)
    if isinstance(first, Image.Image):
        mode_channels = len(first.getbands())
        if first.size != (width, height) or (mode_channels != channels and first.mode not in ("P", "RGBA", "LA")):
            raise DataError(
                f"real images are PIL {first.mode} {first.size[0]}x{first.size[1]} (WxH) but the generator makes "
                f"(C, H, W) = {image_shape}; train the generator on this data (same size and channels)"
            )
        return ItemFormat("pil", "HWC", pil_mode=first.mode)
    if isinstance(first, torch.Tensor):
        kind, shape, dtype = "tensor", tuple(first.shape), first.dtype
        is_float = first.is_floating_point()
    elif isinstance(first, np.ndarray):
        kind, shape, dtype = "ndarray", first.shape, first.dtype
        is_float = first.dtype.kind == "f"
    else:
        raise DataError(f"real images are {type(first).__name__}; SyntheticMix supports PIL images, arrays and tensors")
    candidates = {"CHW": (channels, height, width), "HWC": (height, width, channels)}
    if channels == 1:
        candidates["HW"] = (height, width)
    preferred = ("CHW", "HWC", "HW") if kind == "tensor" else ("HWC", "HW", "CHW")
    layout = next((name for name in preferred if candidates.get(name) == shape), None)
    if layout is None:
        raise DataError(
            f"real images have shape {shape} but the generator makes (C, H, W) = {image_shape}; train the "
            "generator on this data, or resize the real images to match"
        )
    value_range = "uint8"
    if is_float:
        low = min(float(s.min()) for s in samples)
        high = max(float(s.max()) for s in samples)
        value_range = float_value_range(low, high) or "normalised"
        if value_range not in ("unit", "symmetric"):
            raise DataError(
                f"real images are floats in {low:.3g}..{high:.3g}, which looks normalised (mean/std); synthetic "
                "images cannot be made to match. Wrap the dataset without its Normalize step and pass the "
                "transform to SyntheticMix(transform=...) so it applies to real and synthetic items alike"
            )
    subclass = type(first) if kind == "tensor" and type(first) is not torch.Tensor else None
    return ItemFormat(kind, layout, dtype, value_range, tensor_type=subclass)
