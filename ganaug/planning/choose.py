"""The plan's decision from its per-fold scores: "none" unless a mix is better by the margin, surely.

Every candidate ran on the same folds with the same classifier seed as "none", so they are compared
in pairs: the mean over folds of (candidate - none) in points, with its t-interval. A candidate is
*eligible* when that mean is at least ``margin`` and the interval's lower end is above 0; the chosen
one is the eligible candidate with the largest mean, else "none". A recipe is *uncertain* when no
candidate is eligible but some interval still reaches the margin: the folds could not rule a gain of
that size out, and "none" is chosen because nothing was shown, not because harm was.

Per class, the chosen mix's recall on the held-out folds is compared with "none"'s the same way; a
class whose mean recall fell gets no synthetic images (``no_synthetic``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ganaug.metrics.stats import PairedDifference, paired_difference
from ganaug.planning.recipe import NONE


@dataclass(frozen=True)
class Decision:
    """What :func:`decide` chose: the candidate's index, the classes to leave out, the reason, the comparisons.

    ``differences[k]`` and ``per_class[k]`` compare candidate ``k`` with :data:`NONE` (None for ``k = 0``).
    """

    chosen: int
    no_synthetic: list[int]
    reason: str
    uncertain: bool
    differences: list[PairedDifference | None]
    per_class: list[list[float] | None]


def decide(names: Sequence[str], scores: Sequence[Sequence[float]], recalls: Sequence[Sequence[Sequence[float]]],
           *, margin: float, confidence: float, metric: str = "balanced accuracy") -> Decision:
    """Choose among candidates from their paired per-run scores.

    Args:
        names: candidate names, :data:`NONE` first.
        scores: per candidate, the metric (0 to 1) of each run, in the same run order for all.
        recalls: per candidate, per run, per class recall on the held-out fold (NaN where a fold had none).
        margin: points (0 to 100) a mix must gain on average, its interval above 0.
        confidence: of the paired intervals.
        metric: its name, for the reason.
    """
    if not names or names[0] != NONE:
        raise ValueError("the first candidate must be 'none'")
    base = 100 * np.asarray(scores[0], dtype=float)
    mixes = range(1, len(names))
    differences: list[PairedDifference | None] = [None] + [
        paired_difference(100 * np.asarray(scores[k], dtype=float), base, confidence) for k in mixes]
    per_class: list[list[float] | None] = [None] + [_class_differences(recalls[k], recalls[0]) for k in mixes]
    shown = {k: d for k, d in enumerate(differences) if d is not None and d.mean >= margin and d.low > 0}
    open_ = {k: d for k, d in enumerate(differences) if d is not None and k not in shown and not d.high < margin}
    runs, level = len(base), f"{confidence:.0%} interval"
    if shown:
        best = max(shown, key=lambda k: shown[k].mean)
        d = shown[best]
        fell = [c for c, v in enumerate(per_class[best] or []) if v < 0]
        reason = (f"{names[best]!r} raised {metric} by {d.mean:.1f} points over no synthetic data ({level} "
                  f"{d.low:+.1f} to {d.high:+.1f} over {runs} held-out folds; margin {margin:g})")
        return Decision(best, fell, reason, False, differences, per_class)
    if open_:  # NaN bounds (a single run) count as not ruled out
        k = max(open_, key=lambda j: open_[j].mean)
        d = open_[k]
        reason = (f"no synthetic data: the folds cannot tell whether a mix helps (the best reading, {names[k]!r}, "
                  f"{d.mean:+.1f} points, {level} {d.low:+.1f} to {d.high:+.1f} over {runs} folds, reaches the "
                  f"margin of {margin:g}); more images, folds or repeats would narrow it")
        return Decision(0, [], reason, True, differences, per_class)
    reason = f"no synthetic data: no mix gained the margin of {margin:g} points"
    if len(names) > 1:
        k = max(mixes, key=lambda j: differences[j].mean)  # type: ignore[union-attr]
        d = differences[k]
        reason += f" (the best, {names[k]!r}, {d.mean:+.1f}, {level} {d.low:+.1f} to {d.high:+.1f})"  # type: ignore[union-attr]
    return Decision(0, [], reason, False, differences, per_class)


def _class_differences(candidate: Sequence[Sequence[float]], none: Sequence[Sequence[float]]) -> list[float]:
    """Per class, the mean over runs of (candidate - none) recall in points, over the runs where it was held out."""
    a, b = np.asarray(candidate, dtype=float), np.asarray(none, dtype=float)
    diff = 100 * (a - b)
    out = []
    for c in range(diff.shape[1]):
        column = diff[:, c][~np.isnan(diff[:, c])]
        out.append(float(column.mean()) if len(column) else math.nan)
    return out
