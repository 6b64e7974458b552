"""Restoring a user's damaged images with a trained image-to-image generator (``ganaug restore``).

:func:`restore` reads the images (a folder in ImageFolder layout, an ``.npz``, arrays or a tensor
batch with labels: anything :func:`ganaug.load_data` reads), brings them to the generator's size and
channels, matches their classes to the generator's by name, reads the masks (an image for all, or
an ``.npy``/``.npz`` array with one per image, in the data's order) and calls
:meth:`ganaug.TrainedGenerator.restore`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganaug.data import DataSource, ImageStore, load_data
from ganaug.errors import DataError
from ganaug.generator import TrainedGenerator, load

MaskArg = str | Path | torch.Tensor | np.ndarray | None


def restore(generator: TrainedGenerator | str | Path, data: DataSource, *, task: str = "inpaint",
            masks: MaskArg = None, seed: int = 0, device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Restore damaged images of known classes; returns ``(images, labels)`` (uint8 (N, C, H, W), int64).

    Args:
        generator: a trained image-to-image generator, or the path of one (run folder or saved).
        data: the damaged images with their labels.
        task: ``"inpaint"`` (fill ``masks``), ``"denoise"`` or ``"enhance"``.
        masks: for inpainting: ``"random"`` (a random box per image), a mask image file (one mask for
            all), an ``.npy``/``.npz`` file or an array of one mask per image (N, H, W), in the order of
            ``data``; 1 (or 255) where a pixel is missing.
        seed: the latent's seed (and the random boxes').
        device: where the generator runs when given as a path.
    """
    if not isinstance(generator, TrainedGenerator):
        generator = load(generator, device=device)
    channels, height, width = generator.image_shape
    store = load_data(data, image_size=(height, width), channels=channels, min_classes=1)
    labels = _generator_labels(store, generator)
    restored = generator.restore(store.images, labels, task=task, masks=_read_masks(masks, store), seed=seed)
    return restored, labels


def sources_for(generator: TrainedGenerator, data: DataSource) -> ImageStore:
    """``data`` at the generator's size, with its classes: what an image-to-image generator varies."""
    channels, height, width = generator.image_shape
    store = load_data(data, image_size=(height, width), channels=channels, min_classes=1)
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


def _mask_image(path: Path, store: ImageStore) -> torch.Tensor:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            mask = np.asarray(image.convert("L"))
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(f"cannot read the mask image {path}: {exc}") from None
    height, width = store.image_shape[1:]
    if mask.shape != (height, width):
        raise DataError(f"the mask image {path} is {mask.shape[1]}x{mask.shape[0]}, the images {width}x{height}")
    return torch.from_numpy(mask.copy())
