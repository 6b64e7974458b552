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

Conversions, documented so nothing is a surprise:

* Float images in [0, 1] are scaled by 255; float images in [-1, 1] (with negatives) are mapped
  to [0, 255]; float images already in [0, 255] are rounded. NaN or inf is an error.
* Integer images up to 255 are taken as they are; 16-bit images (max above 255) are scaled by
  255/65535. Boolean images become 0/255.
* A fourth (alpha) channel is dropped; PIL palette, CMYK, 1-bit and 16-bit images are converted to
  L or RGB. ``channels=1`` or ``channels=3`` converts every image to grayscale or RGB.
* ``image_size=`` resizes every image (bilinear, antialiased) so mixed sizes can be combined.
"""

from __future__ import annotations

import importlib
import math
import os
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ganaug.errors import DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")

DataSource = Union[str, os.PathLike, tuple, torch.utils.data.Dataset, "ImageStore"]
SizeArg = Union[int, tuple[int, int], None]


@dataclass
class ImageStore:
    """Labelled images held in memory as uint8, the one form every ganaug component reads.

    Attributes:
        images: uint8 tensor of shape (N, C, H, W), values 0..255.
        labels: int64 tensor of shape (N,), values in 0..K-1.
        classes: the K class names; ``classes[k]`` names label ``k``.
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise DataError(
                f"ImageStore.images must be a uint8 tensor (N, C, H, W), got {self.images.dtype} "
                f"{tuple(self.images.shape)}"
            )
        if len(self.labels) != len(self.images):
            raise DataError(f"ImageStore has {len(self.images)} images but {len(self.labels)} labels")
        if not self.classes:
            self.classes = [str(k) for k in range(int(self.labels.max()) + 1)] if len(self.labels) else []

    def __len__(self) -> int:
        return len(self.images)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every image."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def class_counts(self) -> list[int]:
        """Number of images of each class, indexed by label."""
        return torch.bincount(self.labels, minlength=self.num_classes).tolist()

    def nbytes(self) -> int:
        return self.images.numel() + self.labels.numel() * 8

    def subset(self, indices: Sequence[int] | torch.Tensor) -> ImageStore:
        """A store with only the given indices (same classes)."""
        index = torch.as_tensor(indices, dtype=torch.long)
        return ImageStore(self.images[index], self.labels[index], list(self.classes))


# ---------------------------------------------------------------------------------------------
# public entry point


def load_data(
    source: DataSource,
    *,
    image_size: SizeArg = None,
    channels: int | None = None,
    skip_bad: bool = False,
    classes: Sequence[str] | None = None,
) -> ImageStore:
    """Load labelled images from any supported source into an :class:`ImageStore`.

    Args:
        source: a torch ``Dataset`` of ``(image, label)``, a folder in ``ImageFolder`` layout, an
            ``.npz`` file, a tuple ``(x, y)`` of arrays, the name ``"digits"``, an
            ``ImageStore`` (returned as it is, after the checks), or ``"module:function"``
            naming a function that returns a torch ``Dataset``.
        image_size: resize every image to this size (an int for square, or ``(H, W)``). Needed
            when the images have different sizes.
        channels: convert every image to 1 (grayscale) or 3 (RGB) channels. Needed when the
            images have different channel counts.
        skip_bad: skip unreadable or corrupt image files with one warning and a count, instead
            of stopping at the first.
        classes: class names, overriding what the source provides.

    Returns:
        The image store. Raises :class:`DataError` with what to do for every bad input.
    """
    if channels not in (None, 1, 3):
        raise DataError(f"channels={channels!r} is not supported; use 1 (grayscale), 3 (RGB) or None")
    size = _normalise_size(image_size)

    if isinstance(source, ImageStore):
        store = source
        if size is not None or channels is not None:
            store = ImageStore(_resize_batch(_convert_channels_batch(store.images, channels), size),
                               store.labels, list(store.classes))
    elif isinstance(source, tuple):
        if len(source) != 2:
            raise DataError(f"a tuple source must be (x, y), got a tuple of {len(source)} items")
        store = _from_arrays(source[0], source[1], "the (x, y) arrays", size, channels)
    elif isinstance(source, torch.utils.data.Dataset):
        store = _from_dataset(source, size, channels)
    elif isinstance(source, (str, os.PathLike)):
        store = _from_name_or_path(source, size, channels, skip_bad)
    else:
        raise DataError(
            f"cannot read data from a {type(source).__name__}; pass a torch Dataset, an ImageFolder "
            "folder, an .npz file, a tuple (x, y) of arrays, or 'digits'"
        )

    if classes is not None:
        store = ImageStore(store.images, store.labels, [str(c) for c in classes])
    validate_store(store)
    return store


def validate_store(store: ImageStore) -> None:
    """Check the invariants every consumer relies on; warn about classes with under 2 images."""
    if len(store) == 0:
        raise DataError("the dataset is empty: there are no images to train on")
    if store.num_classes < 2:
        raise DataError(
            f"the dataset has a single class ({store.classes[0]!r} if any); a conditional GAN needs at "
            "least 2 classes. Add images of another class, or label them differently"
        )
    if int(store.labels.min()) < 0 or int(store.labels.max()) >= store.num_classes:
        bad = int(torch.nonzero((store.labels < 0) | (store.labels >= store.num_classes))[0])
        raise DataError(
            f"label {int(store.labels[bad])} at index {bad} is outside 0..{store.num_classes - 1} "
            f"({store.num_classes} classes); use labels 0..K-1 or pass classes= with K names"
        )
    counts = store.class_counts()
    few = [f"{store.classes[k]!r} ({n})" for k, n in enumerate(counts) if n < 2]
    if few:
        warnings.warn(
            f"class(es) with fewer than 2 images: {', '.join(few)}; the generator cannot learn "
            "their variety. Add images or drop the class",
            stacklevel=3,
        )


# ---------------------------------------------------------------------------------------------
# memory


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


def check_memory(count: int, image_shape: tuple[int, ...], where: str) -> None:
    """Refuse, before loading, an image store that would not fit in the available memory."""
    needed = count * int(np.prod(image_shape)) + count * 8
    available = available_memory()
    if available is not None and needed > 0.8 * available:
        raise DataError(
            f"{where}: {count} images of {tuple(image_shape)} need {format_bytes(needed)} in memory as uint8, but "
            f"only {format_bytes(available)} is available; shrink them with image_size= (--image-size) or use a subset"
        )


# ---------------------------------------------------------------------------------------------
# sources


def _from_name_or_path(source: str | os.PathLike, size, channels, skip_bad) -> ImageStore:
    text = os.fspath(source)
    path = Path(text)
    if not path.exists() and not isinstance(source, Path):
        from ganaug.registry import default_registry

        datasets = default_registry().datasets
        if text in datasets:
            loaded = datasets[text].factory()
            if isinstance(loaded, (str, os.PathLike)):
                raise DataError(f"dataset {text!r} (plugin {datasets[text].owner}) returned a path, not data")
            return load_data(loaded, image_size=size, channels=channels)
    if path.is_dir():
        return _from_folder(path, size, channels, skip_bad)
    if path.is_file():
        if path.suffix.lower() == ".npz":
            return _from_npz(path, size, channels)
        raise DataError(f"{path}: not a folder or an .npz file; point to an ImageFolder folder or an .npz")
    if ":" in text and not path.exists() and not text.startswith(("/", ".")):
        return _from_dataset(_call_factory(text), size, channels)
    from ganaug.registry import default_registry

    names = ", ".join(repr(n) for n in sorted(default_registry().datasets))
    raise DataError(
        f"{text!r} does not exist; DATA must be a folder in ImageFolder layout, an .npz file, "
        f"a registered dataset ({names}), or module:function returning a torch Dataset"
    )


def _call_factory(spec: str) -> torch.utils.data.Dataset:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DataError(f"{spec!r}: cannot import module {module_name!r} ({exc}); is it on PYTHONPATH?") from exc
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise DataError(f"{spec!r}: module {module_name!r} has no function {attr!r}")
    dataset = factory()
    if not isinstance(dataset, torch.utils.data.Dataset):
        raise DataError(f"{spec!r} returned a {type(dataset).__name__}, not a torch Dataset")
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


def _from_npz(path: Path, size, channels) -> ImageStore:
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not a readable .npz file (not a zip archive); write it with np.savez")
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
    store = _from_arrays(x, y, str(path), size, channels)
    if names is not None:
        store.classes = [str(n) for n in names.tolist()]
    return store


def _from_arrays(x: Any, y: Any, where: str, size, channels) -> ImageStore:
    x = np.asarray(x) if not isinstance(x, torch.Tensor) else x.numpy()
    y = np.asarray(y) if not isinstance(y, torch.Tensor) else y.numpy()
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
    check_memory(len(x), (min(x.shape[1], 3), *(size or x.shape[2:])), where)
    images = torch.from_numpy(np.array(_to_uint8(x, where), copy=True, order="C"))
    if images.shape[1] == 4:
        images = images[:, :3]
    return ImageStore(_resize_batch(_convert_channels_batch(images, channels), size), labels)


def _check_label_array(y: np.ndarray, where: str) -> torch.Tensor:
    y = np.asarray(y).reshape(-1)
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


def _from_dataset(dataset: torch.utils.data.Dataset, size, channels) -> ImageStore:
    try:
        n = len(dataset)  # type: ignore[arg-type]
    except TypeError as exc:
        raise DataError(f"{type(dataset).__name__} has no len(); ganaug needs a map-style Dataset") from exc
    if n == 0:
        raise DataError(f"{type(dataset).__name__} is empty: there are no images to train on")
    images: list[torch.Tensor] = []
    labels: list[int] = []
    for index in range(n):
        item = dataset[index]
        if not isinstance(item, (tuple, list)) or len(item) < 2:
            raise DataError(f"item {index} of {type(dataset).__name__} is not an (image, label) pair")
        image, label = item[0], item[1]
        labels.append(_check_label(label, index))
        images.append(_image_to_chw_uint8(image, f"item {index}", channels))
        if index == 0:  # predict the store's size from the first image before loading the rest
            first = images[0]
            check_memory(n, (first.shape[0], *(size or first.shape[1:])), type(dataset).__name__)
    images = _unify(images, size, channels, "item")
    names = getattr(dataset, "classes", None)
    store = ImageStore(torch.stack(images), torch.as_tensor(labels, dtype=torch.long))
    if isinstance(names, (list, tuple)) and names:
        store.classes = [str(c) for c in names]
    return store


def _check_label(label: Any, index: int) -> int:
    if isinstance(label, torch.Tensor):
        if label.numel() != 1 or label.dtype.is_floating_point or label.dtype == torch.bool:
            raise DataError(f"label of item {index} is a {label.dtype} tensor {tuple(label.shape)}; use an int")
        label = label.item()
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        raise DataError(
            f"label of item {index} is {label!r} ({type(label).__name__}), not an integer; "
            "labels must be ints 0..K-1 (map class names to integers)"
        )
    if label < 0:
        raise DataError(f"label of item {index} is {label}, negative; labels must be 0..K-1")
    return int(label)


def _from_folder(root: Path, size, channels, skip_bad: bool) -> ImageStore:
    class_dirs = sorted(entry.name for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith("."))
    if not class_dirs:
        raise DataError(f"{root}: no class folders; expected ImageFolder layout {root}/<class>/<image>.png")
    paths: list[tuple[Path, int]] = []
    for label, name in enumerate(class_dirs):
        found = _image_files(root / name)
        if not found:
            warnings.warn(f"{root / name}: empty class folder (no image files)", stacklevel=3)
        paths.extend((p, label) for p in found)
    if not paths:
        raise DataError(f"{root}: no image files ({', '.join(IMAGE_EXTENSIONS)}) in any class folder")

    images: list[torch.Tensor] = []
    labels: list[int] = []
    bad: list[str] = []
    _check_folder_memory(root, paths, size, channels)
    for path, label in paths:
        try:
            image = _read_image_file(path)
        except DataError as exc:
            if not skip_bad:
                raise DataError(f"{exc}. Fix or remove the file, or pass skip_bad=True (--skip-bad)") from None
            bad.append(str(path))
            continue
        images.append(_image_to_chw_uint8(image, str(path), channels))
        labels.append(label)
    if bad:
        warnings.warn(f"skipped {len(bad)} unreadable image file(s), first: {bad[0]}", stacklevel=3)
    if not images:
        raise DataError(f"{root}: none of the {len(paths)} image files could be read")
    images = _unify(images, size, channels, "file", [str(p) for p, _ in paths if str(p) not in set(bad)])
    return ImageStore(torch.stack(images), torch.as_tensor(labels, dtype=torch.long), class_dirs)


def _check_folder_memory(root: Path, paths: list[tuple[Path, int]], size, channels) -> None:
    """Predict the store's size from the first readable image's header, before decoding everything."""
    for path, _ in paths[:10]:
        try:
            with Image.open(path) as image:
                width, height = image.size
                bands = len(image.getbands())
        except Exception:  # unreadable files are reported by the loading loop itself
            continue
        c = channels or min(bands, 3)
        check_memory(len(paths), (c, *(size or (height, width))), str(root))
        return


def _image_files(folder: Path) -> list[Path]:
    """Image files under ``folder``, recursively, following symlinks but never looping."""
    seen: set[str] = set()
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(Path(dirpath) / name)
    return found


def _read_image_file(path: Path) -> Image.Image:
    """Open and decode one image file fully, turning every failure into a DataError naming it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                return image.copy()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataError(f"{path}: image too large ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = "empty file" if path.stat().st_size == 0 else f"{type(exc).__name__}: {exc}"
        raise DataError(f"{path}: unreadable or corrupt image ({reason})") from None


# ---------------------------------------------------------------------------------------------
# per-image conversion


def _pil_to_array(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ("L", "RGB"):
        return np.asarray(image)
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image).astype(np.float64)
        top = 65535.0 if array.max() > 255 else 255.0
        return np.rint(np.clip(array, 0, top) * (255.0 / top)).astype(np.uint8)
    if mode == "F":
        return np.asarray(image, dtype=np.float32)
    if mode in ("1", "LA"):
        return np.asarray(image.convert("L"))
    return np.asarray(image.convert("RGB"))  # P, RGBA, CMYK, YCbCr, LAB, HSV...


def _image_to_chw_uint8(image: Any, where: str, channels: int | None) -> torch.Tensor:
    if isinstance(image, Image.Image):
        array = _pil_to_array(image)
        layout_hwc = True
    elif isinstance(image, torch.Tensor):
        array = image.detach().cpu().numpy()
        layout_hwc = False
    elif isinstance(image, np.ndarray):
        array = image
        layout_hwc = True
    else:
        raise DataError(f"{where}: image is a {type(image).__name__}; use a PIL image, numpy array or tensor")
    if array.ndim == 2:
        array = array[None]
    elif array.ndim == 3:
        first, last = array.shape[0] in (1, 3, 4), array.shape[-1] in (1, 3, 4)
        if first and (not layout_hwc or not last):
            pass
        elif last:
            array = array.transpose(2, 0, 1)
        else:
            raise DataError(f"{where}: image of shape {array.shape} has no channel axis of size 1, 3 or 4")
    else:
        raise DataError(f"{where}: image must be HW, HWC or CHW; got shape {array.shape}")
    tensor = torch.from_numpy(np.array(_to_uint8(array, where), copy=True, order="C"))
    if tensor.shape[0] == 4:
        tensor = tensor[:3]
    return _convert_channels_batch(tensor[None], channels)[0]


def _to_uint8(array: np.ndarray, where: str) -> np.ndarray:
    """Scale an image array of any numeric dtype to uint8 following the module's documented rules."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype.kind in "iu":
        low, high = int(array.min()), int(array.max())
        if low < 0:
            raise DataError(f"{where}: integer image has negative values (min {low}); use 0..255")
        if high > 255:
            return np.rint(np.clip(array, 0, 65535) * (255.0 / 65535.0)).astype(np.uint8)
        return array.astype(np.uint8)
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            flat = int(np.argmax(~finite.reshape(-1)))
            raise DataError(
                f"{where}: float image holds NaN or inf (first at flat position {flat}); clean the data first"
            )
        low, high = float(array.min()), float(array.max())
        if low >= 0.0 and high <= 1.0:
            scaled = array * 255.0
        elif low >= -1.0 and high <= 1.0:
            scaled = (array + 1.0) * 127.5
        elif low >= 0.0 and high <= 255.0:
            scaled = array
        else:
            raise DataError(
                f"{where}: float image values span {low:.3g}..{high:.3g}; expected [0, 1], [-1, 1] or [0, 255]"
            )
        return np.rint(scaled).astype(np.uint8)
    raise DataError(f"{where}: images of dtype {array.dtype} are not supported")


def _convert_channels_batch(images: torch.Tensor, channels: int | None) -> torch.Tensor:
    """Convert (N, C, H, W) uint8 images to ``channels`` channels (ITU-R 601 luma for grey)."""
    if channels is None or images.shape[1] == channels:
        return images
    if channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (images.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)


def _resize_batch(images: torch.Tensor, size: tuple[int, int] | None) -> torch.Tensor:
    if size is None or tuple(images.shape[-2:]) == size:
        return images
    out = F.interpolate(images.float(), size=size, mode="bilinear", antialias=True, align_corners=False)
    return out.round().clamp(0, 255).to(torch.uint8)


def _unify(images: list[torch.Tensor], size, channels, kind: str, names: list[str] | None = None) -> list[torch.Tensor]:
    """Resize when asked, else make sure every image has the first one's shape."""
    first = images[0].shape
    if size is not None:
        return [_resize_batch(im[None], size)[0] for im in images]
    for index, image in enumerate(images):
        if image.shape != first:
            who = names[index] if names else f"{kind} {index}"
            which = "channel counts" if image.shape[0] != first[0] else "sizes"
            fix = "channels=1 or 3 (--channels)" if which == "channel counts" else "image_size= (--image-size)"
            raise DataError(
                f"{who} has shape {tuple(image.shape)} (C, H, W) but the first image has {tuple(first)}: "
                f"images of mixed {which}; pass {fix} to convert them all"
            )
    return images


def _normalise_size(image_size: SizeArg) -> tuple[int, int] | None:
    if image_size is None:
        return None
    if isinstance(image_size, int):
        size = (image_size, image_size)
    else:
        size = tuple(int(s) for s in image_size)  # type: ignore[assignment]
    if len(size) != 2 or min(size) < 1 or max(size) > 4096:
        raise DataError(f"image_size={image_size!r} must be a positive int or (H, W)")
    return size  # type: ignore[return-value]


def format_bytes(n: int) -> str:
    """Human-readable size, for messages."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    power = min(int(math.log(max(n, 1), 1024)), len(units) - 1)
    return f"{n / 1024 ** power:.1f} {units[power]}"
