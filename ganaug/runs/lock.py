"""One process per run folder: an exclusive lock held for the whole run.

The lock is an OS file lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows) on ``<run>/.lock``, so
the operating system releases it when the process ends, however it ends: a run killed with SIGKILL
leaves no lock behind, only the file, whose content (the holder's PID, host, command and start time)
is then known to be stale and is reported when the next run takes over. A second trainer or a
concurrent ``--resume`` on the same folder is refused with a message naming the holder.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import sys
import warnings
from pathlib import Path
from typing import Any

from ganaug.errors import RunFolderBusyError

LOCK_FILE = ".lock"

if sys.platform == "win32":  # pragma: no cover - the project is tested on Linux
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class RunLock:
    """The exclusive lock of one run folder (a context manager, or :meth:`acquire` / :meth:`release`).

    Args:
        folder: the run folder (it must exist).
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunLock:
        """Take the lock, or raise :class:`RunFolderBusyError` naming the process that holds it."""
        if self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            holder = _describe(_read(fd))
            os.close(fd)
            raise RunFolderBusyError(
                f"{self.folder} is in use by another ganaug process ({holder}); wait for it to finish or stop it, or "
                "choose another out= (--out). A folder belongs to one run at a time")
        previous = _read(fd)
        if previous.get("pid") and not (previous.get("pid") == os.getpid() and previous.get("host") == _host()):
            warnings.warn(f"{self.folder}: the run before this one ({_describe(previous)}) did not end cleanly "
                          "(killed or crashed); its lock was stale and is taken over", stacklevel=3)
        record = {"pid": os.getpid(), "host": _host(), "command": " ".join(sys.argv)[:300],
                  "started": datetime.datetime.now().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock up and mark the file as released (idempotent)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # a clean end: the next run has nothing stale to report
            _unlock(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read(fd: int) -> dict[str, Any]:
    try:
        data = os.pread(fd, 4096, 0)
        record = json.loads(data.decode("utf-8")) if data.strip() else {}
        return record if isinstance(record, dict) else {}
    except (OSError, ValueError):
        return {}


def _describe(record: dict[str, Any]) -> str:
    if not record:
        return "process unknown"
    return (f"PID {record.get('pid', '?')} on {record.get('host', '?')}, started {record.get('started', '?')}: "
            f"{record.get('command', '?')}")


def _host() -> str:
    return socket.gethostname()
