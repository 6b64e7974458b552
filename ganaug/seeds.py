"""Every seed ganaug derives from a user's seed comes from :func:`derive_seed`, one named stream each.

Randomness is explicit (see STYLE.md): a run's seed fans out into independent streams (the batch
order of each epoch, the grid's noise, a synthetic bank's noise...), each a pure function of the
user's seed and a few integers (epoch, item, draw). Keeping them all here makes the streams easy to
audit for accidental overlaps, and keeps the ones that older run folders depend on unchanged.

The training streams (``NOISE``, ``BATCH_ORDER``, ``TORCH_RNG``, ``GRID``, ``DIVERSITY``), the gain
protocol's ``QUALITY`` and the demo's ``DEMO_JUDGE`` keep the arithmetic of ganaug 0.1, so a run resumed from a 0.1
checkpoint continues exactly as it would have; every other stream hashes its parts (CRC-32), which
does not collide for nearby integers the way sums do.
"""

from __future__ import annotations

import enum
import zlib

import numpy as np

from ganaug.errors import ConfigError


class Stream(enum.Enum):
    """The independent random streams derived from one user seed."""

    BATCH_ORDER = "batch order of an epoch (parts: epoch)"
    TORCH_RNG = "torch's global RNG of one training process (parts: rank, and the step on a resume)"
    GRID = "noise of the sample grids"
    DIVERSITY = "noise of the samples scored for diversity during training"
    QUALITY = "noise of the samples scored for quality in the gain protocol"
    DEMO_JUDGE = "noise of the samples the demo's judge scores"
    NOISE = ("the generator's noise stream during training (the seed itself; parts: the step, when a resume "
             "moves the run between CPU and CUDA and the stream restarts)")
    HASHED = "anything else: a hash of the parts (synthetic banks, transforms, samplers)"


_STRIDE = 1_000_003  # a prime larger than any epoch or step count, so (seed, epoch) pairs do not collide
_OFFSETS = {Stream.GRID: 1, Stream.DIVERSITY: 2, Stream.DEMO_JUDGE: 7, Stream.QUALITY: 10_000}


def derive_seed(seed: int, stream: Stream = Stream.HASHED, *parts: int) -> int:
    """The seed of ``stream`` for the user's ``seed`` and the stream's ``parts``.

    Args:
        seed: the user's seed.
        stream: which stream (see :class:`Stream`); ``HASHED`` for anything new.
        *parts: the integers the stream depends on (an epoch, an item index, a draw number...).

    Returns:
        A non-negative int usable with ``torch.Generator.manual_seed``.
    """
    if stream is Stream.BATCH_ORDER:
        (epoch,) = parts
        return seed * _STRIDE + epoch
    if stream is Stream.TORCH_RNG:
        rank, *step = parts
        return seed + _STRIDE * rank + sum(step)
    if stream is Stream.NOISE and not parts:
        return seed
    if stream in _OFFSETS:
        return seed + _OFFSETS[stream]
    return zlib.crc32(np.asarray((seed, *parts), dtype=np.int64).tobytes()) & 0x7FFFFFFF


MAX_SEED = 2**63 - 1


def check_seed(seed: object, name: str = "seed") -> int:
    """``seed`` if it is an integer in 0..2**63-1 (what every stream can be derived from); else a ConfigError."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, (bool, np.bool_)):
        raise ConfigError(f"{name}={seed!r} must be an integer in 0..2**63-1")
    value = int(seed)
    if not 0 <= value <= MAX_SEED:
        raise ConfigError(f"{name}={seed!r} must be an integer in 0..2**63-1")
    return value

