"""Where commands write their results, checked before any work: never over what the user already has.

Every ``--out`` of ``sample``, ``restore`` and ``gain`` (and the Python calls behind them) goes through
:func:`check_destination`: an existing file, or an existing folder that holds anything, is refused unless
the caller asks to overwrite; an output inside one of the command's inputs is refused always, since it
would mix results among the user's own images; a path that looks like an image file but would become a
folder is refused with the two forms that work.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ganaug.errors import ConfigError

ARRAY_SUFFIX = ".npz"
FILE_LIKE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".npy",
                                ".pt", ".pth", ".json", ".txt", ".csv", ".zip", ".tar", ".gz"})
"""Suffixes that say "a file": an output folder with one of these names is a mistake, not a wish."""


def check_destination(out: str | os.PathLike, *, overwrite: bool = False, inputs: Iterable[str | os.PathLike] = (),
                      option: str = "--out", allow_array: bool = True) -> Path:
    """Refuse an output that would replace or mix with the user's files; returns ``out`` as a Path.

    Args:
        out: the folder (or, with ``allow_array``, the ``.npz`` file) a command is about to write.
        overwrite: write into an existing non-empty folder, or replace an existing file.
        inputs: paths the command reads (its data, masks, sources); ``out`` may be none of them and lie
            inside none of them, whatever ``overwrite`` says.
        option: how the caller names ``out`` in messages (``--out``, ``out=``).
        allow_array: whether a file ending in ``.npz`` is a valid output.
    """
    out = Path(out)
    try:
        return _check(out, overwrite, inputs, option, allow_array)
    except OSError as exc:  # a name too long for the file system, a folder that cannot be listed
        raise ConfigError(f"{option} {str(out)[:80]}: not a usable path ({exc.strerror or exc}); pass another "
                          f"{option}") from None


def _check(out: Path, overwrite: bool, inputs: Iterable[str | os.PathLike], option: str, allow_array: bool) -> Path:
    check_outside_inputs(out, inputs, option)
    forms = "a folder (PNG files are written in it) or a file ending in .npz" if allow_array else "a folder"
    suffix = out.suffix.lower()
    if allow_array and suffix == ARRAY_SUFFIX:
        if out.is_dir():
            raise ConfigError(f"{option} {out} is a folder, not an .npz file; pass a file path ending in .npz")
        if out.exists() and not overwrite:
            raise ConfigError(f"{option} {out} exists; ganaug does not replace files: pass another {option}, "
                              "move it away, or pass --overwrite (overwrite=True) to replace it")
        return out
    if suffix in FILE_LIKE_SUFFIXES and not out.is_dir():
        raise ConfigError(f"{option} {out} ends in {out.suffix}, but it would be written as a folder; pass {forms}")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{option} {out} is a file; pass {forms}, or move the file away")
    if out.is_dir() and not overwrite:
        first = next(iter(sorted(out.iterdir())), None)
        if first is not None:
            raise ConfigError(f"{option} {out} already holds files (e.g. {first.name}); ganaug does not write among "
                              f"them: pass an empty or new {option}, or pass --overwrite (overwrite=True) to write "
                              "into it, replacing files of the same name")
    return out


def check_outside_inputs(out: str | os.PathLike, inputs: Iterable[str | os.PathLike], option: str = "--out") -> None:
    """Refuse an ``out`` that is one of ``inputs`` or lies inside one (paths that do not exist are skipped)."""
    out = Path(out)
    resolved = out.resolve()
    for source in inputs:
        source_path = Path(source)
        if not source_path.exists():
            continue
        source_resolved = source_path.resolve()
        if resolved == source_resolved or source_resolved in resolved.parents:
            where = "is" if resolved == source_resolved else "is inside"
            raise ConfigError(f"{option} {out} {where} the input {source_path}; ganaug never writes into what it "
                              f"reads: pass an {option} outside it")
