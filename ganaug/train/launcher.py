"""torchrun's launcher for ``ganaug train --nproc N``, with ganaug's error boundary around it.

Each rank prints its own one-line error through the CLI's boundary; the launcher then adds one line
naming the ranks that failed and exits with their status, instead of torchrun's traceback.
"""

from __future__ import annotations

import sys


def run_launcher(torchrun_argv: list[str]) -> int:
    """torchrun's launcher with its arguments; a failed rank is one line and an exit status, not a traceback."""
    import logging

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)  # the ranks say what failed
    try:
        run(parse_args(torchrun_argv))
    except ChildFailedError as exc:
        failed = ", ".join(f"rank {rank} (exit status {failure.exitcode})"
                           for rank, failure in sorted(exc.failures.items()))
        print(f"Error: training stopped because {failed} failed; their messages are above", file=sys.stderr)
        codes = [failure.exitcode for failure in exc.failures.values() if failure.exitcode > 0]
        return min(codes) if codes else 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(run_launcher(sys.argv[1:]))
