"""The checkpoint schema, in one place: what a checkpoint holds, how it is written, read and resumed.

A checkpoint is a folder ``<run>/checkpoints/step_<N>/`` written atomically (:mod:`ganaug.storage`):

* ``weights.safetensors``: the GAN's state dict under ``gan.``, the optimisers' tensors under
  ``opt_g.`` / ``opt_d.``;
* ``meta.json``: format, ganaug version, step, family and its config, the training config, classes,
  image shape, optimiser param groups and scalars, learning-rate scale and rollbacks, number of
  processes, base64 RNG states (torch's per rank, and the noise stream's), the weights' SHA-256.

:func:`latest_checkpoint` returns the newest checkpoint that verifies (both checksums) *and* holds every
value this module reads, of the right kind (:mod:`ganaug.runs.metadata`), so a damaged newest one (bad checksum, missing key) falls back to the one before it.
"""

from __future__ import annotations

import base64
import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganaug._version import __version__
from ganaug.errors import CheckpointError
from ganaug.runs.folder import RunFolder
from ganaug.runs.metadata import check_checkpoint_meta
from ganaug.storage import (
    META_FILE,
    read_folder,
    read_meta,
    remove_atomically,
    write_folder_atomically,
)

CHECKPOINT_FORMAT = "ganaug-checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    """A verified checkpoint: its folder, tensors and metadata, with typed access to what resuming needs."""

    folder: Path
    tensors: dict[str, torch.Tensor]
    meta: dict[str, Any]

    @classmethod
    def parse(cls, folder: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Checkpoint:
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"{folder}: not a ganaug checkpoint (format {meta.get('format')!r})")
        check_checkpoint_meta(meta, Path(folder) / META_FILE)
        return cls(Path(folder), tensors, meta)

    @property
    def step(self) -> int:
        return int(self.meta["step"])

    @property
    def model(self) -> str:
        return self.meta["model"]

    @property
    def model_config(self) -> dict[str, Any]:
        return self.meta["model_config"]

    @property
    def train_config(self) -> dict[str, Any]:
        return self.meta["train_config"]

    @property
    def classes(self) -> list[str]:
        return list(self.meta["classes"])

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.meta["image_shape"])

    @property
    def world_size(self) -> int:
        return int(self.meta.get("world_size", 1))

    @property
    def lr_scale(self) -> float:
        return float(self.meta.get("lr_scale", 1.0))

    @property
    def rollbacks(self) -> int:
        return int(self.meta.get("rollbacks", 0))

    def gan_state(self) -> dict[str, torch.Tensor]:
        """The GAN's state dict."""
        return {k[4:]: v for k, v in self.tensors.items() if k.startswith("gan.")}

    def restore_optimizers(self, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer) -> None:
        load_optimizer_state(opt_g, "opt_g", self.tensors, self.meta["opt_g"])
        load_optimizer_state(opt_d, "opt_d", self.tensors, self.meta["opt_d"])

    def rng_states(self, rank: int, world_size: int) -> dict[str, Any] | None:
        """Torch's RNG states saved for ``rank``; None when the number of processes changed (except rank 0)."""
        ranks = self.meta.get("rng_ranks") or [{"cpu": self.meta["rng_cpu"], "cuda": self.meta.get("rng_cuda")}]
        if rank < len(ranks) and len(ranks) == max(world_size, 1) or rank == 0:
            return ranks[rank if rank < len(ranks) else 0]
        return None

    def noise_state(self) -> torch.Tensor | None:
        return decode_bytes(self.meta["rng_noise"]) if self.meta.get("rng_noise") else None


def write_checkpoint(run: RunFolder, step: int, tensors: dict[str, torch.Tensor], *, model: str,
                     model_config: dict[str, Any], train_config: Any, classes: list[str],
                     image_shape: tuple[int, ...], optimizers: dict[str, torch.optim.Optimizer], lr_scale: float,
                     rollbacks: int, world_size: int, rng_ranks: list[dict[str, Any]], noise: torch.Generator,
                     keep: int) -> Path:
    """Write the checkpoint of ``step`` (rank 0 only) and prune all but the ``keep`` newest.

    Args:
        tensors: the GAN's state dict (plain modules: no DDP or compile prefixes).
        rng_ranks: every rank's torch RNG states, as :func:`rng_state` returns them, in rank order.
    """
    all_tensors = {f"gan.{k}": v for k, v in tensors.items()}
    meta: dict[str, Any] = {"format": CHECKPOINT_FORMAT, "ganaug_version": __version__, "step": step, "model": model,
                            "model_config": model_config, "train_config": dataclasses.asdict(train_config),
                            "classes": classes, "image_shape": list(image_shape)}
    for name, optimizer in optimizers.items():
        opt_tensors, meta[name] = optimizer_state(optimizer, name)
        all_tensors.update(opt_tensors)
    meta.update({"lr_scale": lr_scale, "rollbacks": rollbacks, "world_size": world_size,
                 "rng_cpu": rng_ranks[0]["cpu"], "rng_cuda": rng_ranks[0]["cuda"], "rng_ranks": rng_ranks,
                 "rng_noise": encode_bytes(noise.get_state())})
    folder = write_folder_atomically(run.checkpoint(step), all_tensors, meta)
    prune_checkpoints(run.path, keep)
    return folder


def rng_state(device: torch.device) -> dict[str, Any]:
    """This process's torch RNG states, JSON-able (gathered from every rank into the checkpoint)."""
    return {"cpu": encode_bytes(torch.get_rng_state()),
            "cuda": encode_bytes(torch.cuda.get_rng_state(device)) if device.type == "cuda" else None}


def restore_rng(states: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(decode_bytes(states["cpu"]))
    if device.type == "cuda" and states.get("cuda"):
        torch.cuda.set_rng_state(decode_bytes(states["cuda"]), device)


def checkpoint_dirs(run_dir: Path) -> list[Path]:
    """Checkpoint folders of a run, newest first (folders linking outside the run are ignored)."""
    root = RunFolder(run_dir).checkpoints
    if not root.is_dir():
        return []
    prefix = RunFolder.CHECKPOINT_PREFIX
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(prefix) and p.name[len(prefix):].isdigit()]
    inside = []
    for folder in found:
        if not folder.resolve().is_relative_to(root.resolve()):
            warnings.warn(f"ignoring {folder}: it links outside the run folder ({folder.resolve()})", stacklevel=2)
            continue
        inside.append(folder)
    return sorted(inside, key=lambda p: int(p.name[len(prefix):]), reverse=True)


def read_checkpoint(folder: Path, *, weights: bool = True) -> Checkpoint:
    """Read, verify and parse one checkpoint folder; ``weights=False`` reads its metadata alone (no tensors)."""
    tensors, meta = read_folder(folder) if weights else ({}, read_meta(folder))
    return Checkpoint.parse(Path(folder), tensors, meta)


def latest_checkpoint(run_dir: Path, *, weights: bool = True) -> Checkpoint | None:
    """The newest checkpoint of a run that verifies and parses; damaged newer ones are skipped with a warning.

    ``weights=False`` is a quick look before the work (its metadata alone, damaged ones skipped quietly): the
    real read, with the weights, warns.
    """
    for folder in checkpoint_dirs(run_dir):
        try:
            return read_checkpoint(folder, weights=weights)
        except CheckpointError as exc:
            if weights:
                warnings.warn(f"skipping damaged checkpoint: {exc}", stacklevel=2)
    return None


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest checkpoints."""
    for folder in checkpoint_dirs(run_dir)[max(keep, 1):]:
        remove_atomically(folder)


# -- optimiser and RNG state as tensors + JSON ----------------------------------------------------


def optimizer_state(optimizer: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimiser's state dict into tensors (for safetensors) and JSON-able rest."""
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def load_optimizer_state(optimizer: torch.optim.Optimizer, prefix: str, tensors: dict[str, torch.Tensor],
                         meta: dict) -> None:
    """Inverse of :func:`optimizer_state`."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "."):
            index, key = name[len(prefix) + 1:].split(".", 1)
            state.setdefault(int(index), {})[key] = value
    for index, values in meta.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def encode_bytes(tensor: torch.Tensor) -> str:
    return base64.b64encode(tensor.cpu().numpy().tobytes()).decode("ascii")


def decode_bytes(text: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8)
