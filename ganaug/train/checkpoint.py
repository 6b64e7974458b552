"""Checkpoints of a training run: ``checkpoints/step_<N>/`` folders, newest valid first.

Each is an atomic safetensors + JSON folder (:mod:`ganaug.storage`); a damaged newest checkpoint
falls back to the one before it. Optimiser and RNG states are split into tensors and JSON here.
"""

from __future__ import annotations

import base64
import warnings
from pathlib import Path
from typing import Any

import torch

from ganaug.errors import CheckpointError
from ganaug.storage import _remove_atomically, read_folder

CHECKPOINT_FORMAT = "ganaug-checkpoint"


def checkpoint_dirs(run_dir: Path) -> list[Path]:
    """Checkpoint folders of a run, newest first."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith("step_") and p.name[5:].isdigit()]
    inside = []
    for folder in found:
        if not folder.resolve().is_relative_to(root.resolve()):
            warnings.warn(f"ignoring {folder}: it links outside the run folder ({folder.resolve()})", stacklevel=2)
            continue
        inside.append(folder)
    return sorted(inside, key=lambda p: int(p.name[5:]), reverse=True)


def load_latest_checkpoint(run_dir: Path) -> tuple[Path, dict[str, torch.Tensor], dict[str, Any]] | None:
    """The newest checkpoint of a run that verifies; damaged newer ones are skipped with a warning."""
    for folder in checkpoint_dirs(run_dir):
        try:
            tensors, meta = read_folder(folder)
        except CheckpointError as exc:
            warnings.warn(f"skipping damaged checkpoint: {exc}", stacklevel=2)
            continue
        if meta.get("format") != CHECKPOINT_FORMAT:
            warnings.warn(f"skipping {folder}: not a ganaug checkpoint", stacklevel=2)
            continue
        return folder, tensors, meta
    return None


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest checkpoints."""
    for folder in checkpoint_dirs(run_dir)[max(keep, 1):]:
        _remove_atomically(folder)


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
