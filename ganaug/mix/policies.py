"""How many synthetic images of each class: the class policies of :class:`~ganaug.mix.SyntheticMix`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ganaug.errors import ConfigError

POLICIES = ("match", "uniform", "balance")


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
    """Give ``total`` synthetic images to the rarest classes first, levelling real + synthetic counts."""
    counts = [0] * len(real_counts)
    level = list(real_counts)
    for _ in range(total):
        k = min(range(len(level)), key=lambda j: (level[j], j))
        counts[k] += 1
        level[k] += 1
    return counts


def synthetic_count(n_real: int, ratio: float) -> int:
    """Synthetic items that make them a share ``ratio`` of an epoch with ``n_real`` real items."""
    return int(round(n_real * ratio / (1.0 - ratio))) if ratio < 1.0 else n_real


def allocate_synthetic(real_counts: Sequence[int], ratio: float | None, class_policy: str | Mapping[int, int]
                       ) -> list[int]:
    """Synthetic images per class under a policy.

    Args:
        real_counts: real images per class.
        ratio: synthetic share of the epoch in [0, 1); ``None`` only with ``"balance"`` (top the rare
            classes up to the largest) or a dict policy.
        class_policy: ``"match"`` (real proportions), ``"uniform"``, ``"balance"`` or ``{class: count}``.

    Returns:
        Synthetic count per class.
    """
    n_real = int(sum(real_counts))
    if isinstance(class_policy, Mapping):
        return [int(class_policy.get(k, 0)) for k in range(len(real_counts))]
    if class_policy == "balance" and ratio is None:
        top = max(real_counts)
        return [top - c for c in real_counts]
    if ratio is None:
        raise ConfigError(f"ratio=None needs class_policy='balance' or a dict, not {class_policy!r}")
    total = synthetic_count(n_real, ratio)
    if class_policy == "match":
        return _largest_remainder(total, real_counts)
    if class_policy == "uniform":
        return _largest_remainder(total, [1.0] * len(real_counts))
    if class_policy == "balance":
        return _water_fill(total, real_counts)
    raise ConfigError(f"class_policy={class_policy!r}; use one of {POLICIES} or a dict {{class: count}}")
