"""Sample filters: ConfidenceFilter's arithmetic, rejection sampling in SyntheticMix, filtered gain arms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from torch.utils.data import TensorDataset

from ganaug import ConfigError, SyntheticMix
from ganaug.gain import evaluate_gain
from ganaug.mix.filters import ConfidenceFilter


def real40(store):
    return TensorDataset(store.images[::2], store.labels[::2])


class BrightnessClassifier(torch.nn.Module):
    """Two classes: logits (0, 4 * (mean - 0.5)), so bright images read as class 1."""

    def forward(self, x):
        mean = x.flatten(1).mean(1)
        return torch.stack([torch.zeros_like(mean), 4 * (mean - 0.5)], dim=1)


def test_confidence_filter_keeps_what_the_classifier_is_sure_of():
    images = torch.stack([torch.full((1, 4, 4), v, dtype=torch.uint8) for v in (0, 128, 255, 255)])
    labels = torch.tensor([0, 0, 1, 0])
    classifier = BrightnessClassifier()
    confidence = ConfidenceFilter(classifier).confidence(images, labels)
    logit = 4 * (images.flatten(1).float().mean(1) / 255 - 0.5)
    p1 = torch.sigmoid(logit)
    expected = torch.where(labels == 1, p1, 1 - p1)
    assert torch.allclose(confidence, expected, atol=1e-6)
    assert ConfidenceFilter(classifier, 0.8)(images, labels).tolist() == [True, False, True, False]
    assert classifier.training  # the filter leaves the classifier's mode as it found it


def test_confidence_filter_takes_scikit_learn_estimators_with_any_class_order():
    x = np.concatenate([np.zeros((10, 16)), np.ones((10, 16))])
    model = LogisticRegression().fit(x, np.array([3] * 10 + [7] * 10))  # classes_ = [3, 7]
    images = torch.tensor([[0] * 16, [255] * 16], dtype=torch.uint8).view(2, 1, 4, 4)
    keep = ConfidenceFilter(model, 0.6)(images, torch.tensor([3, 3]))
    assert keep.tolist() == [True, False]
    assert ConfidenceFilter(model, 0.6)(images, torch.tensor([5, 7])).tolist() == [False, True]  # 5: unseen class


def test_confidence_filter_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="min_confidence=1.5 must be a probability"):
        ConfidenceFilter(BrightnessClassifier(), 1.5)
    with pytest.raises(ConfigError, match="neither a torch module nor a scikit-learn estimator"):
        ConfidenceFilter(object())


def even_sum(images, labels):
    """Accepts about half of all images, deterministically."""
    return images.flatten(1).sum(1) % 2 == 0


def test_rejected_bank_images_are_redrawn(store, generator):
    mix = SyntheticMix(real40(store), generator, fidelity=None, ratio=0.5, seed=3, labels=store.labels[::2].tolist(),
                       sample_filter=even_sum)
    assert bool(even_sum(mix.bank, mix.bank_labels).all())
    assert set(mix.acceptance) == set(generator.classes)
    shares = list(mix.acceptance.values())  # even_sum passes about half of any images; a class has few draws
    assert all(0 < share <= 1 for share in shares) and 0.2 < sum(shares) / len(shares) < 0.8, mix.acceptance
    again = SyntheticMix(real40(store), generator, fidelity=None, ratio=0.5, seed=3, labels=store.labels[::2].tolist(),
                         sample_filter=even_sum)
    assert torch.equal(mix.bank, again.bank)
    unfiltered = SyntheticMix(real40(store), generator, fidelity=None, ratio=0.5, seed=3,
                              labels=store.labels[::2].tolist())
    assert not torch.equal(mix.bank, unfiltered.bank)
    mix.set_epoch(1)  # the refreshed bank is filtered too
    assert bool(even_sum(mix.bank, mix.bank_labels).all())


def test_slots_never_accepted_copy_an_accepted_image_or_warn(store, generator):
    calls = []

    def one_image_of_class_one(images, labels):
        """Accepts the first class-1 image of the first draw and no other."""
        keep = labels != 1
        if not calls:
            keep[torch.nonzero(labels == 1).flatten()[:1]] = True
        calls.append(len(labels))
        return keep

    labels = store.labels[::2].tolist()
    mix = SyntheticMix(real40(store), generator, fidelity=None, ratio=0.5, labels=labels, max_draws=3,
                       sample_filter=one_image_of_class_one)
    ones = mix.bank[mix.bank_labels == 1]
    assert len(ones) > 1 and all(torch.equal(image, ones[0]) for image in ones)
    assert mix.acceptance["class1"] == pytest.approx(1 / (1 + 3 * (len(ones) - 1)))  # the accepted slot took one draw

    with pytest.warns(UserWarning, match=r"accepted no image of class\(es\) 'class1' in 2 draws"):
        SyntheticMix(real40(store), generator, fidelity=None, ratio=0.5, labels=labels, max_draws=2,
                     sample_filter=lambda images, labels: labels != 1)


def test_bad_filters_are_refused(store, generator):
    labels = store.labels[::2].tolist()
    with pytest.raises(ConfigError, match="sample_filter=3 must be callable"):
        SyntheticMix(real40(store), generator, fidelity=None, ratio=0.5, labels=labels, sample_filter=3)
    with pytest.raises(ConfigError, match="it must return a bool tensor of shape"):
        SyntheticMix(real40(store), generator, fidelity=None, ratio=0.5, labels=labels,
                     sample_filter=lambda images, labels: torch.ones(len(labels)))
    with pytest.raises(ConfigError, match="max_draws=0 must be a positive integer"):
        SyntheticMix(real40(store), generator, fidelity=None, ratio=0.5, labels=labels, max_draws=0)


def test_gain_adds_filtered_arms_judged_by_the_classic_classifier(store, generator, monkeypatch):
    import ganaug.gain.protocol as protocol

    judges, seed_runs = [], []
    real_init = protocol._SeedRun.__init__

    def recording_filter(model, *args, **kwargs):
        judges.append(model)
        return ConfidenceFilter(model, *args, **kwargs)

    def recording_init(self, *args, **kwargs):
        seed_runs.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(protocol, "ConfidenceFilter", recording_filter)
    monkeypatch.setattr(protocol._SeedRun, "__init__", recording_init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an untrained judge may reject whole classes
        report = evaluate_gain(store, generator=generator, ratios=(0.5,), filter_confidence=0.3, seeds=1, steps=3,
                               fidelity_gate=False,
                               batch_size=16, progress=False, quality_samples=6, synthetic_only=False)
    assert report.arm_names == ["real", "real+classic", "real+synthetic@0.5", "real+classic+synthetic@0.5",
                           "real+synthetic@0.5, filtered", "real+classic+synthetic@0.5, filtered"]
    filtered = [run for run in report.runs if run["arm"].endswith("filtered")]
    assert all(set(run["filter_acceptance"]) == set(store.classes) for run in filtered)
    assert any("filtered" in line for line in report.verdict())
    classic = seed_runs[0].trained[protocol.CLASSIC].model
    assert len(judges) == 2 and all(judge is classic for judge in judges)  # the seed's real+classic classifier
    with pytest.raises(ConfigError, match=r"filter_confidence=0.0 must be > 0 and <= 1"):
        evaluate_gain(store, generator=generator, filter_confidence=0, seeds=1, steps=1, progress=False)
