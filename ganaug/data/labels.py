"""The labels of a torch Dataset: from the attributes datasets usually have, else by reading every item once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, WeightedRandomSampler

from ganaug.data.huggingface import hf_labels, is_hf_dataset
from ganaug.data.items import describe
from ganaug.errors import DataError


def read_labels(dataset: Dataset, item_keys: Sequence[str] | None = None) -> list[int]:
    """The dataset's labels: without loading its images when it has ``.targets``, ``.labels`` or ``.y``, is a
    Hugging Face dataset with a label column, or is a ``TensorDataset`` or ``Subset`` of one; else by
    iterating once (:func:`labels_by_iterating`)."""
    for attribute in ("targets", "labels", "y"):
        values = getattr(dataset, attribute, None)
        if values is not None and not callable(values):
            return [int(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]
    if is_hf_dataset(dataset) and len(dataset):  # type: ignore[arg-type]
        from ganaug.data.items import item_form

        where = type(dataset).__name__
        form = item_form(item_of(dataset, 0), where, item_keys)
        labels = hf_labels(dataset, form.label_key if form.mapping else None,
                           lambda index: form.split(item_of(dataset, index), index, where)[1])
        if labels is not None:
            return labels
    if isinstance(dataset, torch.utils.data.TensorDataset) and len(dataset.tensors) >= 2:
        return dataset.tensors[1].tolist()
    if isinstance(dataset, torch.utils.data.Subset):
        parent = read_labels(dataset.dataset)
        return [parent[i] for i in dataset.indices]
    return labels_by_iterating(dataset, item_keys)


def checked_label(label: object, where: str) -> int:
    """``label`` as an int 0..K-1 (an int, a NumPy integer or a one-element integer tensor), or a DataError that
    names ``where`` (``"item 3"``, ``"item 3 of MyDataset"``) and the fix."""
    if isinstance(label, torch.Tensor):
        if label.numel() != 1 or label.dtype.is_floating_point or label.dtype == torch.bool:
            raise DataError(f"label of {where} is a {label.dtype} tensor {tuple(label.shape)}; use an int")
        label = label.item()
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        shown = describe(label) if isinstance(label, np.ndarray) else f"{label!r} ({type(label).__name__})"
        raise DataError(f"label of {where} is {shown}, not an integer; labels must be "
                        "ints 0..K-1 (map class names to integers)")
    if label < 0:
        raise DataError(f"label of {where} is {label}, negative; labels must be 0..K-1")
    return int(label)


PROGRESS_FROM = 2000
"""Datasets at least this long show a progress bar while their labels are read by iterating."""


def item_of(dataset: Dataset, index: int, what: str = "the dataset") -> object:
    """``dataset[index]``, with an exception of the user's Dataset turned into a message naming the item."""
    from ganaug.errors import GanaugError, user_code_error

    try:
        return dataset[index]
    except GanaugError:
        raise
    except Exception as exc:
        raise user_code_error(f"{type(dataset).__name__}[{index}] (item {index} of {what})", exc,
                              "fix the Dataset or leave that item out") from exc


def labels_by_iterating(dataset: Dataset, item_keys: Sequence[str] | None = None) -> list[int]:
    """The labels of a Dataset with no cheap source, read by loading every item once (images included).

    A progress bar shows on large sets; passing ``labels=[...]`` (or giving the dataset a ``.targets``
    attribute) skips this pass.
    """
    from ganaug.progress import progress

    try:
        n = len(dataset)  # type: ignore[arg-type]
    except TypeError:
        raise DataError(f"{type(dataset).__name__} has no len(); pass a map-style Dataset") from None
    from ganaug.data.items import item_form

    where = type(dataset).__name__
    form = item_form(item_of(dataset, 0), where, item_keys) if n else None
    labels = []
    bar = progress(n, desc=f"reading the labels of {type(dataset).__name__} (pass labels= to skip)",
                   disable=n < PROGRESS_FROM, unit="item")
    for index in range(n):
        _, label = form.split(item_of(dataset, index), index, where)
        labels.append(checked_label(label, f"item {index} of {where}"))
        bar.update(1)
    bar.close()
    return labels


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
