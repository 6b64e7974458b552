"""How a Dataset's items hold an image and its label: ``(image, label, ...)`` pairs or dicts.

Torchvision-style datasets yield tuples; Hugging Face ``datasets`` and many custom ones yield dicts
(``{"image": PIL image, "label": 3}``, with key names that vary). :func:`item_form` looks at one item
and returns an :class:`ItemForm` that splits any item into ``(image, label)`` and builds a synthetic
item in the same form, so ``SyntheticMix`` hands a dict dataset's loop dicts too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganaug.errors import DataError

IMAGE_KEYS = ("image", "img", "pixel_values", "images", "x", "input")
LABEL_KEYS = ("label", "labels", "target", "targets", "y", "class", "fine_label")


@dataclass(frozen=True)
class ItemForm:
    """Where an item keeps its image and label: positions 0 and 1 of a tuple, or two keys of a dict."""

    image_key: Any = 0
    label_key: Any = 1
    mapping: bool = False

    def split(self, item: Any, index: int, where: str) -> tuple[Any, Any]:
        """``(image, label)`` of one item, or a DataError naming it (a ``(label, image)`` pair is called swapped)."""
        try:
            if self.mapping:
                return item[self.image_key], item[self.label_key]
            image, label = item[0], item[1]
        except (KeyError, IndexError, TypeError):
            raise DataError(f"item {index} of {where} has no {self.describe()}; every item must have the form of "
                            "item 0 (or pass item_keys=(image_key, label_key))") from None
        if _looks_like_label(image) and _looks_like_image(label):
            raise DataError(f"item {index} of {where} looks swapped: item[0] is {describe(image)} and item[1] is "
                            f"{describe(label)}; return (image, label)")
        return image, label

    def join(self, image: Any, label: Any, synthetic: bool | None = None) -> Any:
        """A synthetic item in this form (with ``is_synthetic`` / a third element when ``synthetic`` is given)."""
        if self.mapping:
            item = {self.image_key: image, self.label_key: label}
            if synthetic is not None:
                item["is_synthetic"] = synthetic
            return item
        return (image, label) if synthetic is None else (image, label, synthetic)

    def describe(self) -> str:
        return f"keys {self.image_key!r} and {self.label_key!r}" if self.mapping else "(image, label) pair"


KEYS_FIX = "pass item_keys=(image_key, label_key)"
"""How to name a dict's keys where the data is given to :func:`ganaug.load_data` or ``SyntheticMix``."""


def item_form(item: Any, where: str, keys: Sequence[str] | None = None, keys_fix: str = KEYS_FIX) -> ItemForm:
    """The form of ``item`` (item 0 of ``where``); ``keys=(image_key, label_key)`` names a dict's keys.

    ``keys_fix`` says how to name them where the data came from (a ``module:function`` source takes no
    ``item_keys=`` from the CLI, so its caller says what works there).
    """
    if isinstance(item, Mapping):
        if keys is not None:
            image_key, label_key = _pair(keys)
            missing = [k for k in (image_key, label_key) if k not in item]
            if missing:
                raise DataError(f"item 0 of {where} has no key(s) {missing}; its keys are {sorted(map(str, item))}")
            return ItemForm(image_key, label_key, True)
        image_key = next((k for k in IMAGE_KEYS if k in item), None)
        label_key = next((k for k in LABEL_KEYS if k in item), None)
        if image_key is None or label_key is None:
            raise DataError(f"the items of {where} are dicts with keys {sorted(map(str, item))}; ganaug looks for an "
                            f"image under one of {IMAGE_KEYS} and a label under one of {LABEL_KEYS}: {keys_fix}")
        return ItemForm(image_key, label_key, True)
    if isinstance(item, (tuple, list)) and len(item) >= 2:
        return ItemForm()
    raise DataError(f"item 0 of {where} is not an (image, label) pair or a dict ({type(item).__name__}); pass "
                    "labels= or wrap the dataset so that it yields (image, label)")


def _pair(keys: Sequence[str]) -> tuple[str, str]:
    if isinstance(keys, (str, bytes)) or len(keys) != 2:
        raise DataError(f"item_keys={keys!r}: give two keys, (image_key, label_key)")
    return keys[0], keys[1]


def _looks_like_label(value: Any) -> bool:
    """An int or a one-element number (NumPy scalar, 0-d or 1-element array or tensor)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return True
    return isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim <= 1 and math.prod(value.shape) == 1


def _looks_like_image(value: Any) -> bool:
    """A PIL image, or an array or tensor of at least two axes."""
    return isinstance(value, Image.Image) or (isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim >= 2)


def describe(value: Any) -> str:
    """A short description of a value for a one-line message: its type and shape, never its contents."""
    if isinstance(value, Image.Image):
        return f"a PIL {value.mode} image of {value.size[0]}x{value.size[1]} (WxH)"
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return f"a {type(value).__name__} of shape {tuple(value.shape)} ({value.dtype})"
    if isinstance(value, (int, float, np.number)):
        return f"{type(value).__name__} {value!r}"
    return f"a {type(value).__name__}"
