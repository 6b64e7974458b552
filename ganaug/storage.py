"""Atomic, verifiable folders of safetensors plus JSON; nothing is ever unpickled.

A folder holds one weights file (tensors) and one JSON file (everything else, plus the SHA-256 of
the weights file and the SHA-256 of the JSON's own content, ``meta_sha256``). It is written into a hidden temporary folder, each file fsynced, then renamed
into place, so a kill at any moment leaves either the previous folder or the complete new one. On
read both checksums are verified, so a damaged or edited ``meta.json`` is refused like damaged weights.
A JSON file without ``meta_sha256`` is refused too (its checksum line was deleted, or the file was cut
short), unless it is a file as ganaug 0.1.0 wrote it before that checksum existed
(:func:`predates_checksums`). Checkpoints and saved generators are both written this way.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ganaug.errors import CheckpointError

WEIGHTS_FILE = "weights.safetensors"


META_FILE = "meta.json"


UNSAFE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


META_CHECKSUM = "meta_sha256"


def meta_checksum(meta: dict[str, Any]) -> str:
    """SHA-256 of ``meta``'s content (canonical JSON, its own checksum left out)."""
    body = {k: v for k, v in meta.items() if k != META_CHECKSUM}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def seal_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` with its checksum (re)computed; tools that edit a meta file on purpose call it."""
    return {**meta, META_CHECKSUM: meta_checksum(meta)}


PRE_CHECKSUM_KEYS = {
    "ganaug-checkpoint": frozenset({
        "format", "ganaug_version", "step", "model", "model_config", "train_config", "classes", "image_shape",
        "opt_g", "opt_d", "lr_scale", "rollbacks", "world_size", "rng_cpu", "rng_cuda", "rng_ranks", "rng_noise",
        "sha256"}),
    "ganaug-generator": frozenset({"format", "model", "model_config", "classes", "image_shape", "sha256"}),
}
"""The keys of the JSON files ganaug 0.1.0 wrote, before ``meta_sha256``, by their ``format``."""

PRE_CHECKSUM_TRAIN_FIELDS = frozenset({
    "batch_size", "channels", "channels_last", "checkpoint_every", "collapse_warning", "collapse_warning_after",
    "compile", "device", "diversity_samples", "fast_path", "grid_per_class", "image_size", "keep_checkpoints",
    "log_every", "max_rollbacks", "model", "out", "progress", "resume", "rollback_lr_factor", "sample_every", "seed",
    "skip_bad", "steps", "tensorboard"})
"""The training options of 0.1.0, the ``train_config`` of its checkpoints."""


def predates_checksums(meta: dict[str, Any]) -> bool:
    """Whether ``meta`` is a file as ganaug 0.1.0 wrote it, so it may lack ``meta_sha256``.

    A file holds no version that tells, so its keys do: 0.1.0's files hold none that came later (a
    checkpoint's training options included). A later file without its checksum was edited or damaged.
    """
    keys = PRE_CHECKSUM_KEYS.get(meta.get("format"))
    train = meta.get("train_config", {})
    return (keys is not None and set(meta) <= keys and isinstance(train, dict)
            and set(train) <= PRE_CHECKSUM_TRAIN_FIELDS)


def _save_weights(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """``safetensors`` ``save_file``, its I/O failures (a full disk, a read-only folder) raised as the ``OSError``
    they are, with the file's name, so they get the same message as every other write."""
    try:
        save_file(tensors, str(path))
    except SafetensorError as exc:
        code = re.search(r"os error (\d+)|code: (\d+)", str(exc))
        if code is None:
            raise
        number = int(code.group(1) or code.group(2))
        raise OSError(number, os.strerror(number), str(path)) from exc


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_replaceable(target: Path, weights_name: str = WEIGHTS_FILE, meta_name: str = META_FILE) -> None:
    """Refuse a target that exists and is not a folder of ours: the user's files are never replaced."""
    target = Path(target)
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir() or target.is_symlink():
        raise CheckpointError(f"{target} exists and is not a folder ganaug wrote; refusing to replace it. Choose "
                              "another path or move it away")
    foreign = sorted(p.name for p in target.iterdir() if p.name not in (weights_name, meta_name))
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise CheckpointError(f"{target} holds files ganaug did not write ({shown}); refusing to replace it. Choose "
                              "another path or move them away")


def write_folder_atomically(target: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any],
                            weights_name: str = WEIGHTS_FILE, meta_name: str = META_FILE) -> Path:
    """Write ``tensors`` and ``meta`` into ``target`` so that it appears complete or not at all."""
    target = Path(target)
    check_replaceable(target, weights_name, meta_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{target.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        tmp.mkdir()
        weights = tmp / weights_name
        _save_weights({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, weights)
        _fsync(weights)
        meta = seal_meta({**meta, "sha256": sha256_of(weights)})
        with open(tmp / meta_name, "w", encoding="utf-8") as handle:
            json.dump(meta, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        _fsync(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a full disk must not keep half a checkpoint's bytes
        raise
    if target.exists():  # move the old one aside atomically, so a kill never leaves half a folder
        remove_atomically(target)
    os.replace(tmp, target)
    _fsync(target.parent)
    return target


def remove_atomically(folder: Path) -> None:
    """Rename ``folder`` to a hidden temporary name (atomic), then delete it.

    A kill during the deletion leaves a ``.tmp-*`` folder that the next run removes, never a
    half-deleted checkpoint that looks real.
    """
    doomed = folder.parent / f".tmp-delete-{folder.name}-{os.getpid()}"
    os.replace(folder, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def read_meta(folder: Path, weights_name: str = WEIGHTS_FILE, meta_name: str = META_FILE) -> dict[str, Any]:
    """The verified JSON of a folder written by :func:`write_folder_atomically`, without reading its weights."""
    folder = Path(folder)
    weights, meta_path = folder / weights_name, folder / meta_name
    for path in (weights, meta_path):
        if path.exists() and not path.resolve().is_relative_to(folder.resolve()):
            raise CheckpointError(f"{path} links outside {folder} (to {path.resolve()}); refusing to read it")
    if not meta_path.is_file() or not weights.is_file():
        unsafe = sorted(p.name for p in folder.glob("*") if p.suffix in UNSAFE_SUFFIXES) if folder.is_dir() else []
        hint = (f" It holds {', '.join(unsafe)}, which may be pickles: ganaug never loads those." if unsafe else "")
        raise CheckpointError(f"{folder}: missing {meta_name} or {weights_name}; not a ganaug checkpoint.{hint}")
    try:
        with open(meta_path, encoding="utf-8") as handle:
            meta = json.load(handle)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{meta_path}: unreadable JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{meta_path}: expected a JSON object")
    if META_CHECKSUM not in meta and not predates_checksums(meta):
        raise CheckpointError(f"{meta_path}: no checksum ({META_CHECKSUM}), so the file was edited or damaged after "
                              "writing; restore it from a copy, or train anew")
    if META_CHECKSUM in meta and meta[META_CHECKSUM] != meta_checksum(meta):
        raise CheckpointError(f"{meta_path}: checksum mismatch (the file was damaged or edited after writing)")
    return meta


def read_folder(folder: Path, weights_name: str = WEIGHTS_FILE,
                meta_name: str = META_FILE) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read and verify a folder written by :func:`write_folder_atomically`."""
    meta = read_meta(folder, weights_name, meta_name)
    weights = Path(folder) / weights_name
    expected = meta.get("sha256")
    if expected != sha256_of(weights):
        raise CheckpointError(f"{weights}: checksum mismatch (file damaged or changed after writing)")
    try:
        tensors = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error types
        raise CheckpointError(f"{weights}: not a valid safetensors file ({exc})") from None
    return tensors, meta
