"""Novelty of variations: 0 for copies of their source, 1 for another real image of the class."""

from __future__ import annotations

import math

import pytest
import torch

from ganaug.metrics.novelty import variation_novelty


def test_copies_read_zero_and_another_image_of_the_class_reads_one():
    torch.manual_seed(0)
    sources = torch.randint(0, 256, (6, 1, 4, 4), dtype=torch.uint8)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    assert variation_novelty(sources.clone(), sources, labels, 3) == [0.0, 0.0, 0.0]
    swapped = sources[[1, 0, 3, 2, 5, 4]]  # each variation is the other real image of its class
    assert variation_novelty(swapped, sources, labels, 3) == pytest.approx([1.0, 1.0, 1.0])
    halfway = ((sources.float() + swapped.float()) / 2 / 255)  # floats in [0, 1] work too
    assert variation_novelty(halfway, sources.float() / 255, labels, 3) == pytest.approx([0.5, 0.5, 0.5])


def test_a_class_without_a_yardstick_is_nan_and_shapes_must_match():
    sources = torch.zeros(3, 1, 4, 4, dtype=torch.uint8)
    sources[2] = 255
    result = variation_novelty(sources, sources, torch.tensor([0, 0, 1]), 3)
    assert all(math.isnan(v) for v in result)  # class 0: two identical sources; 1: one; 2: none
    with pytest.raises(ValueError, match="one to one"):
        variation_novelty(sources[:2], sources, torch.tensor([0, 0, 1]), 3)
