"""Turn a user's labelled images into one in-memory uint8 image store.

Every data source ganaug accepts ends up as an :class:`ImageStore`: a uint8 tensor of shape
(N, C, H, W), int64 labels in 0..K-1 and K class names. Training, sampling checks and the
diversity score all read that one form, so adding a source means adding one adapter here.

Sources (see :func:`load_data`):

* a map-style torch ``Dataset`` yielding ``(image, label)``; the image a PIL image, a numpy array
  or a tensor (HW, HWC or CHW; uint8, integer or float);
* a folder in torchvision ``ImageFolder`` layout (``root/<class>/<image>``);
* a tuple of numpy arrays ``(x, y)`` or an ``.npz`` file with keys ``x``/``y`` or
  ``x_train``/``y_train``;
* ``"digits"``: scikit-learn's bundled 8x8 digits (shipped with scikit-learn, nothing downloaded).

Every image is converted to uint8 (C, H, W) by the rules documented in :mod:`ganaug.data.pixels`, and
brought to ``image_size=`` by a resize rule of :mod:`ganaug.data.resize`. Image folders are decoded on
several threads and kept in a decoded cache (:mod:`ganaug.data.folders`).
"""

from __future__ import annotations

import importlib
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import torch

from ganaug.data.folders import read_image_folder
from ganaug.data.huggingface import check_hf_container, class_names, is_hf_dataset
from ganaug.data.items import KEYS_FIX, item_form
from ganaug.data.labels import checked_label, item_of
from ganaug.data.memory import check_memory
from ganaug.data.pixels import (
    SizeArg,
    _convert_channels_batch,
    _image_to_chw_uint8,
    _normalise_size,
    _resize_batch,
    _to_uint8,
    _unify,
    too_bright,
)
from ganaug.data.resize import DEFAULT_RESIZE, check_rule
from ganaug.data.store import ImageStore, validate_store
from ganaug.errors import DataError, GanaugError, user_code_error

if TYPE_CHECKING:
    from ganaug.plugins.registry import Registry

DataSource = Union[str, os.PathLike, tuple, torch.utils.data.Dataset, ImageStore]


def load_data(
    source: DataSource,
    *,
    image_size: SizeArg = None,
    channels: int | None = None,
    skip_bad: bool = False,
    classes: Sequence[str] | None = None,
    registry: Registry | None = None,
    min_classes: int = 2,
    item_keys: Sequence[str] | None = None,
    resize: str = DEFAULT_RESIZE,
    workers: int | None = None,
    cache: bool = True,
) -> ImageStore:
    """Load labelled images from any supported source into an :class:`ImageStore`.

    Args:
        source: a torch ``Dataset`` of ``(image, label)`` or of dicts, a Hugging Face ``datasets.Dataset``
            (one split), a folder in ``ImageFolder`` layout, an
            ``.npz`` file, a tuple ``(x, y)`` of arrays, the name ``"digits"``, an
            ``ImageStore`` (returned as it is, after the checks), or ``"module:function"``
            naming a function that returns a torch ``Dataset``.
        image_size: resize every image to this size (an int for square, or ``(H, W)``). Needed
            when the images have different sizes. Bilinear with antialiasing, by the rule ``resize``.
        channels: convert every image to 1 (grayscale) or 3 (RGB) channels. Needed when the
            images have different channel counts.
        skip_bad: skip unreadable or corrupt image files with one warning and a count, instead
            of stopping at the first.
        classes: class names, overriding what the source provides.
        registry: where named data sets (``"digits"``, plugins' ones) are looked up; the default
            registry when omitted.
        min_classes: refuse data with fewer classes (a conditional GAN needs 2); 1 for images that
            are not trained on, such as images to restore.
        item_keys: ``(image_key, label_key)`` of a Dataset whose items are dicts, when they are not
            among the usual names (``image``/``img``/``pixel_values``..., ``label``/``target``...).
        resize: how an image whose aspect ratio differs from ``image_size``'s is brought to it:
            ``"crop"`` (scale the shorter side to the size, cut the centre), ``"squash"`` (stretch the
            whole image, the aspect ratio lost) or ``"pad"`` (scale the longer side, centre on black).
            Images of the target's aspect ratio (square images to a square size) are the same under
            every rule. See :mod:`ganaug.data.resize`.
        workers: threads that decode an image folder's files (None: one per core, at most 8; folders
            of under 256 files are decoded in the calling thread). The images do not depend on it.
        cache: for an image folder, keep the decoded images in the decoded cache
            (``$GANAUG_CACHE_DIR``, else ``~/.cache/ganaug/folders``; never in the data folder) and
            read them from it while every file's path, size and modification time are unchanged, so a
            second load takes seconds. False neither reads nor writes it. Other sources ignore it.

    Returns:
        The image store. Raises :class:`DataError` with what to do for every bad input.
    """
    if channels not in (None, 1, 3):
        raise DataError(f"channels={channels!r} is not supported; use 1 (grayscale), 3 (RGB) or None")
    size = _normalise_size(image_size)
    check_rule(resize)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise DataError(f"workers={workers!r} must be a positive int (or None for one per core)")
    folder = FolderOptions(resize, workers, bool(cache))

    if isinstance(source, ImageStore):
        store = source
        if size is not None or channels is not None:
            store = ImageStore(_resize_batch(_convert_channels_batch(store.images, channels), size, resize),
                               store.labels, list(store.classes))
    elif isinstance(source, tuple):
        if len(source) != 2:
            raise DataError(f"a tuple source must be (x, y), got a tuple of {len(source)} items")
        store = _from_arrays(source[0], source[1], "the (x, y) arrays", size, channels, resize)
    elif isinstance(source, torch.utils.data.Dataset) or is_hf_dataset(source):
        check_hf_container(source, "the data")
        store = _from_dataset(source, size, channels, item_keys, resize)
    elif isinstance(source, (str, os.PathLike)):
        store = _from_name_or_path(source, size, channels, skip_bad, registry, folder, item_keys)
    else:
        check_hf_container(source, "the data")
        raise DataError(
            f"cannot read data from a {type(source).__name__}; pass a torch Dataset, an ImageFolder "
            "folder, an .npz file, a tuple (x, y) of arrays, or 'digits'"
        )

    if classes is not None:
        store = ImageStore(store.images, store.labels, [str(c) for c in classes])
    validate_store(store, min_classes=min_classes)
    return store


@dataclass(frozen=True)
class FolderOptions:
    """How an image folder is read: the resize rule, the decoding threads, the decoded cache."""

    resize: str = DEFAULT_RESIZE
    workers: int | None = None
    cache: bool = True


def _from_name_or_path(source: str | os.PathLike, size, channels, skip_bad, registry: Registry | None,
                       folder: FolderOptions = FolderOptions(), item_keys: Sequence[str] | None = None) -> ImageStore:
    text = os.fspath(source)
    path = Path(text)
    if not path.exists() and not isinstance(source, Path):
        datasets = _datasets(registry)
        if text in datasets:
            try:
                loaded = datasets[text].factory()
            except GanaugError:
                raise
            except Exception as exc:
                raise user_code_error(f"data set {text!r} (plugin {datasets[text].owner})", exc,
                                      "check the plugin, or disable it with GANAUG_DISABLE_PLUGINS") from exc
            if isinstance(loaded, (str, os.PathLike)):
                raise DataError(f"dataset {text!r} (plugin {datasets[text].owner}) returned a path, not data")
            return load_data(loaded, image_size=size, channels=channels, resize=folder.resize,
                             workers=folder.workers, cache=folder.cache)
    if path.is_dir():
        return read_image_folder(path, size, channels, skip_bad, resize=folder.resize, workers=folder.workers,
                                 cache=folder.cache)
    if path.is_file():
        if path.suffix.lower() == ".npz":
            return _from_npz(path, size, channels, folder.resize)
        raise DataError(f"{path}: not a folder or an .npz file; point to an ImageFolder folder or an .npz")
    if ":" in text and not path.exists() and not text.startswith(("/", ".")):
        # ``item_keys=`` reaches here from Python only: the CLI and config files have no such option
        fix = (f"make {text!r} return (image, label) pairs, or dicts with keys among those (in Python, "
               "load_data also takes item_keys=(image_key, label_key))")
        return _from_dataset(_call_factory(text), size, channels, item_keys, folder.resize, keys_fix=fix)
    names = ", ".join(repr(n) for n in sorted(_datasets(registry)))
    raise DataError(
        f"{text!r} does not exist; DATA must be a folder in ImageFolder layout, an .npz file, "
        f"a registered dataset ({names}), or module:function returning a torch Dataset"
    )


def _datasets(registry: Registry | None) -> dict:
    """The registered data sets; the default registry is built only when a name needs looking up."""
    if registry is None:
        from ganaug.plugins.registry import default_registry

        registry = default_registry()
    return registry.datasets


def _call_factory(spec: str) -> torch.utils.data.Dataset:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DataError(f"{spec!r}: cannot import module {module_name!r} ({exc}); is it on PYTHONPATH?") from exc
    except Exception as exc:  # the module itself fails: a SyntaxError, an error raised at import
        raise user_code_error(f"importing the module {module_name!r} of {spec!r}", exc, "fix that module") from exc
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise DataError(f"{spec!r}: module {module_name!r} has no function {attr!r}")
    try:
        dataset = factory()
    except GanaugError:
        raise
    except Exception as exc:
        raise user_code_error(f"the data function {spec!r}", exc, "fix that function") from exc
    check_hf_container(dataset, f"what {spec!r} returned")
    if not isinstance(dataset, torch.utils.data.Dataset) and not is_hf_dataset(dataset):
        raise DataError(f"{spec!r} returned a {type(dataset).__name__}, not a torch or Hugging Face Dataset")
    return dataset


def load_digits(image_size: SizeArg = None, channels: int | None = None) -> ImageStore:
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes), as uint8.

    The originals hold values 0..16; they are scaled to 0..255.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    store = ImageStore(torch.from_numpy(x).unsqueeze(1), torch.as_tensor(bunch.target, dtype=torch.long),
                       [str(c) for c in bunch.target_names])
    return load_data(store, image_size=image_size, channels=channels) if (image_size or channels) else store


def _from_npz(path: Path, size, channels, resize: str = DEFAULT_RESIZE) -> ImageStore:
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not a readable .npz file (not a zip archive); write it with np.savez")
    _check_npz_memory(path, size, channels)
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.keys())
            for xk, yk in (("x", "y"), ("x_train", "y_train")):
                if xk in keys and yk in keys:
                    x, y = archive[xk], archive[yk]
                    names = archive["classes"] if "classes" in keys else None
                    break
            else:
                raise DataError(
                    f"{path}: needs keys 'x' and 'y' (or 'x_train' and 'y_train'); found {keys}. "
                    "Save with np.savez(path, x=images, y=labels)"
                )
    except DataError:
        raise
    except ValueError as exc:  # object arrays need pickle, which we never load
        raise DataError(f"{path}: cannot be read without unpickling ({exc}); store plain numeric arrays") from exc
    except Exception as exc:  # zip errors, truncated files
        raise DataError(f"{path}: not a readable .npz file ({exc})") from exc
    store = _from_arrays(x, y, str(path), size, channels, resize)
    if names is not None:
        store.classes = [str(n) for n in names.tolist()]
    return store


def _check_npz_memory(path: Path, size, channels) -> None:
    """Refuse, from the arrays' headers and before reading them, an .npz whose loading would not fit in memory:
    the image array at its full size plus the converted store."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = {name.removesuffix(".npy"): name for name in archive.namelist()}
            member = names.get("x") or names.get("x_train")
            if member is None:
                return  # the loader says which keys are missing
            with archive.open(member) as handle:
                version = np.lib.format.read_magic(handle)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, dtype = read(handle)
    except Exception:  # noqa: BLE001 - a damaged archive is reported by the loader itself
        return
    if len(shape) not in (3, 4) or not shape[0]:
        return
    if len(shape) == 3:
        bands, image = 1, shape[1:]
    elif shape[-1] in (1, 3, 4) and shape[1] not in (1, 3, 4):
        bands, image = shape[-1], shape[1:3]
    else:
        bands, image = shape[1], shape[2:]
    out_shape = (channels or min(bands, 3), *(size or image))
    raw = int(np.prod(shape)) * dtype.itemsize
    check_memory(shape[0], out_shape, f"{path} (x: {shape[0]} images of {tuple(shape[1:])} {dtype})", extra=raw,
                 fix=_MEMORY_FIX)


def _from_arrays(x: Any, y: Any, where: str, size, channels, resize: str = DEFAULT_RESIZE) -> ImageStore:
    try:
        x = np.asarray(x) if not isinstance(x, torch.Tensor) else x.numpy()
        y = np.asarray(y) if not isinstance(y, torch.Tensor) else y.numpy()
    except (ValueError, TypeError) as exc:
        raise DataError(f"{where}: cannot be read as arrays ({exc}); images must all have one shape (pass one "
                        "numeric array, or resize them first)") from None
    if x.ndim == 0 or y.ndim == 0:
        raise DataError(f"{where}: x and y must be arrays (x of images, y of labels), got "
                        f"{type(x.item()).__name__ if x.ndim == 0 else 'an array'} and "
                        f"{type(y.item()).__name__ if y.ndim == 0 else 'an array'}")
    if x.dtype == object or y.dtype == object:
        raise DataError(f"{where}: object arrays are not supported; use numeric arrays")
    labels = _check_label_array(y, where)
    if len(x) != len(labels):
        raise DataError(f"{where}: {len(x)} images but {len(labels)} labels; they must match")
    if len(x) == 0:
        raise DataError(f"{where}: the dataset is empty")
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4:
        if x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
            x = x.transpose(0, 3, 1, 2)
        elif x.shape[1] not in (1, 3, 4):
            raise DataError(f"{where}: images of shape {x.shape[1:]} have no channel axis of size 1, 3 or 4")
    else:
        raise DataError(f"{where}: images must be (N, H, W), (N, H, W, C) or (N, C, H, W); got {x.shape}")
    out_shape = (channels or min(x.shape[1], 3), *(size or x.shape[2:]))
    check_memory(len(x), out_shape, where, fix=_MEMORY_FIX)
    return ImageStore(_convert_in_chunks(x, out_shape, where, size, channels, resize), labels)


_MEMORY_FIX = "shrink them with image_size= (--image-size), or use a subset"
CHUNK = 1024
"""Images converted at a time, so a float array's conversion needs a chunk's temporaries, not the array's."""


def _convert_in_chunks(x: np.ndarray, out_shape: tuple[int, ...], where: str, size, channels,
                       resize: str = DEFAULT_RESIZE) -> torch.Tensor:
    """uint8 (N, C, H, W) images from an (N, C, H, W) array of any dtype, scaled by one rule for all of them."""
    span = None
    if x.dtype.kind in "iuf":
        span = (x.min(), x.max())
        if x.dtype.kind == "f" and not (np.isfinite(span[0]) and np.isfinite(span[1])):
            bad = next(i for i in range(len(x)) if not np.isfinite(x[i]).all())
            raise DataError(f"{where}: float image {bad} holds NaN or inf; clean the data first")
        if x.dtype.kind in "iu" and x.dtype != np.uint16 and span[0] >= 0 and span[1] > 255:
            image = int(np.unravel_index(np.argmax(x), x.shape)[0])
            raise too_bright(where, x.dtype, int(span[1]), image)
    out = torch.empty(len(x), *out_shape, dtype=torch.uint8)
    for start in range(0, len(x), CHUNK):
        chunk = torch.from_numpy(np.array(_to_uint8(x[start:start + CHUNK], where, span), copy=True, order="C"))
        out[start:start + CHUNK] = _resize_batch(_convert_channels_batch(chunk[:, :3], channels), size, resize)
    return out


def _check_label_array(y: np.ndarray, where: str) -> torch.Tensor:
    y = np.asarray(y)
    if y.ndim > 1 and int(np.prod(y.shape[1:])) != 1:
        raise DataError(f"{where}: labels of shape {y.shape}; give one integer label per image, shape (N,) "
                        "(one-hot labels: y.argmax(axis=1))")
    y = y.reshape(-1)
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            first = y[0] if len(y) else None
            raise DataError(
                f"{where}: labels must be integers 0..K-1, got dtype {y.dtype} (first label {first!r}); "
                "map class names to integers first"
            )
    if len(y) and y.min() < 0:
        bad = int(np.argmax(y < 0))
        raise DataError(f"{where}: label {int(y[bad])} at index {bad} is negative; labels must be 0..K-1")
    return torch.as_tensor(y.astype(np.int64))


def _from_dataset(dataset: torch.utils.data.Dataset, size, channels, item_keys=None,
                  resize: str = DEFAULT_RESIZE, keys_fix: str = KEYS_FIX) -> ImageStore:
    try:
        n = len(dataset)  # type: ignore[arg-type]
    except TypeError as exc:
        raise DataError(f"{type(dataset).__name__} has no len(); ganaug needs a map-style Dataset") from exc
    if n == 0:
        raise DataError(f"{type(dataset).__name__} is empty: there are no images to train on")
    images: list[torch.Tensor] = []
    labels: list[int] = []
    for index in range(n):
        item = item_of(dataset, index)
        if index == 0:
            form = item_form(item, type(dataset).__name__, item_keys, keys_fix)
        image, label = form.split(item, index, type(dataset).__name__)
        labels.append(checked_label(label, f"item {index}"))
        images.append(_image_to_chw_uint8(image, f"item {index}", channels))
        if index == 0:  # predict the store's size from the first image before loading the rest
            first = images[0]
            check_memory(n, (first.shape[0], *(size or first.shape[1:])), type(dataset).__name__)
    images = _unify(images, size, channels, "item", resize=resize)
    names = class_names(dataset, form.label_key if form.mapping else None)
    store = ImageStore(torch.stack(images), torch.as_tensor(labels, dtype=torch.long))
    if names:
        store.classes = names
    return store
