"""A trained conditional generator: sample it per class, save it, load it back safely.

Saved form: a folder with ``generator.safetensors`` (the sampling network's weights, EMA weights
when the family keeps them) and ``generator.json`` (family, config, classes, image shape,
checksum). :func:`load` also accepts a training run folder (its newest valid checkpoint) or one
checkpoint folder. Only safetensors and JSON are read; nothing is unpickled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from ganaug import storage
from ganaug.corruptions import TASKS, binary_masks, box_masks, normal_to_uniform
from ganaug.data.memory import check_memory
from ganaug.devices import resolve_device
from ganaug.errors import CheckpointError, ConfigError, DataError, UnknownGeneratorError
from ganaug.gan import GAN, to_uint8, to_unit_range
from ganaug.metrics.fidelity import FidelityReport
from ganaug.runs import checkpoint as ckpt
from ganaug.runs.metadata import check_generator_meta
from ganaug.seeds import Stream, check_seed, derive_seed

if TYPE_CHECKING:
    from ganaug.data import ImageStore
    from ganaug.image_gan import ImageGAN
    from ganaug.plugins.registry import Registry

GENERATOR_WEIGHTS = "generator.safetensors"
GENERATOR_META = "generator.json"
GENERATOR_FORMAT = "ganaug-generator"


class TrainedGenerator:
    """A class-conditional generator ready to sample.

    An image-to-image family (``conditioning == "image"``, e.g. ``img2img``) also restores images
    (:meth:`restore`) and makes variations of real ones (:meth:`variations`); its :meth:`sample` draws
    variations of randomly chosen images of ``sources`` (the training images after :func:`ganaug.fit`;
    not saved with the generator, so give them again after :func:`load`).

    Args:
        gan: the GAN whose sampling network (EMA copy if any) is used.
        model: registered family name, so the generator can be rebuilt on load.
        classes: class names; label ``k`` is ``classes[k]``.
        fidelity: per-class fidelity measured at the end of training.
        sources: real images to draw variations of (image-to-image families only).
    """

    def __init__(self, gan: GAN, model: str, classes: Sequence[str], fidelity: FidelityReport | None = None,
                 sources: ImageStore | None = None) -> None:
        self.gan = gan
        self.model = model
        self.classes = list(classes)
        self.fidelity = fidelity
        """Per-class fidelity measured at the end of training on the training images (None when unknown)."""
        self.sources = sources if gan.conditioning == "image" else None
        self.variation_task: str | None = None
        """Image families: the corruption :meth:`variations` and :meth:`sample` start from (None: the family's)."""
        self.variation_strength: float | None = None
        """Image families: the strength of that corruption, 0 to 1 (None: the family's ``variation_strength``)."""

    @property
    def conditioning(self) -> str:
        """``"noise"`` (draws images from noise) or ``"image"`` (restores and varies real images)."""
        return self.gan.conditioning

    @property
    def network(self) -> nn.Module:
        return self.gan.sampling_generator

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of generated images."""
        return self.gan.image_shape  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    def to(self, device: str | torch.device) -> TrainedGenerator:
        self.gan.to(resolve_device(device))
        return self

    def class_indices(self, labels: Sequence[int | str] | torch.Tensor) -> torch.Tensor:
        """Class indices (int64) of labels given as indices or class names; unknown ones raise ConfigError."""
        if isinstance(labels, torch.Tensor):
            if labels.dtype.is_floating_point or labels.dtype == torch.bool:
                raise ConfigError(f"labels is a {labels.dtype} tensor; pass class indices (integers) or names")
            values = labels.flatten().tolist()
        elif isinstance(labels, (str, bytes)) or not hasattr(labels, "__iter__"):
            raise ConfigError(f"labels={labels!r}: pass a list of class indices or names, one per image")
        else:
            values = list(labels)
        out = []
        for value in values:
            if isinstance(value, str):
                if value not in self.classes:
                    raise ConfigError(f"unknown class {value!r}; classes are {self.classes}")
                value = self.classes.index(value)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                raise ConfigError(f"label {value!r} is not a class index (an integer) or a class name")
            if not 0 <= int(value) < self.num_classes:
                raise ConfigError(f"label {value} outside 0..{self.num_classes - 1}")
            out.append(int(value))
        return torch.tensor(out, dtype=torch.long)

    @torch.no_grad()
    def sample(self, labels: Sequence[int | str] | torch.Tensor | None = None, per_class: int | None = None,
               seed: int = 0, *, batch_size: int = 1024, return_labels: bool = False):
        """Generate images.

        Args:
            labels: the class (index or name) of each image to generate.
            per_class: instead of ``labels``, this many images of every class, class 0 first.
                With neither, one image per class.
            seed: noise seed; image ``i`` depends only on ``seed``, ``i`` and its label, never on
                ``batch_size``.
            batch_size: images per generator call.
            return_labels: also return the int64 labels.

        Returns:
            uint8 tensor (N, C, H, W) on the CPU, and the labels when ``return_labels``.
        """
        seed = check_seed(seed)
        _check_batch_size(batch_size)
        if labels is not None and per_class is not None:
            raise ConfigError("pass labels= or per_class=, not both")
        if labels is None:
            count = 1 if per_class is None else per_class
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ConfigError(f"per_class={per_class!r} must be an integer >= 0")
            self._check_sample_memory(count * self.num_classes, f"{count} images per class (per_class, --per-class)")
            label_tensor = torch.arange(self.num_classes).repeat_interleave(count)
        else:
            label_tensor = self.class_indices(labels)
        if self.conditioning == "image":
            images = self._variations_of_sources(label_tensor, seed, batch_size)
            return (images, label_tensor) if return_labels else images
        noise = self.gan.sample_noise(len(label_tensor), device="cpu", generator=torch.Generator().manual_seed(seed))
        images = self._run(label_tensor, batch_size, lambda start, end, device: noise[start:end].to(device))
        return (images, label_tensor) if return_labels else images

    def _check_sample_memory(self, count: int, what: str) -> None:
        """Refuse, before drawing any noise, a request whose images and noise would not fit in memory."""
        noise_row = self.gan.sample_noise(1, device="cpu", generator=torch.Generator()).numel()
        check_memory(count, self.image_shape, what, extra=count * noise_row * 4,
                     fix="ask for fewer images per call and concatenate the results")

    def _run(self, labels: torch.Tensor, batch_size: int,
             inputs: Callable[[int, int, torch.device], torch.Tensor]) -> torch.Tensor:
        """G in eval mode over ``labels`` in batches; ``inputs(start, end, device)`` gives each batch's input."""
        network, device = self.network, self.device
        was_training = network.training
        network.eval()
        chunks = []
        for start in range(0, len(labels), batch_size):
            end = min(start + batch_size, len(labels))
            chunks.append(to_uint8(network(inputs(start, end, device), labels[start:end].to(device))).cpu())
        network.train(was_training)
        return torch.cat(chunks) if chunks else torch.empty(0, *self.image_shape, dtype=torch.uint8)

    # -- image-to-image families ----------------------------------------------------------------

    def _image_family(self, what: str) -> ImageGAN:
        if self.conditioning != "image":
            raise ConfigError(f"{self.model!r} draws images from noise; {what} needs an image-to-image family "
                              "(conditioning='image', e.g. img2img): train one with model='img2img'")
        return self.gan  # type: ignore[return-value]

    def _check_images(self, images: torch.Tensor, labels: Sequence[int | str] | torch.Tensor,
                      what: str) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.dim() != 4:
            kind, shape = getattr(images, "dtype", type(images).__name__), tuple(getattr(images, "shape", ()))
            raise DataError(f"{what}: images must be a uint8 tensor (N, C, H, W); got {kind} of shape {shape}")
        if tuple(images.shape[1:]) != tuple(self.image_shape):
            raise DataError(f"{what}: images of shape {tuple(images.shape[1:])}, but the generator makes "
                            f"{tuple(self.image_shape)}; resize them (load_data(..., image_size=, channels=))")
        label_tensor = self.class_indices(labels)
        if len(label_tensor) != len(images):
            raise DataError(f"{what}: {len(images)} images but {len(label_tensor)} labels")
        return images, label_tensor

    @torch.no_grad()
    def variations(self, images: torch.Tensor, labels: Sequence[int | str] | torch.Tensor, *, seed: int = 0,
                   task: str | None = None, strength: float | None = None, batch_size: int = 1024) -> torch.Tensor:
        """New versions of real images: corrupt each (``task``, at ``strength`` in 0..1 of the task's range;
        the family's ``variation_task`` and ``variation_strength`` by default), then restore it.

        Image ``i`` depends only on ``seed``, ``i``, its source and its label. Returns uint8 (N, C, H, W).
        """
        gan = self._image_family("variations")
        images, label_tensor = self._check_images(images, labels, "variations")
        task = task or self.variation_task or gan.config.variation_task
        if strength is None:
            strength = gan.config.variation_strength if self.variation_strength is None else self.variation_strength
        strength = float(strength)
        if not 0 <= strength <= 1:
            raise ConfigError(f"strength={strength}: must be in [0, 1]")
        generator = torch.Generator().manual_seed(check_seed(seed))
        noise = gan.sample_noise(len(images), device="cpu", generator=generator)

        def inputs(start: int, end: int, device: torch.device) -> torch.Tensor:
            real, z = to_unit_range(images[start:end].to(device)), noise[start:end].to(device)
            return gan.pack(*gan.corrupt(real, z, task=task, strength=strength), z)

        return self._run(label_tensor, batch_size, inputs)

    @torch.no_grad()
    def restore(self, images: torch.Tensor, labels: Sequence[int | str] | torch.Tensor, *, task: str = "inpaint",
                masks: torch.Tensor | str | None = None, seed: int = 0, batch_size: int = 1024) -> torch.Tensor:
        """Restore damaged images of known classes.

        Args:
            images: uint8 (N, C, H, W), the damaged images.
            labels: their classes (indices or names).
            task: ``"inpaint"`` fills ``masks``; ``"denoise"`` and ``"enhance"`` redraw the whole image.
            masks: for inpainting, 1 (or True, or 255) where a pixel is missing: (N, 1, H, W), (N, H, W)
                or one (H, W) mask for all; ``"random"`` blanks a random box per image first (the family's
                ``variation_strength`` sets its size), to see what the family draws there.
            seed: the latent's seed (and the random boxes').

        Returns:
            uint8 (N, C, H, W); with inpainting, pixels outside the mask are returned unchanged.
        """
        gan = self._image_family("restore")
        images, label_tensor = self._check_images(images, labels, "restore")
        if task not in TASKS:
            raise ConfigError(f"restore: task={task!r}; choose from {', '.join(TASKS)}")
        if task != "inpaint" and masks is not None:
            raise ConfigError(f"restore: masks are for task='inpaint'; {task} redraws the whole image (drop masks= / "
                              "--masks)")
        if task == "inpaint" and masks is None:
            raise ConfigError("restore: task='inpaint' needs masks= (1 where a pixel is missing) or masks='random' "
                              "(on the command line: --masks FILE or --masks random)")
        generator = torch.Generator().manual_seed(check_seed(seed))
        noise = gan.sample_noise(len(images), device="cpu", generator=generator)
        if isinstance(masks, str):
            if masks != "random":
                raise ConfigError(f"restore: masks={masks!r}; give a tensor or 'random'")
            area = gan.config.mask_area_min + gan.config.variation_strength * (
                gan.config.mask_area_max - gan.config.mask_area_min)
            uniforms = normal_to_uniform(noise[:, gan.config.z_dim + 2: gan.config.z_dim + 5])
            mask_tensor = box_masks(self.image_shape[1:], torch.full((len(images),), area), uniforms)
        else:
            mask_tensor = self._masks(masks, images)

        def inputs(start: int, end: int, device: torch.device) -> torch.Tensor:
            batch_masks = mask_tensor[start:end].to(device)
            damaged = to_unit_range(images[start:end].to(device))
            # inpainting blanks the masked pixels as in training; noisy or blurred images go in as they are
            corrupted = damaged * (1.0 - batch_masks) if task == "inpaint" else damaged
            return gan.pack(corrupted, batch_masks, noise[start:end].to(device))

        return self._run(label_tensor, batch_size, inputs)

    @staticmethod
    def _masks(masks: torch.Tensor | None, images: torch.Tensor) -> torch.Tensor:
        """Masks as float (N, 1, H, W) of 0 and 1; ones (regenerate everything) when None."""
        count, height, width = len(images), *images.shape[-2:]
        if masks is None:
            return torch.ones(count, 1, height, width)
        masks = torch.as_tensor(masks)
        shape = tuple(masks.shape)
        if masks.dim() == 2 and tuple(shape) == (height, width):
            masks = masks.expand(count, height, width)
        if masks.dim() == 3:
            masks = masks.unsqueeze(1)
        if masks.dim() != 4 or masks.shape[1] != 1 or tuple(masks.shape[-2:]) != (height, width) \
                or masks.shape[0] != count:
            raise DataError(f"restore: masks of shape {shape} do not match {count} images of {height}x{width}; "
                            f"give (N, 1, H, W), (N, H, W) or one (H, W) mask, 1 where a pixel is missing")
        return binary_masks(masks.float())

    def _variations_of_sources(self, labels: torch.Tensor, seed: int, batch_size: int) -> torch.Tensor:
        """``sample`` for image families: a variation of a random source image of each label's class."""
        if self.sources is None:
            raise ConfigError(f"{self.model!r} makes variations of real images: set generator.sources to an "
                              "ImageStore of real images (fit does this), or call variations(images, labels)")
        picks = torch.rand(len(labels), generator=torch.Generator().manual_seed(derive_seed(seed, Stream.HASHED, 1)))
        index = torch.empty(len(labels), dtype=torch.long)
        source_labels = self.sources.labels
        for k in labels.unique().tolist():
            members = torch.nonzero(source_labels == k).flatten()
            if len(members) == 0:
                raise DataError(f"no source image of class {self.classes[k]!r} to vary; add some to generator.sources")
            rows = labels == k
            index[rows] = members[(picks[rows] * len(members)).long().clamp(max=len(members) - 1)]
        return self.variations(self.sources.images[index], labels, seed=seed, batch_size=batch_size)

    def save(self, directory: str | Path) -> Path:
        """Write the generator to ``directory`` (safetensors + JSON); returns the folder."""
        meta = {
            "format": GENERATOR_FORMAT,
            "model": self.model,
            "model_config": self.gan.config_dict(),
            "classes": self.classes,
            "image_shape": list(self.image_shape),
        }
        if self.fidelity is not None:
            meta["fidelity"] = dataclasses.asdict(self.fidelity)
        return storage.write_folder_atomically(Path(directory), self.network.state_dict(), meta,
                                            GENERATOR_WEIGHTS, GENERATOR_META)

    def __repr__(self) -> str:
        return (f"TrainedGenerator(model={self.model!r}, classes={len(self.classes)}, "
                f"image_shape={self.image_shape}, device={self.device})")


def load(path: str | Path, *, device: str | torch.device = "cpu", registry: Registry | None = None
         ) -> TrainedGenerator:
    """Load a generator saved by :meth:`TrainedGenerator.save`, a run folder or a checkpoint folder.

    Only safetensors and JSON files are read; a pickle or any other file is refused.

    Args:
        path: a saved generator, a run folder (its newest valid checkpoint) or one checkpoint folder.
        device: where to put the generator.
        registry: where the saved family is looked up; the default registry when omitted.
    """
    path = Path(path)
    if path.is_file():
        raise CheckpointError(
            f"{path}: ganaug loads folders written by TrainedGenerator.save() or by training "
            "(safetensors + JSON), not single files; refusing to open it (it may be a pickle)"
        )
    if not path.is_dir():
        raise CheckpointError(f"{path}: no such folder")
    if (path / GENERATOR_META).exists():
        tensors, meta = storage.read_folder(path, GENERATOR_WEIGHTS, GENERATOR_META)
        if meta.get("format") != GENERATOR_FORMAT:
            raise CheckpointError(f"{path / GENERATOR_META}: not a ganaug generator file")
        check_generator_meta(meta, path / GENERATOR_META)
        gan = build_gan(meta["model"], meta["model_config"], len(meta["classes"]), meta["image_shape"], path, registry)
        _load_state(gan.sampling_generator, tensors, path)
        return TrainedGenerator(gan, meta["model"], meta["classes"], _fidelity(meta, path)).to(device)
    checkpoint = ckpt.read_checkpoint(path) if (path / storage.META_FILE).exists() else ckpt.latest_checkpoint(path)
    if checkpoint is None:
        raise CheckpointError(
            f"{path}: no {GENERATOR_META}, no checkpoint and no checkpoints/ folder with a valid checkpoint; "
            "pass a folder written by .save(), a run folder of `ganaug train`, or one of its checkpoints"
        )
    gan = build_gan(checkpoint.model, checkpoint.model_config, len(checkpoint.classes), checkpoint.image_shape,
                    checkpoint.folder, registry)
    _load_state(gan, checkpoint.gan_state(), checkpoint.folder)
    return TrainedGenerator(gan, checkpoint.model, checkpoint.classes).to(device)


def _check_batch_size(batch_size: object) -> None:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ConfigError(f"batch_size={batch_size!r} must be an integer >= 1")


def build_gan(model: str, model_config: dict[str, Any], num_classes: int, image_shape: Sequence[int],
              where: Path, registry: Registry | None = None) -> GAN:
    """Rebuild a family's GAN from saved metadata, with errors that say what to install."""
    from ganaug.plugins.registry import default_registry

    try:
        entry = (registry or default_registry()).generator(model)
    except UnknownGeneratorError as exc:
        raise CheckpointError(f"{where}: saved with generator family {model!r}, which is not installed ({exc})") from None
    if not isinstance(model_config, dict):
        raise CheckpointError(f"{where}: model_config must be a JSON object, got {model_config!r}")
    return entry.build(num_classes=num_classes, image_shape=tuple(image_shape), **model_config)


def _fidelity(meta: dict[str, Any], where: Path) -> FidelityReport | None:
    saved = meta.get("fidelity")
    if saved is None:
        return None
    try:
        return FidelityReport(**saved)
    except TypeError as exc:
        raise CheckpointError(f"{where / GENERATOR_META}: unreadable fidelity record ({exc})") from None


def _load_state(module: nn.Module, tensors: dict[str, torch.Tensor], where: Path) -> None:
    try:
        module.load_state_dict(tensors)
    except RuntimeError as exc:
        raise CheckpointError(f"{where}: weights do not fit the saved model config ({exc})") from None
