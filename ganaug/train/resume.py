"""Resuming a run from a checkpoint: when it may go on, which options the checkpoint decides, and
restoring the training state.

A resume that cannot go on is refused with the fix, before any work where the checkpoint tells; one
that goes on keeps the run's options and says which given values it ignored.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from ganaug.data import ImageStore
from ganaug.errors import CheckpointError, ConfigError
from ganaug.runs import checkpoint as ckpt
from ganaug.runs.folder import RunFolder
from ganaug.seeds import Stream, derive_seed
from ganaug.train.config import TrainConfig
from ganaug.train.state import TrainingState

DECIDED_BY_CHECKPOINT = ("batch_size", "seed", "class_balance")


NEW_RUN = "use another --out (out=) for a new run"


def check_resume(checkpoint: ckpt.Checkpoint | None, run: RunFolder, config: TrainConfig, model: str | None) -> None:
    """Refuse a resume that cannot go on.

    Refused: no valid checkpoint in a folder that holds a run's checkpoints or generator (a run from
    step 0 would replace them), a checkpoint of another family than ``model`` (None: not known yet),
    ``config.steps`` not above the checkpoint's step (nothing would be trained). A folder without a run
    starts fresh.
    """
    if checkpoint is None:
        if ckpt.checkpoint_dirs(run.path):
            raise CheckpointError(f"{run.path}: no checkpoint to resume from: every checkpoint in {run.checkpoints} is "
                                  f"damaged (see the warnings); restore one from a copy, or {NEW_RUN}")
        if run.generator.exists():
            raise CheckpointError(f"{run.path}: no checkpoint to resume from ({run.checkpoints} is gone or empty) but "
                                  f"{run.generator} holds a trained generator, which starting at step 0 would replace; "
                                  f"restore the checkpoints folder to continue, or {NEW_RUN}")
        return
    if model is not None and checkpoint.model != model:
        fix = _foreign(checkpoint, run) or f"pass --model {checkpoint.model} to resume it, or {NEW_RUN}"
        raise ConfigError(f"{checkpoint.folder} was trained with model {checkpoint.model!r}, not {model!r}; {fix}")
    if config.steps <= checkpoint.step:
        raise ConfigError(f"{checkpoint.folder} is at step {checkpoint.step} and steps={config.steps} (--steps), so "
                          f"there is nothing to train; pass --steps above {checkpoint.step} to train further (steps "
                          "counts the run's steps in all, not the ones to add)")


def check_data(checkpoint: ckpt.Checkpoint, run: RunFolder, store: ImageStore) -> None:
    """Refuse data whose classes or image shape differ from the checkpoint's, saying how to resume."""
    if checkpoint.classes == store.classes and checkpoint.image_shape == store.image_shape:
        return
    fix = _foreign(checkpoint, run)
    if fix is None:
        fix = f"resume with the same DATA, or {NEW_RUN}"
        (channels, height, width), (have_channels, have_height, have_width) = checkpoint.image_shape, store.image_shape
        if checkpoint.classes == store.classes and height == width:
            flags = ([f"--image-size {height}"] if (height, width) != (have_height, have_width) else []) + (
                [f"--channels {channels}"] if channels != have_channels else [])
            fix = f"pass {' '.join(flags)} to load the data as the run did, or {NEW_RUN}"
    raise CheckpointError(f"{checkpoint.folder} was trained on classes {checkpoint.classes} and images "
                          f"{checkpoint.image_shape}; this data has classes {store.classes} and images "
                          f"{store.image_shape}; {fix}")


def _foreign(checkpoint: ckpt.Checkpoint, run: RunFolder) -> str | None:
    """The fix for a checkpoint that does not match its run's ``config.json`` (one copied in from another run)."""
    try:
        saved = json.loads(run.config_file.read_text())
        own = (saved["train"]["model"], saved["classes"], saved["image_shape"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if own == (checkpoint.model, checkpoint.classes, list(checkpoint.image_shape)):
        return None
    return (f"it does not match {run.config_file}, so it comes from another run: move it out of {run.checkpoints} "
            "to resume from the run's own checkpoints")


def kept_model_options(given: Iterable[str], asked: Mapping[str, Any], saved: Mapping[str, Any]) -> list[str]:
    """``name=saved (not asked)`` for each family option given for the resume that the checkpoint's value overrides."""
    return [f"{name}={saved[name]} (not {asked[name]})" for name in given
            if name in saved and name in asked and saved[name] != asked[name]]


def warn_kept(kept: list[str]) -> None:
    """One warning naming every option the checkpoint kept, with the value given and how to use it instead."""
    if kept:
        warnings.warn(f"resuming with the checkpoint's {', '.join(kept)}: a resumed run keeps the options it started "
                      "with and ignores the values given; to train with those, start a new run in another --out "
                      "(out=)", stacklevel=6)


def resumed_config(config: TrainConfig, checkpoint: ckpt.Checkpoint, *, world_size: int,
                   batch_auto: bool) -> tuple[TrainConfig, list[str]]:
    """The checkpoint's batch size (per process, keeping the global batch), seed and class balance win.

    Returns:
        The config to train with, and ``name=kept (not given)`` for each changed value (for
        :func:`warn_kept`), except a default batch size, which follows the run quietly.
    """
    saved = dict(checkpoint.train_config)
    if checkpoint.world_size != world_size and (saved["batch_size"] * checkpoint.world_size) % world_size == 0:
        saved["batch_size"] = saved["batch_size"] * checkpoint.world_size // world_size
    saved.setdefault("class_balance", 0.0)  # runs from before the option drew batches uniformly over images
    changes, kept = {}, []
    for name in DECIDED_BY_CHECKPOINT:
        if saved[name] != getattr(config, name):
            if not (name == "batch_size" and batch_auto):
                kept.append(f"{name}={saved[name]} (not {getattr(config, name)})")
            changes[name] = saved[name]
    return dataclasses.replace(config, **changes), kept


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
