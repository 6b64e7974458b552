"""Progress that suits where it goes: a live bar on a terminal, a few plain lines in a log file or under CI.

A tqdm bar redraws itself with carriage returns, which a terminal overwrites and a log file keeps: a
training log became hundreds of bar updates. :func:`progress` gives tqdm's bar when the stream is an
interactive terminal (and ``CI`` is not set), else a :class:`LineProgress`, which writes one line each
time another ``every`` share of the work is done or ``seconds`` have passed, whichever comes first.
Both take the calls the loops make: ``update``, ``set_description``, ``set_postfix``, ``reset``, ``close``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

from tqdm.auto import tqdm


def progress(total: int, *, desc: str = "", unit: str = "it", initial: int = 0, disable: bool = False,
             stream: TextIO | None = None) -> Any:
    """A progress display for ``total`` units of work, written to ``stream`` (default: standard error)."""
    stream = stream if stream is not None else sys.stderr
    if disable or _interactive(stream):
        return tqdm(total=total, initial=initial, desc=desc, unit=unit, disable=disable, dynamic_ncols=True,
                    file=stream)
    return LineProgress(total, desc=desc, unit=unit, initial=initial, stream=stream)


def end_bars() -> None:
    """Close every live tqdm bar, which ends its line: a message printed next (an error) starts a line of its own
    instead of being glued to the bar. A bar left open by an exception is still alive: the traceback holds it."""
    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()


def _interactive(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("CI")


class LineProgress:
    """Plain progress lines: ``desc: n/total unit (p%), elapsed, about t left, key=value...``.

    Args:
        total: units of work.
        desc, unit: what is counted.
        initial: units already done (a resumed run).
        stream: where the lines go.
        every: a line each time this share of ``total`` more is done.
        seconds: a line when this long has passed since the last one, whatever the share.
    """

    def __init__(self, total: int, *, desc: str = "", unit: str = "it", initial: int = 0, stream: TextIO,
                 every: float = 0.05, seconds: float = 30.0) -> None:
        self.total, self.desc, self.unit, self.stream = total, desc, unit, stream
        self.every, self.seconds = every, seconds
        self.postfix: dict[str, Any] = {}
        self.n = self._shown = initial
        self._started = self._last = time.monotonic()
        self._initial = initial
        self._closed = False

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        step = max(1, int(self.total * self.every))
        if self.n - self._shown >= step or (now - self._last >= self.seconds and self.n > self._shown):
            self._line(now)

    def set_description(self, desc: str, refresh: bool = True) -> None:  # noqa: ARG002 - tqdm's signature
        self.desc = desc

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:  # noqa: ARG002 - tqdm's signature
        self.postfix = values

    def reset(self, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        self.n = self._shown = self._initial = 0
        self._started = self._last = time.monotonic()

    def close(self) -> None:
        if not self._closed and self.n != self._shown:
            self._line(time.monotonic())
        self._closed = True

    def _line(self, now: float) -> None:
        elapsed = now - self._started
        done = self.n - self._initial
        share = f" ({self.n / self.total:.0%})" if self.total else ""
        left = ""
        if done > 0 and self.total and self.n < self.total:
            left = f", about {_clock(elapsed / done * (self.total - self.n))} left"
        extra = "".join(f", {k}={v}" for k, v in self.postfix.items())
        prefix = f"{self.desc}: " if self.desc else ""
        self.stream.write(f"{prefix}{self.n}/{self.total} {self.unit}{share}, {_clock(elapsed)} elapsed{left}{extra}\n")
        self.stream.flush()
        self._shown, self._last = self.n, now


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
