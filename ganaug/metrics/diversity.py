"""Per-class diversity: does the generator draw varied images of each class, like the real data?

The score of a class is the mean pairwise Euclidean distance between images of that class, in
pixels scaled to [0, 1]. Dividing a generator's score by the real images' score gives a ratio near
1 for a healthy generator and near 0 for one that draws the same image whatever the noise (mode
collapse within the class), which a sample grid alone does not reveal.
"""

from __future__ import annotations

import torch


def unit_rows(images: torch.Tensor) -> torch.Tensor:
    """Images as float rows in [0, 1] (uint8 scaled by 1/255, floats as given): (M, C*H*W)."""
    flat = images.flatten(1).float()
    return flat / 255.0 if images.dtype == torch.uint8 else flat


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Mean L2 distance over all pairs of images (uint8 or float in [0, 1]).

    Shape:
        images: (M, C, H, W) with M >= 2.
    """
    if len(images) < 2:
        return float("nan")
    flat = unit_rows(images)
    distances = torch.cdist(flat[None], flat[None])[0]
    m = len(flat)
    return float(distances.sum() / (m * (m - 1)))


def per_class_diversity(images: torch.Tensor, labels: torch.Tensor, num_classes: int,
                        *, max_per_class: int = 64, seed: int = 0) -> list[float]:
    """Mean pairwise distance within each class, on up to ``max_per_class`` images (drawn by ``seed``).

    Classes with fewer than 2 images get NaN.
    """
    generator = torch.Generator().manual_seed(seed)
    scores = []
    for k in range(num_classes):
        index = torch.nonzero(labels.cpu() == k).flatten()
        if len(index) > max_per_class:
            index = index[torch.randperm(len(index), generator=generator)[:max_per_class]]
        scores.append(mean_pairwise_distance(images[index.to(images.device)]))
    return scores


def diversity_ratio(fake_scores: list[float], real_scores: list[float]) -> list[float]:
    """Per-class ratio of generated to real diversity (NaN where the real score is undefined)."""
    return [f / r if r == r and r > 0 else float("nan") for f, r in zip(fake_scores, real_scores)]
