"""How many synthetic images of each class: the class policies of :class:`~ganaug.mix.SyntheticMix`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ganaug.errors import ConfigError

POLICIES = ("auto", "match", "uniform", "balance", "tail")
DEFAULT_RATIO = 0.5
"""The synthetic share that ``ratio="auto"`` means wherever it is a share (level classes, fixed policies)."""
IMBALANCED = 2.0
"""``class_policy="auto"`` treats the real classes as imbalanced from this largest/smallest ratio on."""
TOP_UP_BELOW = 40
"""Under ``"auto"`` on imbalanced classes, synthetic images are added only when some class has fewer real images
than this (and then every class is topped up); under ``"tail"`` only the classes below it are topped up. It marks
a class too small for a classifier to learn from its real images alone, which is what synthetic images are for.
The value was chosen on long-tailed MNIST (current answers: docs/results.md; how it was chosen:
docs/research-log.md, "The long-tail default")."""


def _largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (Hamilton's method, ties to lower index)."""
    weight_sum = float(sum(weights))
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda k: (-(exact[k] - counts[k]), k))
    for k in order[: total - sum(counts)]:
        counts[k] += 1
    return counts


def _water_fill(total: int, real_counts: Sequence[int]) -> list[int]:
    """Give ``total`` synthetic images to the rarest classes first, levelling real + synthetic counts.

    The same result as handing them out one at a time to the class with the fewest (ties to the lower
    index), computed in O(K log total): the level L is the highest one ``total`` can fill every class up
    to, and what is left tops up the classes at L in index order.
    """
    if total <= 0 or not real_counts:
        return [0] * len(real_counts)

    def need(level: int) -> int:
        return sum(max(0, level - c) for c in real_counts)

    low, high = min(real_counts), min(real_counts) + total  # need(low) == 0 <= total < need(high + 1)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if need(middle) <= total else (low, middle - 1)
    counts = [max(0, low - c) for c in real_counts]
    left = total - sum(counts)
    for k, c in enumerate(real_counts):
        if left == 0:
            break
        if max(c, low) == low:  # at the level after filling
            counts[k] += 1
            left -= 1
    return counts


def synthetic_count(n_real: int, ratio: float) -> int:
    """Synthetic items that make them a share ``ratio`` of an epoch with ``n_real`` real items."""
    return int(round(n_real * ratio / (1.0 - ratio))) if ratio < 1.0 else n_real


def allocate_synthetic(real_counts: Sequence[int], ratio: float | str | None, class_policy: str | Mapping[int, int],
                       top_up_below: int = TOP_UP_BELOW) -> list[int]:
    """Synthetic images per class under a policy.

    Args:
        real_counts: real images per class.
        ratio: synthetic share of the epoch in [0, 1); ``None`` only with ``"balance"`` or ``"tail"`` (top the
            rare classes up to the largest), ``"auto"`` or a dict policy; ``"auto"`` (see :func:`auto_policy`).
        class_policy: ``"match"`` (real proportions), ``"uniform"``, ``"balance"``, ``"tail"`` (``"balance"``
            for the classes with fewer than ``top_up_below`` real images, none for the others), ``"auto"``
            (see :func:`auto_policy`) or ``{class: count}``.
        top_up_below: the real-image count from which ``"tail"`` leaves a class alone (and below which some class
            must be for ``"auto"`` to add synthetic images to imbalanced classes).

    Returns:
        Synthetic count per class.
    """
    n_real = int(sum(real_counts))
    if class_policy == "auto":
        class_policy, ratio = auto_policy(real_counts, ratio, synthetic_only=False, top_up_below=top_up_below)
    elif ratio == "auto":
        ratio = DEFAULT_RATIO
    if isinstance(class_policy, Mapping):
        return [int(class_policy.get(k, 0)) for k in range(len(real_counts))]
    if class_policy == "tail":
        rare = [k for k, c in enumerate(real_counts) if 0 < c < top_up_below]
        top = max(real_counts, default=0)
        if ratio is None:
            per_rare = [top - real_counts[k] for k in rare]
        else:
            per_rare = _water_fill(synthetic_count(n_real, float(ratio)), [real_counts[k] for k in rare])
        counts = [0] * len(real_counts)
        for k, count in zip(rare, per_rare):
            counts[k] = count
        return counts
    if class_policy == "balance" and ratio is None:
        top = max(real_counts)
        return [top - c for c in real_counts]
    if ratio is None:
        raise ConfigError(f"ratio=None needs class_policy='balance', 'tail' or a dict, not {class_policy!r}")
    total = synthetic_count(n_real, ratio)
    if class_policy == "match":
        return _largest_remainder(total, real_counts)
    if class_policy == "uniform":
        return _largest_remainder(total, [1.0] * len(real_counts))
    if class_policy == "balance":
        return _water_fill(total, real_counts)
    raise ConfigError(f"class_policy={class_policy!r}; use one of {POLICIES} or a dict {{class: count}}")


def imbalance_of(real_counts: Sequence[int]) -> float:
    """Largest over smallest class among the classes with real images (1.0 for fewer than two such classes)."""
    present = [c for c in real_counts if c > 0]
    return max(present) / min(present) if len(present) > 1 else 1.0


def auto_policy(real_counts: Sequence[int], ratio: float | str | None, synthetic_only: bool,
                top_up_below: int = TOP_UP_BELOW) -> tuple[str, float | None]:
    """What ``class_policy="auto"`` means for these real class counts: ``(policy, ratio)``.

    Imbalanced classes (largest/smallest >= :data:`IMBALANCED`) get the long-tail path (what it gains:
    docs/results.md). If some class has fewer than ``top_up_below`` real images (and at least one: a class
    without real images counts neither here nor in :func:`imbalance_of`), every class is topped up
    (``"balance"``; with ``ratio="auto"`` up to the largest class, within the mix's cap; with a number, that
    share given to the rarest classes first), so that the rare classes are not the only ones with synthetic
    images (docs/research-log.md, "The long-tail default", compares this with topping up the rare classes
    alone). If none has, no synthetic images (``"tail"``, which finds no class to top up): no class is
    small enough to need them. Either way the mix oversamples every class until it is drawn equally often.
    Level classes get ``"match"`` at ``ratio`` (:data:`DEFAULT_RATIO` for ``"auto"``). Synthetic-only
    training keeps the real proportions.
    """
    if synthetic_only:
        return "match", DEFAULT_RATIO if ratio == "auto" else ratio  # type: ignore[return-value]
    if ratio is None or imbalance_of(real_counts) >= IMBALANCED:
        scarce = any(0 < c < top_up_below for c in real_counts)  # a class without real images gets none anyway
        return "balance" if scarce else "tail", None if ratio in (None, "auto") else float(ratio)  # type: ignore[arg-type]
    return "match", DEFAULT_RATIO if ratio == "auto" else float(ratio)  # type: ignore[arg-type]


def oversampled(real_counts: Sequence[int], synthetic_counts: Sequence[int]) -> list[int]:
    """Repeats per class that bring every class's real + synthetic items level with the largest class's.

    A class with no items at all gets none (there is nothing to repeat).
    """
    totals = [r + s for r, s in zip(real_counts, synthetic_counts)]
    level = max(totals, default=0)
    return [level - total if total else 0 for total in totals]


def check_ratio(ratio: float | str | None, class_policy: Any, synthetic_only: bool) -> float | str | None:
    """The synthetic share, checked against the policy: None only for "balance", "tail", "auto" or a dict; "auto" kept
    for ``class_policy="auto"`` to resolve, else :data:`DEFAULT_RATIO`."""
    if ratio == "auto":
        if synthetic_only:
            raise ConfigError("synthetic_only=True needs ratio=1")
        return "auto" if class_policy == "auto" else DEFAULT_RATIO
    if ratio is None:
        if class_policy not in ("auto", "balance", "tail") and not isinstance(class_policy, Mapping):
            raise ConfigError("ratio=None needs class_policy='balance' or 'tail' (top up rare classes), 'auto' or a "
                              "dict policy")
        return None
    if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or not 0.0 <= ratio <= 1.0:
        raise ConfigError(f"ratio={ratio!r} must be a number in [0, 1), 'auto' or None")
    if ratio == 1.0 and not synthetic_only:
        raise ConfigError("ratio=1 would drop every real item; pass synthetic_only=True if that is what you want")
    if synthetic_only and ratio != 1.0:
        raise ConfigError("synthetic_only=True needs ratio=1")
    return float(ratio)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def resolve_policy(class_policy: str | Mapping[int | str, int], classes: Sequence[str]) -> str | dict[int, int]:
    """A policy name, checked; or a dict policy with class names turned into indices and counts checked."""
    if not isinstance(class_policy, Mapping):
        if not isinstance(class_policy, str) or class_policy not in POLICIES:
            raise ConfigError(f"class_policy={class_policy!r}; use one of {POLICIES} or a dict {{class: count}}")
        return class_policy
    resolved: dict[int, int] = {}
    for key, count in class_policy.items():
        if isinstance(key, str):
            if key not in classes:
                raise ConfigError(f"class_policy names unknown class {key!r}; classes are {list(classes)}")
            key = list(classes).index(key)
        if not _is_int(key):
            raise ConfigError(f"class_policy key {key!r}: use a class index (int) or a class name (str)")
        if not 0 <= int(key) < len(classes):
            raise ConfigError(f"class_policy has class index {key} outside 0..{len(classes) - 1}")
        if not _is_int(count):
            raise ConfigError(f"class_policy[{key!r}]={count!r}: a count of synthetic images must be an integer")
        if int(count) < 0:
            raise ConfigError(f"class_policy asks for {count} images of class {key}; counts must be >= 0")
        resolved[int(key)] = int(count)
    return resolved
