"""PNG plots of a gain report: score against synthetic ratio with confidence bands, per-class recall per arm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ganaug.gain.arms import FILTERED, Arm  # noqa: E402


def plot_ratio_curve(summary: dict[str, Any], config: dict[str, Any], path: Path) -> Path:
    """Metric against synthetic share, with and without classic augmentation; 95% CI as bands.

    Args:
        summary: per arm name and metric, the mean and CI (``GainReport.summary()``).
        config: the protocol's config as a dict (metric, ratios, filter_confidence, classifier, seeds).
        path: the PNG to write.
    """
    metric = config["metric"]
    ratios = [0.0] + list(config["ratios"])
    fig, ax = plt.subplots(figsize=(6, 4))
    curves = [(classic, filtered) for filtered in (False, True) for classic in (False, True)
              if not filtered or config.get("filter_confidence") is not None]
    for classic, filtered in curves:
        arms = [Arm(classic=classic)] + [Arm(r, classic, filtered) for r in config["ratios"]]
        points = [(share, summary[arm.name][metric]) for share, arm in zip(ratios, arms) if arm.name in summary]
        if len(points) < 2:  # the ratio arms were not run (GainConfig.arms picked others)
            continue
        shares, stats = [p[0] for p in points], [p[1] for p in points]
        mean = np.array([s["mean"] for s in stats]) * 100
        low = np.array([s["ci_low"] for s in stats], dtype=float) * 100
        high = np.array([s["ci_high"] for s in stats], dtype=float) * 100
        label = ("real + classic + synthetic" if classic else "real + synthetic") + (FILTERED if filtered else "")
        (line,) = ax.plot(shares, mean, marker="o", label=label, linestyle=":" if filtered else "-")
        if np.isfinite(low).all() and not filtered:  # bands for the unfiltered curves only, to stay readable
            ax.fill_between(shares, low, high, color=line.get_color(), alpha=0.2)
    if "synthetic-only" in summary:
        ax.axhline(summary["synthetic-only"][metric]["mean"] * 100, color="grey", linestyle="--",
                   label="synthetic only (CAS)")
    ax.set_xlabel("synthetic share of each epoch")
    ax.set_ylabel(f"{metric.replace('_', ' ')} (%)")
    ax.set_title(f"{config['classifier']}, {config['seeds']} seeds, 95% CI")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    else:  # no ratio arms and no synthetic-only arm were run: say so instead of an empty plot
        ax.text(0.5, 0.5, "no ratio arms in this report", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_per_class_recall(recall: dict[str, list[float]], classes: list[str], path: Path) -> Path:
    """Grouped bars: mean recall of each class (``classes``) under each arm (``recall``: arm name -> per class)."""
    width = 0.8 / max(len(recall), 1)
    fig, ax = plt.subplots(figsize=(max(6, len(classes) * 0.8), 4))
    for i, (arm, values) in enumerate(recall.items()):
        ax.bar(np.arange(len(classes)) + i * width, np.array(values) * 100, width, label=arm)
    ax.set_xticks(np.arange(len(classes)) + 0.4 - width / 2, classes)
    ax.set_ylabel("recall (%)")
    ax.set_xlabel("class")
    ax.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
