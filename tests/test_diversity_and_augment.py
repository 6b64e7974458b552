"""The diversity score catches collapse; DiffAugment keeps shapes and passes gradients."""

from __future__ import annotations

import pytest
import torch

from ganaug.diffaugment import diff_augment
from ganaug.diversity import diversity_ratio, mean_pairwise_distance, per_class_diversity


def test_collapsed_images_score_zero_and_real_ones_match(tiny_store):
    real = per_class_diversity(tiny_store.images, tiny_store.labels, 4)
    collapsed = tiny_store.images[[0] * 20 + [20] * 20 + [40] * 20 + [60] * 20]
    fake = per_class_diversity(collapsed, tiny_store.labels, 4)
    assert diversity_ratio(fake, real) == [0.0] * 4
    assert diversity_ratio(real, real) == pytest.approx([1.0] * 4)


def test_mean_pairwise_distance_by_hand():
    images = torch.tensor([[[[0]]], [[[255]]], [[[255]]]], dtype=torch.uint8)  # distances 1, 1, 0
    assert mean_pairwise_distance(images) == pytest.approx(2 / 3)


@pytest.mark.parametrize("policy", [("translation",), ("cutout",), ("color",), ("color", "translation", "cutout")])
def test_diffaugment_shapes_and_gradients(policy):
    x = torch.rand(5, 3, 8, 8, requires_grad=True)
    out = diff_augment(x * 2 - 1, policy)
    assert out.shape == x.shape
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_diffaugment_translation_moves_content():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 8, 8)
    x[:, :, 4, 4] = 1.0
    moved = diff_augment(x, ("translation",))
    assert (moved.argmax(-1) != x.argmax(-1)).any()


def test_unknown_policy():
    with pytest.raises(ValueError, match="unknown DiffAugment policy 'blur'"):
        diff_augment(torch.zeros(1, 1, 8, 8), ("blur",))
