"""Options of the gain protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

METRICS = ("accuracy", "balanced_accuracy", "macro_f1")


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
    probability (:class:`~ganaug.mix.filters.ConfidenceFilter`; rejected images are redrawn)."""
    test_size: float = 0.25
    """Share held out for testing when no test set is given."""
    metric: str = "balanced_accuracy"
    """Metric of the verdict and the plots."""
    quality_samples: int = 100
    """Generated images per class for the quality measures."""
    device: str = "auto"
    progress: bool = True
