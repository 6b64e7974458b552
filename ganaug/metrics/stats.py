"""Confidence intervals and paired comparisons over seeds (Student's t, as a reviewer expects)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ganaug.errors import ConfigError


@dataclass(frozen=True)
class Interval:
    """A mean with its two-sided confidence interval (NaN bounds with fewer than 2 values)."""

    mean: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "ci_low": self.low, "ci_high": self.high, "n": self.n}


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``a - b`` over paired runs (same seed), its confidence interval and the paired t-test p-value."""

    mean: float
    low: float
    high: float
    p_value: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "ci_low": self.low, "ci_high": self.high, "p_value": self.p_value, "n": self.n}


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Mean and t-based confidence interval: mean +- t_{n-1} * s / sqrt(n)."""
    data = np.asarray(values, dtype=float)
    n = len(data)
    mean = float(data.mean()) if n else math.nan
    if n < 2:
        return Interval(mean, math.nan, math.nan, n)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * data.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> PairedDifference:
    """Compare two arms run with the same seeds: CI of the mean difference and the paired t-test."""
    a_, b_ = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a_.shape != b_.shape:
        raise ConfigError(f"paired samples must have the same length, got {len(a_)} and {len(b_)}")
    diff = a_ - b_
    interval = mean_ci(diff, confidence)
    if len(diff) < 2:
        p_value = math.nan
    elif np.allclose(diff, diff[0]):
        p_value = 1.0 if diff[0] == 0 else 0.0  # zero variance: identical runs, or a constant shift
    else:
        p_value = float(stats.ttest_rel(a_, b_).pvalue)
    return PairedDifference(interval.mean, interval.low, interval.high, p_value, len(diff))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order as given; NaN stays NaN and is not counted).

    With m tests sorted by p, the i-th smallest (0-based) is multiplied by m - i, made monotone with the
    ones before it, and capped at 1: rejecting where the adjusted p < alpha controls the family-wise
    error rate at alpha.
    """
    finite = [(p, i) for i, p in enumerate(p_values) if p == p]
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(finite)):
        running = max(running, min(1.0, (len(finite) - rank) * p))
        adjusted[i] = running
    return adjusted
