"""The fidelity gate: failing classes get no synthetic images (by name), every class a capped share."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.utils.data import TensorDataset

from ganaug import ConfigError, SyntheticMix
from ganaug.metrics.fidelity import FidelityReport
from ganaug.mix.gate import gate
from ganaug.testing import make_tiny_data

CLASSES = ["class0", "class1", "class2", "class3"]


def report(fidelity, recall=(0.9, 0.9, 0.9, 0.9)):
    return FidelityReport(CLASSES, list(fidelity), list(recall), min_fidelity=0.8)


def test_failing_classes_get_none_and_are_named():
    with pytest.warns(UserWarning, match=r"no synthetic images for class\(es\) 'class1', 'class3'"):
        out = gate([10, 10, 10, 10], [50, 50, 50, 50], report([0.9, 0.5, 0.9, 0.1]), max_per_real=None)
    assert out == [10, 0, 10, 0]


def test_cap_per_real_image_scaled_by_relative_fidelity():
    fidelity = report([0.9, 0.81, 0.9, float("nan")], recall=(0.9, 0.9, 0.9, float("nan")))
    out = gate([495, 495, 0, 495], [5, 5, 500, 5], fidelity, max_per_real=4.0)
    assert out == [20, 18, 0, 20]  # class1: 0.81 / 0.9 = 0.9 of the cap; class3 unjudged keeps the plain cap
    assert gate([495, 3], [5, 5], None, max_per_real=4.0) == [20, 3]
    assert gate([495, 3], [5, 5], None, max_per_real=None) == [495, 3]
    assert gate([495, 3], [5, 5], None, max_per_real=1.797693134862316e307) == [495, 3]  # was an OverflowError


@pytest.fixture(scope="module")
def imbalanced():
    store = make_tiny_data((1, 8, 8), num_classes=4, per_class=20)
    keep = [i for i in range(80) if store.labels[i] != 3 or i % 10 == 0]  # class3: 2 images
    return TensorDataset(store.images[keep], store.labels[keep])


def test_mix_applies_a_given_report(imbalanced, tiny_generator):
    with pytest.warns(UserWarning, match="'class2'"):
        mix = SyntheticMix(imbalanced, tiny_generator, ratio=0.5, class_policy="uniform",
                           fidelity=report([0.9, 0.9, 0.1, 0.9]))
    counts = mix.class_counts()
    assert [counts[c]["synthetic"] for c in CLASSES] == [16, 16, 0, 8]  # uniform wants 62 / 4 each; class3: 2 x 4


def test_auto_uses_the_generators_own_fidelity_or_measures_it(imbalanced, tiny_generator):
    generator = copy.copy(tiny_generator)
    generator.fidelity = report([0.9, 0.9, 0.9, 0.9])
    assert SyntheticMix(imbalanced, generator, ratio=0.5).fidelity is generator.fidelity
    generator.fidelity = None
    with pytest.warns(UserWarning, match="no synthetic images for class"):  # a 2-step generator fails the judge
        measured = SyntheticMix(imbalanced, generator, ratio=0.5)
    assert isinstance(measured.fidelity, FidelityReport) and measured.fidelity.classes == CLASSES
    assert measured.n_synthetic < SyntheticMix(imbalanced, generator, ratio=0.5, fidelity=None,
                                               class_policy="uniform").n_synthetic
    assert SyntheticMix(imbalanced, generator, ratio=1.0, synthetic_only=True).fidelity is None


def test_bad_gate_arguments(imbalanced, tiny_generator):
    with pytest.raises(ConfigError, match="fidelity='on'"):
        SyntheticMix(imbalanced, tiny_generator, ratio=0.5, fidelity="on")
    with pytest.raises(ConfigError, match="max_per_real=-1"):
        SyntheticMix(imbalanced, tiny_generator, ratio=0.5, fidelity=None, max_per_real=-1)
    assert torch.is_tensor(SyntheticMix(imbalanced, tiny_generator, ratio=0.5, fidelity=None)[0][0])


def test_class_balanced_sampler_of_a_topped_up_mix_draws_every_class_alike(imbalanced, tiny_generator):
    mix = SyntheticMix(imbalanced, tiny_generator, ratio=None, class_policy="balance",
                       fidelity=report([0.9, 0.9, 0.9, 0.9]))
    assert mix.class_counts()["class3"] == {"real": 2, "synthetic": 8, "repeated": 0, "total": 10}  # capped at 4 per real image
    labels = torch.tensor(mix.labels())
    drawn = labels[torch.tensor(list(mix.class_balanced_sampler(num_samples=4000)))]
    shares = torch.bincount(drawn, minlength=4).double() / 4000
    assert torch.allclose(shares, torch.full((4,), 0.25, dtype=torch.float64), atol=0.03), shares
    assert list(mix.class_balanced_sampler(num_samples=50)) == list(mix.class_balanced_sampler(num_samples=50))


def test_class_balanced_sampler_refuses_no_labels():
    from ganaug import DataError, class_balanced_sampler

    with pytest.raises(DataError, match="no labels"):
        class_balanced_sampler([])
