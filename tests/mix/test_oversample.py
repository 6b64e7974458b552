"""The default policy, ``class_policy="auto"``: on imbalanced classes with a class of few real images a top-up
(``"balance"``; none when no class is that small) plus oversampling inside the mix, and the ``"tail"`` policy.

On a long tail, what hurt the classifier was drawing the classes as the tail has them, not the synthetic
images, so the default mix levels the classes itself and a plain shuffling DataLoader draws each class
equally often; synthetic images are added only when some class has fewer than ``top_up_below`` real
images (current answers: docs/results.md; history: docs/research-log.md, "SyntheticMix's default policy
`auto` at imbalance 100" and "The long-tail default").
"""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from ganaug import ConfigError, MixedBatchSampler, SyntheticMix
from ganaug.metrics.fidelity import FidelityReport
from ganaug.mix.policies import allocate_synthetic, auto_policy, imbalance_of, oversampled
from ganaug.testing import make_tiny_data

CLASSES = ["class0", "class1", "class2", "class3"]
PASSING = FidelityReport(CLASSES, [0.9] * 4, [0.9] * 4, min_fidelity=0.8)


@pytest.fixture(scope="module")
def long_tail():
    """Classes of 20, 10, 5 and 2 images (imbalance 10)."""
    store = make_tiny_data((1, 8, 8), num_classes=4, per_class=20)
    keep, seen = [], [0, 0, 0, 0]
    for i, label in enumerate(store.labels.tolist()):
        if seen[label] < (20, 10, 5, 2)[label]:
            keep.append(i)
            seen[label] += 1
    return TensorDataset(store.images[keep], store.labels[keep])


def test_auto_policy_and_oversampled_counts():
    assert auto_policy([20, 20, 19, 20], "auto", False) == ("match", 0.5)
    assert auto_policy([20, 20, 19, 20], 0.3, False) == ("match", 0.3)
    assert auto_policy([20, 10, 5, 2], "auto", False) == ("balance", None)  # imbalance 10: a top-up to the largest
    assert auto_policy([20, 10, 5, 2], 0.3, False) == ("balance", 0.3)  # a given share goes to the rarest first
    assert auto_policy([20, 20], None, False) == ("balance", None)
    assert auto_policy([20, 10, 5, 2], "auto", False, top_up_below=2) == ("tail", None)  # no class below 2: none
    assert auto_policy([20, 2], 1.0, True) == ("match", 1.0)  # synthetic-only keeps the real proportions
    assert imbalance_of([20, 0, 5]) == 4.0 and imbalance_of([7]) == 1.0  # empty classes are not the smallest
    # nor the scarce ones: a class with no real images (the cap gives it no synthetic ones) triggers no top-up
    assert auto_policy([100, 0, 50], "auto", False) == ("tail", None)
    assert auto_policy([100, 0, 5], "auto", False) == ("balance", None)
    assert allocate_synthetic([100, 0, 50], None, "tail") == [0, 0, 0]
    assert oversampled([20, 10, 5, 2], [0, 10, 15, 8]) == [0, 0, 0, 10]
    assert oversampled([20, 0], [0, 0]) == [0, 0]  # nothing to repeat


def test_level_classes_keep_the_ratio_and_get_no_repeats(tiny_generator):
    store = make_tiny_data((1, 8, 8), num_classes=4, per_class=10)
    mix = SyntheticMix(TensorDataset(store.images, store.labels), tiny_generator, fidelity=None)
    assert (mix.policy, mix.ratio, mix.n_repeats, mix.n_synthetic) == ("match", 0.5, 0, 40)


def test_imbalanced_classes_are_topped_up_and_levelled(long_tail, tiny_generator):
    mix = SyntheticMix(long_tail, tiny_generator, fidelity=PASSING, return_source=True)
    assert (mix.policy, mix.ratio) == ("balance", None)
    counts = mix.class_counts()
    assert counts["class3"] == {"real": 2, "synthetic": 8, "repeated": 10, "total": 20}  # 4 per real, then repeats
    assert [counts[c]["total"] for c in CLASSES] == [20] * 4 and len(mix) == 80
    labels = torch.tensor(mix.labels())
    base = mix.n_real + mix.n_synthetic
    assert torch.equal(labels[base:], labels[mix.repeat_of])  # a repeat keeps its class
    # every item of a class is repeated as often as the others, within one
    times = torch.bincount(mix.repeat_of, minlength=base)
    for k in range(4):
        of_class = times[:base][labels[:base] == k]
        assert of_class.max() - of_class.min() <= 1
    # a repeat is the item it repeats (no transform), and says its source
    index = base + int(torch.nonzero(mix.repeat_of >= mix.n_real)[0])
    source = int(mix.repeat_of[index - base])
    assert torch.equal(mix[index][0], mix[source][0]) and mix[index][1:] == mix[source][1:] == (3, True)
    assert mix.is_synthetic().tolist() == [bool(mix[i][2]) for i in range(len(mix))]
    # a plain shuffling DataLoader draws every class equally often in an epoch
    drawn = torch.cat([batch[1] for batch in DataLoader(mix, batch_size=16, shuffle=True)])
    assert torch.bincount(drawn).tolist() == [20, 20, 20, 20]


def test_repeats_are_seeded_and_transforms_vary_them(long_tail, tiny_generator):
    def mix(seed, transform=None):
        return SyntheticMix(long_tail, tiny_generator, fidelity=PASSING, seed=seed, transform=transform)

    assert torch.equal(mix(0).repeat_of, mix(0).repeat_of)
    assert not torch.equal(mix(0).repeat_of, mix(1).repeat_of)
    noisy = mix(0, transform=lambda image: image + torch.randint(0, 50, image.shape, dtype=torch.uint8))
    base = noisy.n_real + noisy.n_synthetic
    assert not torch.equal(noisy[base][0], noisy[int(noisy.repeat_of[0])][0])  # seeded by the repeat's own index


def test_a_given_ratio_goes_to_the_rarest_classes_first(long_tail, tiny_generator):
    mix = SyntheticMix(long_tail, tiny_generator, ratio=0.2, fidelity=PASSING, max_per_real=None)
    assert (mix.policy, mix.ratio, mix.n_synthetic) == ("balance", 0.2, 9)  # 37 real: 9 synthetic is 20%
    assert [c["synthetic"] for c in mix.class_counts().values()] == [0, 0, 3, 6]  # water-filled: 8 and 8, level
    assert mix.n_repeats > 0
    with pytest.raises(ConfigError, match="synthetic_only=True needs ratio=1"):
        SyntheticMix(long_tail, tiny_generator, synthetic_only=True)


def test_oversampling_on_and_off_by_hand(long_tail, tiny_generator):
    assert SyntheticMix(long_tail, tiny_generator, fidelity=PASSING, oversample=False).n_repeats == 0
    levelled = SyntheticMix(long_tail, tiny_generator, ratio=0.0, class_policy="match", oversample=True)
    assert [c["total"] for c in levelled.class_counts().values()] == [20] * 4  # balanced sampling, no synthetic
    assert levelled.n_synthetic == 0 and not levelled.is_synthetic().any()


def test_a_class_that_fails_the_gate_is_levelled_with_its_real_images(long_tail, tiny_generator):
    failing = FidelityReport(CLASSES, [0.9, 0.9, 0.9, 0.1], [0.9] * 4, min_fidelity=0.8)
    with pytest.warns(UserWarning, match="'class3'"):
        mix = SyntheticMix(long_tail, tiny_generator, fidelity=failing)
    assert mix.class_counts()["class3"] == {"real": 2, "synthetic": 0, "repeated": 18, "total": 20}


def test_mixed_batch_sampler_counts_a_repeat_as_what_it_repeats(long_tail, tiny_generator):
    mix = SyntheticMix(long_tail, tiny_generator, fidelity=PASSING)
    share = float(mix.is_synthetic().float().mean())
    sampler = MixedBatchSampler(mix, batch_size=10, seed=0)
    synthetic = mix.is_synthetic()
    batches = list(sampler)
    assert len(batches) == len(sampler) > 0
    assert all(int(synthetic[batch].sum()) == round(share * 10) for batch in batches)
    assert len({i for batch in batches for i in batch}) == sum(len(b) for b in batches)  # no item twice


def test_tail_tops_up_only_the_classes_below_the_threshold():
    lt100 = [500, 299, 179, 107, 64, 38, 23, 14, 8, 5]
    assert allocate_synthetic(lt100, None, "tail") == [0, 0, 0, 0, 0, 462, 477, 486, 492, 495]
    assert allocate_synthetic(lt100, None, "tail", top_up_below=100) == [0, 0, 0, 0, 436, 462, 477, 486, 492, 495]
    assert allocate_synthetic(lt100, None, "balance")[1:5] == [201, 321, 393, 436]  # balance fills every class
    assert allocate_synthetic([500, 387, 300, 232, 180, 139, 108, 83, 65, 50], None, "auto") == [0] * 10
    # a given share is water-filled over the rare classes only
    assert allocate_synthetic([60, 50, 10, 2], 0.1, "tail", top_up_below=40) == [0, 0, 3, 11]  # 14: 8 to level, 3+3
    assert allocate_synthetic([60, 50], 0.1, "tail", top_up_below=40) == [0, 0]


def test_top_up_below_chooses_whether_and_which_classes_get_synthetic_images(long_tail, tiny_generator):
    mix = SyntheticMix(long_tail, tiny_generator, fidelity=PASSING, top_up_below=6)  # classes of 20, 10, 5, 2
    assert mix.policy == "balance"  # one class below 6 is enough for auto to top every class up
    assert [c["synthetic"] for c in mix.class_counts().values()] == [0, 10, 15, 8]  # up to 20; 2 capped at 4 each
    assert [c["total"] for c in mix.class_counts().values()] == [20] * 4  # still levelled by repeats
    explicit = SyntheticMix(long_tail, tiny_generator, fidelity=PASSING, class_policy="tail", ratio=None,
                            top_up_below=6)
    assert explicit.policy == "tail" and explicit.n_repeats == 0  # oversampling is auto's, as for "balance"
    assert [c["synthetic"] for c in explicit.class_counts().values()] == [0, 0, 15, 8]


def test_tail_says_when_no_class_is_rare_enough(long_tail, tiny_generator):
    with pytest.warns(UserWarning, match=r"no synthetic images: .*top_up_below=2 .*smallest class here has 2"):
        mix = SyntheticMix(long_tail, tiny_generator, fidelity=PASSING, top_up_below=2)
    assert mix.n_synthetic == 0 and [c["total"] for c in mix.class_counts().values()] == [20] * 4
    for bad in (0, 2.5, True, "40"):
        with pytest.raises(ConfigError, match="top_up_below=.* must be an integer >= 1"):
            SyntheticMix(long_tail, tiny_generator, fidelity=PASSING, top_up_below=bad)
