"""DiffAugment: shapes, gradients, what each policy does."""

from __future__ import annotations

import pytest
import torch

from ganaug.diffaugment import diff_augment


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
    with pytest.raises(ValueError, match="'blur' is not a DiffAugment policy; choose a comma list of color, "
                                         "translation, cutout"):
        diff_augment(torch.zeros(1, 1, 8, 8), ("blur",))
