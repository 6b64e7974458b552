"""PyTorch Lightning: a callback that refreshes a SyntheticMix's bank each epoch and keeps ganaug's sampler.

Lightning calls ``set_epoch`` on a DataLoader's sampler, not on its dataset, so with a plain shuffling
DataLoader a :class:`~ganaug.SyntheticMix` would keep its first bank for the whole run. Add the
callback to the ``Trainer``::

    from ganaug.integrations.lightning import SyntheticMixCallback

    mix = ganaug.SyntheticMix(train_set, generator, ratio=0.3)
    trainer = pl.Trainer(max_epochs=10, callbacks=[SyntheticMixCallback(mix)])
    trainer.fit(model, DataLoader(mix, batch_size=64, shuffle=True))

Under DDP with :class:`~ganaug.MixedBatchSampler` (an exact synthetic share per batch, sharded by rank),
pass ``use_distributed_sampler=False`` so Lightning keeps ganaug's sampler instead of replacing it; the
callback checks that the sampler's ``num_replicas`` and ``rank`` match the trainer's. Install with
``pip install ganaug[lightning]``.
"""

from __future__ import annotations

from typing import Any

try:
    import lightning.pytorch as pl
except ImportError:  # the standalone package
    try:
        import pytorch_lightning as pl
    except ImportError as exc:
        raise ImportError("ganaug.integrations.lightning needs PyTorch Lightning: pip install 'ganaug[lightning]'"
                          ) from exc

from ganaug.errors import ConfigError
from ganaug.mix.dataset import SyntheticMix
from ganaug.mix.sampler import MixedBatchSampler


class SyntheticMixCallback(pl.Callback):
    """Refresh ``mix``'s bank at the start of every training epoch (``mix.set_epoch(current_epoch)``), and
    move a :class:`~ganaug.MixedBatchSampler` of the training DataLoader to that epoch's batch order.

    Args:
        mix: the SyntheticMix the training DataLoader reads.
    """

    def __init__(self, mix: SyntheticMix) -> None:
        if not isinstance(mix, SyntheticMix):
            raise ConfigError(f"SyntheticMixCallback needs a ganaug.SyntheticMix, got {type(mix).__name__}")
        self.mix = mix

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        for loader in _loaders(getattr(trainer, "train_dataloader", None)):
            sampler = getattr(loader, "batch_sampler", None)
            if isinstance(sampler, MixedBatchSampler) and (sampler.num_replicas, sampler.rank) != (
                    trainer.world_size, trainer.global_rank):
                raise ConfigError(
                    f"MixedBatchSampler(num_replicas={sampler.num_replicas}, rank={sampler.rank}) under a Trainer with "
                    f"world_size={trainer.world_size}, global_rank={trainer.global_rank}: build it with "
                    "num_replicas=trainer.world_size, rank=trainer.global_rank and pass use_distributed_sampler=False")

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        # Lightning sets the epoch of a DataLoader's ``sampler`` and ``batch_sampler.sampler``, never of the
        # batch sampler itself: a MixedBatchSampler would repeat epoch 0's batch order without this.
        for loader in _loaders(getattr(trainer, "train_dataloader", None)):
            sampler = getattr(loader, "batch_sampler", None)
            if isinstance(sampler, MixedBatchSampler):
                sampler.set_epoch(trainer.current_epoch)
        self.mix.set_epoch(trainer.current_epoch)


def _loaders(loaders: Any) -> list[Any]:
    if loaders is None:
        return []
    if isinstance(loaders, dict):
        return list(loaders.values())
    if isinstance(loaders, (list, tuple)):
        return list(loaders)
    return [loaders]
