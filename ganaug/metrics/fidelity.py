"""Per-class fidelity: do a generator's samples of class k show class k?

Diversity is not fidelity: a class can be varied and wrong (a rare class's samples can vary as much
as its real images and still not show the class). :class:`FidelityJudge` is fitted on the run's
*real* images only, in one of two forms (``kind``):

* ``pixels``: a linear discriminant (shrunk covariance, **equal class priors**) on a PCA of the
  pixels. Cheap, and enough for small grayscale images; blind on colour ones, where classes differ
  by texture and colour rather than by where the bright pixels are;
* ``cnn``: a small CNN learned from the real images (:mod:`ganaug.metrics.judge_net`), with
  class-balanced batches and classic augmentation; one network per cross-validation fold, and the
  judge is their ensemble (mean probability), so no further network is trained on all images.

``auto`` picks ``cnn`` for colour images and for images of 16 pixels and up, ``pixels`` below (how
well each recognises held-out real images: docs/results.md, "The fidelity judge on real images it
never saw"). Both are class-balanced: a class with 5 images is not out-voted by a class with 500, as
it is under a k-NN vote or a classifier trained on the imbalanced set. Nothing is downloaded.

Its recall on the real images of each class is **cross-validated** (stratified folds: each image is
judged by a model that never saw it), and is the yardstick for that class's samples: a class whose
real images the judge recognises 80% of the time and whose samples it recognises 40% of the time has
a relative fidelity of 0.5. A class *fails* when its samples' fidelity is below ``min_fidelity`` times
that real recall, less a margin for its error (below). Classes with fewer than 2 real images cannot be cross-validated and are reported as
unjudged (and never predicted).

A class of 5 images gives a cross-validated recall of 0, 20, 40, 60, 80 or 100%: too coarse a
yardstick. So each class's recall is **shrunk toward the mean over classes** as if ``prior_images``
more images had scored that mean: ``(hits + prior_images * mean) / (images + prior_images)``; the
default 10 was chosen by the held-out error of the yardstick (``bench/judge_accuracy.py``).

The yardstick is itself an estimate from few images, so the line a class's samples must reach is
``min_fidelity`` times the yardstick **less ``margin`` of its standard errors**, ``sqrt(r (1 - r) / n)``
with ``n`` the images it rests on (the prior's included). A yardstick from a few images is uncertain,
and without the margin that uncertainty alone can make a class of *real* held-out images fail
(docs/research-log.md, "The fidelity judge on colour images").

:meth:`FidelityJudge.features` gives the judge's feature space (the CNN's penultimate layer, or the
PCA of the pixels), where :mod:`ganaug.metrics.quality` measures Fréchet and kernel distances.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ganaug.devices import resolve_device
from ganaug.errors import ConfigError, DataError
from ganaug.metrics.judge_net import CnnJudgeConfig, JudgeNet, features_and_logits, train_judge_net
from ganaug.seeds import Stream, derive_seed


@dataclass(frozen=True)
class FidelityReport:
    """Per-class fidelity of a generator's samples, with the judge's own recall on real images.

    Attributes:
        classes: class names.
        fidelity: per class, the share of samples judged their own class (NaN: not judged).
        real_recall: per class, the judge's cross-validated recall on the real images, shrunk toward the mean
            over classes for small classes (NaN: under 2 images).
        min_fidelity: a class fails when ``fidelity`` is below ``min_fidelity`` times its yardstick's lower
            bound (:attr:`fail_line`).
        confusion: ``confusion[k][j]``, samples of class k judged class j.
        yardstick_images: per class, the images ``real_recall`` rests on (the prior's included); empty in
            reports saved before the margin existed, which then fail below ``min_fidelity * real_recall``.
        margin: standard errors of the yardstick taken off it before ``min_fidelity`` applies.
    """

    classes: list[str]
    fidelity: list[float]
    real_recall: list[float]
    min_fidelity: float = 0.8
    confusion: list[list[int]] = field(default_factory=list)
    yardstick_images: list[float] = field(default_factory=list)
    margin: float = 2.0

    @property
    def fail_line(self) -> list[float]:
        """Per class, the fidelity below which its samples fail (NaN: not judged)."""
        lines = []
        for k, r in enumerate(self.real_recall):
            if r == r and k < len(self.yardstick_images) and self.yardstick_images[k] > 0:
                r = max(0.0, r - self.margin * math.sqrt(r * (1 - r) / self.yardstick_images[k]))
            lines.append(self.min_fidelity * r)
        return lines

    @property
    def relative(self) -> list[float]:
        """Fidelity over the judge's real recall, per class (1.0: samples as recognisable as real images)."""
        return [f / r if r == r and r > 0 and f == f else math.nan for f, r in zip(self.fidelity, self.real_recall)]

    def passes(self, k: int) -> bool | None:
        """Whether class ``k``'s samples pass; None when the class cannot be judged."""
        f, line = self.fidelity[k], self.fail_line[k]
        if f != f or line != line:
            return None
        return f >= line

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
        detail = ", ".join(f"{name!r} {self.fidelity[k]:.0%} (real images {self.real_recall[k]:.0%}, fail line "
                           f"{self.fail_line[k]:.0%})" for k, name in enumerate(self.classes) if name in self.failing)
        return (f"the samples of class(es) {detail} are not recognisable as their class: a judge fitted on the real "
                f"images takes them for their class less than {self.min_fidelity:.0%} as often as it does real "
                "images, even allowing for the error of that rate. Do not mix them in (SyntheticMix's fidelity gate leaves them out); train longer, with "
                "class_balance=1, or collect more images of those classes")


KINDS = ("auto", "pixels", "cnn")
_FOLD_SEEDS = 31  # the part that keeps the judge's fold seeds apart from other hashed streams


def judge_kind(image_shape: Sequence[int], kind: str = "auto") -> str:
    """The judge ``kind`` resolves to for images of ``image_shape`` (C, H, W): ``auto`` is ``cnn`` for colour
    images and for images of 16 pixels and up, ``pixels`` for smaller grayscale ones."""
    if kind not in KINDS:
        raise ConfigError(f"unknown fidelity judge kind {kind!r}; choose from {', '.join(KINDS)}")
    if kind != "auto":
        return kind
    channels, height, width = image_shape
    return "cnn" if channels == 3 or min(height, width) >= 16 else "pixels"


class FidelityJudge:
    """A class-balanced judge fitted on real images only: a CNN, or a linear discriminant on a PCA of the pixels.

    Args:
        images: real uint8 images (N, C, H, W).
        labels: their int64 labels (N,) in 0..K-1.
        classes: the K class names.
        kind: ``"pixels"``, ``"cnn"`` or ``"auto"`` (:func:`judge_kind`).
        components: PCA dimensions of the ``pixels`` judge (fewer when there are fewer images or pixels).
        max_per_class: real images kept per class (drawn with ``seed``), to bound the cost.
        folds: cross-validation folds for the real recall (fewer when the smallest judged class is smaller);
            None: 5 for ``pixels``, 3 for ``cnn`` (each fold trains a network).
        prior_images: how many images' worth of the mean recall over classes each class's recall starts
            from (0: the raw cross-validated recall).
        cnn: how the ``cnn`` judge's networks are built and trained (default :class:`CnnJudgeConfig`).
        device: where the ``cnn`` judge trains and runs (``"auto"``: CUDA when available).
        seed: which images are kept, the folds, and the networks' weights, batches and augmentation.

    Attributes:
        kind: ``"pixels"`` or ``"cnn"``.
        images, labels: the real images kept (at most ``max_per_class`` per class) and their labels.
        judged_classes: the classes with at least 2 real images; the others are never predicted.
        cross_validated_recall: per class, the raw cross-validated recall on the real images.
        real_recall: the same, shrunk toward the mean over classes: the samples' yardstick.
        yardstick_images: per class, the images its yardstick rests on (its real images plus ``prior_images``).
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, classes: Sequence[str], *, kind: str = "auto",
                 components: int = 32, max_per_class: int = 500, folds: int | None = None,
                 prior_images: float = 10.0, cnn: CnnJudgeConfig | None = None, device: str | torch.device = "auto",
                 seed: int = 0) -> None:
        if components < 1 or max_per_class < 2 or (folds is not None and folds < 2):
            raise ConfigError("FidelityJudge needs components >= 1, max_per_class >= 2 and folds >= 2")
        if not prior_images >= 0:
            raise ConfigError(f"FidelityJudge needs prior_images >= 0, got {prior_images!r}")
        self.kind = judge_kind(tuple(images.shape[1:]), kind)
        self.classes = list(classes)
        generator = torch.Generator().manual_seed(seed)
        keep = []
        for k in range(len(self.classes)):
            index = torch.nonzero(labels.cpu() == k).flatten()
            if len(index) > max_per_class:
                index = index[torch.randperm(len(index), generator=generator)[:max_per_class]]
            keep.append(index)
        index = torch.cat(keep)
        self.images, self.labels = images[index].cpu(), labels.cpu()[index].long()
        targets = self.labels.numpy()
        counts = np.bincount(targets, minlength=len(self.classes))
        judged = counts >= 2
        if not judged.any():
            raise DataError("the fidelity judge needs at least one class with 2 or more real images; these classes "
                            f"have {', '.join(str(int(n)) for n in counts[:10])}: add images")
        self.judged_classes = [int(k) for k in np.nonzero(judged)[0]]
        if self.kind == "pixels":
            self._fit_pixels(targets, counts, components, folds or 5, seed)
        else:
            self._fit_cnn(targets, counts, folds or 3, cnn or CnnJudgeConfig(), resolve_device(device), seed)
        self.real_recall = _shrunk(self.cross_validated_recall, counts, prior_images)
        self.yardstick_images = [float(n + prior_images) if judged[k] else 0.0 for k, n in enumerate(counts)]

    def _fit_pixels(self, targets: np.ndarray, counts: np.ndarray, components: int, folds: int, seed: int) -> None:
        pixels = _flat(self.images).numpy()
        judged = counts >= 2
        self.components = max(1, min(components, len(pixels) - 1, pixels.shape[1]))
        self.model = self._make_model(int(judged.sum()), self.components, seed)
        self.model.fit(pixels[judged[targets]], targets[judged[targets]])
        self.cross_validated_recall = self._cross_validated_recall(pixels, targets, counts, folds, seed)

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

    def _fit_cnn(self, targets: np.ndarray, counts: np.ndarray, folds: int, config: CnnJudgeConfig,
                 device: torch.device, seed: int) -> None:
        """One network per stratified fold; each real image's cross-validated verdict comes from the network that
        did not see it, and the judge is the ensemble of the fold networks."""
        from sklearn.model_selection import StratifiedKFold

        judged = counts >= 2
        if not judged.any():
            raise DataError("the fidelity judge needs at least one class with 2 or more real images")
        rows = torch.as_tensor(judged[targets])
        images, truth = self.images[rows], self.labels[rows]
        num_classes = len(self.classes)
        self.nets: list[JudgeNet] = []
        self.cross_validated_recall = [math.nan] * num_classes
        if judged.sum() < 2:  # one class: nothing to tell apart, nothing to cross-validate
            self.nets.append(train_judge_net(images, truth, num_classes, config, device=device,
                                             seed=derive_seed(seed, Stream.HASHED, _FOLD_SEEDS, 0)))
            return
        splits = int(min(folds, counts[judged].min()))
        predicted = torch.empty_like(truth)
        folds_of = StratifiedKFold(splits, shuffle=True, random_state=seed).split(np.zeros(len(truth)), truth.numpy())
        for fold, (train, held) in enumerate(folds_of):
            train, held = torch.as_tensor(train), torch.as_tensor(held)
            net = train_judge_net(images[train], truth[train], num_classes, config, device=device,
                                  seed=derive_seed(seed, Stream.HASHED, _FOLD_SEEDS, fold))
            predicted[held] = self._masked(features_and_logits(net, images[held])[1]).argmax(1)
            self.nets.append(net)
        self.cross_validated_recall = [float((predicted[truth == k] == k).double().mean()) if judged[k] else math.nan
                                       for k in range(num_classes)]

    def _masked(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits with the unjudged classes at -inf, so they are never predicted."""
        mask = torch.full((logits.shape[1],), -math.inf)
        mask[self.judged_classes] = 0.0
        return logits + mask

    def predict_and_features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The judged class of each uint8 image (N,) and its features (N, D), from one pass over the images.

        Shape:
            images: (N, C, H, W) uint8; returns (N,) int64 and (N, D) float32.
        """
        if self.kind == "pixels":
            pixels = _flat(images).numpy()
            if not len(images):
                return torch.empty(0, dtype=torch.long), torch.empty(0, self.components)
            return (torch.as_tensor(self.model.predict(pixels), dtype=torch.long),
                    torch.as_tensor(self.model[0].transform(pixels), dtype=torch.float32))
        features, probabilities = [], 0.0
        for net in self.nets:
            f, logits = features_and_logits(net, images)
            features.append(f)
            probabilities = probabilities + torch.softmax(self._masked(logits), dim=1)
        predicted = (probabilities.argmax(1) if len(images) else torch.empty(0)).long()  # type: ignore[union-attr]
        return predicted, torch.cat(features, dim=1)

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """The judged class of each uint8 image (N,); classes with under 2 real images are never judged."""
        if self.kind == "pixels":
            if not len(images):
                return torch.empty(0, dtype=torch.long)
            return torch.as_tensor(self.model.predict(_flat(images).numpy()), dtype=torch.long)
        return self.predict_and_features(images)[0]

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Each uint8 image in the judge's feature space (N, D): the fold networks' penultimate layers side by
        side (``cnn``), or the PCA of the pixels (``pixels``)."""
        return self.predict_and_features(images)[1]

    def judge(self, images: torch.Tensor, labels: torch.Tensor, *, min_fidelity: float = 0.8) -> FidelityReport:
        """Per-class fidelity of generated ``images`` conditioned on ``labels``."""
        return self.report(self.predict(images), labels, min_fidelity=min_fidelity)

    def report(self, predicted: torch.Tensor, labels: torch.Tensor, *, min_fidelity: float = 0.8) -> FidelityReport:
        """Per-class fidelity of samples conditioned on ``labels`` that the judge took for ``predicted``
        (from :meth:`predict`, or :meth:`predict_and_features` when their features are wanted too)."""
        if not 0.0 <= min_fidelity <= 1.0:
            raise ConfigError(f"min_fidelity={min_fidelity!r} must be in [0, 1]")
        predicted, labels = predicted.cpu().long(), labels.cpu().long()
        k = len(self.classes)
        confusion = torch.zeros(k, k, dtype=torch.long)
        confusion.index_put_((labels, predicted), torch.ones_like(labels), accumulate=True)
        counts = confusion.sum(1)
        fidelity = [float(confusion[c, c] / counts[c]) if counts[c] > 0 and c in self.judged_classes else math.nan
                    for c in range(k)]
        return FidelityReport(self.classes, fidelity, list(self.real_recall), min_fidelity, confusion.tolist(),
                              list(self.yardstick_images))


def _shrunk(recall: Sequence[float], counts: np.ndarray, prior_images: float) -> list[float]:
    """Each class's recall as if ``prior_images`` more images had scored the mean recall over classes."""
    judged = [r for r in recall if r == r]
    if not judged:
        return list(recall)
    mean = sum(judged) / len(judged)
    return [float((r * n + prior_images * mean) / (n + prior_images)) if r == r else r for r, n in zip(recall, counts)]


def _flat(images: torch.Tensor) -> torch.Tensor:
    return images.flatten(1).float().cpu() / 255.0
