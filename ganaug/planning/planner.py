"""Plan a synthetic mix on the user's own training data, before using it: :func:`plan`.

The training data is split into stratified folds (``folds``, the split repeated ``repeats`` times,
each shuffled anew; the user's test set is never asked for). On each split, a quick classifier trains
on the other folds once per candidate mix (:mod:`ganaug.planning.candidates`), with the same seed, classic
augmentation and budget, and is scored on the held-out fold's real images. The decision
(:mod:`ganaug.planning.choose`) prefers no synthetic data unless a mix is better by the margin, surely.

What the folds cannot see: the generator was trained on all of the training data, the held-out fold
included, so a generator that copies its training images reads better here than it will on new images.
The margin, and "none" as the default answer, stand against that.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold

from ganaug.classifier import Classifier
from ganaug.configs import from_options
from ganaug.data import DataSource, ImageStore, load_data
from ganaug.devices import resolve_device
from ganaug.errors import ConfigError, DataError
from ganaug.gain.augment import classic_preset
from ganaug.gain.subsets import StoreDataset
from ganaug.generator import TrainedGenerator
from ganaug.metrics.fidelity import FidelityReport
from ganaug.mix import SyntheticMix
from ganaug.mix.gate import measure_fidelity
from ganaug.planning.candidates import Candidate, candidates_for
from ganaug.planning.choose import decide
from ganaug.planning.config import PlanConfig
from ganaug.planning.recipe import Recipe, fingerprint
from ganaug.plugins.registry import Registry, default_registry
from ganaug.progress import progress
from ganaug.seeds import Stream, derive_seed

_SPLIT_SEEDS = 0x9A17  # keeps the plan's split and classifier seeds apart from other hashed streams


def plan(data: DataSource, generator: TrainedGenerator | str | os.PathLike, *, classic: Any = None,
         classifier_factory: Callable[..., Any] | None = None, registry: Registry | None = None,
         echo: Callable[[str], None] | None = None, **overrides: Any) -> Recipe:
    """Choose a synthetic mix for ``data`` by cross-validation on it, and return it as a :class:`Recipe`.

    Args:
        data: the training data (anything :func:`ganaug.load_data` accepts), the same the generator was
            trained on and the classifier will train on.
        generator: a :class:`TrainedGenerator`, or the path of a run or saved generator.
        classic: an albumentations transform applied to every candidate (default: the preset
            ``classic_preset`` names); pass the augmentation the classifier will really use.
        classifier_factory: ``factory(num_classes=, image_shape=, seed=)`` instead of a registered name.
        registry: where classifiers, generator families and named data sets are looked up.
        echo: called with one line stating the budget before any work (e.g. ``print``).
        **overrides: fields of :class:`PlanConfig`.
    """
    config = from_options(PlanConfig, overrides, what="plan")
    registry = registry or default_registry()
    if isinstance(generator, (str, os.PathLike)):
        from ganaug.generator import load

        generator = load(generator, registry=registry)
    elif not isinstance(generator, TrainedGenerator):
        raise ConfigError(f"generator={type(generator).__name__}: pass a TrainedGenerator (ganaug.load(...)) or the "
                          "path of a run or saved generator")
    if classic is not None and not callable(classic):
        raise ConfigError(f"classic={classic!r} must be callable (an albumentations transform), or None for the preset")
    store = load_data(data, registry=registry, image_size=config.image_size)
    if generator.num_classes != store.num_classes or tuple(generator.image_shape) != store.image_shape:
        raise DataError(f"the generator makes {generator.num_classes} classes of {tuple(generator.image_shape)} "
                        f"images; the data has {store.num_classes} classes of {store.image_shape}: plan on the data "
                        "the generator was trained on")
    counts = torch.bincount(store.labels, minlength=store.num_classes).tolist()
    if min(counts) < 2:
        short = [store.classes[k] for k, n in enumerate(counts) if n < 2]
        raise DataError(f"class(es) {short} have fewer than 2 images: a plan holds each class out in folds and needs "
                        "at least 2 images of every class")
    factory = classifier_factory or registry.classifier(_classifier_name(config, store)).factory
    candidates = candidates_for(counts, top_up_below=config.top_up_below, quick=config.quick)
    fidelity = generator.fidelity  # measured once here when the generator has none, not once per fold
    if fidelity is None:
        fidelity = measure_fidelity(StoreDataset(store), store.labels.tolist(), generator, seed=config.seed)
    runs = _Runs(config, store, generator, classic, factory, fidelity)
    total = len(candidates) * config.runs_per_candidate
    budget_line = (f"plan: {len(candidates)} candidates x {config.runs_per_candidate} held-out folds = {total} "
                   f"classifier runs of {config.classifier_steps} steps on {len(store)} images")
    if echo is not None:
        echo(budget_line)
    started = time.perf_counter()
    scores, recalls = runs.all(candidates, total)
    names = [c.name for c in candidates]
    decision = decide(names, scores, recalls, margin=config.margin, confidence=config.confidence,
                      metric=config.metric.replace("_", " "))
    seconds = time.perf_counter() - started
    reason = decision.reason
    if decision.chosen == 0 and not any(any(runs.synthetic[c.name]) for c in candidates[1:]):
        reason = ("no synthetic data: the fidelity gate let no class's samples in (they are not recognisable as "
                  "their class), so every mix was the real data; train the generator longer or on more images")
    rows = []
    for k, candidate in enumerate(candidates):
        d = decision.differences[k]
        rows.append({"name": candidate.name, "mix": candidate.mix, "scores": scores[k],
                     "synthetic_images": runs.synthetic[candidate.name],
                     "mean": 100 * float(np.mean(scores[k])),
                     **({"difference": d.as_dict(), "per_class_recall_difference": decision.per_class[k]}
                        if d is not None else {})})
    chosen = candidates[decision.chosen]
    return Recipe(choice=chosen.name, mix=dict(chosen.mix), no_synthetic=[store.classes[c] for c in decision.no_synthetic],
                  reason=reason, uncertain=decision.uncertain, candidates=rows,
                  budget={"folds": config.folds, "repeats": 1 if config.quick else config.repeats,
                          "steps": config.classifier_steps, "runs": total, "seconds": seconds, "line": budget_line},
                  data={"classes": list(store.classes), "counts": counts,
                        "fingerprint": fingerprint(store.images, store.labels.tolist())},
                  generator={"model": generator.model, "classes": list(generator.classes),
                             "image_shape": list(generator.image_shape)},
                  config={**{f: getattr(config, f) for f in PlanConfig.__dataclass_fields__},
                          "classifier": _classifier_name(config, store)})


def _classifier_name(config: PlanConfig, store: ImageStore) -> str:
    if config.classifier != "auto":
        return config.classifier
    channels, height, width = store.image_shape
    return "small-resnet" if channels == 3 and min(height, width) >= 32 else "small-cnn"


class _Runs:
    """The plan's classifier runs: every candidate on every held-out fold, paired by fold and seed."""

    def __init__(self, config: PlanConfig, store: ImageStore, generator: TrainedGenerator, classic: Any,
                 factory: Callable[..., Any], fidelity: FidelityReport) -> None:
        self.config, self.store, self.generator, self.classic, self.factory = config, store, generator, classic, factory
        self.fidelity = fidelity
        self.synthetic: dict[str, list[int]] = {}
        """Per candidate name, the synthetic images of its mix in each run."""
        self.device = resolve_device(config.device)

    def splits(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """(run seed, training indices, held-out indices) of every fold of every repeat."""
        labels = self.store.labels.numpy()
        out = []
        for repeat in range(1 if self.config.quick else self.config.repeats):
            split_seed = derive_seed(self.config.seed, Stream.HASHED, _SPLIT_SEEDS, repeat)
            folds = StratifiedKFold(self.config.folds, shuffle=True, random_state=split_seed)
            for fold, (train, held) in enumerate(folds.split(np.zeros(len(labels)), labels)):
                out.append((derive_seed(self.config.seed, Stream.HASHED, _SPLIT_SEEDS, repeat, fold + 1), train, held))
        return out

    def all(self, candidates: list[Candidate], total: int) -> tuple[list[list[float]], list[list[list[float]]]]:
        """Per candidate, each run's metric and per-class recall on its held-out fold."""
        scores: list[list[float]] = [[] for _ in candidates]
        recalls: list[list[list[float]]] = [[] for _ in candidates]
        bar = progress(total, disable=not self.config.progress, unit="run", desc="plan")
        with warnings.catch_warnings(record=True) as caught:  # the mixes' warnings, once each at the end
            warnings.simplefilter("always")
            self._all(candidates, scores, recalls, bar)
        bar.close()
        for message in dict.fromkeys(str(w.message) for w in caught):
            warnings.warn(f"while planning: {message}", stacklevel=3)
        return scores, recalls

    def _all(self, candidates: list[Candidate], scores: list[list[float]], recalls: list[list[list[float]]],
             bar: Any) -> None:
        for seed, train, held in self.splits():
            fold = self.store.subset(np.sort(train))
            real = StoreDataset(fold)
            transform = (self.classic if self.classic is not None
                         else classic_preset(self.store.image_shape, seed, self.config.classic_preset))
            held_images, held_labels = self.store.images[held], self.store.labels[held].numpy()
            for k, candidate in enumerate(candidates):
                bar.set_description(f"plan: {candidate.name}")
                predicted = self.run(candidate, real, fold, transform, seed).predict(held_images).numpy()
                metric, per_class = _score(held_labels, predicted, self.store.num_classes, self.config.metric)
                scores[k].append(metric)
                recalls[k].append(per_class)
                bar.update(1)

    def run(self, candidate: Candidate, real: StoreDataset, fold: ImageStore, transform: Any, seed: int
            ) -> Classifier:
        mix = SyntheticMix(real, self.generator, seed=seed, transform=transform, labels=real.targets,
                           fidelity=self.fidelity, **candidate.mix)
        self.synthetic.setdefault(candidate.name, []).append(mix.n_synthetic)
        model = self.factory(num_classes=fold.num_classes, image_shape=fold.image_shape, seed=seed)
        return Classifier(model, device=self.device).fit(mix, steps=self.config.classifier_steps,
                                                         batch_size=self.config.batch_size, lr=self.config.lr,
                                                         seed=seed, lr_schedule=self.config.lr_schedule)


def _score(truth: np.ndarray, predicted: np.ndarray, num_classes: int, metric: str) -> tuple[float, list[float]]:
    """The metric on one held-out fold, and per-class recall (NaN for a class the fold does not hold)."""
    recall = [float(np.mean(predicted[truth == k] == k)) if np.any(truth == k) else math.nan
              for k in range(num_classes)]
    if metric == "balanced_accuracy":
        present = [r for r in recall if r == r]
        return float(np.mean(present)), recall
    if metric == "accuracy":
        return float(np.mean(predicted == truth)), recall
    from sklearn.metrics import f1_score

    present = sorted(set(truth.tolist()))
    return float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0)), recall
