"""DistributedDataParallel and ``torch.compile`` around G and D, with the plain modules always at hand.

State dicts, EMA updates, sampling and rollbacks use the plain modules, so checkpoints never hold
``module.`` or ``_orig_mod.`` prefixes; the training step uses the wrapped ones.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from ganaug.gan import GAN


class Wrapping:
    """Wraps ``gan.generator`` and ``gan.discriminator`` in place for training, and unwraps them.

    Args:
        gan: the GAN whose two networks are wrapped.
        distributed: wrap both in DDP (a multi-process run).
        compile_mode: a ``TrainConfig.compile`` mode; "off" does not compile.
    """

    def __init__(self, gan: GAN, *, distributed: bool, compile_mode: str) -> None:
        self.gan = gan
        self.distributed = distributed
        self.compile_mode = compile_mode
        self._plain: tuple[torch.nn.Module, torch.nn.Module] | None = None

    def wrap(self, device: torch.device) -> None:
        """DDP first (in a multi-process run), then ``torch.compile`` when asked."""
        self._plain = (self.gan.generator, self.gan.discriminator)
        if self.distributed:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [device.index] if device.type == "cuda" else None
            self.gan.generator = DDP(self.gan.generator, device_ids=ids)
            self.gan.discriminator = DDP(self.gan.discriminator, device_ids=ids)
        if self.compile_mode != "off":
            mode = None if self.compile_mode == "default" else self.compile_mode
            self.gan.generator = torch.compile(self.gan.generator, mode=mode)
            self.gan.discriminator = torch.compile(self.gan.discriminator, mode=mode)

    def step_begin(self) -> None:
        """Mark a new training step for CUDA graphs (reduce-overhead, max-autotune): without it, an output
        of the last step's graph replay that is still referenced (a loss, the fakes) would be overwritten."""
        if self.compile_mode in ("reduce-overhead", "max-autotune"):
            torch.compiler.cudagraph_mark_step_begin()

    def unwrap(self) -> None:
        if self._plain is not None:
            self.gan.generator, self.gan.discriminator = self._plain

    @contextlib.contextmanager
    def plain(self) -> Iterator[None]:
        """The plain modules, for state dicts and sampling (rank 0 must not enter DDP's collectives alone)."""
        generator, discriminator = self.gan.generator, self.gan.discriminator
        self.unwrap()
        try:
            yield
        finally:
            self.gan.generator, self.gan.discriminator = generator, discriminator

    @contextlib.contextmanager
    def discriminator_frozen(self) -> Iterator[None]:
        """During the G update, skip D's weight gradients (single process) or their all-reduce (DDP)."""
        discriminator = self.gan.discriminator
        if self.distributed:  # DDP does not allow toggling requires_grad; its grads are zeroed later
            with discriminator.no_sync():
                yield
            return
        discriminator.requires_grad_(False)
        try:
            yield
        finally:
            discriminator.requires_grad_(True)
