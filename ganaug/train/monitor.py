"""What a run reports while it trains: log records, TensorBoard scalars, sample grids, fidelity, quality, diversity.

Every ``sample_every`` steps (and at the end) the generator draws a grid (one row per class, fixed
noise), ``diversity_samples`` and ``fidelity_samples`` images per class. Those samples are scored per
class three ways:

* **fidelity** (:mod:`ganaug.metrics.fidelity`): does a class's sample show that class, for a judge
  fitted on the real training images? A class whose samples fail raises a warning naming it;
* **quality** (:mod:`ganaug.metrics.quality`), in the same judge's feature space (the domain's own
  features, nothing downloaded), against as many real images per class as samples: ``fd`` (Fréchet
  distance), ``kid`` (kernel distance), ``precision``, ``recall``, ``density``, ``coverage``, each
  overall and as ``per_class_<key>`` (within each class);
* **diversity**: compared with the real images'; a class far below raises a mode-collapse warning.

Diversity alone never counts as healthy: a class can be varied and wrong.

What the scoring costs is logged beside it, so a user can see it against the training: each scoring
record has ``score_seconds``; the first also ``judge_seconds`` (fitting the judge); the final one
``scoring_seconds`` (all of this process's scoring, the judge's fit included), ``run_seconds`` (since
the monitor opened) and ``scoring_share``, their ratio.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import torch

from ganaug.data import ImageStore
from ganaug.generator import TrainedGenerator
from ganaug.grid import save_class_grid
from ganaug.metrics.diversity import diversity_ratio, per_class_diversity
from ganaug.metrics.fidelity import FidelityJudge, FidelityReport
from ganaug.metrics.quality import log_record, quality_report
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
        self.real_features: torch.Tensor | None = None
        self.real_labels: torch.Tensor | None = None
        self.opened_at = time.perf_counter()
        self.judge_seconds: float | None = None
        self.scoring_seconds = 0.0

    def open(self) -> None:
        """Measure the real images' diversity, fit the fidelity judge, take the real images' features in its space,
        and open TensorBoard when it is installed."""
        self.opened_at = time.perf_counter()
        self.real_diversity = per_class_diversity(self.store.images, self.store.labels, self.store.num_classes)
        if self.enabled and max(self.store.class_counts()) < 2:
            warnings.warn(f"no class has 2 or more images ({self.store.num_classes} classes, {len(self.store)} "
                          "images), so no judge can learn what a class looks like: the run trains without fidelity "
                          "scores; add images (2 or more per class) to judge the samples", stacklevel=2)
        elif self.enabled:
            self.judge = FidelityJudge(self.store.images, self.store.labels, self.store.classes, kind=self.config.judge,
                                       device=self.config.device, seed=self.config.seed)
            self._real_features()
        self.judge_seconds = time.perf_counter() - self.opened_at
        self.scoring_seconds = self.judge_seconds
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

    def _real_features(self) -> None:
        """The judge's features of up to ``fidelity_samples`` of its real images per class: at the end, quality
        compares as many real images as samples (PRDC's neighbourhoods depend on the count)."""
        judge, per_class = self.judge, self.config.fidelity_samples
        generator = torch.Generator().manual_seed(derive_seed(self.config.seed, Stream.HASHED, 31))
        keep = []
        for k in range(len(judge.classes)):  # type: ignore[union-attr]
            index = torch.nonzero(judge.labels == k).flatten()  # type: ignore[union-attr]
            keep.append(index[torch.randperm(len(index), generator=generator)[:per_class]])
        index = torch.cat(keep)
        self.real_labels = judge.labels[index]  # type: ignore[union-attr]
        self.real_features = judge.features(judge.images[index])  # type: ignore[union-attr]

    def sample_and_score(self, trained: TrainedGenerator, step: int, final: bool = False) -> dict[str, Any]:
        """Write the grid, score the samples' fidelity, quality and per-class diversity; returns the log record.

        One draw of samples serves all three: ``fidelity_samples`` per class at the end, ``score_samples``
        before (at least ``diversity_samples``); diversity reads the first ``diversity_samples`` of each class.
        The record also says what this scoring cost (the module's docstring names the fields).
        """
        started = time.perf_counter()
        record = self._score(trained, step, final)
        now = time.perf_counter()
        record["score_seconds"] = round(now - started, 3)
        if self.judge_seconds is not None:
            record["judge_seconds"], self.judge_seconds = round(self.judge_seconds, 3), None
        self.scoring_seconds += now - started
        if final:
            run_seconds = now - self.opened_at
            record.update(scoring_seconds=round(self.scoring_seconds, 3), run_seconds=round(run_seconds, 3),
                          scoring_share=round(self.scoring_seconds / max(run_seconds, 1e-9), 4))
        return record

    def _score(self, trained: TrainedGenerator, step: int, final: bool) -> dict[str, Any]:
        config = self.config
        record: dict[str, Any] = {"step": step}
        per_class = max(config.fidelity_samples if final else min(config.score_samples, config.fidelity_samples),
                        config.diversity_samples)
        fake, labels = trained.sample(per_class=per_class, seed=derive_seed(config.seed, Stream.DIVERSITY),
                                      return_labels=True)
        first = (torch.arange(len(labels)) % per_class) < config.diversity_samples
        ratio = diversity_ratio(per_class_diversity(fake[first], labels[first], self.store.num_classes),
                                self.real_diversity)
        finite = [r for r in ratio if r == r]
        record["diversity_ratio"] = [round(r, 4) for r in ratio]
        record["diversity_ratio_mean"] = sum(finite) / len(finite) if finite else float("nan")
        if self.judge is not None:
            predicted, features = self.judge.predict_and_features(fake)
            fidelity = self.judge.report(predicted, labels, min_fidelity=config.min_fidelity)
            record.update(fidelity.as_record())
            record.update(log_record(quality_report(self.real_features, self.real_labels, features, labels,  # type: ignore[arg-type]
                                                    predicted, self.store.num_classes)))
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
