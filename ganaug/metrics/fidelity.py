"""Per-class fidelity: do a generator's samples of class k show class k?

Diversity is not fidelity: a class can be varied and wrong (on a long-tailed MNIST the rarest
classes' samples were unrecognisable while their diversity read 0.83-0.90). :class:`FidelityJudge`
is fitted on the run's *real* images only: a linear discriminant (shrunk covariance, **equal class
priors**) on a PCA of the pixels. Equal priors make it class-balanced: a class with 5 images is not
out-voted by a class with 500, as it is under a k-NN vote or a classifier trained on the imbalanced
set (measured on MNIST at imbalance 100: a class-wise 3-NN judge recognised 7% of the rarest class's
real test images, this judge 42%, about what its cross-validation predicted).

Its recall on the real images of each class is **cross-validated** (stratified folds), and is the
yardstick for that class's samples: a class whose real images the judge recognises 80% of the time
and whose samples it recognises 40% of the time has a relative fidelity of 0.5. A class *fails* when
its samples' fidelity is below ``min_fidelity`` times that real recall. Classes with fewer than 2 real
images cannot be cross-validated and are reported as unjudged. Nothing is downloaded; fitting takes
about a second for a few thousand 28x28 images.

A class of 5 images gives a cross-validated recall of 0, 20, 40, 60, 80 or 100%: too coarse a yardstick
(on long-tailed MNIST the rarest class read 20 to 80% across seeds where held-out test images of it read
52 to 65%). So each class's recall is **shrunk toward the mean over classes** as if ``prior_images``
more images had scored that mean: ``(hits + prior_images * mean) / (images + prior_images)``. With the
default 10 this halved the yardstick's error against held-out images for classes of 8 images or fewer
(0.17 to 0.08), cut it for classes of 9 to 40 (0.11 to 0.08), and left classes of a hundred or more as
they were (``bench/judge_accuracy.py``, docs/benchmarks.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ganaug.errors import ConfigError


@dataclass(frozen=True)
class FidelityReport:
    """Per-class fidelity of a generator's samples, with the judge's own recall on real images.

    Attributes:
        classes: class names.
        fidelity: per class, the share of samples judged their own class (NaN: not judged).
        real_recall: per class, the judge's cross-validated recall on the real images, shrunk toward the mean
            over classes for small classes (NaN: under 2 images).
        min_fidelity: a class fails when ``fidelity < min_fidelity * real_recall``.
    """

    classes: list[str]
    fidelity: list[float]
    real_recall: list[float]
    min_fidelity: float = 0.8
    confusion: list[list[int]] = field(default_factory=list)
    """confusion[k][j]: samples of class k judged class j."""

    @property
    def relative(self) -> list[float]:
        """Fidelity over the judge's real recall, per class (1.0: samples as recognisable as real images)."""
        return [f / r if r == r and r > 0 and f == f else math.nan for f, r in zip(self.fidelity, self.real_recall)]

    def passes(self, k: int) -> bool | None:
        """Whether class ``k``'s samples pass; None when the class cannot be judged."""
        f, r = self.fidelity[k], self.real_recall[k]
        if f != f or r != r:
            return None
        return f >= self.min_fidelity * r

    @property
    def failing(self) -> list[str]:
        """Names of the classes whose samples fail."""
        return [name for k, name in enumerate(self.classes) if self.passes(k) is False]

    @property
    def unjudged(self) -> list[str]:
        return [name for k, name in enumerate(self.classes) if self.passes(k) is None]

    def as_record(self) -> dict[str, object]:
        """The log record's fields (``log.jsonl``)."""
        finite = [f for f in self.fidelity if f == f]
        return {"fidelity": [round(f, 4) for f in self.fidelity], "fidelity_real_recall": [round(r, 4) for r in
                                                                                           self.real_recall],
                "fidelity_mean": sum(finite) / len(finite) if finite else math.nan,
                "fidelity_failing": self.failing}

    def warning(self) -> str | None:
        """A sentence naming the failing classes, or None when every judged class passes."""
        if not self.failing:
            return None
        detail = ", ".join(f"{name!r} {self.fidelity[self.classes.index(name)]:.0%} (real images "
                           f"{self.real_recall[self.classes.index(name)]:.0%})" for name in self.failing)
        return (f"the samples of class(es) {detail} are not recognisable as their class: a judge fitted on the real "
                f"images takes them for their class less than {self.min_fidelity:.0%} as often as it does real "
                "images. Do not mix them in (SyntheticMix's fidelity gate leaves them out); train longer, with "
                "class_balance=1, or collect more images of those classes")


class FidelityJudge:
    """A class-balanced linear judge in a PCA space of the pixels, fitted on real images only.

    Args:
        images: real uint8 images (N, C, H, W).
        labels: their int64 labels (N,) in 0..K-1.
        classes: the K class names.
        components: PCA dimensions (fewer when there are fewer images or pixels).
        max_per_class: real images kept per class (drawn with ``seed``), to bound the cost.
        folds: cross-validation folds for the real recall (fewer when the smallest judged class is smaller).
        prior_images: how many images' worth of the mean recall over classes each class's recall starts
            from (0: the raw cross-validated recall).
        seed: which images are kept, and the folds.

    Attributes:
        cross_validated_recall: per class, the raw cross-validated recall on the real images.
        real_recall: the same, shrunk toward the mean over classes: the samples' yardstick.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, classes: Sequence[str], *, components: int = 32,
                 max_per_class: int = 500, folds: int = 5, prior_images: float = 10.0, seed: int = 0) -> None:
        if components < 1 or max_per_class < 2 or folds < 2:
            raise ConfigError("FidelityJudge needs components >= 1, max_per_class >= 2 and folds >= 2")
        if not prior_images >= 0:
            raise ConfigError(f"FidelityJudge needs prior_images >= 0, got {prior_images!r}")
        self.classes = list(classes)
        generator = torch.Generator().manual_seed(seed)
        keep = []
        for k in range(len(self.classes)):
            index = torch.nonzero(labels.cpu() == k).flatten()
            if len(index) > max_per_class:
                index = index[torch.randperm(len(index), generator=generator)[:max_per_class]]
            keep.append(index)
        index = torch.cat(keep)
        pixels, targets = _flat(images[index]).numpy(), labels.cpu()[index].numpy()
        counts = np.bincount(targets, minlength=len(self.classes))
        judged = counts >= 2
        self.components = max(1, min(components, len(pixels) - 1, pixels.shape[1]))
        self.model = self._make_model(int(judged.sum()), self.components, seed)
        self.model.fit(pixels[judged[targets]], targets[judged[targets]])
        self.judged_classes = [int(k) for k in np.nonzero(judged)[0]]
        self.cross_validated_recall = self._cross_validated_recall(pixels, targets, counts, folds, seed)
        self.real_recall = _shrunk(self.cross_validated_recall, counts, prior_images)

    @staticmethod
    def _make_model(num_judged: int, components: int, seed: int) -> Any:
        from sklearn.decomposition import PCA
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
        from sklearn.pipeline import make_pipeline

        priors = np.full(num_judged, 1.0 / num_judged)
        return make_pipeline(PCA(components, random_state=seed),
                             LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto", priors=priors))

    def _cross_validated_recall(self, pixels: np.ndarray, targets: np.ndarray, counts: np.ndarray, folds: int,
                                seed: int) -> list[float]:
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        judged = counts >= 2
        if judged.sum() < 2:
            return [math.nan] * len(self.classes)
        rows = judged[targets]
        splits = int(min(folds, counts[judged].min()))
        components = max(1, min(self.components, rows.sum() * (splits - 1) // splits - 1))
        predicted = cross_val_predict(self._make_model(int(judged.sum()), components, seed), pixels[rows], targets[rows],
                                      cv=StratifiedKFold(splits, shuffle=True, random_state=seed))
        truth = targets[rows]
        return [float(np.mean(predicted[truth == k] == k)) if judged[k] else math.nan
                for k in range(len(self.classes))]

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """The judged class of each uint8 image (N,); classes with under 2 real images are never judged."""
        if not len(images):
            return torch.empty(0, dtype=torch.long)
        return torch.as_tensor(self.model.predict(_flat(images).numpy()), dtype=torch.long)

    def judge(self, images: torch.Tensor, labels: torch.Tensor, *, min_fidelity: float = 0.8) -> FidelityReport:
        """Per-class fidelity of generated ``images`` conditioned on ``labels``."""
        if not 0.0 <= min_fidelity <= 1.0:
            raise ConfigError(f"min_fidelity={min_fidelity!r} must be in [0, 1]")
        predicted, labels = self.predict(images), labels.cpu().long()
        k = len(self.classes)
        confusion = torch.zeros(k, k, dtype=torch.long)
        confusion.index_put_((labels, predicted), torch.ones_like(labels), accumulate=True)
        counts = confusion.sum(1)
        fidelity = [float(confusion[c, c] / counts[c]) if counts[c] > 0 and c in self.judged_classes else math.nan
                    for c in range(k)]
        return FidelityReport(self.classes, fidelity, list(self.real_recall), min_fidelity, confusion.tolist())


def _shrunk(recall: Sequence[float], counts: np.ndarray, prior_images: float) -> list[float]:
    """Each class's recall as if ``prior_images`` more images had scored the mean recall over classes."""
    judged = [r for r in recall if r == r]
    if not judged:
        return list(recall)
    mean = sum(judged) / len(judged)
    return [float((r * n + prior_images * mean) / (n + prior_images)) if r == r else r for r, n in zip(recall, counts)]


def _flat(images: torch.Tensor) -> torch.Tensor:
    return images.flatten(1).float().cpu() / 255.0
