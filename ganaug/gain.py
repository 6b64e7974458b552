"""Does synthetic data help a classifier, and by how much next to classic augmentation?

The protocol (:func:`evaluate_gain`): for each seed, draw the training subset (``per_class`` or
``imbalance``), train the generator on that subset only (``train_gan=True``) or use the one given,
then train the same classifier, with the same budget in steps, on each arm:

* ``real``: the real training images;
* ``real+classic``: with classic augmentation (albumentations, :mod:`ganaug.augment`);
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
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, recall_score
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from ganaug.augment import classic_preset
from ganaug.data import DataSource, ImageStore, load_data
from ganaug.devices import resolve_device
from ganaug.errors import ConfigError, DataError
from ganaug.filters import ConfidenceFilter
from ganaug.mix import SyntheticMix
from ganaug.quality import quality_report
from ganaug.stats import mean_ci, paired_difference
from ganaug.trained import TrainedGenerator

METRICS = ("accuracy", "balanced_accuracy", "macro_f1")
REAL, CLASSIC, SYNTHETIC_ONLY = "real", "real+classic", "synthetic-only"
FILTERED = ", filtered"


@dataclass
class GainConfig:
    """Options of the gain protocol."""

    classifier: str = "small-cnn"
    """Registered classifier (small-cnn, small-resnet, logreg, or a plugin's)."""
    ratios: tuple[float, ...] = (0.25, 0.5)
    """Synthetic shares to test, each in (0, 1)."""
    seeds: int = 5
    """Repeats of the subset draw, GAN training (with train_gan) and classifier training."""
    seed: int = 0
    """First seed; run i uses seed + i."""
    steps: int = 500
    """Classifier optimisation steps, identical for every arm."""
    batch_size: int = 64
    lr: float = 1e-3
    """Adam learning rate of torch classifiers."""
    per_class: int | None = None
    """Keep this many training images per class (stratified, drawn per seed)."""
    imbalance: float | None = None
    """Long tail: class k keeps about n_max * imbalance^(-k/(K-1)) images (drawn per seed)."""
    train_gan: bool = False
    """Train a generator on each seed's training subset inside the protocol."""
    gan_model: str = "cdcgan"
    gan_steps: int = 1500
    gan_batch_size: int = 64
    gan_overrides: dict[str, Any] = field(default_factory=dict)
    """Options of the generator family for train_gan (e.g. {"g_channels": 32})."""
    synthetic_only: bool = True
    """Include the synthetic-only arm."""
    filter_confidence: float | None = None
    """Also run every synthetic arm with its bank filtered (``..., filtered`` arms): the seed's
    ``real+classic`` classifier must give each synthetic image its own class with at least this
    probability (:class:`~ganaug.filters.ConfidenceFilter`; rejected images are redrawn)."""
    test_size: float = 0.25
    """Share held out for testing when no test set is given."""
    metric: str = "balanced_accuracy"
    """Metric of the verdict and the plots."""
    quality_samples: int = 100
    """Generated images per class for the quality measures."""
    device: str = "auto"
    progress: bool = True


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
    return torch.sort(torch.cat([idx[:n] for idx, n in zip(by_class, keep)])).values


class StoreDataset(Dataset):
    """An ImageStore as (HWC uint8 array, int label) items, the form albumentations expects."""

    def __init__(self, store: ImageStore) -> None:
        self.images = store.images.permute(0, 2, 3, 1).contiguous().numpy()
        self.targets = store.labels.tolist()
        self.classes = list(store.classes)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        return self.images[index], self.targets[index]


def to_float_batch(images: Sequence[Any]) -> torch.Tensor:
    """HWC uint8 arrays (or CHW uint8 tensors) to a float batch (B, C, H, W) in [0, 1]."""
    first = images[0]
    if isinstance(first, torch.Tensor):
        batch = torch.stack(list(images))
        return batch.float() / 255.0 if batch.dtype == torch.uint8 else batch.float()
    array = np.stack([np.asarray(im) for im in images])
    if array.ndim == 3:
        array = array[..., None]
    return torch.from_numpy(array).permute(0, 3, 1, 2).float() / 255.0


def _collate(items):
    images, labels = zip(*items)
    return to_float_batch(images), torch.as_tensor([int(y) for y in labels])


def train_classifier(model: Any, dataset: SyntheticMix, config: GainConfig, seed: int,
                     device: torch.device) -> Any:
    """Fit a torch classifier for ``config.steps`` steps, or a scikit-learn one on one pass of the data."""
    if not isinstance(model, torch.nn.Module):
        images, labels = _collate([dataset[i] for i in range(len(dataset))])
        return model.fit(images.flatten(1).numpy(), labels.numpy())
    model = model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True, collate_fn=_collate,
                        drop_last=len(dataset) >= config.batch_size,
                        generator=torch.Generator().manual_seed(seed))
    epochs = math.ceil(config.steps / max(len(loader), 1))
    refresh_every = max(1, epochs // 10)  # about ten synthetic banks per run
    step, epoch = 0, 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        while step < config.steps:
            if epoch % refresh_every == 0:
                dataset.set_epoch(epoch)
            for images, labels in loader:
                loss = torch.nn.functional.cross_entropy(model(images.to(device)), labels.to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
                if step >= config.steps:
                    break
            epoch += 1
    return model.eval()


@torch.no_grad()
def predict(model: Any, images: torch.Tensor, device: torch.device, features: bool = False) -> torch.Tensor:
    """Class predictions (or penultimate features) for uint8 images (N, C, H, W)."""
    if not isinstance(model, torch.nn.Module):
        if features:
            raise TypeError("scikit-learn classifiers have no feature layer")
        return torch.as_tensor(model.predict(images.flatten(1).numpy() / 255.0))
    outputs = []
    for start in range(0, len(images), 1024):
        x = images[start:start + 1024].to(device).float() / 255.0
        out = (model.features(x) if hasattr(model, "features") else model(x)) if features else model(x).argmax(1)
        outputs.append(out.cpu())
    return torch.cat(outputs)


def score(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> dict[str, Any]:
    labels = list(range(num_classes))
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class_recall": [float(r) for r in recall_score(y_true, y_pred, labels=labels, average=None,
                                                            zero_division=0)],
    }


@dataclass
class GainReport:
    """Everything measured; ``save(folder)`` writes JSON, Markdown and plots."""

    config: dict[str, Any]
    classes: list[str]
    arms: list[str]
    runs: list[dict[str, Any]] = field(default_factory=list)
    quality: list[dict[str, Any]] = field(default_factory=list)
    gan_training_sets: list[list[int]] = field(default_factory=list)
    """Per seed, the indices (into the training set) the generator was trained on (train_gan only)."""
    seconds: float = 0.0

    def values(self, arm: str, metric: str) -> list[float]:
        return [run["metrics"][metric] for run in sorted(self.runs, key=lambda r: r["seed"]) if run["arm"] == arm]

    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        return {arm: {m: mean_ci(self.values(arm, m)).as_dict() for m in METRICS} for arm in self.arms}

    def comparisons(self) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
        out: dict[str, Any] = {}
        for arm in self.arms:
            out[arm] = {}
            for baseline in (REAL, CLASSIC):
                if arm != baseline and baseline in self.arms:
                    out[arm][f"vs {baseline}"] = {m: paired_difference(self.values(arm, m), self.values(baseline, m))
                                                  .as_dict() for m in METRICS}
        return out

    def per_class_recall(self) -> dict[str, list[float]]:
        result = {}
        for arm in self.arms:
            recalls = [run["metrics"]["per_class_recall"] for run in self.runs if run["arm"] == arm]
            result[arm] = np.mean(recalls, axis=0).tolist() if recalls else []
        return result

    def verdict(self) -> list[str]:
        """One plain sentence per synthetic ratio, against classic augmentation and against real data."""
        metric = self.config["metric"]
        name = metric.replace("_", " ")
        lines = []
        for arm in self.arms:
            for baseline, prefix, what in ((CLASSIC, "real+classic+synthetic@", "classic augmentation"),
                                           (REAL, "real+synthetic@", "real data alone")):
                if arm.startswith(prefix) and baseline in self.arms:
                    d = paired_difference(self.values(arm, metric), self.values(baseline, metric))
                    lines.append(_sentence(arm, baseline, what, name, d))
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config, "classes": self.classes, "arms": self.arms, "summary": self.summary(),
                "comparisons": self.comparisons(), "per_class_recall": self.per_class_recall(),
                "quality": self.quality, "runs": self.runs, "verdict": self.verdict(), "seconds": self.seconds}

    def to_markdown(self) -> str:
        metric = self.config["metric"]
        summary, comparisons = self.summary(), self.comparisons()
        lines = [f"| arm | accuracy | balanced accuracy | macro-F1 | Δ {metric} vs real | Δ {metric} vs real+classic |",
                 "|---|---|---|---|---|---|"]
        for arm in self.arms:
            cells = [_fmt_interval(summary[arm][m]) for m in METRICS]
            for baseline in (REAL, CLASSIC):
                d = comparisons[arm].get(f"vs {baseline}", {}).get(metric)
                cells.append(_fmt_difference(d) if d else "")
            lines.append(f"| {arm} | " + " | ".join(cells) + " |")
        n = self.config["seeds"]
        lines.append("")
        lines.append(f"Mean over {n} seed(s) in %, [95% CI]; Δ: paired difference in points, [95% CI], paired "
                     "t-test p.")
        if self.quality:
            q = {k: float(np.nanmean([item[k] for item in self.quality])) for k in
                 ("conditional_accuracy", "frechet_distance", "precision", "recall", "density", "coverage")}
            lines.append("")
            lines.append("Generator quality (mean over seeds, in the real-trained classifier's feature space): "
                         + ", ".join(f"{k.replace('_', ' ')} {v:.3g}" for k, v in q.items()) + ".")
        return "\n".join(lines) + "\n"

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "gain.json").write_text(json.dumps(self.to_dict(), indent=2, default=_json_default))
        (folder / "gain.md").write_text(self.to_markdown() + "\n" + "\n".join(f"- {v}" for v in self.verdict()) + "\n")
        from ganaug.gain_plots import plot_per_class_recall, plot_ratio_curve

        plot_ratio_curve(self, folder / "gain_vs_ratio.png")
        plot_per_class_recall(self, folder / "per_class_recall.png")
        return folder


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    raise TypeError(f"not JSON serialisable: {value!r}")


def _fmt_interval(d: dict[str, float]) -> str:
    if math.isnan(d["ci_low"]):
        return f"{100 * d['mean']:.1f}"
    return f"{100 * d['mean']:.1f} [{100 * d['ci_low']:.1f}, {100 * d['ci_high']:.1f}]"


def _fmt_difference(d: dict[str, float]) -> str:
    if math.isnan(d["ci_low"]):
        return f"{100 * d['mean']:+.1f}"
    return f"{100 * d['mean']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}] p={d['p_value']:.3g}"


def _sentence(arm: str, baseline: str, what: str, name: str, d: Any) -> str:
    points = f"{abs(100 * d.mean):.1f} points"
    if math.isnan(d.low):
        return f"{arm} vs {baseline}: {name} changed by {100 * d.mean:+.1f} points (one seed: no confidence interval)"
    ci = f"95% CI {100 * d.low:+.1f} to {100 * d.high:+.1f}, p={d.p_value:.2g}, {d.n} seeds"
    if d.low > 0:
        return f"synthetic data ({arm}) raised {name} by {points} ({ci}) over {what}"
    if d.high < 0:
        return f"synthetic data ({arm}) lowered {name} by {points} ({ci}) against {what}"
    return f"synthetic data ({arm}) did not change {name} measurably against {what}: {100 * d.mean:+.1f} points ({ci})"


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
        from ganaug.registry import default_registry

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
            from ganaug.train import fit

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
    fake, labels = generator.sample(per_class=config.quality_samples, seed=seed + 10_000, return_labels=True)
    result = quality_report(predict(model, subset.images, device, features=True), subset.labels,
                            predict(model, fake, device, features=True), labels, predict(model, fake, device),
                            subset.num_classes)
    return {"seed": seed, **result}
