"""The one form of training data: uint8 images (N, C, H, W), int64 labels and class names."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ganaug.errors import DataError


@dataclass
class ImageStore:
    """Labelled images held in memory as uint8, the one form every ganaug component reads.

    Attributes:
        images: uint8 tensor of shape (N, C, H, W), values 0..255.
        labels: int64 tensor of shape (N,), values in 0..K-1.
        classes: the K class names; ``classes[k]`` names label ``k``.
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise DataError(
                f"ImageStore.images must be a uint8 tensor (N, C, H, W), got {self.images.dtype} "
                f"{tuple(self.images.shape)}"
            )
        if len(self.labels) != len(self.images):
            raise DataError(f"ImageStore has {len(self.images)} images but {len(self.labels)} labels")
        if not self.classes:
            top = int(self.labels.max()) + 1 if len(self.labels) else 0
            if top > len(self.labels) + MAX_EMPTY_CLASSES:  # refused before a name is made for each class
                check_label_space(self.labels, top)
            self.classes = [str(k) for k in range(top)]

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        names = self.classes if len(self.classes) <= 6 else [*self.classes[:5], "..."]
        return f"ImageStore({len(self)} images of {tuple(self.images.shape[1:])}, {len(self.classes)} classes {names})"

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every image."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def class_counts(self) -> list[int]:
        """Number of images of each class, indexed by label."""
        return torch.bincount(self.labels, minlength=self.num_classes).tolist()

    def subset(self, indices: Sequence[int] | torch.Tensor) -> ImageStore:
        """A store with only the given indices (same classes)."""
        index = torch.as_tensor(indices, dtype=torch.long)
        return ImageStore(self.images[index], self.labels[index], list(self.classes))


MAX_EMPTY_CLASSES = 1000
"""More empty classes than this (labels with gaps of thousands) is a label space to remap, not to train on."""


def check_label_space(labels: torch.Tensor, num_classes: int) -> None:
    """Refuse a label space far sparser than the data: more classes than images, or over
    ``MAX_EMPTY_CLASSES`` empty ones (labels with gaps of thousands)."""
    present = int(torch.unique(labels).numel()) if len(labels) else 0
    empty = num_classes - present
    if empty and (num_classes > len(labels) or empty > MAX_EMPTY_CLASSES):
        raise DataError(
            f"the labels span {num_classes} classes (0..{num_classes - 1}) but only {present} of them have images "
            f"({len(labels)} images): {empty} classes would be empty. Remap the labels to 0..K-1, e.g. "
            "y = numpy.unique(y, return_inverse=True)[1]"
        )


def validate_store(store: ImageStore, *, min_classes: int = 2) -> None:
    """Check the invariants every consumer relies on; warn about classes with under 2 images.

    ``min_classes=1`` accepts one class and does not warn about small ones: for images that are not
    trained on (images to restore, sources of variations).
    """
    if len(store) == 0:
        raise DataError("the dataset is empty: there are no images to train on")
    if store.num_classes < min_classes:
        raise DataError(
            f"the dataset has a single class ({store.classes[0]!r} if any); a conditional GAN needs at "
            "least 2 classes. Add images of another class, or label them differently"
        )
    if int(store.labels.min()) < 0 or int(store.labels.max()) >= store.num_classes:
        bad = int(torch.nonzero((store.labels < 0) | (store.labels >= store.num_classes))[0])
        raise DataError(
            f"label {int(store.labels[bad])} at index {bad} is outside 0..{store.num_classes - 1} "
            f"({store.num_classes} classes); use labels 0..K-1 or pass classes= with K names"
        )
    if len(set(store.classes)) != len(store.classes):
        repeated = sorted({c for c in store.classes if store.classes.count(c) > 1})
        raise DataError(f"class names must be distinct; {', '.join(map(repr, repeated))} name(s) more than one class")
    counts = store.class_counts()
    if min_classes > 1:
        check_label_space(store.labels, store.num_classes)
    few = [f"{store.classes[k]!r} ({n})" for k, n in enumerate(counts) if n < 2]
    if few and min_classes > 1:
        warnings.warn(
            f"class(es) with fewer than 2 images: {', '.join(few)}; the generator cannot learn "
            "their variety. Add images or drop the class",
            stacklevel=3,
        )
