"""A trained conditional generator: sample it per class, save it, load it back safely.

Saved form: a folder with ``generator.safetensors`` (the sampling network's weights, EMA weights
when the family keeps them) and ``generator.json`` (family, config, classes, image shape,
checksum). :func:`load` also accepts a training run folder (its newest valid checkpoint) or one
checkpoint folder. Only safetensors and JSON are read; nothing is unpickled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ganaug import storage
from ganaug.devices import resolve_device
from ganaug.errors import CheckpointError, ConfigError, UnknownGeneratorError
from ganaug.gan import GAN, to_uint8
from ganaug.metrics.fidelity import FidelityReport
from ganaug.runs import checkpoint as ckpt

if TYPE_CHECKING:
    from ganaug.plugins.registry import Registry

GENERATOR_WEIGHTS = "generator.safetensors"
GENERATOR_META = "generator.json"
GENERATOR_FORMAT = "ganaug-generator"


class TrainedGenerator:
    """A class-conditional generator ready to sample.

    Args:
        gan: the GAN whose sampling network (EMA copy if any) is used.
        model: registered family name, so the generator can be rebuilt on load.
        classes: class names; label ``k`` is ``classes[k]``.
    """

    def __init__(self, gan: GAN, model: str, classes: Sequence[str], fidelity: FidelityReport | None = None) -> None:
        self.gan = gan
        self.model = model
        self.classes = list(classes)
        self.fidelity = fidelity
        """Per-class fidelity measured at the end of training on the training images (None when unknown)."""

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

    def _label_tensor(self, labels: Sequence[int | str] | torch.Tensor) -> torch.Tensor:
        if isinstance(labels, torch.Tensor):
            values = labels.flatten().tolist()
        else:
            values = list(labels)
        out = []
        for value in values:
            if isinstance(value, str):
                if value not in self.classes:
                    raise ConfigError(f"unknown class {value!r}; classes are {self.classes}")
                value = self.classes.index(value)
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
        if labels is not None and per_class is not None:
            raise ConfigError("pass labels= or per_class=, not both")
        if labels is None:
            count = 1 if per_class is None else int(per_class)
            if count < 0:
                raise ConfigError(f"per_class must be >= 0, got {per_class}")
            label_tensor = torch.arange(self.num_classes).repeat_interleave(count)
        else:
            label_tensor = self._label_tensor(labels)
        noise = self.gan.sample_noise(len(label_tensor), device="cpu", generator=torch.Generator().manual_seed(seed))
        network, device = self.network, self.device
        was_training = network.training
        network.eval()
        chunks = []
        for start in range(0, len(label_tensor), batch_size):
            z = noise[start:start + batch_size].to(device)
            y = label_tensor[start:start + batch_size].to(device)
            chunks.append(to_uint8(network(z, y)).cpu())
        network.train(was_training)
        images = torch.cat(chunks) if chunks else torch.empty(0, *self.image_shape, dtype=torch.uint8)
        return (images, label_tensor) if return_labels else images

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
        missing = [key for key in ("model", "model_config", "classes", "image_shape") if key not in meta]
        if missing:
            raise CheckpointError(f"{path / GENERATOR_META}: missing {', '.join(missing)}")
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
