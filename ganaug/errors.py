"""Exceptions that ganaug raises on purpose.

Each one carries a message that names what was wrong (a file, an index, an argument) and says how to
fix it, so the CLI can print it as it is, without a traceback.
"""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable


class GanaugError(Exception):
    """Base class of every error ganaug raises deliberately."""


class DataError(GanaugError, ValueError):
    """The input data cannot be turned into an image store (empty, bad labels, corrupt files...)."""


class UnknownGeneratorError(GanaugError, KeyError):
    """No generator family is registered under the asked name."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        message = (
            f"unknown generator {name!r}.{hint} Registered: {', '.join(known) or 'none'}. "
            "Run `ganaug plugins` to see what is installed."
        )
        super().__init__(message)
        self.name = name
        self.message = message

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return self.message


class UnknownNameError(GanaugError, KeyError):
    """No classifier or data set is registered under the asked name."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0])


class PluginError(GanaugError, ValueError):
    """A plugin registered something invalid (a bad name, a duplicate, a class that is not a GAN)."""


class CheckpointError(GanaugError):
    """A checkpoint or saved generator is missing, corrupt, or not in ganaug's safe format."""


class TrainingDivergedError(GanaugError, FloatingPointError):
    """A loss or weight became NaN or infinite during training."""


class ConfigError(GanaugError, ValueError):
    """An argument or config-file entry is unknown or has an invalid value."""


class TrainingInterrupted(GanaugError):
    """Training stopped on SIGINT or SIGTERM after writing a checkpoint."""

    def __init__(self, message: str, signal_number: int = 0) -> None:
        super().__init__(message)
        self.signal_number = signal_number


class UserCodeError(GanaugError):
    """Code the user handed to ganaug (a data factory, a Dataset, a transform, a filter) raised an exception.

    The message names that code, the exception and the line it came from; the original is chained
    (``__cause__``) for a full traceback.
    """


class RunFolderBusyError(GanaugError):
    """Another live process holds the run folder's lock."""


class OtherRankFailed(GanaugError):
    """In a multi-process run, rank 0 could not set up the run; this rank stops with it."""


class OutOfMemoryError(GanaugError, MemoryError):
    """The memory ran out during work whose size the user chose; the message names the options that shrink it."""


_OUT_OF_MEMORY_MARKS = ("can't allocate memory", "out of memory", "cannot allocate memory")


def is_out_of_memory(exc: BaseException) -> bool:
    """``exc`` says the memory ran out: a ``MemoryError``, or torch's RuntimeError from the CPU or CUDA allocator."""
    return isinstance(exc, MemoryError) or (
        isinstance(exc, RuntimeError) and any(mark in str(exc).lower() for mark in _OUT_OF_MEMORY_MARKS))


DISK_FULL = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
"""The errnos of a full disk or an exhausted quota."""


class DiskFullError(GanaugError, OSError):
    """The disk filled up while a run was writing; the last good checkpoint is kept."""


def user_code_error(what: str, exc: BaseException, fix: str = "fix it there") -> UserCodeError:
    """A :class:`UserCodeError` saying that ``what`` raised ``exc``, where, and what to do."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f" at {exc.filename}:{exc.lineno}"
    else:
        where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    error = UserCodeError(f"{what} raised {type(exc).__name__}{': ' + text if text else ''}{where}; {fix}")
    error.__cause__ = exc
    return error
