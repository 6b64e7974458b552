"""Which real images go into batch ``b``: a pure function of ``(seed, b)``, sharded over ranks."""

from __future__ import annotations

import math

import torch

from ganaug.seeds import Stream, derive_seed


class BatchOrder:
    """Epoch-wise shuffles seeded by ``(seed, epoch)``; rank r takes the r-th slice of each global batch.

    The global batch (``batch_size`` x ``world_size``) is the same whatever the number of processes,
    so ranks never share an image within an epoch. The epoch's permutation is moved to ``device``
    once per epoch: a step makes no host-to-device copy.
    """

    def __init__(self, n: int, batch_size: int, *, seed: int, world_size: int = 1, rank: int = 0,
                 device: torch.device | str = "cpu") -> None:
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.world_size, self.rank, self.device = world_size, rank, torch.device(device)
        self._cache: tuple[int, torch.Tensor] | None = None

    def indices(self, batch_number: int) -> torch.Tensor:
        """This rank's indices of batch ``batch_number``."""
        size = self.batch_size * self.world_size
        per_epoch = max(1, self.n // size)
        epoch, k = divmod(batch_number, per_epoch)
        if self._cache is None or self._cache[0] != epoch:
            generator = torch.Generator().manual_seed(derive_seed(self.seed, Stream.BATCH_ORDER, epoch))
            repeats = math.ceil(size / self.n)
            perm = torch.cat([torch.randperm(self.n, generator=generator) for _ in range(repeats)])
            self._cache = (epoch, perm.to(self.device))
        start = k * size + self.rank * self.batch_size
        return self._cache[1][start:start + self.batch_size]
