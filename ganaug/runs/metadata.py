"""Typed checks of the JSON a checkpoint (``meta.json``) or a saved generator (``generator.json``) holds.

Both files are checksummed when written (:mod:`ganaug.storage`), so these checks catch what a checksum
cannot: a file written by another version, or one edited and re-sealed by hand. Every value the
readers use is checked here, when the file is read and before anything is built from it, so a bad
value is a :class:`~ganaug.errors.CheckpointError` naming the file and the key (and a damaged
checkpoint falls back to the one before it) instead of a KeyError halfway through resuming.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ganaug.errors import CheckpointError
from ganaug.seeds import MAX_SEED

MAX_IMAGE_SIDE = 65536
MAX_CLASSES = 1_000_000

Check = tuple[str, Callable[[Any], bool]]


def _int(minimum: int = 0, maximum: int | None = None) -> Check:
    text = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
    return text, lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= minimum and (
        maximum is None or v <= maximum)


def _number(above: float = 0.0) -> Check:
    return f"a number > {above:g}", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > above


STRING: Check = ("a string", lambda v: isinstance(v, str) and bool(v))
OBJECT: Check = ("a JSON object", lambda v: isinstance(v, dict))
OPTIONAL_OBJECT: Check = ("a JSON object or null", lambda v: v is None or isinstance(v, dict))
OPTIONAL_STRING: Check = ("a string or null", lambda v: v is None or isinstance(v, str))
CLASSES: Check = (f"a list of 1 to {MAX_CLASSES} class names (strings)",
                  lambda v: isinstance(v, list) and 0 < len(v) <= MAX_CLASSES and all(isinstance(c, str) for c in v))
IMAGE_SHAPE: Check = (f"[channels, height, width] with channels 1 or 3 and sides 1..{MAX_IMAGE_SIDE}",
                      lambda v: isinstance(v, list) and len(v) == 3 and all(
                          isinstance(n, int) and not isinstance(n, bool) for n in v)
                      and v[0] in (1, 3) and all(1 <= n <= MAX_IMAGE_SIDE for n in v[1:]))
OPTIMIZER: Check = ("a JSON object with 'param_groups' (a list of objects) and 'scalars' (an object)",
                    lambda v: isinstance(v, dict) and isinstance(v.get("param_groups"), list)
                    and all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in v["param_groups"])
                    and isinstance(v.get("scalars", {}), dict))
RNG_RANKS: Check = ("a list of objects with a 'cpu' state",
                    lambda v: isinstance(v, list) and bool(v) and all(
                        isinstance(r, dict) and isinstance(r.get("cpu"), str) for r in v))

GENERATOR_REQUIRED: dict[str, Check] = {"model": STRING, "model_config": OBJECT, "classes": CLASSES,
                                        "image_shape": IMAGE_SHAPE}
GENERATOR_OPTIONAL: dict[str, Check] = {"fidelity": OPTIONAL_OBJECT}

CHECKPOINT_REQUIRED: dict[str, Check] = {
    "step": _int(), "model": STRING, "model_config": OBJECT, "train_config": OBJECT, "classes": CLASSES,
    "image_shape": IMAGE_SHAPE, "opt_g": OPTIMIZER, "opt_d": OPTIMIZER}
CHECKPOINT_OPTIONAL: dict[str, Check] = {
    "lr_scale": _number(), "rollbacks": _int(), "world_size": _int(1), "rng_cpu": STRING, "rng_cuda": OPTIONAL_STRING,
    "rng_ranks": RNG_RANKS, "rng_noise": OPTIONAL_STRING}
TRAIN_CONFIG_USED: dict[str, Check] = {"batch_size": _int(1), "seed": _int(0, MAX_SEED)}


def check_fields(meta: Mapping[str, Any], where: Path | str, required: Mapping[str, Check],
                 optional: Mapping[str, Check] | None = None) -> None:
    """Raise :class:`CheckpointError` naming ``where`` and the key when a value is missing or of the wrong kind."""
    missing = [key for key in required if key not in meta]
    if missing:
        raise CheckpointError(f"{where}: missing {', '.join(missing)}; the file is damaged or not written by ganaug")
    for key, (expected, ok) in {**required, **(optional or {})}.items():
        if key in meta and not ok(meta[key]):
            shown = repr(meta[key])
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            raise CheckpointError(f"{where}: {key} must be {expected}, got {shown}; the file is damaged")


def check_checkpoint_meta(meta: Mapping[str, Any], where: Path) -> None:
    """Every value of a checkpoint's ``meta.json`` that resuming reads."""
    check_fields(meta, where, CHECKPOINT_REQUIRED, CHECKPOINT_OPTIONAL)
    check_fields(meta["train_config"], f"{where} (train_config)", TRAIN_CONFIG_USED)
    if "rng_ranks" not in meta and "rng_cpu" not in meta:
        raise CheckpointError(f"{where}: missing rng_ranks and rng_cpu (the RNG states); the file is damaged")


def check_generator_meta(meta: Mapping[str, Any], where: Path) -> None:
    """Every value of a saved generator's ``generator.json`` that loading reads."""
    check_fields(meta, where, GENERATOR_REQUIRED, GENERATOR_OPTIONAL)
