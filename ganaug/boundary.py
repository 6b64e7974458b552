"""The error boundary of the command line: every failure becomes one message and an exit status.

Errors ganaug raises on purpose (:class:`~ganaug.errors.GanaugError`) already say what was wrong and
what to do; they are printed as they are. Failures of the machine (a missing or unwritable file, a
full disk, memory that ran out) are named with the file or size involved. Anything else is a bug:
the user gets one line saying so, where the full traceback was saved and how to report it; ``--debug``
(or ``GANAUG_DEBUG=1``) lets it through with its traceback instead.

Exit statuses: 1 for a bad input or a failure of the machine, 70 (``EX_SOFTWARE``) for a bug,
128 + N when signal N stopped the run, 2 for a command-line usage error (click's own).
"""

from __future__ import annotations

import datetime
import errno
import os
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

from ganaug.errors import DISK_FULL, GanaugError, TrainingInterrupted, is_out_of_memory

BUG_EXIT = 70
DEBUG_ENV = "GANAUG_DEBUG"
REPORT_HINT = "please report it with that file (and the command you ran) to the ganaug maintainers"


@dataclass(frozen=True)
class Failure:
    """What the user is told: one message and the exit status; ``bug`` when it is ganaug's fault."""

    message: str
    exit_code: int
    bug: bool = False


def debug_requested() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def describe(exc: BaseException, *, traceback_dir: Path | None = None) -> Failure:
    """The message and exit status for ``exc``; a bug's traceback is saved first."""
    if isinstance(exc, TrainingInterrupted):
        return Failure(str(exc), 128 + exc.signal_number if exc.signal_number else 1)
    if isinstance(exc, GanaugError):
        return Failure(str(exc), 1)
    if isinstance(exc, KeyboardInterrupt):
        return Failure("interrupted (Ctrl-C)", 130)
    if is_out_of_memory(exc):
        return Failure(f"out of memory ({_first_line(exc)}); use smaller images (--image-size), fewer images per "
                       "call (--per-class) or a smaller model", 1)
    if isinstance(exc, OSError) and (exc.errno is not None or exc.filename):
        return Failure(_describe_os_error(exc), 1)
    saved = save_traceback(exc, traceback_dir)
    where = f"the full traceback is in {saved}" if saved else "the traceback could not be saved"
    rank = int(os.environ.get("RANK", "0") or 0)
    if rank > 0:  # under torchrun, a rank's unexpected error is most often another rank's failure seen from here
        return Failure(f"rank {rank}: {type(exc).__name__}: {_first_line(exc)}. This usually follows another "
                       f"process's failure, reported above or below; if none is, it is a bug: {where}; {REPORT_HINT}",
                       1)
    return Failure(f"internal error, a bug in ganaug: {type(exc).__name__}: {_first_line(exc)}. {where}; "
                   f"{REPORT_HINT}. Rerun with --debug to see it here.", BUG_EXIT, bug=True)


def save_traceback(exc: BaseException, folder: Path | None = None) -> Path | None:
    """Write ``exc``'s traceback (with the command line and versions) to a new file; its path, or None."""
    folder = Path(folder or os.environ.get("GANAUG_CRASH_DIR") or tempfile.gettempdir())
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        from ganaug._version import __version__

        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"ganaug-crash-{stamp}-{os.getpid()}.txt"
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        header = f"command: {' '.join(sys.argv)}\nganaug {__version__}, Python {sys.version.split()[0]}\n\n"
        path.write_text(header + text, encoding="utf-8")
        return path
    except OSError:
        return None


def _describe_os_error(exc: OSError) -> str:
    name = exc.filename if exc.filename is not None else "a file"
    if exc.filename2 is not None:
        name = f"{exc.filename} -> {exc.filename2}"
    reason = exc.strerror or str(exc)
    if exc.errno in DISK_FULL:
        return f"{name}: the disk is full ({reason}); free some space and run the command again"
    hints = {
        errno.ENOENT: "check the path",
        errno.EACCES: "check its permissions or choose another path",
        errno.EPERM: "check its permissions or choose another path",
        errno.EROFS: "it is on a read-only file system; choose another path",
        errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
        errno.EISDIR: "it is a folder; give a file",
        errno.EEXIST: "it already exists; choose another path",
        errno.ELOOP: "a symbolic link loops; fix or remove it",
        errno.ENAMETOOLONG: "use a shorter path",
    }
    hint = hints.get(exc.errno, "check the path and the disk")
    return f"{name}: {reason}; {hint}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return first if len(first) <= 300 else first[:297] + "..."
