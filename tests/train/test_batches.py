"""Batch order: a pure function of (seed, batch number), sharded over ranks without overlap."""

from __future__ import annotations

import torch

from ganaug.train.batches import BatchOrder


def test_batch_order_is_a_pure_function_of_seed_and_batch():
    first, second = BatchOrder(80, 16, seed=3), BatchOrder(80, 16, seed=3)
    seen = torch.cat([first.indices(b) for b in range(5)])  # one epoch of 80
    assert sorted(seen.tolist()) == list(range(80))
    assert torch.equal(second.indices(7), first.indices(7))
    assert not torch.equal(BatchOrder(80, 16, seed=4).indices(0), first.indices(0))
    assert len(BatchOrder(80, 200, seed=0).indices(0)) == 200  # a batch larger than the data repeats it


def test_ranks_take_disjoint_slices_of_the_same_global_batch():
    one = BatchOrder(80, 16, seed=1)
    ranks = [BatchOrder(80, 8, seed=1, world_size=2, rank=r) for r in (0, 1)]
    for b in range(6):
        assert torch.equal(torch.cat([r.indices(b) for r in ranks]), one.indices(b))


def test_class_balance_draws_rare_classes_as_often_as_common_ones():
    labels = torch.cat([torch.zeros(90, dtype=torch.long), torch.ones(10, dtype=torch.long)])

    def share_of_rare(balance: float) -> float:
        order = BatchOrder(100, 50, seed=0, labels=labels, class_balance=balance)
        drawn = torch.cat([order.indices(b) for b in range(40)])
        return float((labels[drawn] == 1).double().mean())

    assert abs(share_of_rare(0.0) - 0.10) < 1e-9  # plain shuffles: every image once per epoch
    assert abs(share_of_rare(1.0) - 0.5) < 0.05
    assert 0.15 < share_of_rare(0.5) < 0.35  # 10^0.5 / (90^0.5 + 10^0.5) = 0.25
    again = BatchOrder(100, 50, seed=0, labels=labels, class_balance=1.0)
    assert torch.equal(again.indices(3), BatchOrder(100, 50, seed=0, labels=labels, class_balance=1.0).indices(3))


def test_classes_of_one_size_keep_plain_shuffles():
    labels = torch.arange(4).repeat_interleave(10)
    balanced = BatchOrder(40, 8, seed=2, labels=labels, class_balance=1.0)
    assert balanced.weights is None
    assert torch.equal(balanced.indices(3), BatchOrder(40, 8, seed=2).indices(3))
