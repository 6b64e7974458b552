"""Will the images fit? Checked before they are loaded, from counts and shapes."""

from __future__ import annotations

import math
import os

import numpy as np

from ganaug.errors import DataError


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(count: int, image_shape: tuple[int, ...], where: str, *, bytes_per_value: int = 1,
                 extra: int = 0,
                 fix: str = "shrink them with image_size= (--image-size) or use a subset") -> None:
    """Refuse, before the work, images that would not fit in the available memory.

    Args:
        count, image_shape: how many images of which (C, H, W) shape, each with an int64 label.
        bytes_per_value: 1 for uint8, 4 for float32 batches.
        extra: bytes needed besides (for example the source array a conversion reads from).
        fix: what the user can do, for the message.
    """
    needed = count * int(np.prod(image_shape)) * bytes_per_value + count * 8 + extra
    available = available_memory()
    if available is not None and needed > 0.8 * available:
        raise DataError(
            f"{where}: {count} images of {tuple(image_shape)} need {format_bytes(needed)} in memory, but "
            f"only {format_bytes(available)} is available; {fix}"
        )


def format_bytes(n: int) -> str:
    """Human-readable size, for messages."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    power = min(int(math.log(max(n, 1), 1024)), len(units) - 1)
    return f"{n / 1024 ** power:.1f} {units[power]}"
