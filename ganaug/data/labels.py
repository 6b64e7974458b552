"""The labels of a torch Dataset without loading its images, from the attributes datasets usually have."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset, WeightedRandomSampler

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


def class_balanced_sampler(labels: Sequence[int] | torch.Tensor, num_samples: int | None = None, *,
                           seed: int = 0, generator: torch.Generator | None = None) -> WeightedRandomSampler:
    """A sampler that draws every class equally often (items with replacement, each weighted by
    1 / items of its class): the usual first fix for a long tail.

    Args:
        labels: the label of every item, in index order.
        num_samples: draws per epoch (default: one per item).
        seed: seeds the sampler's own generator, so the order is reproducible.
        generator: draw from this generator instead (e.g. one a DataLoader shares).
    """
    labels = torch.as_tensor(labels).long()
    if labels.numel() == 0:
        raise DataError("class_balanced_sampler: no labels given")
    weights = 1.0 / torch.bincount(labels)[labels].double()
    return WeightedRandomSampler(weights, num_samples or len(labels),
                                 generator=generator or torch.Generator().manual_seed(seed))
