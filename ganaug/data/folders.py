"""Image folders in ``ImageFolder`` layout (``root/<class>/<image>``), as they are found on real disks.

Every entry is looked at before any file is opened, so nothing can hang or relabel images:

* image files are those whose suffix names a raster format Pillow opens (:func:`image_extensions`:
  ``.jfif`` and ``.jpe`` are JPEG; ``.avif`` when this Pillow reads it); other files of a class folder
  are left out with one warning that counts them by suffix;
* hidden class folders and hidden files (names starting with ``.``) are left out, with a warning;
* a class folder that is a symbolic link looping on itself, or to the data folder or a folder above
  it (``data/all -> .``, ``data/up -> ..``), would read every class again under its name: it is skipped
  with a warning naming it;
* symbolic links are followed, except a link into the data folder outside its own class folder, or
  to a folder that holds the data folder (``cat/up -> ..``): it would give another class's images this
  class, so it is skipped with a warning, and so is a link back to a folder already walked (a loop);
  links to files or folders elsewhere (``cat/x.png -> /mnt/raw/x.png``) are read;
* FIFOs, sockets, devices and folders named like images are not regular files: skipped with a
  warning, never opened (opening a FIFO blocks forever);
* broken links, links that loop on themselves and files that cannot be read or decoded stop the load
  with a message naming the file, or are skipped with a warning under ``skip_bad`` (``--skip-bad``).

The files are decoded by :mod:`ganaug.data.decode` (PIL, on a pool of threads, resized as read so memory
holds small images only) and the result kept in the decoded cache of :mod:`ganaug.data.folder_cache`,
used again only while the files' fingerprint matches.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from ganaug.data.decode import decode_files
from ganaug.data.folder_cache import CacheKey, fingerprint, read_cache, write_cache
from ganaug.data.memory import check_memory
from ganaug.data.pixels import mixed_shapes
from ganaug.data.resize import DEFAULT_RESIZE
from ganaug.data.store import ImageStore
from ganaug.errors import DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp",
                    ".gif")
"""Suffixes of the raster formats read in every Pillow build ganaug supports."""
OPTIONAL_EXTENSIONS = {".avif": "upgrade Pillow to 11.2 or later, or install pillow-avif-plugin"}
"""Suffixes read when this Pillow (or a plugin of it) opens them, with how to get that."""


def image_extensions() -> tuple[str, ...]:
    """The suffixes read as images: :data:`IMAGE_EXTENSIONS` and those of :data:`OPTIONAL_EXTENSIONS` whose
    format this Pillow registers an opener for. A changed set changes the files found, so the decoded
    cache's fingerprint of them changes too and the cache is rebuilt."""
    registered = Image.registered_extensions()  # loads Pillow's plugins once
    return IMAGE_EXTENSIONS + tuple(ext for ext in OPTIONAL_EXTENSIONS if registered.get(ext) in Image.OPEN)


@dataclass
class FolderScan:
    """What walking the class folders found: image files with their labels, and what was left out and why."""

    files: list[tuple[Path, int]] = field(default_factory=list)
    stats: list[tuple[int, int]] = field(default_factory=list)
    """(size, mtime_ns) of each of ``files``, for the decoded cache's fingerprint."""
    skipped: dict[str, list[str]] = field(default_factory=dict)
    """Reason -> paths, for the warnings."""
    broken: list[tuple[Path, str]] = field(default_factory=list)
    """Image-named entries that cannot be opened (broken or looping links), with the reason."""
    other_files: dict[str, list[str]] = field(default_factory=dict)
    """Suffix (lower case; "" for none) -> files left out because their suffix is not an image's."""
    extensions: tuple[str, ...] = field(default_factory=image_extensions)
    """The suffixes read as images (:func:`image_extensions`)."""

    def skip(self, reason: str, path: Path | str) -> None:
        self.skipped.setdefault(reason, []).append(str(path))


def read_image_folder(root: Path, size, channels, skip_bad: bool, *, resize: str = DEFAULT_RESIZE,
                      workers: int | None = None, cache: bool = False) -> ImageStore:
    """Load ``root/<class>/<image>`` into an image store (see the module's rules).

    Args:
        root: the data folder.
        size: (H, W) to resize every image to by the rule ``resize`` (see :mod:`ganaug.data.resize`), or None.
        channels: 1 or 3 to convert every image to, or None.
        skip_bad: skip unreadable files with a warning instead of stopping at the first.
        workers: threads that decode (None: one per core, at most 8); folders of under 256 files are
            decoded in the calling thread. The result is the same for any number.
        cache: read the decoded store from, and write it to, the decoded cache
            (:mod:`ganaug.data.folder_cache`), checked against the files as they are now.
    """
    class_names = class_folders(root)
    scan = FolderScan()
    for label, name in enumerate(class_names):
        before = len(scan.files)
        find_image_files(root / name, label, scan)
        if len(scan.files) == before:
            warnings.warn(f"{root / name}: empty class folder (no image files)", stacklevel=3)
    for reason, paths in scan.skipped.items():
        warnings.warn(f"{root}: skipped {len(paths)} entr{'y' if len(paths) == 1 else 'ies'} ({reason}), first: "
                      f"{paths[0]}", stacklevel=3)
    if scan.other_files:
        warnings.warn(other_files_warning(root, scan), stacklevel=3)
    bad = [str(path) for path, _ in scan.broken]
    if scan.broken and not skip_bad:
        path, reason = scan.broken[0]
        raise DataError(f"{path}: {reason}. Fix or remove it, or pass skip_bad=True (--skip-bad)")
    if not scan.files:
        raise DataError(f"{root}: no image files ({', '.join(scan.extensions)}) in any class folder")

    _check_folder_memory(root, scan.files, size, channels)
    key = print_ = None
    if cache:
        key = CacheKey(os.path.realpath(root), size, channels, resize)
        print_ = fingerprint(root, scan.files, scan.stats, class_names)
        cached = read_cache(key, print_)
        if cached is not None and (skip_bad or not cached.unreadable):  # else the load below says what is wrong
            bad += [str(root / relative) for relative in cached.unreadable]
            if bad:
                warnings.warn(f"skipped {len(bad)} unreadable image file(s), first: {bad[0]}", stacklevel=3)
            return cached.store

    decoded = decode_files([path for path, _ in scan.files], size, channels, resize, workers,
                           stop_at_error=not skip_bad)
    if decoded.errors:
        index = min(decoded.errors)
        if not skip_bad:
            raise DataError(f"{decoded.errors[index]}. Fix or remove the file, or pass skip_bad=True (--skip-bad)")
        bad += [str(scan.files[i][0]) for i in sorted(decoded.errors)]
    if decoded.mismatched:
        index = min(decoded.mismatched)
        raise mixed_shapes(str(scan.files[index][0]), decoded.mismatched[index], tuple(decoded.images.shape[1:]))
    if bad:
        warnings.warn(f"skipped {len(bad)} unreadable image file(s), first: {bad[0]}", stacklevel=3)
    if not decoded.kept:
        raise DataError(f"{root}: none of the {len(scan.files)} image files could be read")
    labels = torch.as_tensor([scan.files[i][1] for i in decoded.kept], dtype=torch.long)
    store = ImageStore(torch.from_numpy(decoded.images), labels, class_names)
    if cache:
        unreadable = [str(scan.files[i][0].relative_to(root)) for i in sorted(decoded.errors)]
        write_cache(key, print_, store, unreadable)  # type: ignore[arg-type]
    return store


def other_files_warning(root: Path, scan: FolderScan) -> str:
    """One line: the files left out for their suffix, counted by suffix with an example each, and the fix."""
    counts = ", ".join(f"{suffix or '(no suffix)'}: {len(paths)} (e.g. {paths[0]})"
                       for suffix, paths in sorted(scan.other_files.items()))
    fixes = "; ".join(f"to read {ext} files, {fix}" for ext, fix in OPTIONAL_EXTENSIONS.items()
                      if ext in scan.other_files)
    total = sum(len(paths) for paths in scan.other_files.values())
    return (f"{root}: left out {total} file(s) whose suffix is not an image's ({counts}); images are read from "
            f"{', '.join(scan.extensions)}{'; ' + fixes if fixes else ''}")


def class_folders(root: Path) -> list[str]:
    """The class folders of ``root``, sorted; hidden ones, links that loop or hold the data folder (which would
    read every class again as one class) and links into another class's folder (which would read its images
    again under a second class) are left out with a warning."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise DataError(f"{root}: cannot list the folder ({exc.strerror or exc}); check its permissions") from None
    home = os.path.realpath(root)
    looping = [e.path for e in entries if e.is_symlink() and (_loops(e.path) or (
        _is_dir(e) and _inside(home, os.path.realpath(e.path))))]
    if looping:
        warnings.warn(f"{root}: skipped class folder(s) {', '.join(looping)}: symbolic link(s) that loop or lead to "
                      "the data folder or above it, which would read every class again as one class; remove them "
                      "or point them at a folder outside the data", stacklevel=4)
    plain = {os.path.realpath(e.path): e.name for e in entries if _is_dir(e) and not e.is_symlink()}
    doubles = [(e.path, plain[owner]) for e in entries if e.is_symlink() and e.path not in looping and _is_dir(e)
               for owner in plain if _inside(os.path.realpath(e.path), owner)]
    if doubles:
        warnings.warn(f"{root}: skipped class folder(s) {', '.join(f'{path} (into {name})' for path, name in doubles)}: "
                      "symbolic link(s) into another class's folder, whose images they would read again under a "
                      "second class; remove them, or copy the images if they belong to both", stacklevel=4)
    skipped = {*looping, *(path for path, _ in doubles)}
    folders = [e for e in entries if _is_dir(e) and e.path not in skipped]
    hidden = [e.name for e in folders if e.name.startswith(".")]
    if hidden:
        warnings.warn(f"{root}: left out hidden folder(s) {', '.join(hidden)} (names starting with '.'); rename "
                      "them to use them as classes", stacklevel=4)
    names = [e.name for e in folders if not e.name.startswith(".")]
    if not names:
        raise DataError(f"{root}: no class folders; expected ImageFolder layout {root}/<class>/<image>.png")
    return names


def find_image_files(class_folder: Path, label: int, scan: FolderScan) -> None:
    """Add the image files under ``class_folder`` (recursively) to ``scan``, following the module's rules."""
    home, root = os.path.realpath(class_folder), os.path.realpath(class_folder.parent)
    seen: set[str] = set()
    pending = [class_folder]
    while pending:
        folder = pending.pop()
        real = os.path.realpath(folder)
        if real in seen:
            scan.skip("a symbolic link back to a folder already read (a loop)", folder)
            continue
        seen.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise DataError(f"{folder}: cannot list the folder ({exc.strerror or exc}); check its permissions") from None
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            image_named = entry.name.lower().endswith(scan.extensions)
            if entry.name.startswith("."):
                if _is_dir(entry) or image_named:
                    scan.skip("hidden, the name starts with '.'", path)
                continue
            target = os.path.realpath(path) if entry.is_symlink() else ""
            if target and os.path.exists(target) and (_inside(root, target) or (
                    _inside(target, root) and not _inside(target, home))):
                if _is_dir(entry) or image_named:
                    scan.skip("a symbolic link out of its class folder into the data, which would relabel those images",
                              path)
                continue
            if _is_dir(entry):
                subfolders.append(path)
                continue
            if not image_named:
                if entry.is_symlink() and _loops(entry.path):
                    scan.skip("a symbolic link that loops", path)
                elif entry.is_file():
                    scan.other_files.setdefault(path.suffix.lower(), []).append(str(path))
                continue
            try:
                info = os.stat(path)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    scan.broken.append((path, "a symbolic link that loops"))
                elif entry.is_symlink():
                    scan.broken.append((path, f"a broken symbolic link (to {os.readlink(path)})"))
                else:
                    scan.broken.append((path, f"cannot be read ({exc.strerror or exc})"))
                continue
            if not stat.S_ISREG(info.st_mode):
                scan.skip("not a regular file (a FIFO, socket or device)", path)
                continue
            scan.files.append((path, label))
            scan.stats.append((info.st_size, info.st_mtime_ns))
        pending.extend(reversed(subfolders))


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows links; a broken or looping link is not a folder
    except OSError:
        return False


def _loops(path: str) -> bool:
    """Whether ``path`` is a symbolic link that loops (to itself, or round a chain of links)."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _check_folder_memory(root: Path, files: list[tuple[Path, int]], size, channels) -> None:
    """Predict the store's size from the first readable image's header, before decoding everything."""
    for path, _ in files[:10]:
        try:
            with Image.open(path) as image:
                width, height = image.size
                bands = len(image.getbands())
        except Exception:  # noqa: BLE001 - unreadable files are reported by the loading loop itself
            continue
        c = channels or min(bands, 3)
        check_memory(len(files), (c, *(size or (height, width))), str(root),
                     extra=c * width * height)  # one image at full size while it is decoded
        return
