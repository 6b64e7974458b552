"""Which real images go into batch ``b``: a pure function of ``(seed, b)``, sharded over ranks."""

from __future__ import annotations

import math

import torch

from ganaug.seeds import Stream, derive_seed


class BatchOrder:
    """Epoch-wise shuffles seeded by ``(seed, epoch)``; rank r takes the r-th slice of each global batch.

    The global batch (``batch_size`` x ``world_size``) is the same whatever the number of processes,
    so ranks never share an image within an epoch. The epoch's order is moved to ``device`` once per
    epoch: a step makes no host-to-device copy.

    With ``class_balance`` > 0 (and ``labels``), an epoch is ``n`` draws with replacement in which an
    image of a class of ``n_k`` images has weight ``n_k ** -class_balance``: class k is drawn in
    proportion to ``n_k ** (1 - class_balance)``, so 1 draws every class equally often. The fake labels
    follow the real batch's (``GAN.fake_labels``), so the generator sees rare classes as often too.
    """

    def __init__(self, n: int, batch_size: int, *, seed: int, world_size: int = 1, rank: int = 0,
                 device: torch.device | str = "cpu", labels: torch.Tensor | None = None,
                 class_balance: float = 0.0) -> None:
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.world_size, self.rank, self.device = world_size, rank, torch.device(device)
        self.weights = None
        if class_balance > 0 and labels is not None:
            counts = torch.bincount(labels.cpu()).double()
            if (counts[counts > 0] != counts.max()).any():  # classes of one size: plain shuffles are the same thing
                self.weights = counts[labels.cpu()].pow(-class_balance)
        self._cache: tuple[int, torch.Tensor] | None = None

    def indices(self, batch_number: int) -> torch.Tensor:
        """This rank's indices of batch ``batch_number``."""
        size = self.batch_size * self.world_size
        per_epoch = max(1, self.n // size)
        epoch, k = divmod(batch_number, per_epoch)
        if self._cache is None or self._cache[0] != epoch:
            generator = torch.Generator().manual_seed(derive_seed(self.seed, Stream.BATCH_ORDER, epoch))
            repeats = math.ceil(size / self.n)
            if self.weights is None:
                perm = torch.cat([torch.randperm(self.n, generator=generator) for _ in range(repeats)])
            else:
                perm = torch.multinomial(self.weights, repeats * self.n, replacement=True, generator=generator)
            self._cache = (epoch, perm.to(self.device))
        start = k * size + self.rank * self.batch_size
        return self._cache[1][start:start + self.batch_size]
