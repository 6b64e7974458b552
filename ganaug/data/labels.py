"""The labels of a torch Dataset without loading its images, from the attributes datasets usually have."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from ganaug.errors import DataError


def read_labels(dataset: Dataset) -> list[int]:
    """The dataset's labels without loading its images, from the usual attributes."""
    for attribute in ("targets", "labels", "y"):
        values = getattr(dataset, attribute, None)
        if values is not None and not callable(values):
            return [int(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]
    if isinstance(dataset, torch.utils.data.TensorDataset) and len(dataset.tensors) >= 2:
        return dataset.tensors[1].tolist()
    if isinstance(dataset, torch.utils.data.Subset):
        parent = read_labels(dataset.dataset)
        return [parent[i] for i in dataset.indices]
    raise DataError(
        f"cannot read the labels of {type(dataset).__name__} cheaply (no .targets, .labels or .y attribute); "
        "pass labels=[...] with one integer label per item"
    )
