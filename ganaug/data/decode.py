"""Decode image files into one uint8 (N, C, H, W) array, on several cores, as fast as PIL reads them.

Each file is opened, converted and resized by PIL alone (``Image.BILINEAR``, antialiased, by the rule of
:mod:`ganaug.data.resize`), then copied into an array allocated once for the whole folder: no torch
call per image (torch's threads, on a busy machine, made each small resize cost milliseconds), no
copy of the decoded image. PIL releases the GIL while it decodes, converts and resizes, so a pool of
threads decodes on several cores (speeds: docs/results.md, "Loading an image folder").

Modes L and RGB are read as they are; 1 and LA become L, the others (P, RGBA, CMYK...) RGB;
``channels=1`` converts to grey with PIL's ITU-R 601 luma before resizing, ``channels=3`` repeats a
grey image's channel after. 16-bit and float images go through :mod:`ganaug.data.pixels` first, so they
are scaled by its rules.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ganaug.data.pixels import _image_to_chw_uint8
from ganaug.data.resize import DEFAULT_RESIZE, resize_batch, resize_pil
from ganaug.errors import DataError

PARALLEL_FROM = 256
"""Fewer files than this are decoded in the calling thread: a pool's start costs more than it saves."""
MAX_WORKERS = 8
"""The default pool is one thread per core up to this many."""
NUMERIC_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
"""PIL modes scaled to uint8 by the pixel rules (by each image's own range) rather than converted by PIL."""


def default_workers() -> int:
    """Threads used when ``workers=None``: the cores this process may run on, at most :data:`MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def decode_file(path: Path, size: tuple[int, int] | None, channels: int | None,
                resize: str = DEFAULT_RESIZE) -> np.ndarray:
    """One image file as a uint8 (C, H, W) array at ``size`` (its own size when None).

    Raises :class:`DataError` naming the file when it cannot be read or decoded, or has more pixels
    than PIL's ``Image.MAX_IMAGE_PIXELS`` (a decompression bomb).
    """
    try:
        with Image.open(path) as image:
            width, height = image.size
            limit = Image.MAX_IMAGE_PIXELS
            if limit is not None and width * height > limit:
                raise DataError(f"{path}: image too large ({width * height} pixels, over PIL's limit of {limit}; "
                                "raise PIL.Image.MAX_IMAGE_PIXELS if the file is trusted)")
            if image.mode in NUMERIC_MODES:
                image.load()
                tensor = _image_to_chw_uint8(image, str(path), channels)
                return resize_batch(tensor[None], size, resize)[0].numpy()
            return _pil_array(image, size, channels, resize)
    except DataError:
        raise
    except Image.DecompressionBombError as exc:
        raise DataError(f"{path}: image too large ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        try:
            empty = path.stat().st_size == 0
        except OSError:
            empty = False
        reason = "empty file" if empty else f"{type(exc).__name__}: {exc}"
        raise DataError(f"{path}: unreadable or corrupt image ({reason})") from None


def _pil_array(image: Image.Image, size: tuple[int, int] | None, channels: int | None, resize: str) -> np.ndarray:
    if image.mode not in ("L", "RGB"):
        image = image.convert("L" if image.mode in ("1", "LA", "La") else "RGB")
    if channels == 1 and image.mode == "RGB":
        image = image.convert("L")
    if size is not None:
        image = resize_pil(image, size, resize)
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[None]
        return np.repeat(array, 3, axis=0) if channels == 3 else array
    return array.transpose(2, 0, 1)


@dataclass
class Decoded:
    """What :func:`decode_files` made of the files: the images of the readable ones, in the files' order."""

    images: np.ndarray
    """uint8 (n, C, H, W): the readable files' images, in order."""
    kept: list[int]
    """Index into the files of each image."""
    errors: dict[int, DataError] = field(default_factory=dict)
    """File index -> why it could not be read."""
    mismatched: dict[int, tuple[int, ...]] = field(default_factory=dict)
    """File index -> its (C, H, W) where it differs from the first readable image's."""


def decode_files(paths: Sequence[Path], size: tuple[int, int] | None, channels: int | None,
                 resize: str = DEFAULT_RESIZE, workers: int | None = None, stop_at_error: bool = False) -> Decoded:
    """Decode every file of ``paths`` into one array, on ``workers`` threads (None: :func:`default_workers`).

    The result does not depend on ``workers``: each file is written to its own slot, and the first
    readable file (in order) sets the shape. A file that cannot be read, or whose shape differs from
    the first's, is recorded by index and left out; the caller decides what to raise. With
    ``stop_at_error``, files after the first unreadable one (in order) are not decoded: the error of the
    first is still found exactly, but the images are incomplete.

    Shape:
        images: (n, C, H, W) uint8, n the number of files read with the first one's shape.
    """
    paths = list(paths)
    workers = default_workers() if workers is None else max(1, int(workers))
    errors: dict[int, DataError] = {}
    mismatched: dict[int, tuple[int, ...]] = {}
    with warnings.catch_warnings():
        # PIL warns, then errors, above its pixel limit; decode_file refuses the image itself. The filter is
        # set here, once, for every thread: catch_warnings inside threads would race on the global filters.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        start, first = 0, None
        while first is None and start < len(paths):
            try:
                first = decode_file(paths[start], size, channels, resize)
            except DataError as exc:
                errors[start] = exc
                if stop_at_error:
                    break
            start += 1
        if first is None:
            return Decoded(np.empty((0, 0, 0, 0), np.uint8), [], errors)
        out = np.empty((len(paths), *first.shape), np.uint8)
        out[start - 1] = first
        stop = [len(paths)]  # with stop_at_error, the first unreadable file: none after it is decoded

        def decode_range(begin: int, end: int) -> None:
            for index in range(begin, end):
                if index >= stop[0]:
                    return
                try:
                    array = decode_file(paths[index], size, channels, resize)
                except DataError as exc:
                    errors[index] = exc
                    if stop_at_error:
                        stop[0] = min(stop[0], index)
                    continue
                if array.shape != first.shape:
                    mismatched[index] = tuple(array.shape)
                    continue
                out[index] = array

        rest = len(paths) - start
        if workers == 1 or rest < PARALLEL_FROM:
            decode_range(start, len(paths))
        else:
            chunk = max(16, min(256, rest // (workers * 8)))
            pool = ThreadPoolExecutor(workers, thread_name_prefix="ganaug-decode")
            try:
                futures = [pool.submit(decode_range, b, min(b + chunk, len(paths)))
                           for b in range(start, len(paths), chunk)]
                for future in futures:
                    future.result()
            finally:
                pool.shutdown(wait=True, cancel_futures=True)  # Ctrl-C: the running chunks finish, no new ones
    kept = [i for i in range(start - 1, stop[0]) if i not in errors and i not in mismatched]
    images = out if len(kept) == len(paths) else out[kept]
    return Decoded(images, kept, errors, mismatched)
