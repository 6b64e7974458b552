"""A batch sampler that puts an exact number of synthetic items in every batch."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

from ganaug.errors import ConfigError
from ganaug.mix.dataset import SyntheticMix
from ganaug.seeds import Stream, derive_seed


class MixedBatchSampler(Sampler[list[int]]):
    """Batches with exactly ``round(ratio * batch_size)`` synthetic items each, optionally sharded.

    An oversampling repeat counts as what it repeats (real or synthetic).

    Real and synthetic indices are shuffled separately each epoch (seeded by ``seed`` and the
    epoch), then dealt into batches; with ``num_replicas > 1`` each rank takes every
    ``num_replicas``-th batch, so ranks never share an item. Incomplete batches are dropped.

    Args:
        mix: the :class:`SyntheticMix` to index.
        batch_size: items per batch.
        ratio: synthetic share of every batch (default: the mix's own share of items).
        shuffle: reshuffle each epoch.
        seed: shuffling seed.
        num_replicas, rank: ``DistributedSampler``-style sharding.
    """

    def __init__(self, mix: SyntheticMix, batch_size: int, *, ratio: float | None = None, shuffle: bool = True,
                 seed: int = 0, num_replicas: int = 1, rank: int = 0) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size={batch_size} must be >= 1")
        if not 0 <= rank < num_replicas:
            raise ConfigError(f"rank={rank} must be in 0..{num_replicas - 1}")
        synthetic = mix.is_synthetic()
        share = ratio if ratio is not None else (float(synthetic.float().mean()) if len(mix) else 0.0)
        if not 0.0 <= share <= 1.0:
            raise ConfigError(f"ratio={ratio!r} must be in [0, 1]")
        self.mix, self.batch_size, self.shuffle, self.seed = mix, batch_size, shuffle, seed
        self.num_replicas, self.rank, self.epoch = num_replicas, rank, 0
        self.n_synthetic_per_batch = int(round(share * batch_size))
        self.n_real_per_batch = batch_size - self.n_synthetic_per_batch
        self._real_items, self._synthetic_items = torch.nonzero(~synthetic).flatten(), torch.nonzero(synthetic).flatten()
        if self.n_real_per_batch > len(self._real_items) or self.n_synthetic_per_batch > len(self._synthetic_items):
            raise ConfigError(
                f"a batch of {batch_size} needs {self.n_real_per_batch} real and {self.n_synthetic_per_batch} synthetic "
                f"items, but the mix has {len(self._real_items)} real and {len(self._synthetic_items)} synthetic "
                "(repeats included)"
            )

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch``: a new batch order, and the mix's bank refreshed for it (calling the mix's
        ``set_epoch`` as well is harmless). Under PyTorch Lightning, ``SyntheticMixCallback`` calls it."""
        self.epoch = int(epoch)
        self.mix.set_epoch(self.epoch)

    def _total_batches(self) -> int:
        limits = []
        if self.n_real_per_batch:
            limits.append(len(self._real_items) // self.n_real_per_batch)
        if self.n_synthetic_per_batch:
            limits.append(len(self._synthetic_items) // self.n_synthetic_per_batch)
        total = min(limits)
        return total - total % self.num_replicas

    def __len__(self) -> int:
        return self._total_batches() // self.num_replicas

    def __iter__(self) -> Iterator[list[int]]:
        generator = torch.Generator().manual_seed(derive_seed(self.seed, Stream.HASHED, self.epoch))
        real, synthetic = self._real_items, self._synthetic_items
        if self.shuffle:
            real = real[torch.randperm(len(real), generator=generator)]
            synthetic = synthetic[torch.randperm(len(synthetic), generator=generator)]
        r, s = self.n_real_per_batch, self.n_synthetic_per_batch
        for b in range(self.rank, self._total_batches(), self.num_replicas):
            batch = torch.cat([real[b * r:(b + 1) * r], synthetic[b * s:(b + 1) * s]])
            if self.shuffle:
                batch = batch[torch.randperm(len(batch), generator=torch.Generator().manual_seed(
                    derive_seed(self.seed, Stream.HASHED, self.epoch, b)))]
            yield batch.tolist()
