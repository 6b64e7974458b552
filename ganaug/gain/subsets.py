"""The training subsets of the protocol: stratified (``per_class``) or long-tailed (``imbalance``)."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from ganaug.data import ImageStore
from ganaug.errors import ConfigError, DataError

MIN_PER_CLASS = 2
"""Images the rarest class keeps in the long-tail protocol: fewer leave nothing to learn from or judge."""


def draw_subset(labels: torch.Tensor, num_classes: int, *, per_class: int | None, imbalance: float | None,
                seed: int) -> torch.Tensor:
    """Indices of a reproducible stratified subset (``per_class``) or long-tailed subset (``imbalance``)."""
    generator = torch.Generator().manual_seed(seed)
    by_class = [torch.nonzero(labels == k).flatten() for k in range(num_classes)]
    by_class = [idx[torch.randperm(len(idx), generator=generator)] for idx in by_class]
    keep = [len(idx) for idx in by_class]
    if per_class is not None:
        short = [k for k, idx in enumerate(by_class) if len(idx) < per_class]
        if short:
            raise DataError(f"per_class={per_class} but class(es) {short} have fewer training images")
        keep = [per_class] * num_classes
    if imbalance is not None:
        if imbalance < 1:
            raise ConfigError(f"imbalance={imbalance} must be >= 1 (ratio of the largest to the smallest class)")
        top = min(keep)
        keep = [max(1, int(round(top * imbalance ** (-k / max(num_classes - 1, 1))))) for k in range(num_classes)]
        if min(keep) < MIN_PER_CLASS:
            raise ConfigError(f"imbalance={imbalance:g} leaves the rarest class {min(keep)} image(s) of the {top} per "
                              f"class available; the protocol needs {MIN_PER_CLASS}: use imbalance <= "
                              f"{top / MIN_PER_CLASS:g}")
    return torch.sort(torch.cat([idx[:n] for idx, n in zip(by_class, keep)])).values


class StoreDataset(Dataset):
    """An ImageStore as (HWC uint8 array, int label) items, the form albumentations expects."""

    def __init__(self, store: ImageStore) -> None:
        self.store = store
        self.images = store.images.permute(0, 2, 3, 1).contiguous().numpy()
        self.targets = store.labels.tolist()
        self.classes = list(store.classes)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        return self.images[index], self.targets[index]
