"""Restoring a user's damaged images with a trained image-to-image generator (``ganaug restore``).

:func:`restore` reads the images (a folder in ImageFolder layout, an ``.npz``, arrays or a tensor
batch with labels: anything :func:`ganaug.load_data` reads), brings them to the generator's size and
channels, matches their classes to the generator's by name, reads the masks (an image for all, a folder with one mask image per input image under the same
name, or an ``.npy``/``.npz`` array with one per image, in the data's order) and calls
:meth:`ganaug.TrainedGenerator.restore`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ganaug.data import DataSource, ImageStore, load_data
from ganaug.data.folders import (
    IMAGE_EXTENSIONS,
    FolderScan,
    class_folders,
    find_image_files,
)
from ganaug.errors import DataError
from ganaug.generator import TrainedGenerator, load

if TYPE_CHECKING:
    from ganaug.plugins.registry import Registry

MaskArg = str | Path | torch.Tensor | np.ndarray | None


def restore(generator: TrainedGenerator | str | Path, data: DataSource, *, task: str = "inpaint",
            masks: MaskArg = None, seed: int = 0, device: str = "cpu", resize: bool = False,
            registry: Registry | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Restore damaged images of known classes; returns ``(images, labels)`` (uint8 (N, C, H, W), int64).

    Args:
        generator: a trained image-to-image generator, or the path of one (run folder or saved).
        data: the damaged images with their labels.
        task: ``"inpaint"`` (fill ``masks``), ``"denoise"`` or ``"enhance"``.
        masks: for inpainting: ``"random"`` (a random box per image), a mask image file (one mask for
            all), a folder of mask images named like ``data``'s image files (``masks/<class>/<name>.png``
            or ``masks/<name>.png``; ``data`` must then be a folder), an ``.npy``/``.npz`` file or an
            array of one mask per image (N, H, W), in the order of ``data``; 1 (or 255) where a pixel
            is missing (grey values are refused: a mask is black and white).
        seed: the latent's seed (and the random boxes').
        device: where the generator runs when given as a path.
        resize: bring images of another size or colour to the generator's first (and mask images with
            them, nearest neighbour, by the same crop rule); without it they are refused, since the
            restored images would silently come back at another size or in grey.
        registry: where a saved generator's family and a named data set are looked up; the default
            registry when omitted.
    """
    if not isinstance(generator, TrainedGenerator):
        generator = load(generator, device=device, registry=registry)
    channels, height, width = generator.image_shape
    if resize:
        store = load_data(data, image_size=(height, width), channels=channels, min_classes=1, registry=registry)
    else:
        store = load_data(data, min_classes=1, registry=registry)
        if store.image_shape != tuple(generator.image_shape):
            raise DataError(f"the input {_name(data)} holds {_describe_shape(store.image_shape)} images, the "
                            f"generator makes {_describe_shape(generator.image_shape)}; pass --resize (resize=True) "
                            "to bring them to its size and colour first, or use a generator trained at their size")
    labels = _generator_labels(store, generator)
    mask_folder = masks is not None and not isinstance(masks, (torch.Tensor, np.ndarray)) and Path(masks).is_dir()
    read = (_mask_folder(Path(masks), data, store, resize) if mask_folder  # type: ignore[arg-type]
            else _read_masks(masks, store))
    restored = generator.restore(store.images, labels, task=task, masks=read, seed=seed)
    return restored, labels


def _name(data: DataSource) -> str:
    return str(data) if isinstance(data, (str, Path)) else type(data).__name__


def _describe_shape(shape) -> str:
    """``(3, 16, 16)`` as "16x16 RGB" (or "grey", or "N-channel")."""
    channels, height, width = shape
    colour = {1: "grey", 3: "RGB"}.get(channels, f"{channels}-channel")
    return f"{width}x{height} {colour}"


def input_files(data: DataSource) -> list[Path] | None:
    """The image files of a folder input, relative to it, in the order :func:`ganaug.load_data` reads them;
    None for inputs that are not folders."""
    if not isinstance(data, (str, Path)) or not Path(data).is_dir():
        return None
    root, scan = Path(data), FolderScan()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # load_data has warned about what it left out
        for label, name in enumerate(class_folders(root)):
            find_image_files(root / name, label, scan)
    return [path.relative_to(root) for path, _ in scan.files]


def _mask_folder(folder: Path, data: DataSource, store: ImageStore, resize: bool) -> torch.Tensor:
    """One mask per input image from ``folder``, found by the image's name (``<class>/<name>.*`` or ``<name>.*``)."""
    files = input_files(data)
    if files is None:
        raise DataError(f"the mask folder {folder} pairs masks with image files by name, so INPUT must be a folder "
                        "too; for an .npz or arrays, give the masks as an .npy/.npz in the same order")
    masks, missing = [], []
    for relative in files:
        candidates = [folder / relative.parent / (relative.stem + ext) for ext in (relative.suffix, *IMAGE_EXTENSIONS)]
        candidates += [folder / (relative.stem + ext) for ext in (relative.suffix, *IMAGE_EXTENSIONS)]
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            missing.append(relative)
            continue
        masks.append(_mask_image(found, store, resize=resize))
    if missing:
        raise DataError(f"the mask folder {folder} has no mask for {len(missing)} of the {len(files)} input images, "
                        f"first: {missing[0]} (looked for {folder / missing[0].parent / missing[0].stem}.* and "
                        f"{folder / missing[0].stem}.*); give every image a mask of the same name")
    return torch.stack(masks)


def sources_for(generator: TrainedGenerator, data: DataSource, registry: Registry | None = None) -> ImageStore:
    """``data`` at the generator's size, with its classes: what an image-to-image generator varies
    (``registry``: where a named data set is looked up; the default registry when omitted)."""
    channels, height, width = generator.image_shape
    store = load_data(data, image_size=(height, width), channels=channels, min_classes=1, registry=registry)
    return ImageStore(store.images, _generator_labels(store, generator), generator.classes)


def _generator_labels(store: ImageStore, generator: TrainedGenerator) -> torch.Tensor:
    """The data's labels as the generator's class indices: by class name, or by index for unnamed classes."""
    names = list(store.classes)
    if all(name in generator.classes for name in names):
        return generator.class_indices([names[k] for k in store.labels.tolist()])
    if all(name.isdigit() and int(name) < generator.num_classes for name in names):  # unnamed: labels are indices
        return torch.tensor([int(names[k]) for k in store.labels.tolist()], dtype=torch.long)
    unknown = [name for name in names if name not in generator.classes]
    raise DataError(f"class(es) {', '.join(map(repr, unknown[:5]))} of the input are not among the generator's "
                    f"classes {generator.classes[:10]}; name the input's class folders like the training data's")


def _read_masks(masks: MaskArg, store: ImageStore) -> torch.Tensor | str | None:
    if masks is None or (isinstance(masks, str) and masks == "random"):
        return masks
    if isinstance(masks, (torch.Tensor, np.ndarray)):
        return torch.as_tensor(masks)
    path = Path(masks)
    if not path.exists():
        raise DataError(f"mask file {path} does not exist")
    if path.suffix.lower() in (".npy", ".npz"):
        try:
            if path.suffix.lower() == ".npy":
                return torch.from_numpy(np.load(path, allow_pickle=False))
            with np.load(path, allow_pickle=False) as archive:
                if not archive.files:
                    raise DataError(f"the mask file {path} holds no array")
                return torch.from_numpy(archive["masks" if "masks" in archive.files else archive.files[0]])
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged file, a pickle (never loaded), an object array
            raise DataError(f"--masks {path}: not a readable array of masks ({_first_line(exc)}); save them with "
                            "numpy.save / numpy.savez as numbers (1 where a pixel is missing)") from None
    return _mask_image(path, store)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _mask_image(path: Path, store: ImageStore, resize: bool = False) -> torch.Tensor:
    from PIL import Image, UnidentifiedImageError

    from ganaug.data.resize import DEFAULT_RESIZE, resize_pil

    height, width = store.image_shape[1:]
    try:
        with Image.open(path) as image:
            gray = image.convert("L")
            if resize and gray.size != (width, height):
                gray = resize_pil(gray, (height, width), DEFAULT_RESIZE, Image.Resampling.NEAREST)  # as the images
            mask = np.asarray(gray)
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(f"cannot read the mask image {path}: {exc}") from None
    if mask.shape != (height, width):
        raise DataError(f"the mask image {path} is {mask.shape[1]}x{mask.shape[0]}, the images {width}x{height}; "
                        "make the masks the images' size (with --resize, a mask folder's images are resized with them)")
    return torch.from_numpy(mask.copy())
