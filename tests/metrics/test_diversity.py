"""The diversity score catches collapse within a class."""

from __future__ import annotations

import pytest
import torch

from ganaug.metrics.diversity import (
    diversity_ratio,
    mean_pairwise_distance,
    per_class_diversity,
)


def test_collapsed_images_score_zero_and_real_ones_match(tiny_store):
    real = per_class_diversity(tiny_store.images, tiny_store.labels, 4)
    collapsed = tiny_store.images[[0] * 20 + [20] * 20 + [40] * 20 + [60] * 20]
    fake = per_class_diversity(collapsed, tiny_store.labels, 4)
    assert diversity_ratio(fake, real) == [0.0] * 4
    first, second = (torch.cat([torch.nonzero(tiny_store.labels == k).flatten()[half] for k in range(4)])
                     for half in (slice(0, 10), slice(10, 20)))
    halves = [per_class_diversity(tiny_store.images[index], tiny_store.labels[index], 4) for index in (first, second)]
    assert diversity_ratio(*halves) == pytest.approx([1.0] * 4, abs=0.15)  # two halves of the same real classes


def test_mean_pairwise_distance_by_hand():
    images = torch.tensor([[[[0]]], [[[255]]], [[[255]]]], dtype=torch.uint8)  # distances 1, 1, 0
    assert mean_pairwise_distance(images) == pytest.approx(2 / 3)
