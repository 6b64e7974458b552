"""What the gain protocol measured: :class:`GainReport`, its statistics, tables, verdict and files."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganaug.gain.arms import CLASSIC, REAL, Arm, arm_from_name
from ganaug.gain.config import METRICS
from ganaug.metrics.fidelity import FidelityReport
from ganaug.metrics.stats import holm, mean_ci, paired_difference
from ganaug.outputs import check_destination


@dataclass
class GainReport:
    """Everything measured; ``save(folder)`` writes JSON, Markdown and plots."""

    config: dict[str, Any]
    classes: list[str]
    arms: list[Arm]
    """The arms in the order they ran (names are turned into :class:`Arm` on construction)."""
    runs: list[dict[str, Any]] = field(default_factory=list)
    quality: list[dict[str, Any]] = field(default_factory=list)
    fidelity: list[dict[str, Any]] = field(default_factory=list)
    """Per seed, the per-class fidelity the synthetic arms' gate used (see ganaug.metrics.fidelity)."""
    gan_training_sets: list[list[int]] = field(default_factory=list)
    """Per seed, the indices (into the training set) the generator was trained on (train_gan only)."""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.arms = [arm if isinstance(arm, Arm) else arm_from_name(arm) for arm in self.arms]

    @property
    def arm_names(self) -> list[str]:
        return [arm.name for arm in self.arms]

    def values(self, arm: Arm | str, metric: str) -> list[float]:
        """``metric`` of every run of ``arm``, in seed order."""
        name = str(arm)
        return [run["metrics"][metric] for run in sorted(self.runs, key=lambda r: r["seed"]) if run["arm"] == name]

    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        return {arm.name: {m: mean_ci(self.values(arm, m)).as_dict() for m in METRICS} for arm in self.arms}

    def comparisons(self) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
        out: dict[str, Any] = {}
        for arm in self.arms:
            out[arm.name] = {}
            for baseline in (REAL, CLASSIC):
                if arm != baseline and baseline in self.arms:
                    out[arm.name][f"vs {baseline}"] = {
                        m: paired_difference(self.values(arm, m), self.values(baseline, m)).as_dict() for m in METRICS}
        return out

    def best_baseline(self, metric: str | None = None) -> Arm | None:
        """The non-synthetic arm with the highest mean ``metric`` (the config's by default)."""
        metric = metric or self.config["metric"]
        candidates = [arm for arm in self.arms if not arm.synthetic]
        if not candidates:
            return None
        return max(candidates, key=lambda arm: float(np.mean(self.values(arm, metric))))

    def against_best(self) -> dict[str, dict[str, float]]:
        """Every synthetic arm against the best non-synthetic arm: paired difference, p and Holm-adjusted p."""
        metric, best = self.config["metric"], self.best_baseline()
        arms = [arm for arm in self.arms if arm.synthetic and not arm.synthetic_only]
        if best is None or not arms:
            return {}
        differences = [paired_difference(self.values(arm, metric), self.values(best, metric)) for arm in arms]
        adjusted = holm([d.p_value for d in differences])
        return {arm.name: {**d.as_dict(), "p_holm": p, "baseline": best.name}
                for arm, d, p in zip(arms, differences, adjusted)}

    def per_class_recall(self) -> dict[str, list[float]]:
        result = {}
        for arm in self.arms:
            recalls = [run["metrics"]["per_class_recall"] for run in self.runs if run["arm"] == arm.name]
            result[arm.name] = np.mean(recalls, axis=0).tolist() if recalls else []
        return result

    def verdict(self) -> list[str]:
        """One plain sentence per synthetic ratio, against classic augmentation and against real data."""
        metric = self.config["metric"]
        name = metric.replace("_", " ")
        lines = []
        for arm in self.arms:
            if arm.synthetic and not arm.synthetic_only and arm.baseline in self.arms:
                what = "classic augmentation" if arm.baseline == Arm(classic=True) else (
                    "real data alone" if arm.baseline == Arm() else arm.baseline.name)
                d = paired_difference(self.values(arm, metric), self.values(arm.baseline, metric))
                lines.append(_sentence(arm.name, arm.baseline.name, what, name, d))
        lines += self._best_baseline_verdict(name)
        lines += self._empty_arm_verdict()
        lines += self._fidelity_verdict()
        return lines

    def _empty_arm_verdict(self) -> list[str]:
        """Synthetic arms that held no synthetic item on some seeds: there they measured the real images only."""
        lines = []
        for arm in self.arms:
            if not arm.synthetic or arm.synthetic_only:
                continue
            runs = [run for run in self.runs if run["arm"] == arm.name]
            empty = sum(run.get("n_synthetic") == 0 for run in runs)
            if empty:
                why = (f"no class had fewer than top_up_below={self.config.get('top_up_below')} real images, or the "
                       "gate left those that did out" if arm.auto and self.config.get("top_up_below") is not None
                       else "the fidelity gate left every class out")
                lines.append(f"{arm.name} held no synthetic images on {empty} of {len(runs)} seeds ({why}): there it "
                             "measured the real images alone, not synthetic data")
        return lines

    def _best_baseline_verdict(self, name: str) -> list[str]:
        """Against the best arm without synthetic data: does any synthetic arm beat it after Holm's correction?"""
        against = self.against_best()
        if not against or len({arm.name for arm in self.arms if not arm.synthetic}) < 2:
            return []
        best = next(iter(against.values()))["baseline"]
        winners = [arm for arm, d in against.items() if d["ci_low"] > 0 and d["p_holm"] < 0.05]
        losers = [arm for arm, d in against.items() if d["ci_high"] < 0 and d["p_holm"] < 0.05]
        line = (f"against the best arm without synthetic data ({best}), {len(against)} synthetic arm(s) compared, "
                "Holm-adjusted: ")
        if winners:
            line += "better: " + ", ".join(f"{a} ({100 * against[a]['mean']:+.1f} points)" for a in winners)
        else:
            line += f"none raised {name} significantly; synthetic data did not help here"
        if losers:
            line += "; worse: " + ", ".join(f"{a} ({100 * against[a]['mean']:+.1f} points)" for a in losers)
        return [line]

    def _fidelity_verdict(self) -> list[str]:
        failing: dict[str, int] = {}
        for record in self.fidelity:
            for name in FidelityReport(**{k: v for k, v in record.items() if k != "seed"}).failing:
                failing[name] = failing.get(name, 0) + 1
        if not failing:
            return []
        classes = ", ".join(f"{name!r} ({n} of {len(self.fidelity)} seeds)" for name, n in failing.items())
        return [f"the generator's samples of class(es) {classes} failed the fidelity check: the gate gave those "
                "classes no synthetic images"]

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config, "classes": self.classes, "arms": self.arm_names, "summary": self.summary(),
                "against_best": self.against_best(), "fidelity": self.fidelity,
                "comparisons": self.comparisons(), "per_class_recall": self.per_class_recall(),
                "quality": self.quality, "runs": self.runs, "verdict": self.verdict(), "seconds": self.seconds}

    def to_markdown(self) -> str:
        metric = self.config["metric"]
        summary, comparisons = self.summary(), self.comparisons()
        long_tail = any(arm.balanced for arm in self.arms)
        against = self.against_best() if long_tail else {}
        header = f"| arm | accuracy | balanced accuracy | macro-F1 | Δ {metric} vs real | Δ {metric} vs real+classic |"
        lines = [header + (" Δ vs best without synthetic (Holm p) |" if long_tail else ""),
                 "|---|---|---|---|---|---|" + ("---|" if long_tail else "")]
        for arm in self.arm_names:
            cells = [_fmt_interval(summary[arm][m]) for m in METRICS]
            for baseline in (REAL, CLASSIC):
                d = comparisons[arm].get(f"vs {baseline}", {}).get(metric)
                cells.append(_fmt_difference(d) if d else "")
            if long_tail:
                d = against.get(arm)
                cells.append(_fmt_difference(d) + f", Holm p={d['p_holm']:.3g}" if d else "")
            lines.append(f"| {arm} | " + " | ".join(cells) + " |")
        n = self.config["seeds"]
        lines.append("")
        lines.append(f"Mean over {n} seed(s) in %, [95% CI]; Δ: paired difference in points, [95% CI], paired "
                     "t-test p.")
        generator = self.config.get("generator") or {}
        if generator.get("conditioning") == "image":
            lines.append("")
            lines.append(f"Synthetic items are variations of the real training images ({generator['model']}: a "
                         "real image of the class, corrupted, then restored), not images drawn from noise.")
        if self.fidelity:
            mean = np.nanmean([record["fidelity"] for record in self.fidelity], axis=0)
            lines.append("")
            lines.append("Per-class fidelity of the generator's samples (share a judge fitted on the real images takes "
                         "for their class, mean over seeds): " + ", ".join(
                             f"{name} {100 * v:.0f}%" for name, v in zip(self.classes, mean)) + ".")
        novelty = [item["novelty"] for item in self.quality if "novelty" in item]
        if novelty:
            mean = np.nanmean(novelty, axis=0)
            lines.append("")
            lines.append("Novelty of the variations (distance to their own source over the distance between two real "
                         "images of the class; near 0: near-copies, 1: as new as another real image), mean over "
                         "seeds: " + ", ".join(f"{name} {v:.2f}" for name, v in zip(self.classes, mean)) + ".")
        measured = [item for item in self.quality if "conditional_accuracy" in item]  # not with scikit-learn judges
        if measured:
            q = {k: float(np.nanmean([_number(item.get(k)) for item in measured])) for k in
                 ("conditional_accuracy", "frechet_distance", "kernel_distance", "precision", "recall", "density",
                  "coverage")}
            lines.append("")
            lines.append("Generator quality (mean over seeds, in the real-trained classifier's feature space): "
                         + ", ".join(f"{k.replace('_', ' ')} {v:.3g}" for k, v in q.items()) + ".")
            per_class = {k: np.nanmean([[_number(c.get(k)) for c in item["per_class"]] for item in measured], axis=0)
                         for k in ("frechet_distance", "kernel_distance")}
            lines.append("")
            lines.append("Within each class (same space; lower is closer to the real images of the class), Fréchet "
                         "distance / kernel distance: " + ", ".join(
                             f"{name} {fd:.3g} / {kid:.3g}" for name, fd, kid in
                             zip(self.classes, per_class["frechet_distance"], per_class["kernel_distance"])) + ".")
        return "\n".join(lines) + "\n"

    def save(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write gain.json, gain.md and the two plots into ``folder``; one that already holds files is refused
        unless ``overwrite`` (then files of the same name are replaced)."""
        folder = check_destination(folder, overwrite=overwrite, option="folder", allow_array=False)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "gain.json").write_text(json.dumps(self.to_dict(), indent=2, default=_json_default))
        (folder / "gain.md").write_text(self.to_markdown() + "\n" + "\n".join(f"- {v}" for v in self.verdict()) + "\n")
        from ganaug.gain.plots import plot_per_class_recall, plot_ratio_curve

        plot_ratio_curve(self.summary(), self.config, folder / "gain_vs_ratio.png")
        plot_per_class_recall(self.per_class_recall(), self.classes, folder / "per_class_recall.png")
        return folder


def _number(value: Any) -> float:
    """A measure as a float; NaN where it is missing (a report saved before it existed) or null."""
    return math.nan if value is None else float(value)


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
