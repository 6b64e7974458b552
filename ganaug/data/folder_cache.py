"""The decoded cache of image folders: a second load of the same folder reads one file instead of every image.

Where: ``$GANAUG_CACHE_DIR/folders/`` when that variable is set, else ``$XDG_CACHE_HOME/ganaug/folders/``
(``~/.cache/ganaug/folders/``); never inside the data folder. Delete the folder to clear it.

One cache folder per (folder's resolved path, image size, channels, resize rule, Pillow version,
:data:`FORMAT_VERSION`), named by the SHA-256 of those, written by :mod:`ganaug.storage` (atomic,
checksummed; images and labels in safetensors, the rest in JSON, nothing pickled). It is never trusted
without a check: on every use the checksums are verified and the fingerprint of the folder's files
(relative path, label, size and ``mtime_ns`` of every image file, and the class names) must match the
folder as it is now; a stale, damaged or partial cache is ignored and rebuilt. A cache that cannot be
written (read-only home, full disk) is a warning, never a failed load.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import PIL
import torch

from ganaug.data.store import ImageStore
from ganaug.storage import read_folder, write_folder_atomically

FORMAT_VERSION = 1
"""Bumped whenever what a cache holds, or how images are decoded into it, changes."""
IMAGES_FILE = "images.safetensors"
META_FILE = "folder.json"


def cache_root() -> Path:
    """The folder that holds every folder cache (see the module's docstring)."""
    own = os.environ.get("GANAUG_CACHE_DIR")
    if own:
        return Path(own).expanduser() / "folders"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"  # the XDG spec ignores relative paths
    return base / "ganaug" / "folders"


@dataclass(frozen=True)
class CacheKey:
    """What a cached store depends on besides the files themselves."""

    root: str
    """The data folder's resolved path."""
    size: tuple[int, int] | None
    channels: int | None
    resize: str
    pillow: str = PIL.__version__
    format: int = FORMAT_VERSION

    def as_json(self) -> dict:
        data = asdict(self)
        data["size"] = list(self.size) if self.size is not None else None
        return data

    def folder(self) -> Path:
        digest = hashlib.sha256(json.dumps(self.as_json(), sort_keys=True).encode("utf-8")).hexdigest()
        return cache_root() / digest[:32]


def fingerprint(root: Path, files: list[tuple[Path, int]], stats: list[tuple[int, int]], classes: list[str]) -> str:
    """SHA-256 of the class names and of every file's path relative to ``root``, label, size and mtime_ns."""
    digest = hashlib.sha256(json.dumps(classes).encode("utf-8"))
    for (path, label), (size, mtime_ns) in zip(files, stats, strict=True):
        digest.update(os.fsencode(path.relative_to(root)) + f"\0{label}\0{size}\0{mtime_ns}\n".encode())
    return digest.hexdigest()


@dataclass
class CachedFolder:
    """A folder's store as cached, with the files that could not be read when it was built."""

    store: ImageStore
    unreadable: list[str]
    """Paths (relative to the data folder) skipped under ``skip_bad`` when the cache was written."""


def read_cache(key: CacheKey, print_: str) -> CachedFolder | None:
    """The cached store of ``key``, if there is one whose fingerprint is ``print_`` and that passes every
    check; None otherwise (no cache, out of date, damaged: the caller rebuilds it)."""
    folder = key.folder()
    if not (folder / META_FILE).is_file():
        return None
    try:
        tensors, meta = read_folder(folder, IMAGES_FILE, META_FILE)
        if meta.get("key") != key.as_json() or meta.get("fingerprint") != print_:
            return None
        images, labels, classes = tensors["images"], tensors["labels"], meta["classes"]
        unreadable = meta["unreadable"]
        if (images.dtype != torch.uint8 or images.ndim != 4 or labels.dtype != torch.int64
                or labels.shape != (len(images),) or len(images) != meta["images"]
                or not all(isinstance(c, str) for c in classes) or not all(isinstance(u, str) for u in unreadable)
                or (len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) < len(classes))):
            return None
        return CachedFolder(ImageStore(images, labels, list(classes)), list(unreadable))
    except Exception:  # noqa: BLE001 - whatever is wrong with a cache, the folder itself is read instead
        return None


def write_cache(key: CacheKey, print_: str, store: ImageStore, unreadable: list[str]) -> None:
    """Cache ``store`` under ``key``; a failure (no space, no permission) is a warning, never an error."""
    folder = key.folder()
    root = os.path.realpath(key.root)
    place = os.path.realpath(folder)
    if place == root or place.startswith(root.rstrip(os.sep) + os.sep):
        warnings.warn(f"the decoded cache {folder} would be inside the data folder {key.root}; not written (set "
                      "GANAUG_CACHE_DIR to a folder outside the data)", stacklevel=4)
        return
    meta = {"key": key.as_json(), "fingerprint": print_, "classes": list(store.classes), "images": len(store),
            "unreadable": list(unreadable)}
    try:
        write_folder_atomically(folder, {"images": store.images, "labels": store.labels}, meta, IMAGES_FILE,
                                META_FILE)
    except Exception as exc:  # noqa: BLE001 - the data is loaded; only the next load's head start is lost
        warnings.warn(f"could not write the decoded cache {folder} ({type(exc).__name__}: {exc}); the data is "
                      "loaded, but the next load decodes every file again. Set GANAUG_CACHE_DIR to a writable "
                      "folder with free space, or pass cache=False (--no-cache-data)", stacklevel=4)
