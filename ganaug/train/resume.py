"""Resuming a run from a checkpoint: which options the checkpoint decides, and restoring the training state."""

from __future__ import annotations

import dataclasses
import warnings

import torch

from ganaug.runs import checkpoint as ckpt
from ganaug.seeds import Stream, derive_seed
from ganaug.train.config import TrainConfig
from ganaug.train.state import TrainingState

DECIDED_BY_CHECKPOINT = ("batch_size", "seed", "class_balance")


def resumed_config(config: TrainConfig, checkpoint: ckpt.Checkpoint, *, world_size: int,
                   batch_auto: bool) -> TrainConfig:
    """The checkpoint's batch size (per process, keeping the global batch), seed and class balance win.

    A changed value is warned about, except a default batch size, which follows the run quietly.
    """
    saved = dict(checkpoint.train_config)
    if checkpoint.world_size != world_size and (saved["batch_size"] * checkpoint.world_size) % world_size == 0:
        saved["batch_size"] = saved["batch_size"] * checkpoint.world_size // world_size
    saved.setdefault("class_balance", 0.0)  # runs from before the option drew batches uniformly over images
    changes = {}
    for name in DECIDED_BY_CHECKPOINT:
        if saved[name] != getattr(config, name):
            if not (name == "batch_size" and batch_auto):
                warnings.warn(f"resuming with the checkpoint's {name}={saved[name]} (not {getattr(config, name)})",
                              stacklevel=6)
            changes[name] = saved[name]
    return dataclasses.replace(config, **changes)


def restore_state(state: TrainingState, checkpoint: ckpt.Checkpoint, *, rank: int, world_size: int,
                  seed: int) -> None:
    """Weights, optimisers, torch's RNG (this rank's, or a fresh stream if the process count changed),
    the noise stream, the step, the learning-rate scale and the rollback count."""
    state.gan.load_state_dict(checkpoint.gan_state())
    checkpoint.restore_optimizers(state.opt_g, state.opt_d)
    states = checkpoint.rng_states(rank, world_size)
    if states is not None:
        ckpt.restore_rng(states, state.device)
    else:
        torch.manual_seed(derive_seed(seed, Stream.TORCH_RNG, rank, checkpoint.step))
    noise, current = checkpoint.noise_state(), state.noise.get_state()
    if noise is not None and noise.numel() == current.numel():
        state.noise.set_state(noise.to(current.device))
    elif noise is not None:
        # A CUDA generator's state (Philox, 16 bytes) cannot seed a CPU one (Mersenne Twister) or back.
        warnings.warn(f"the checkpoint's noise stream was saved on another kind of device than {state.device}: "
                      "the run continues from its weights and optimisers with a fresh noise stream, so it will "
                      "not repeat the samples an uninterrupted run would have drawn", stacklevel=6)
        state.noise.manual_seed(derive_seed(seed, Stream.NOISE, checkpoint.step))
    state.step, state.lr_scale, state.rollbacks = checkpoint.step, checkpoint.lr_scale, checkpoint.rollbacks
