"""What the gain protocol measured: :class:`GainReport`, its statistics, tables, verdict and files."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganaug.gain.config import METRICS
from ganaug.metrics.stats import mean_ci, paired_difference

REAL, CLASSIC, SYNTHETIC_ONLY = "real", "real+classic", "synthetic-only"
FILTERED = ", filtered"


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
        from ganaug.gain.plots import plot_per_class_recall, plot_ratio_curve

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
