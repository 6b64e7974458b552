"""Does synthetic data help a classifier, and by how much next to classic augmentation?

The protocol (:func:`evaluate_gain`): for each seed, draw the training subset (``per_class`` or
``imbalance``), train the generator on that subset only (``train_gan=True``) or use the one given,
then train the same classifier, with the same budget in steps, on each arm:

* ``real``: the real training images;
* ``real+classic``: with classic augmentation (albumentations, :mod:`ganaug.gain.augment`);
* ``real+synthetic@r``: a :class:`~ganaug.mix.SyntheticMix` with synthetic share ``r``;
* ``real+classic+synthetic@r``: both;
* ``synthetic-only``: trained on synthetic images alone, tested on real ones (the Classification
  Accuracy Score);
* with ``filter_confidence``, each synthetic arm again as ``..., filtered``: only synthetic images
  that the seed's ``real+classic`` classifier (trained on real images only) recognises as their own
  class with that confidence.

Every arm is scored on the same held-out test set, which never reaches GAN training, model
selection or early stopping (there is none: budgets are fixed in steps). Results: accuracy, balanced
accuracy, macro-F1 and per-class recall per run; mean and 95% t-interval per arm; the paired
difference of every arm against ``real`` and ``real+classic`` with its interval and paired t-test
p-value; generator quality in the real-trained classifier's feature space; a verdict in words for
every ratio (no ratio is picked on test scores).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from ganaug.data import DataSource, ImageStore, load_data
from ganaug.devices import resolve_device
from ganaug.errors import ConfigError, DataError
from ganaug.gain.augment import classic_preset
from ganaug.gain.classifier import predict, score, train_classifier
from ganaug.gain.config import METRICS, GainConfig
from ganaug.gain.report import CLASSIC, FILTERED, REAL, SYNTHETIC_ONLY, GainReport
from ganaug.gain.subsets import StoreDataset, draw_subset
from ganaug.generator import TrainedGenerator
from ganaug.metrics.quality import quality_report
from ganaug.mix import ConfidenceFilter, SyntheticMix
from ganaug.seeds import Stream, derive_seed


def _arms(config: GainConfig) -> list[tuple[str, float, bool, bool]]:
    """(name, synthetic ratio, classic augmentation, filtered) of every arm, in the order they run."""
    arms = [(REAL, 0.0, False, False), (CLASSIC, 0.0, True, False)]
    filtering = (False, True) if config.filter_confidence is not None else (False,)
    for filtered in filtering:
        suffix = FILTERED if filtered else ""
        arms += [(f"real+synthetic@{r:g}{suffix}", r, False, filtered) for r in config.ratios]
        arms += [(f"real+classic+synthetic@{r:g}{suffix}", r, True, filtered) for r in config.ratios]
    if config.synthetic_only:
        arms.append((SYNTHETIC_ONLY, 1.0, False, False))
    return arms


def evaluate_gain(train: DataSource, test: DataSource | None = None, *, generator: TrainedGenerator | None = None,
                  classic: Any = None, classifier_factory: Callable[..., Any] | None = None,
                  out: str | Path | None = None, **overrides: Any) -> GainReport:
    """Run the gain protocol and return (and, with ``out``, save) the report.

    Args:
        train: training data (anything :func:`ganaug.load_data` accepts).
        test: test data; when omitted, ``train`` is split (stratified, ``test_size``) first.
        generator: a trained generator; or pass ``train_gan=True`` to train one per seed on the
            training subset.
        classic: an albumentations transform for the classic arms (default: :func:`classic_preset`).
        classifier_factory: ``factory(num_classes=, image_shape=, seed=)`` instead of a registered name.
        out: folder for gain.json, gain.md and the plots.
        **overrides: fields of :class:`GainConfig`.
    """
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(GainConfig)})
    if unknown:
        raise ConfigError(f"evaluate_gain has no option(s) {', '.join(unknown)}")
    config = GainConfig(**overrides)
    config.ratios = tuple(float(r) for r in config.ratios)
    if any(not 0 < r < 1 for r in config.ratios):
        raise ConfigError(f"ratios {config.ratios} must each be in (0, 1)")
    if config.metric not in METRICS:
        raise ConfigError(f"metric={config.metric!r}; use one of {METRICS}")
    if config.filter_confidence is not None and not 0 < config.filter_confidence <= 1:
        raise ConfigError(f"filter_confidence={config.filter_confidence} must be a probability in (0, 1]")
    if (generator is None) == (not config.train_gan):
        raise ConfigError("pass a trained generator=, or train_gan=True (--train-gan) to train one per seed, not both")
    device = resolve_device(config.device)

    train_store = load_data(train)
    if test is None:
        index = np.arange(len(train_store))
        train_idx, test_idx = train_test_split(index, test_size=config.test_size, random_state=config.seed,
                                               stratify=train_store.labels.numpy())
        test_store, train_store = train_store.subset(np.sort(test_idx)), train_store.subset(np.sort(train_idx))
    else:
        test_store = load_data(test)
    if test_store.image_shape != train_store.image_shape or test_store.num_classes != train_store.num_classes:
        raise DataError(f"test set has {test_store.num_classes} classes of {test_store.image_shape} images; the "
                        f"training set has {train_store.num_classes} of {train_store.image_shape}")
    if generator is not None and (generator.num_classes != train_store.num_classes
                                  or tuple(generator.image_shape) != train_store.image_shape):
        raise DataError(f"the generator makes {generator.num_classes} classes of {generator.image_shape}; the data "
                        f"has {train_store.num_classes} classes of {train_store.image_shape}")

    if classifier_factory is None:
        from ganaug.plugins.registry import default_registry

        classifier_factory = default_registry().classifier(config.classifier).factory
    arms = _arms(config)
    report = GainReport(dataclasses.asdict(config), train_store.classes, [a[0] for a in arms])
    started = time.perf_counter()
    bar = tqdm(total=config.seeds * len(arms), disable=not config.progress, unit="run", desc="gain")
    test_labels = test_store.labels.numpy()
    for i in range(config.seeds):
        seed = config.seed + i
        subset_idx = draw_subset(train_store.labels, train_store.num_classes, per_class=config.per_class,
                                 imbalance=config.imbalance, seed=seed)
        subset = train_store.subset(subset_idx)
        gen = generator
        if config.train_gan:
            from ganaug.train.trainer import fit

            bar.set_description(f"gain: training {config.gan_model} (seed {seed})")
            gen = fit(subset, config.gan_model, steps=config.gan_steps, batch_size=config.gan_batch_size, seed=seed,
                      device=str(device), progress=False, **config.gan_overrides)
            report.gan_training_sets.append(subset_idx.tolist())
        assert gen is not None
        real = StoreDataset(subset)
        transform = classic if classic is not None else classic_preset(train_store.image_shape, seed)
        judge = None
        for name, ratio, with_classic, filtered in arms:
            bar.set_description(f"gain: {name} (seed {seed})")
            sample_filter = ConfidenceFilter(judge, config.filter_confidence, device=device) if filtered else None
            mix = SyntheticMix(real, gen, ratio=ratio, seed=seed, synthetic_only=ratio == 1.0,
                               transform=transform if with_classic else None, labels=real.targets,
                               sample_filter=sample_filter)
            model = classifier_factory(num_classes=train_store.num_classes, image_shape=train_store.image_shape,
                                       seed=seed)
            model = train_classifier(model, mix, config, seed, device)
            predictions = predict(model, test_store.images, device).numpy()
            report.runs.append({"arm": name, "seed": seed, "train_size": len(mix), "n_real": mix.n_real,
                                "n_synthetic": mix.n_synthetic,
                                "metrics": score(test_labels, predictions, train_store.num_classes),
                                **({"filter_acceptance": mix.acceptance} if filtered else {})})
            if name == CLASSIC:
                judge = model
            if name == REAL:
                report.quality.append(_quality(model, subset, gen, config, seed, device))
            bar.update(1)
    bar.close()
    report.seconds = time.perf_counter() - started
    if out is not None:
        report.save(out)
    return report


def _quality(model: Any, subset: ImageStore, generator: TrainedGenerator, config: GainConfig, seed: int,
             device: torch.device) -> dict[str, Any]:
    """Generator quality judged by the classifier trained on the real subset (its features, its predictions)."""
    if not isinstance(model, torch.nn.Module):
        return {"note": "scikit-learn classifier: no feature space; quality not measured"}
    fake, labels = generator.sample(per_class=config.quality_samples, seed=derive_seed(seed, Stream.QUALITY), return_labels=True)
    result = quality_report(predict(model, subset.images, device, features=True), subset.labels,
                            predict(model, fake, device, features=True), labels, predict(model, fake, device),
                            subset.num_classes)
    return {"seed": seed, **result}
