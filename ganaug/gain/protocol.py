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
  class with that confidence;
* with ``synthetic_weights``, each classic synthetic arm again as ``..., synthetic weight w``: a
  synthetic item's loss counts ``w`` of a real one's;
* with ``variation_strengths`` (image-to-image generators), each classic synthetic arm again as
  ``..., variation strength s``: variations of that strength instead of the family's own;
* with ``plan``, ``real+classic+synthetic@plan``: the mix :func:`ganaug.plan` chooses by folds of the
  seed's training subset alone (never the test set), as a user would choose before training.

Every arm is scored on the same held-out test set, which never reaches GAN training, model
selection or early stopping (there is none: budgets are fixed in steps). Results: accuracy, balanced
accuracy, macro-F1 and per-class recall per run; mean and 95% t-interval per arm; the paired
difference of every arm against ``real`` and ``real+classic`` with its interval and paired t-test
p-value; generator quality in the real-trained classifier's feature space; a verdict in words for
every ratio (no ratio is picked on test scores).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from ganaug.classifier import Classifier
from ganaug.configs import from_options
from ganaug.data import DataSource, ImageStore, load_data
from ganaug.devices import resolve_device
from ganaug.errors import ConfigError, DataError, GanaugError, user_code_error
from ganaug.gain.arms import CLASSIC, REAL, Arm, arms_for
from ganaug.gain.augment import classic_preset
from ganaug.gain.config import GainConfig
from ganaug.gain.report import GainReport
from ganaug.gain.subsets import StoreDataset, draw_subset
from ganaug.generator import TrainedGenerator
from ganaug.metrics.classification import score
from ganaug.metrics.fidelity import FidelityReport
from ganaug.metrics.novelty import variation_novelty
from ganaug.metrics.quality import quality_report
from ganaug.mix import ConfidenceFilter, SyntheticMix
from ganaug.plugins.registry import Registry, default_registry
from ganaug.outputs import check_destination
from ganaug.progress import progress
from ganaug.seeds import Stream, derive_seed


def evaluate_gain(train: DataSource, test: DataSource | None = None, *, generator: TrainedGenerator | None = None,
                  classic: Any = None, classifier_factory: Callable[..., Any] | None = None,
                  out: str | Path | None = None, overwrite: bool = False, registry: Registry | None = None,
                  **overrides: Any) -> GainReport:
    """Run the gain protocol and return (and, with ``out``, save) the report.

    Args:
        train: training data (anything :func:`ganaug.load_data` accepts).
        test: test data; when omitted, ``train`` is split (stratified, ``test_size``) first.
        generator: a trained generator; or pass ``train_gan=True`` to train one per seed on the
            training subset.
        classic: an albumentations transform for the classic arms (default: the
            :func:`~ganaug.gain.augment.classic_preset` named by ``classic_preset``).
        classifier_factory: ``factory(num_classes=, image_shape=, seed=)`` instead of a registered name.
        out: folder for gain.json, gain.md and the plots; one that already holds files is refused
            before any work unless ``overwrite``.
        overwrite: write into an ``out`` that already holds files (a previous report's are replaced).
        registry: where the classifier, the generator family (``train_gan``) and named data sets are
            looked up; the default registry when omitted.
        **overrides: fields of :class:`GainConfig`.
    """
    config = from_options(GainConfig, overrides, what="evaluate_gain")
    if out is not None:
        check_destination(out, overwrite=overwrite, option="out=", allow_array=False)
    if generator is None and not config.train_gan:
        raise ConfigError("no generator to measure: pass a trained generator= (--generator RUN), or train_gan=True "
                          "(--train-gan) to train one per seed")
    if generator is not None and config.train_gan:
        raise ConfigError("pass a trained generator= (--generator), or train_gan=True (--train-gan) to train one per "
                          "seed, not both")
    registry = registry or default_registry()
    if isinstance(generator, (str, os.PathLike)):
        from ganaug.generator import load

        generator = load(generator, registry=registry)
    elif generator is not None and not isinstance(generator, TrainedGenerator):
        raise ConfigError(f"generator={type(generator).__name__}: pass a TrainedGenerator (ganaug.load(...)) or the "
                          "path of a run or saved generator")
    if config.variation_strengths:
        family = registry.generator(config.gan_model) if config.train_gan and config.gan_model != "auto" else None
        conditioning = ("noise" if config.train_gan and family is None  # the families 'auto' picks draw from noise
                        else family.gan_class.conditioning if family is not None
                        else generator.conditioning)  # type: ignore[union-attr]
        if conditioning != "image":
            model = config.gan_model if config.train_gan else generator.model  # type: ignore[union-attr]
            model = "gan_model='auto' picks a family that" if model == "auto" else repr(model)
            raise ConfigError(f"variation_strengths={list(config.variation_strengths)}: {model} draws images from "
                              "noise, it makes no variations; use an image-to-image family (e.g. img2img) or drop "
                              "variation_strengths")
    if config.keep_generators and (out is None or not config.train_gan):
        raise ConfigError("keep_generators saves the generators that train_gan trains into the output folder: pass "
                          "train_gan=True (--train-gan) and out= (--out)")
    if classic is not None and not callable(classic):
        raise ConfigError(f"classic={classic!r} must be callable (an albumentations transform), or None for the "
                          "default preset")
    if classifier_factory is not None and not callable(classifier_factory):
        raise ConfigError(f"classifier_factory={classifier_factory!r} must be callable: "
                          "factory(num_classes=, image_shape=, seed=)")
    train_store, test_store = _stores(train, test, config, registry)
    if generator is not None and (generator.num_classes != train_store.num_classes
                                  or tuple(generator.image_shape) != train_store.image_shape):
        raise DataError(f"the generator makes {generator.num_classes} classes of {generator.image_shape}; the data "
                        f"has {train_store.num_classes} classes of {train_store.image_shape}: "
                        f"{_generator_fix(tuple(generator.image_shape), generator.num_classes, train_store)}")
    factory = classifier_factory or registry.classifier(config.classifier).factory
    report = GainReport(dataclasses.asdict(config), train_store.classes, arms_for(config))
    started = time.perf_counter()
    bar = progress(config.seeds * len(report.arms), disable=not config.progress, unit="run", desc="gain")
    for seed in range(config.seed, config.seed + config.seeds):
        subset_idx = seed_subset(train_store, config, seed)
        subset = train_store.subset(subset_idx)
        if config.train_gan:
            bar.set_description(f"gain: training {config.gan_model} (seed {seed})")
            generator = train_seed_generator(subset, config, seed, registry)
            report.gan_training_sets.append(subset_idx.tolist())
            if config.keep_generators:
                generator.save(Path(out) / "generators" / f"seed{seed}")  # type: ignore[arg-type]
        report.config["generator"] = {"model": generator.model, "conditioning": generator.conditioning}
        transform = classic if classic is not None else classic_preset(train_store.image_shape, seed,
                                                                           config.classic_preset)
        seed_run = _SeedRun(config, subset, test_store, generator, transform, factory, seed)
        for arm in report.arms:
            bar.set_description(f"gain: {arm} (seed {seed})")
            report.runs.append(seed_run.run(arm))
            if arm == REAL:
                report.quality.append(seed_run.quality())
            bar.update(1)
        if seed_run.fidelity is not None:
            report.fidelity.append({"seed": seed, **dataclasses.asdict(seed_run.fidelity)})
    bar.close()
    report.seconds = time.perf_counter() - started
    if out is not None:
        report.save(out, overwrite=True)  # checked before the work; the generators kept are the run's own
    return report


def _stores(train: DataSource, test: DataSource | None, config: GainConfig, registry: Registry
            ) -> tuple[ImageStore, ImageStore]:
    """The training and test stores; without a test set, a stratified split of the training data."""
    train_store = load_data(train, registry=registry, image_size=config.image_size, cache=config.cache_data)
    if test is None:
        index = np.arange(len(train_store))
        train_idx, test_idx = train_test_split(index, test_size=config.test_size, random_state=config.seed,
                                               stratify=train_store.labels.numpy())
        test_store, train_store = train_store.subset(np.sort(test_idx)), train_store.subset(np.sort(train_idx))
    else:
        test_store = load_data(test, registry=registry, image_size=config.image_size, cache=config.cache_data)
    if test_store.image_shape != train_store.image_shape or test_store.num_classes != train_store.num_classes:
        resize = (", or image_size= (--image-size) resizes both to one size"
                  if test_store.image_shape != train_store.image_shape and config.image_size is None
                  and test_store.image_shape[0] == train_store.image_shape[0] else "")
        raise DataError(f"test set has {test_store.num_classes} classes of {test_store.image_shape} images; the "
                        f"training set has {train_store.num_classes} of {train_store.image_shape}: pass a test set of "
                        f"the training set's classes and image size (test=, --test), or none, to hold out test_size= "
                        f"of the training set{resize}")
    return train_store, test_store


def _generator_fix(shape: tuple[int, ...], num_classes: int, data: ImageStore) -> str:
    """How to measure a generator on data it does not match: the right generator, or resizing the data to it."""
    fix = ("measure a generator trained on this data (generator=, --generator), or train one per seed with "
           "train_gan=True (--train-gan)")
    channels, height, width = shape
    if num_classes == data.num_classes and channels == data.image_shape[0] and height == width:
        fix += f"; image_size={height} (--image-size {height}) resizes the data to the generator's size"
    return fix


def seed_subset(train_store: ImageStore, config: GainConfig, seed: int) -> np.ndarray:
    """Indices into ``train_store`` of the training subset that the protocol draws for ``seed``.

    The whole training set unless ``config`` asks for low data (``per_class``) or a long tail
    (``imbalance``); the same indices for the same seed, whoever asks.
    """
    return draw_subset(train_store.labels, train_store.num_classes, per_class=config.per_class,
                       imbalance=config.imbalance, seed=seed)


def train_seed_generator(subset: ImageStore, config: GainConfig, seed: int,
                         registry: Registry | None = None) -> TrainedGenerator:
    """The generator that ``train_gan`` trains for ``seed``, on that seed's subset (:func:`seed_subset`).

    Public so that a benchmark can train the generators of some seeds ahead (and save them) while it
    measures the arms of others, and still get exactly the protocol's generator.
    """
    from ganaug.train.trainer import fit

    return fit(subset, config.gan_model, steps=config.gan_steps, batch_size=config.gan_batch_size, seed=seed,
               device=config.device, progress=False, registry=registry or default_registry(),
               **config.gan_overrides)


class _SeedRun:
    """The arms of one seed: same subset, generator, classic transform and classifier factory."""

    def __init__(self, config: GainConfig, subset: ImageStore, test_store: ImageStore, generator: TrainedGenerator,
                 transform: Any, factory: Callable[..., Any], seed: int) -> None:
        if generator.conditioning == "image":  # its samples are variations of this seed's training images
            generator = copy.copy(generator)
            generator.sources = subset
        self.config, self.subset, self.test_store, self.generator = config, subset, test_store, generator
        self.transform, self.factory, self.seed = transform, factory, seed
        self.device = resolve_device(config.device)
        self.real = StoreDataset(subset)
        self.trained: dict[Arm, Classifier] = {}
        self.fidelity: FidelityReport | None = None
        """The per-class fidelity the synthetic arms' gate used (None without the gate)."""

    def run(self, arm: Arm) -> dict[str, Any]:
        """Train the classifier on ``arm``'s data and score it on the test set; returns the run record."""
        config, seed = self.config, self.seed
        sample_filter = (ConfidenceFilter(self.trained[CLASSIC].model, config.filter_confidence, device=self.device)
                         if arm.filtered else None)
        gate = {} if config.fidelity_gate else {"fidelity": None, "max_per_real": None}
        tail = {"top_up_below": config.top_up_below} if arm.auto else {}
        strength = {"variation_strength": arm.strength} if arm.strength is not None else {}
        recipe = None
        if arm.planned:
            recipe = self.plan()
            mix = SyntheticMix.from_recipe(self.real, self.generator, recipe, seed=seed, transform=self.transform,
                                           labels=self.real.targets, return_source=arm.weight != 1.0)
        else:
            mix = SyntheticMix(self.real, self.generator, seed=seed, synthetic_only=arm.synthetic_only,
                               transform=self.transform if arm.classic else None, labels=self.real.targets,
                               sample_filter=sample_filter, return_source=arm.weight != 1.0,
                               **arm.mix_policy, **tail, **strength, **gate)
        if arm.synthetic and not arm.synthetic_only and mix.fidelity is not None:
            self.fidelity = mix.fidelity
        try:
            model = self.factory(num_classes=self.subset.num_classes, image_shape=self.subset.image_shape, seed=seed)
        except GanaugError:
            raise
        except Exception as exc:
            raise user_code_error("the classifier factory (classifier_factory=)", exc, "fix it (it is called as factory(num_classes=, "
                                  "image_shape=, seed=))") from exc
        classifier = Classifier(model, device=self.device).fit(mix, steps=config.steps, batch_size=config.batch_size,
                                                              lr=config.lr, seed=seed, balanced=arm.balanced,
                                                              synthetic_weight=arm.weight,
                                                              lr_schedule=config.lr_schedule)
        if arm in (REAL, CLASSIC):
            self.trained[arm] = classifier
        predictions = classifier.predict(self.test_store.images).numpy()
        return {"arm": arm.name, "seed": seed, "train_size": len(mix), "n_real": mix.n_real,
                "n_synthetic": mix.n_synthetic, "n_repeats": mix.n_repeats,
                "metrics": score(self.test_store.labels.numpy(), predictions, self.subset.num_classes),
                **({"filter_acceptance": mix.acceptance} if arm.filtered else {}),
                **({"recipe": {"choice": recipe.choice, "no_synthetic": recipe.no_synthetic, "reason": recipe.reason,
                               "uncertain": recipe.uncertain, "seconds": recipe.budget["seconds"],
                               "runs": recipe.budget["runs"]}} if recipe is not None else {})}

    def plan(self) -> Any:
        """The recipe :func:`ganaug.plan` chooses on this seed's training subset, with this protocol's classifier,
        classic augmentation, learning rate and batch size (its warnings, e.g. the gate's, are left to the arms)."""
        import warnings

        from ganaug.planning.planner import plan

        config = self.config
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return plan(self.subset, self.generator, classic=self.transform, classifier_factory=self.factory,
                        steps=config.plan_steps or config.steps, quick=config.plan_quick, seed=self.seed,
                        batch_size=config.batch_size, lr=config.lr, lr_schedule=config.lr_schedule,
                        top_up_below=config.top_up_below, metric=config.metric, device=config.device, progress=False)

    def quality(self) -> dict[str, Any]:
        """Generator quality judged by the classifier trained on the real subset (its features, its predictions);
        for an image-to-image family, also the novelty of its variations (how far they move from their source)."""
        novelty = {"novelty": self.novelty()} if self.generator.conditioning == "image" else {}
        judge = self.trained[REAL]
        if not judge.is_torch:
            return {"note": "scikit-learn classifier: no feature space; quality not measured", **novelty}
        fake, labels = self.generator.sample(per_class=self.config.quality_samples,
                                             seed=derive_seed(self.seed, Stream.QUALITY), return_labels=True)
        result = quality_report(judge.features(self.subset.images), self.subset.labels, judge.features(fake), labels,
                                judge.predict(fake), self.subset.num_classes)
        return {"seed": self.seed, **result, **novelty}

    def novelty(self) -> list[float]:
        """Per class, how far variations of this seed's real images move from their source, relative to two real
        images of the class (:func:`~ganaug.metrics.novelty.variation_novelty`)."""
        images, labels = self.subset.images, self.subset.labels
        varied = self.generator.variations(images, labels, seed=derive_seed(self.seed, Stream.QUALITY, 1))
        return variation_novelty(varied, images, labels, self.subset.num_classes, seed=self.seed)
