"""torch.distributed for training: torchrun's environment in, one small context object out.

``torchrun --nproc-per-node N -m ganaug train ...`` (or ``ganaug train --nproc N``) starts N
processes with RANK, LOCAL_RANK and WORLD_SIZE set; :func:`setup` joins the process group (NCCL on
CUDA, gloo on the CPU) with a timeout, so a rank that dies ends the job with a message instead of
a hang. Nothing here runs in a single-process run.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

import torch
import torch.distributed as dist

from ganaug.errors import GanaugError, OtherRankFailed

DEFAULT_TIMEOUT_S = 300


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in a multi-process run."""

    rank: int
    world_size: int
    local_rank: int
    owns_group: bool
    """True when this context created the process group (and must destroy it)."""

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def requested() -> bool:
    """True when launched by torchrun with more than one process.

    torchrun sets RANK with WORLD_SIZE. Other launchers that start one process per device and set
    WORLD_SIZE and LOCAL_RANK only (PyTorch Lightning's DDP) are not asking ganaug to train across them:
    a ``ganaug.fit`` before their ``Trainer`` trains in this process alone.
    """
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def setup(device: torch.device) -> DistContext | None:
    """Join (or reuse) the process group when launched by torchrun; None for a single process."""
    if not requested() and not (dist.is_available() and dist.is_initialized()):
        return None
    if dist.is_initialized():
        return DistContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)), False)
    backend = "nccl" if device.type == "cuda" else "gloo"
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if device.type == "cuda":
        torch.cuda.set_device(local_rank)
    timeout = timedelta(seconds=int(os.environ.get("GANAUG_DIST_TIMEOUT", DEFAULT_TIMEOUT_S)))
    dist.init_process_group(backend, timeout=timeout)
    return DistContext(dist.get_rank(), dist.get_world_size(), local_rank, True)


def teardown(context: DistContext | None) -> None:
    if context is not None and context.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def any_true(context: DistContext | None, *flags: bool | torch.Tensor, device: torch.device) -> list[bool]:
    """Element-wise OR of flags over all ranks (one all-reduce), so every rank takes the same branch."""
    if context is None:
        return [bool(f) for f in flags]
    values = torch.tensor([bool(f) for f in flags], dtype=torch.int32, device=device)
    dist.all_reduce(values, op=dist.ReduceOp.MAX)
    return [bool(v) for v in values.tolist()]


def gather_objects(context: DistContext | None, value: Any) -> list[Any]:
    """Every rank's ``value``, in rank order (just ``[value]`` for a single process)."""
    if context is None:
        return [value]
    out: list[Any] = [None] * context.world_size
    dist.all_gather_object(out, value)
    return out


def main_rank_first(context: DistContext | None, action: Callable[[], None]) -> None:
    """Run ``action`` on the main rank only; if it refuses the run, every rank stops with its message.

    Set-up that only rank 0 does (taking the run folder's lock, checking the disk) can raise a
    :class:`~ganaug.errors.GanaugError` or an ``OSError``. Without this, the other ranks would wait in
    their next collective until rank 0's exit closed the connection, then print gloo's error and a
    crash file instead of the reason, and might outlive rank 0 and have the launcher kill it. Here the
    reason is broadcast: rank 0 raises its own error, every other rank an
    :class:`~ganaug.errors.OtherRankFailed` that carries the same message. Ends with every rank past
    this point, like a barrier.
    """
    error: BaseException | None = None
    if context is None or context.is_main:
        try:
            action()
        except (GanaugError, OSError) as exc:
            if context is None:
                raise
            error = exc
    if context is None:
        return
    message: list[str | None] = [str(error) if error is not None else None]
    dist.broadcast_object_list(message, src=0)
    if error is not None:
        raise error
    if message[0] is not None:
        raise OtherRankFailed(f"rank {context.rank}: stopped because rank 0 could not set up the run: {message[0]}")


def barrier(context: DistContext | None) -> None:
    if context is not None:
        dist.barrier()


def launch_torchrun(nproc: int, argv: list[str]) -> int:
    """Run ``python -m ganaug <argv>`` under torchrun with ``nproc`` processes on this machine.

    The launcher runs :func:`ganaug.train.launcher.run_launcher` in its own process: each rank prints its own one-line error,
    and the launcher adds one line naming the ranks that failed, instead of torchrun's traceback.
    """
    import subprocess

    command = [sys.executable, "-m", "ganaug.train.launcher", "--standalone", f"--nproc-per-node={nproc}",
               "-m", "ganaug", *argv]
    return subprocess.call(command)
