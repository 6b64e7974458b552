"""The synthetic bank: the generator's images a :class:`~ganaug.mix.SyntheticMix` serves, one tensor in shared memory.

The bank is one uint8 tensor generated in large batches on the generator's device and kept on the
CPU in shared memory, so DataLoader workers (persistent or not) read it without copies and see it
when :meth:`SyntheticBank.set_epoch` refreshes it in place. Bank ``e`` depends only on
``(seed, e)``. With a sample filter, rejected slots are redrawn with seeds ``(seed, e, draw)``,
up to ``max_draws``; slots never accepted copy accepted images of their class (rejection sampling).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import torch

from ganaug.errors import ConfigError
from ganaug.generator import TrainedGenerator
from ganaug.mix.policies import _largest_remainder
from ganaug.seeds import Stream, derive_seed

SampleFilter = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class SyntheticBank:
    """Holds ``bank_size`` synthetic images and maps each synthetic item to a bank slot.

    Args:
        generator: draws the images.
        per_class: synthetic items of each class.
        bank_size: distinct images held at a time (default: one per synthetic item).
        refresh: ``"epoch"``, ``"never"`` or an int N (a new bank every N epochs).
        seed: the bank of epoch ``e`` is drawn with ``derive_seed(seed, e)``.
        sample_filter: ``filter(images, labels) -> keep`` (bool tensor); rejected images are redrawn.
        max_draws: draws per slot before giving up.
    """

    def __init__(self, generator: TrainedGenerator, per_class: Sequence[int], *, bank_size: int | None = None,
                 refresh: str | int = "epoch", seed: int = 0, sample_filter: SampleFilter | None = None,
                 max_draws: int = 10) -> None:
        # The arguments were checked by SyntheticMix (ganaug.mix.arguments.check_arguments) before any work.
        self.generator, self.refresh, self.seed = generator, refresh, int(seed)
        self.sample_filter, self.max_draws = sample_filter, max_draws
        self.acceptance: dict[str, float] = {}
        """Per class: share of draws the filter accepted at the last refresh (empty without a filter)."""
        self.slots, self.labels = plan_bank(list(per_class), bank_size)
        self.images = torch.zeros(len(self.labels), *generator.image_shape, dtype=torch.uint8).share_memory_()
        self._state = torch.full((2,), -1, dtype=torch.int64).share_memory_()  # [epoch, bank epoch]

    def __len__(self) -> int:
        return len(self.images)

    @property
    def epoch(self) -> int:
        return int(self._state[0])

    def image(self, item: int) -> torch.Tensor:
        """The uint8 (C, H, W) image of synthetic item ``item``."""
        return self.images[self.slots[item]]

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch``: redraw the bank in place when the refresh policy says so."""
        if self.refresh == "never":
            bank_epoch = 0
        elif self.refresh == "epoch":
            bank_epoch = int(epoch)
        else:
            bank_epoch = int(epoch) // int(self.refresh) * int(self.refresh)
        if bank_epoch != int(self._state[1]) and len(self.images):
            self.images.copy_(self._draw(bank_epoch))
        self._state[0] = int(epoch)
        self._state[1] = bank_epoch

    def _draw(self, bank_epoch: int) -> torch.Tensor:
        """One draw per slot, then redraws of the slots the filter rejects."""
        labels = self.labels
        images = self.generator.sample(labels=labels, seed=derive_seed(self.seed, Stream.HASHED, bank_epoch))
        if self.sample_filter is None:
            return images
        keep = self._keep(images, labels)
        draws = torch.ones(len(labels), dtype=torch.long)
        for draw in range(1, self.max_draws):
            todo = torch.nonzero(~keep).flatten()
            if not len(todo):
                break
            retry = self.generator.sample(labels=labels[todo], seed=derive_seed(self.seed, Stream.HASHED, bank_epoch,
                                                                                  draw))
            accepted = self._keep(retry, labels[todo])
            images[todo[accepted]] = retry[accepted]
            keep[todo[accepted]] = True
            draws[todo] += 1
        self._record_acceptance(keep, draws)
        self._fill_rejected(images, keep)
        return images

    def _record_acceptance(self, keep: torch.Tensor, draws: torch.Tensor) -> None:
        k = self.generator.num_classes
        accepted_per_class = torch.bincount(self.labels[keep], minlength=k)
        draws_per_class = torch.bincount(self.labels, weights=draws.double(), minlength=k)
        self.acceptance = {name: float(accepted_per_class[c] / draws_per_class[c])
                           for c, name in enumerate(self.generator.classes) if draws_per_class[c] > 0}

    def _fill_rejected(self, images: torch.Tensor, keep: torch.Tensor) -> None:
        """Slots never accepted take copies of accepted images of their class, in turn; warn for hopeless classes."""
        labels, hopeless = self.labels, []
        for c in torch.unique(labels[~keep]).tolist():
            pool = torch.nonzero(keep & (labels == c)).flatten()
            slots = torch.nonzero(~keep & (labels == c)).flatten()
            if len(pool):
                images[slots] = images[pool[torch.arange(len(slots)) % len(pool)]]
            else:
                hopeless.append(self.generator.classes[c])
        if hopeless:
            warnings.warn(f"the sample filter accepted no image of class(es) {', '.join(map(repr, hopeless))} in "
                          f"{self.max_draws} draws per slot; their synthetic images are unfiltered. Lower the "
                          "filter's threshold, or train the generator longer", stacklevel=5)

    def _keep(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        keep = torch.as_tensor(self.sample_filter(images, labels)).to("cpu")  # type: ignore[misc]
        if keep.dtype != torch.bool or keep.shape != labels.shape:
            raise ConfigError(f"sample_filter returned {keep.dtype} of shape {tuple(keep.shape)}; it must return a "
                              f"bool tensor of shape ({len(labels)},), True for images to keep")
        return keep


def plan_bank(per_class: list[int], bank_size: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Bank slot of every synthetic item, and the label of every bank slot.

    With a bank smaller than the synthetic items, every class mixed in keeps at least one slot and
    the rest are shared in proportion; a class's items cycle through its slots.
    """
    total = sum(per_class)
    labels = torch.arange(len(per_class)).repeat_interleave(torch.tensor(per_class, dtype=torch.long))
    if bank_size is None or bank_size >= total:
        return torch.arange(total), labels
    if bank_size < 1:
        raise ConfigError(f"bank_size={bank_size} must be >= 1")
    wanted = [c for c in per_class if c > 0]
    if bank_size < len(wanted):
        raise ConfigError(f"bank_size={bank_size} cannot hold one image of each of the {len(wanted)} classes mixed in")
    sizes = iter(_largest_remainder(bank_size - len(wanted), wanted))
    bank_per_class = [1 + next(sizes) if c > 0 else 0 for c in per_class]
    slots, offset = [], 0
    for c, b in zip(per_class, bank_per_class):
        slots.extend(offset + (r % b) for r in range(c))
        offset += b
    return torch.tensor(slots, dtype=torch.long), torch.arange(len(per_class)).repeat_interleave(
        torch.tensor(bank_per_class))
