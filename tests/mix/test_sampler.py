"""MixedBatchSampler: the rounded synthetic count in every batch, how many batches, and sharding across ranks."""

from __future__ import annotations

import pytest
from torch.utils.data import TensorDataset

from ganaug import ConfigError, MixedBatchSampler, SyntheticMix
from ganaug.testing import make_tiny_data


@pytest.fixture(scope="module")
def mix(tiny_generator):
    """80 real items (0..79) and 80 synthetic ones (80..159)."""
    store = make_tiny_data(num_classes=4, per_class=20)
    mix = SyntheticMix(TensorDataset(store.images, store.labels), tiny_generator, fidelity=None, ratio=0.5)
    assert (mix.n_real, mix.n_synthetic) == (80, 80)
    return mix


# (batch size, ratio, synthetic per batch, batches): the count is Python's round(ratio * batch_size), which
# rounds halves to the even neighbour; batches are as many as the scarcer kind fills, incomplete ones dropped.
CASES = [
    (6, 0.25, 2, 20),  # 1.5 -> 2 (half to even); 4 real a batch: 80 // 4 = 20
    (10, 0.25, 2, 10),  # 2.5 -> 2 (half to even, down); 8 real: 80 // 8 = 10
    (6, 0.75, 4, 20),  # 4.5 -> 4 (half to even, down); 80 // 4 synthetic = 20
    (7, 0.5, 4, 20),  # 3.5 -> 4 (half to even, up); 80 // 4 synthetic = 20 (80 // 3 real would be 26)
    (10, 0.33, 3, 11),  # 3.3 -> 3; 80 // 7 real = 11, the 3 real items left over are dropped
    (4, 0.1, 0, 20),  # 0.4 -> 0: all real
    (2, 0.25, 0, 40),  # 0.5 -> 0 (half to even): all real
]


def _batches(sampler):
    batches = list(sampler)
    assert len(batches) == len(sampler)
    return batches


@pytest.mark.parametrize(("batch_size", "ratio", "synthetic", "count"), CASES)
def test_synthetic_count_per_batch_and_number_of_batches(mix, batch_size, ratio, synthetic, count):
    sampler = MixedBatchSampler(mix, batch_size, ratio=ratio, seed=1)
    assert (sampler.n_synthetic_per_batch, sampler.n_real_per_batch) == (synthetic, batch_size - synthetic)
    assert synthetic == round(ratio * batch_size)
    batches = _batches(sampler)
    assert len(batches) == count
    for batch in batches:
        assert len(batch) == batch_size
        assert sum(i >= mix.n_real for i in batch) == synthetic
    flat = [i for batch in batches for i in batch]
    assert len(flat) == len(set(flat)), "an item came twice in one epoch"
    assert all(0 <= i < len(mix) for i in flat)


def test_default_ratio_is_the_mix_share(mix):
    sampler = MixedBatchSampler(mix, 7, seed=1)  # the mix is half synthetic: 3.5 -> 4
    assert sampler.n_synthetic_per_batch == 4 and len(sampler) == 20


@pytest.mark.parametrize(("batch_size", "ratio", "synthetic", "count"), CASES)
def test_two_ranks_share_nothing_and_get_equal_batch_counts(mix, batch_size, ratio, synthetic, count):
    single = _batches(MixedBatchSampler(mix, batch_size, ratio=ratio, seed=1))
    ranks = [_batches(MixedBatchSampler(mix, batch_size, ratio=ratio, seed=1, num_replicas=2, rank=r))
             for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == count // 2  # an odd batch out is dropped
    items = [{i for batch in shard for i in batch} for shard in ranks]
    assert not items[0] & items[1]
    for shard in ranks:
        assert all(len(b) == batch_size and sum(i >= mix.n_real for i in b) == synthetic for b in shard)
    # rank r takes every other batch of the unsharded epoch
    assert ranks[0] == single[0:2 * (count // 2):2] and ranks[1] == single[1:2 * (count // 2):2]


def test_epochs_reshuffle_and_repeat(mix):
    sampler = MixedBatchSampler(mix, 10, ratio=0.33, seed=1)
    first = _batches(sampler)
    assert _batches(sampler) == first
    sampler.set_epoch(1)
    assert _batches(sampler) != first
    sampler.set_epoch(0)
    assert _batches(sampler) == first


def test_too_large_a_share_for_the_mix_is_refused(mix):
    small = MixedBatchSampler(mix, 160, ratio=0.5)
    assert len(small) == 1
    with pytest.raises(ConfigError, match="needs 82 real and 78 synthetic items, but the mix has 80 real and 80"):
        MixedBatchSampler(mix, 160, ratio=0.49)  # 78.4 -> 78 synthetic, so 82 real: more than there are
