"""SIGINT/SIGTERM during training: stop promptly in every phase, with a checkpoint when there is one to write.

Inside a training step the signal is *deferred*: the step finishes, a checkpoint is written and
:class:`~ganaug.errors.TrainingInterrupted` is raised. Anywhere else (set-up, resuming, scoring,
writing grids) the handler raises :class:`StopNow` at once, and the trainer turns it into the same
checkpoint-and-stop between steps, or a plain stop before training began. A second signal stops at
once: Ctrl-C raises ``KeyboardInterrupt``, SIGTERM ends the process (the last checkpoint stays valid).
Under DDP every signal is deferred to the step boundary, where the ranks agree on stopping together.
Before the trainer exists (``fit`` loading the data), :func:`stops_before_training` gives the same stop.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

from ganaug.errors import TrainingInterrupted


class StopNow(BaseException):  # noqa: N818 - a control-flow signal, like KeyboardInterrupt
    """Raised by the handler outside a step: unwind to the trainer, which checkpoints and stops."""


class StopRequest:
    """Set by the signal handlers; the training loop checks :attr:`signal_number` after each step."""

    def __init__(self, *, immediate: bool = True) -> None:
        self.signal_number: int | None = None
        self.immediate = immediate
        self._deferring = False

    @property
    def requested(self) -> bool:
        return self.signal_number is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signal_number).name if self.signal_number else "a signal"

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """A region (one training step) that a signal does not interrupt; it is acted on afterwards."""
        previous, self._deferring = self._deferring, True
        try:
            yield
        finally:
            self._deferring = previous

    @contextlib.contextmanager
    def handlers(self) -> Iterator[None]:
        """Install the handlers for the duration of a run (main thread only), then restore the previous ones."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):  # noqa: ARG001
            if self.signal_number is not None:  # a second signal: stop at once
                if signum == signal.SIGINT:
                    raise KeyboardInterrupt
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)
                return
            self.signal_number = signum
            if self.immediate and not self._deferring:
                raise StopNow

        previous = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.getsignal(signum)
            signal.signal(signum, handler)
        try:
            yield
        finally:
            for signum, old in previous.items():
                signal.signal(signum, old)


@contextlib.contextmanager
def stops_before_training(phase: str) -> Iterator[None]:
    """SIGINT or SIGTERM during ``phase`` (e.g. ``"while loading the data"``) stops it at once with the
    :class:`~ganaug.errors.TrainingInterrupted` of a stop during set-up, so SIGTERM says so in one line as
    SIGINT does, instead of ending the process silently."""
    stop = StopRequest()
    try:
        with stop.handlers():
            yield
    except StopNow:
        raise TrainingInterrupted(f"stopped by {stop.name} {phase}, before training began; nothing was trained or "
                                  "saved", stop.signal_number or 0) from None


@contextlib.contextmanager
def stops_at_once(command: str, unfinished: str) -> Iterator[None]:
    """SIGINT or SIGTERM during a command without checkpoints (``gain``, ``plan``, ``sample``, ``restore``) stops
    it at once with one line naming the signal and what was left ``unfinished``, instead of ending the process
    silently (SIGTERM's default); a ``fit`` inside installs its own handlers for its run."""
    stop = StopRequest()
    try:
        with stop.handlers():
            yield
    except StopNow:
        raise TrainingInterrupted(f"stopped by {stop.name} during `ganaug {command}`; {unfinished}",
                                  stop.signal_number or 0) from None
