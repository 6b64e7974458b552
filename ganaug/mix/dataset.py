"""SyntheticMix: a torch Dataset that mixes a generator's samples into a real training set.

Users wrap the dataset their classifier already trains on; their transforms, DataLoader and
training loop stay as they are::

    generator = ganaug.load("runs/cdcgan")
    train_set = ganaug.SyntheticMix(train_set, generator, ratio=0.3)            # 30% synthetic
    train_set = ganaug.SyntheticMix(train_set, generator, ratio=None, class_policy="balance")  # top up rare classes

Items ``0 .. n_real-1`` are the real items; items ``n_real ..`` are synthetic. A sampler (shuffling
or distributed) mixes them like any other dataset; :class:`MixedBatchSampler` puts an exact number
of synthetic items in every batch.

Synthetic images come from a *bank*: one uint8 tensor generated in large batches on the
generator's device and kept on the CPU in shared memory, so DataLoader workers (persistent or not)
read it without copies and see it when :meth:`SyntheticMix.set_epoch` refreshes it in place.
Synthetic item ``i`` of epoch ``e`` depends only on ``(seed, e, i)``: not on the batch size, the
sampler or the number of workers. Random transforms are seeded per item for the same reason.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from ganaug.errors import ConfigError, DataError
from ganaug.generator import TrainedGenerator
from ganaug.mix.formats import (
    ItemFormat,
    _is_albumentations,
    detect_format,
    read_labels,
)
from ganaug.mix.policies import POLICIES, _largest_remainder, allocate_synthetic
from ganaug.seeds import Stream, derive_seed


class SyntheticMix(Dataset):
    """A real dataset plus a generator's samples, as one map-style Dataset.

    Args:
        real: the real training set, yielding ``(image, label)``.
        generator: a :class:`TrainedGenerator` trained on images like ``real``'s.
        ratio: synthetic share of each epoch, in [0, 1); 0 gives the real dataset unchanged.
            ``None`` with ``class_policy="balance"`` tops the rare classes up; ignored for a dict policy.
        class_policy: ``"match"`` (synthetic classes in the real proportions), ``"uniform"``,
            ``"balance"`` (synthetic images go to the rarest classes until real + synthetic counts
            are level), or ``{class index or name: count}``.
        bank_size: distinct synthetic images held at a time (default: one per synthetic item).
        refresh: ``"epoch"`` (new bank at each :meth:`set_epoch`), ``"never"``, or an int N (every N epochs).
        transform: applied to real and synthetic items alike (albumentations or torchvision).
        seed: makes synthetic images and random transforms reproducible.
        return_source: items become ``(image, label, is_synthetic)``.
        synthetic_only: allow ``ratio=1`` (no real items; as many synthetic as there were real).
        labels: the real labels, when ``real`` has no ``.targets``/``.labels`` attribute.
        sample_filter: ``filter(images, labels) -> keep`` (see :mod:`ganaug.mix.filters`, e.g. a
            :class:`~ganaug.mix.filters.ConfidenceFilter`); rejected bank images are redrawn with new noise.
        max_draws: draws per bank slot before giving up; a slot still rejected then takes a copy of an
            accepted image of its class (or, if its class has none, keeps its last draw, with a warning).
    """

    def __init__(self, real: Dataset, generator: TrainedGenerator, *, ratio: float | None = 0.5,
                 class_policy: str | Mapping[int | str, int] = "match", bank_size: int | None = None,
                 refresh: str | int = "epoch", transform: Any = None, seed: int = 0, return_source: bool = False,
                 synthetic_only: bool = False, labels: Sequence[int] | None = None,
                 sample_filter: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                 max_draws: int = 10) -> None:
        if sample_filter is not None and not callable(sample_filter):
            raise ConfigError(f"sample_filter={sample_filter!r} must be callable: filter(images, labels) -> keep")
        if not isinstance(max_draws, int) or isinstance(max_draws, bool) or max_draws < 1:
            raise ConfigError(f"max_draws={max_draws!r} must be a positive integer")
        self.sample_filter = sample_filter
        self.max_draws = max_draws
        self.acceptance: dict[str, float] = {}
        """Per class: share of draws the filter accepted at the last bank refresh (empty without a filter)."""
        self.real = real
        self.generator = generator
        self.transform = transform
        self.seed = int(seed)
        self.return_source = return_source
        self.synthetic_only = synthetic_only
        self.ratio = self._check_ratio(ratio, class_policy, synthetic_only)
        self.refresh = self._check_refresh(refresh)
        self._albumentations = _is_albumentations(transform)

        real_labels = list(labels) if labels is not None else read_labels(real)
        if len(real_labels) != len(real):  # type: ignore[arg-type]
            raise DataError(f"labels= has {len(real_labels)} entries but the dataset has {len(real)} items")  # type: ignore[arg-type]
        self._check_classes(real_labels)
        counts = [0] * generator.num_classes
        for label in real_labels:
            counts[label] += 1
        policy = self._policy(class_policy)
        per_class = allocate_synthetic(counts, self.ratio, policy)
        self.real_class_counts = counts
        self.n_real = 0 if synthetic_only else len(real_labels)
        self.real_labels = real_labels if not synthetic_only else []
        self.synthetic_labels = torch.arange(generator.num_classes).repeat_interleave(torch.tensor(per_class))
        self.n_synthetic = len(self.synthetic_labels)

        self._slots, bank_labels = self._plan_bank(per_class, bank_size)
        self.bank_labels = bank_labels
        self.bank = torch.zeros(len(bank_labels), *generator.image_shape, dtype=torch.uint8).share_memory_()
        self._state = torch.full((2,), -1, dtype=torch.int64).share_memory_()  # [epoch, bank epoch]
        self.format = self._detect_format() if self.n_real else ItemFormat("tensor", "CHW", torch.uint8)
        self._label_form = self._detect_label_form() if self.n_real else int
        self.set_epoch(0)

    # -- set-up checks ------------------------------------------------------------------------

    @staticmethod
    def _check_ratio(ratio: float | None, class_policy: Any, synthetic_only: bool) -> float | None:
        if ratio is None:
            if class_policy != "balance" and not isinstance(class_policy, Mapping):
                raise ConfigError("ratio=None needs class_policy='balance' (top up rare classes) or a dict policy")
            return None
        if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or not 0.0 <= ratio <= 1.0:
            raise ConfigError(f"ratio={ratio!r} must be a number in [0, 1)")
        if ratio == 1.0 and not synthetic_only:
            raise ConfigError("ratio=1 would drop every real item; pass synthetic_only=True if that is what you want")
        if synthetic_only and ratio != 1.0:
            raise ConfigError("synthetic_only=True needs ratio=1")
        return float(ratio)

    @staticmethod
    def _check_refresh(refresh: str | int) -> str | int:
        if refresh in ("epoch", "never") or (isinstance(refresh, int) and not isinstance(refresh, bool) and refresh > 0):
            return refresh
        raise ConfigError(f"refresh={refresh!r}; use 'epoch', 'never' or a positive number of epochs")

    def _check_classes(self, real_labels: Sequence[int]) -> None:
        names = getattr(self.real, "classes", None)
        k = self.generator.num_classes
        if isinstance(names, (list, tuple)) and names and len(names) != k:
            raise DataError(
                f"the real dataset has {len(names)} classes ({list(names)[:5]}...) but the generator was trained on "
                f"{k} ({self.generator.classes[:5]}...); train the generator on this dataset"
            )
        bad = next((i for i, label in enumerate(real_labels) if not 0 <= int(label) < k), None)
        if bad is not None:
            raise DataError(
                f"real label {real_labels[bad]} (item {bad}) is outside the generator's classes 0..{k - 1}; "
                "train the generator on this dataset"
            )

    def _policy(self, class_policy: str | Mapping[int | str, int]) -> str | dict[int, int]:
        if not isinstance(class_policy, Mapping):
            if class_policy not in POLICIES:
                raise ConfigError(f"class_policy={class_policy!r}; use one of {POLICIES} or a dict {{class: count}}")
            return class_policy
        resolved: dict[int, int] = {}
        for key, count in class_policy.items():
            if isinstance(key, str):
                if key not in self.generator.classes:
                    raise ConfigError(f"class_policy names unknown class {key!r}; classes are {self.generator.classes}")
                key = self.generator.classes.index(key)
            if not 0 <= int(key) < self.generator.num_classes:
                raise ConfigError(f"class_policy has class index {key} outside 0..{self.generator.num_classes - 1}")
            if int(count) < 0:
                raise ConfigError(f"class_policy asks for {count} images of class {key}; counts must be >= 0")
            resolved[int(key)] = int(count)
        return resolved

    def _plan_bank(self, per_class: list[int], bank_size: int | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Bank slot of every synthetic item, and the label of every bank slot."""
        total = sum(per_class)
        if bank_size is None or bank_size >= total:
            return torch.arange(total), self.synthetic_labels.clone()
        if bank_size < 1:
            raise ConfigError(f"bank_size={bank_size} must be >= 1")
        wanted = [c for c in per_class if c > 0]
        if bank_size < len(wanted):
            raise ConfigError(f"bank_size={bank_size} cannot hold one image of each of the {len(wanted)} classes mixed in")
        sizes = _largest_remainder(bank_size - len(wanted), wanted)
        bank_per_class, it = [], iter(sizes)
        for c in per_class:
            bank_per_class.append(1 + next(it) if c > 0 else 0)
        slots, offset = [], 0
        for c, b in zip(per_class, bank_per_class):
            slots.extend(offset + (r % b) for r in range(c))
            offset += b
        labels = torch.arange(len(per_class)).repeat_interleave(torch.tensor(bank_per_class))
        return torch.tensor(slots, dtype=torch.long), labels

    def _detect_format(self) -> ItemFormat:
        probe = [self._real_image(i) for i in range(min(8, self.n_real))]
        return detect_format(probe, self.generator.image_shape)

    def _detect_label_form(self) -> Any:
        """A function giving synthetic labels the real labels' type (int, numpy or 0-d tensor)."""
        label = self.real[0][1]
        if isinstance(label, torch.Tensor):
            return lambda value: torch.tensor(value, dtype=label.dtype)
        if isinstance(label, np.generic):
            return type(label)
        return int

    def _real_image(self, index: int) -> Any:
        item = self.real[index]
        return item[0]

    # -- epochs -------------------------------------------------------------------------------

    @property
    def epoch(self) -> int:
        return int(self._state[0])

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch``: refresh the bank in place when the refresh policy says so.

        Call it before iterating the DataLoader for that epoch (as with ``DistributedSampler``);
        workers, persistent or not, see the new bank through shared memory.
        """
        if self.refresh == "never":
            bank_epoch = 0
        elif self.refresh == "epoch":
            bank_epoch = int(epoch)
        else:
            bank_epoch = int(epoch) // int(self.refresh) * int(self.refresh)
        if bank_epoch != int(self._state[1]) and len(self.bank):
            self.bank.copy_(self._draw_bank(bank_epoch))
        self._state[0] = int(epoch)
        self._state[1] = bank_epoch

    def _draw_bank(self, bank_epoch: int) -> torch.Tensor:
        """The bank of ``bank_epoch``: one draw per slot, then redraws of the slots the filter rejects."""
        images = self.generator.sample(labels=self.bank_labels, seed=derive_seed(self.seed, Stream.HASHED, bank_epoch))
        if self.sample_filter is None:
            return images
        labels = self.bank_labels
        keep = self._keep(images, labels)
        draws = torch.ones(len(labels), dtype=torch.long)
        for draw in range(1, self.max_draws):
            todo = torch.nonzero(~keep).flatten()
            if not len(todo):
                break
            retry = self.generator.sample(labels=labels[todo], seed=derive_seed(self.seed, Stream.HASHED, bank_epoch, draw))
            accepted = self._keep(retry, labels[todo])
            images[todo[accepted]] = retry[accepted]
            keep[todo[accepted]] = True
            draws[todo] += 1
        k = self.generator.num_classes
        accepted_per_class = torch.bincount(labels[keep], minlength=k)
        draws_per_class = torch.bincount(labels, weights=draws.double(), minlength=k)
        self.acceptance = {name: float(accepted_per_class[c] / draws_per_class[c])
                           for c, name in enumerate(self.generator.classes) if draws_per_class[c] > 0}
        hopeless = []
        for c in torch.unique(labels[~keep]).tolist():
            pool = torch.nonzero(keep & (labels == c)).flatten()
            slots = torch.nonzero(~keep & (labels == c)).flatten()
            if len(pool):  # fill with copies of accepted images of the class, in turn
                images[slots] = images[pool[torch.arange(len(slots)) % len(pool)]]
            else:
                hopeless.append(self.generator.classes[c])
        if hopeless:
            warnings.warn(f"the sample filter accepted no image of class(es) {', '.join(map(repr, hopeless))} in "
                          f"{self.max_draws} draws per slot; their synthetic images are unfiltered. Lower the "
                          "filter's threshold, or train the generator longer", stacklevel=3)
        return images

    def _keep(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        keep = torch.as_tensor(self.sample_filter(images, labels)).to("cpu")  # type: ignore[misc]
        if keep.dtype != torch.bool or keep.shape != labels.shape:
            raise ConfigError(f"sample_filter returned {keep.dtype} of shape {tuple(keep.shape)}; it must return a "
                              f"bool tensor of shape ({len(labels)},), True for images to keep")
        return keep

    # -- Dataset protocol ---------------------------------------------------------------------

    def __len__(self) -> int:
        return self.n_real + self.n_synthetic

    def __getitem__(self, index: int) -> tuple:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a SyntheticMix of {len(self)} items")
        if index < self.n_real:
            item = self.real[index]
            image, label, synthetic = item[0], item[1], False
        else:
            j = index - self.n_real
            image = self.format.render(self.bank[self._slots[j]])
            label, synthetic = self._label_form(int(self.synthetic_labels[j])), True
        if self.transform is not None:
            image = self._apply_transform(image, index)
        return (image, label, synthetic) if self.return_source else (image, label)

    def _apply_transform(self, image: Any, index: int) -> Any:
        seed = derive_seed(self.seed, Stream.HASHED, self.epoch, index, 1)
        if self._albumentations:
            if isinstance(image, Image.Image):
                image = np.asarray(image)
            elif isinstance(image, torch.Tensor):
                image = image.permute(1, 2, 0).numpy() if image.ndim == 3 else image.numpy()
            self.transform.set_random_seed(seed)
            return self.transform(image=image)["image"]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self.transform(image)

    # -- what is inside -----------------------------------------------------------------------

    def class_counts(self) -> dict[str, dict[str, int]]:
        """Per class name: real, synthetic and total items."""
        synthetic = torch.bincount(self.synthetic_labels, minlength=self.generator.num_classes).tolist()
        real = self.real_class_counts if self.n_real else [0] * self.generator.num_classes
        return {name: {"real": r, "synthetic": s, "total": r + s}
                for name, r, s in zip(self.generator.classes, real, synthetic)}

    def labels(self) -> list[int]:
        """Label of every item, in index order."""
        return [int(v) for v in self.real_labels] + self.synthetic_labels.tolist()

    def __repr__(self) -> str:
        return (f"SyntheticMix(n_real={self.n_real}, n_synthetic={self.n_synthetic}, ratio={self.ratio}, "
                f"bank={len(self.bank)}, epoch={self.epoch})")
