"""Hugging Face ``datasets`` as ganaug sources, without importing the library.

A ``datasets.Dataset`` is map-style (``len``, ``ds[i]``) but not a torch ``Dataset``; its items are dicts
(``{"image": PIL image, "label": 3}``) and its labels sit in a column that can be read without decoding
a single image. This module recognises one by its type (so the core install needs no ``datasets``),
reads that column and the ``ClassLabel`` names, and turns the two containers users often pass by
mistake (a ``DatasetDict`` of splits, a streaming ``IterableDataset``) into messages with the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ganaug.errors import DataError

CHECKED_ITEMS = 16
"""Labels read from a column are compared with those of this many items before they are trusted."""


def _library_type(obj: Any, name: str) -> bool:
    return any(cls.__name__ == name and cls.__module__.split(".")[0] == "datasets" for cls in type(obj).__mro__)


def is_hf_dataset(obj: Any) -> bool:
    """True for a ``datasets.Dataset`` (an Arrow-backed, map-style Hugging Face dataset)."""
    return _library_type(obj, "Dataset") and hasattr(obj, "column_names")


def check_hf_container(obj: Any, argument: str) -> None:
    """Refuse a ``DatasetDict`` or a streaming ``IterableDataset`` passed as ``argument``, saying what to pass."""
    if _library_type(obj, "DatasetDict") or _library_type(obj, "IterableDatasetDict"):
        splits = ", ".join(repr(k) for k in obj) or "none"
        raise DataError(f"{argument} is a Hugging Face DatasetDict (splits: {splits}); pass one split, "
                        "e.g. ds['train']")
    if _library_type(obj, "IterableDataset"):
        raise DataError(f"{argument} is a streaming Hugging Face IterableDataset, which has no length; load it "
                        "without streaming=True (or materialise a part: Dataset.from_list(list(ds.take(n))))")


def hf_labels(dataset: Any, label_key: Any, item_label: Any) -> list[int] | None:
    """The labels of a Hugging Face dataset from its ``label_key`` column, or None when there is no such
    column or the column disagrees with the items (a transform that changes labels).

    ``item_label(index)`` returns the label of item ``index`` as the dataset yields it; the first
    :data:`CHECKED_ITEMS` items are compared with the column.
    """
    if not isinstance(label_key, str) or label_key not in dataset.column_names:
        return None
    column = dataset.with_format(None)[label_key]  # no transform, no image decoding
    labels = list(column)
    for index in range(min(CHECKED_ITEMS, len(labels))):
        label = item_label(index)
        label = label.item() if hasattr(label, "item") else label
        if label != labels[index]:
            return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in labels):
        return None  # strings or None: leave it to the per-item reading, which names the bad item
    return labels


def class_names(dataset: Any, label_key: Any = None) -> list[str] | None:
    """Class names: a ``.classes`` attribute (torchvision), else the ``ClassLabel`` names of a Hugging Face
    dataset's label column; None when the dataset has neither."""
    names = getattr(dataset, "classes", None)
    if isinstance(names, (list, tuple)) and names:
        return [str(c) for c in names]
    if not is_hf_dataset(dataset):
        return None
    features = getattr(dataset, "features", None) or {}
    keys: Sequence[Any] = [label_key] if label_key is not None else list(features)
    for key in keys:
        feature_names = getattr(features.get(key), "names", None) if hasattr(features, "get") else None
        if isinstance(feature_names, (list, tuple)) and feature_names:
            return [str(c) for c in feature_names]
    return None
