"""Novelty of variations: how far a variation moved from the real image it was made from.

An image-to-image generator's variations keep their source's class by construction, so fidelity and
diversity read well even when every variation is a near-copy of its source; a top-up of near-copies
then adds little beyond repeating the real images (docs/research-log.md, "Novelty of the variations, by
strength"). Novelty puts a number on it, per class: the mean distance from each variation to
its own source, divided by the mean distance between two real images of the class. Near 0: copies;
near 1: as different from the source as another real image of the class is.
"""

from __future__ import annotations

import math

import torch

from ganaug.metrics.diversity import mean_pairwise_distance, unit_rows


def variation_novelty(variations: torch.Tensor, sources: torch.Tensor, labels: torch.Tensor, num_classes: int,
                      *, max_per_class: int = 64, seed: int = 0) -> list[float]:
    """Per class: mean L2 distance variation-to-source over the real images' mean pairwise distance.

    Shape:
        variations, sources: (N, C, H, W), uint8 or float in [0, 1]; ``variations[i]`` made from ``sources[i]``.
        labels: (N,) class indices.

    Classes with fewer than 2 sources, or identical sources, get NaN (no yardstick).
    """
    if variations.shape != sources.shape or len(labels) != len(sources):
        raise ValueError(f"variations {tuple(variations.shape)}, sources {tuple(sources.shape)} and "
                         f"{len(labels)} labels must match one to one")
    moved = (unit_rows(variations) - unit_rows(sources)).norm(dim=1)
    generator = torch.Generator().manual_seed(seed)
    out = []
    for k in range(num_classes):
        index = torch.nonzero(labels.cpu() == k).flatten()
        distinct = torch.unique(sources[index].flatten(1), dim=0) if len(index) else sources[:0].flatten(1)
        if len(distinct) > max_per_class:
            distinct = distinct[torch.randperm(len(distinct), generator=generator)[:max_per_class]]
        yardstick = mean_pairwise_distance(distinct.reshape(-1, *sources.shape[1:]))
        out.append(float(moved[index].mean()) / yardstick if yardstick == yardstick and yardstick > 0 else math.nan)
    return out
