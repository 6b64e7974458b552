"""torchrun's launcher for ``ganaug train --nproc N``, with ganaug's error boundary around it.

Each rank prints its own one-line error through the CLI's boundary; the launcher then adds one line
naming the ranks that failed and exits with their status, instead of torchrun's traceback.
"""

from __future__ import annotations

import signal
import sys


def failure_line(exit_codes: dict[int, int]) -> str:
    """The launcher's line for ranks that ended badly, by rank: those that failed, and those it stopped.

    When one rank fails, torchrun stops the others with SIGTERM; a rank that ended that way, beside one
    that failed on its own, was stopped rather than failed, and its message (if any) is not the reason.
    """
    failed = {rank: code for rank, code in exit_codes.items() if code > 0}
    stopped = sorted(rank for rank, code in exit_codes.items() if code == -signal.SIGTERM) if failed else []
    failed = failed or exit_codes
    line = "training stopped because " + ", ".join(f"rank {rank} (exit status {code})"
                                                   for rank, code in sorted(failed.items()))
    line += " failed; their messages are above"
    if stopped:
        line += "; the launcher then stopped " + ", ".join(f"rank {rank}" for rank in stopped)
    return line


def run_launcher(torchrun_argv: list[str]) -> int:
    """torchrun's launcher with its arguments; a failed rank is one line and an exit status, not a traceback."""
    import logging

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)  # the ranks say what failed
    try:
        run(parse_args(torchrun_argv))
    except ChildFailedError as exc:
        print(f"Error: {failure_line({rank: failure.exitcode for rank, failure in exc.failures.items()})}",
              file=sys.stderr)
        codes = [failure.exitcode for failure in exc.failures.values() if failure.exitcode > 0]
        return min(codes) if codes else 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(run_launcher(sys.argv[1:]))
