"""What a run reports while it trains: log records, TensorBoard scalars, sample grids, fidelity, diversity.

Every ``sample_every`` steps (and at the end) the generator draws a grid (one row per class, fixed
noise) and ``diversity_samples`` images per class. Those samples are scored per class twice:

* **fidelity** (:mod:`ganaug.metrics.fidelity`): does a class's sample show that class, for a judge
  fitted on the real training images? A class whose samples fail raises a warning naming it;
* **diversity**: compared with the real images'; a class far below raises a mode-collapse warning.

Diversity alone never counts as healthy: a class can be varied and wrong.
"""

from __future__ import annotations

import warnings
from typing import Any

from ganaug.data import ImageStore
from ganaug.generator import TrainedGenerator
from ganaug.grid import save_class_grid
from ganaug.metrics.diversity import diversity_ratio, per_class_diversity
from ganaug.metrics.fidelity import FidelityJudge, FidelityReport
from ganaug.runs.folder import RunFolder
from ganaug.seeds import Stream, derive_seed
from ganaug.train.config import TrainConfig


class Monitor:
    """Writes the log and grids of one run (rank 0 only; other ranks get ``enabled=False``).

    Args:
        run: the run folder, or None for an in-memory run (records are then dropped).
        store: the training images (their per-class diversity is the reference).
        config: the training config (seed, grid and diversity sizes, collapse thresholds).
        enabled: False on ranks other than 0.
    """

    def __init__(self, run: RunFolder | None, store: ImageStore, config: TrainConfig, *, enabled: bool = True) -> None:
        self.run, self.store, self.config, self.enabled = run, store, config, enabled
        self.writer = None
        self.real_diversity: list[float] = []
        self.judge: FidelityJudge | None = None

    def open(self) -> None:
        """Measure the real images' diversity and open TensorBoard when it is installed."""
        self.real_diversity = per_class_diversity(self.store.images, self.store.labels, self.store.num_classes)
        if self.enabled:
            self.judge = FidelityJudge(self.store.images, self.store.labels, self.store.classes, seed=self.config.seed)
        if self.run is None or not self.config.tensorboard or not self.enabled:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional
            return
        self.writer = SummaryWriter(str(self.run.tensorboard))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def log(self, record: dict[str, Any]) -> None:
        if self.run is None or not self.enabled:
            return
        self.run.append_log(record)
        if self.writer is not None:
            for key, value in record.items():
                if isinstance(value, (int, float)) and key != "step":
                    self.writer.add_scalar(key, value, record["step"])

    def _fidelity(self, trained: TrainedGenerator) -> FidelityReport:
        fake, labels = trained.sample(per_class=self.config.fidelity_samples,
                                      seed=derive_seed(self.config.seed, Stream.DIVERSITY), return_labels=True)
        return self.judge.judge(fake, labels, min_fidelity=self.config.min_fidelity)  # type: ignore[union-attr]

    def sample_and_score(self, trained: TrainedGenerator, step: int, final: bool = False) -> dict[str, Any]:
        """Write the grid and compute per-class diversity against the real images; returns the log record."""
        config = self.config
        record: dict[str, Any] = {"step": step}
        fake, labels = trained.sample(per_class=config.diversity_samples,
                                      seed=derive_seed(config.seed, Stream.DIVERSITY), return_labels=True)
        ratio = diversity_ratio(per_class_diversity(fake, labels, self.store.num_classes), self.real_diversity)
        finite = [r for r in ratio if r == r]
        record["diversity_ratio"] = [round(r, 4) for r in ratio]
        record["diversity_ratio_mean"] = sum(finite) / len(finite) if finite else float("nan")
        fidelity = self._fidelity(trained) if self.judge else None
        if fidelity is not None:
            record.update(fidelity.as_record())
            trained.fidelity = fidelity
            if fidelity.failing and step >= config.collapse_warning_after:
                warnings.warn(f"at step {step}, {fidelity.warning()}", stacklevel=2)
        collapsed = [self.store.classes[k] for k, r in enumerate(ratio) if r == r and r < config.collapse_warning]
        if collapsed and step >= config.collapse_warning_after:
            record["collapse_warning"] = collapsed
            warnings.warn(
                f"possible mode collapse at step {step}: samples of class(es) {', '.join(map(repr, collapsed))} "
                f"vary less than {config.collapse_warning:.0%} as much as the real images "
                f"(diversity ratios {[round(r, 2) for r in ratio]}). Try more data, a larger mode_seeking weight, "
                "or an earlier checkpoint", stacklevel=2)
        if self.run is not None:
            grid = trained.sample(per_class=config.grid_per_class, seed=derive_seed(config.seed, Stream.GRID))
            save_class_grid(grid, self.store.num_classes, self.run.grid(None if final else step))
            if self.writer is not None:
                self.writer.add_images("samples", grid.float() / 255, step)
        return record
