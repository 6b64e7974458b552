"""What training changes as it goes, and the in-memory snapshot a divergence rolls back to.

:class:`TrainingState` holds the GAN, its two optimisers, the noise stream, the step, the
learning-rate scale and the number of rollbacks. On a NaN or inf loss or weight,
:meth:`TrainingState.roll_back` restores the snapshot taken at the last checkpoint interval
(weights, optimisers, RNG) and lowers the learning rates, up to ``max_rollbacks`` times.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from ganaug.errors import TrainingDivergedError
from ganaug.gan import GAN


@dataclass
class TrainingState:
    """The state a checkpoint saves and a rollback restores."""

    gan: GAN
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    noise: torch.Generator
    """The generator's noise stream (shared by all ranks, sliced per rank)."""
    device: torch.device
    step: int = 0
    lr_scale: float = 1.0
    """Both learning rates are the family's times this; rollbacks lower it."""
    rollbacks: int = 0
    snapshot: dict[str, Any] = field(default_factory=dict, repr=False)

    def apply_lr_scale(self) -> None:
        for optimizer, base in ((self.opt_g, self.gan.config.lr_g), (self.opt_d, self.gan.config.lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = base * self.lr_scale

    def weights_finite(self) -> bool:
        """One device-to-host read for all parameters."""
        return bool(torch.stack([torch.isfinite(p).all() for p in self.gan.parameters()]).all())

    def take_snapshot(self) -> None:
        """Keep the current state in memory (CPU copies). Call with the plain (unwrapped) modules."""
        self.snapshot = {
            "step": self.step,
            "gan": {k: v.detach().to("cpu", copy=True) for k, v in self.gan.state_dict().items()},
            "noise": self.noise.get_state(),
            "opt_g": copy.deepcopy(self.opt_g.state_dict()),
            "opt_d": copy.deepcopy(self.opt_d.state_dict()),
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
        }

    def roll_back(self, what: str, window: int, *, max_rollbacks: int, lr_factor: float,
                  last_checkpoint: str) -> dict[str, Any]:
        """Restore the snapshot and scale the learning rates by ``lr_factor``; returns the log record.

        Call with the plain modules. Raises :class:`TrainingDivergedError` after ``max_rollbacks``.
        """
        where = f"at step {self.step}" if window == 1 else f"within the {window} steps up to {self.step}"
        if self.rollbacks >= max_rollbacks:
            raise TrainingDivergedError(
                f"training diverged {where} ({what} is NaN or inf) after {self.rollbacks} rollback(s) with lower "
                f"learning rates. Last good checkpoint: {last_checkpoint}. Try lower lr_g/lr_d, another seed or model"
            )
        snapshot = self.snapshot
        self.gan.load_state_dict(snapshot["gan"])
        self.noise.set_state(snapshot["noise"])
        self.opt_g.load_state_dict(snapshot["opt_g"])
        self.opt_d.load_state_dict(snapshot["opt_d"])
        torch.set_rng_state(snapshot["rng_cpu"])
        if snapshot["rng_cuda"] is not None:
            torch.cuda.set_rng_state(snapshot["rng_cuda"], self.device)
        diverged_at, self.step = self.step, snapshot["step"]
        self.rollbacks += 1
        self.lr_scale *= lr_factor
        self.apply_lr_scale()
        warnings.warn(f"training diverged {where} ({what} is NaN or inf); rolled back to step {self.step} and scaled "
                      f"the learning rates by {self.lr_scale:g} (rollback {self.rollbacks} of {max_rollbacks})",
                      stacklevel=4)
        return {"step": self.step, "event": "rollback", "diverged_at": diverged_at, "lr_scale": self.lr_scale}
