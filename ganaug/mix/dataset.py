"""SyntheticMix: a torch Dataset that mixes a generator's samples into a real training set.

Users wrap the dataset their classifier already trains on; their transforms, DataLoader and
training loop stay as they are::

    generator = ganaug.load("runs/cdcgan")
    train_set = ganaug.SyntheticMix(train_set, generator)                       # level classes: 50% synthetic;
                                                                                # a long tail: top-up + oversampling
    train_set = ganaug.SyntheticMix(train_set, generator, ratio=0.3, class_policy="match")  # 30% synthetic
    train_set = ganaug.SyntheticMix(train_set, generator, ratio=None, class_policy="balance")  # top up rare classes

Items ``0 .. n_real-1`` are the real items; items ``n_real .. n_real+n_synthetic-1`` are synthetic;
with oversampling (the default on imbalanced classes), items after them repeat real or synthetic items
of the rarer classes so that every class has as many items as the largest. A sampler (shuffling or
distributed) mixes them like any other dataset; :class:`MixedBatchSampler` puts an exact number of
synthetic items in every batch.

Synthetic images come from a *bank*: one uint8 tensor generated in large batches on the
generator's device and kept on the CPU in shared memory, so DataLoader workers (persistent or not)
read it without copies and see it when :meth:`SyntheticMix.set_epoch` refreshes it in place.
Synthetic item ``i`` of epoch ``e`` depends only on ``(seed, e, i)``: not on the batch size, the
sampler or the number of workers. Random transforms are seeded per item for the same reason.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset, WeightedRandomSampler

from ganaug.data import ImageStore, load_data
from ganaug.data.huggingface import class_names
from ganaug.data.items import ItemForm, item_form
from ganaug.data.labels import (
    class_balanced_sampler,
    item_of,
    read_labels,
)
from ganaug.data.memory import check_memory
from ganaug.errors import ConfigError, DataError, user_code_error
from ganaug.generator import TrainedGenerator
from ganaug.metrics.fidelity import FidelityReport
from ganaug.mix.arguments import check_arguments, checked_cap, checked_labels, checked_threshold, class_indices
from ganaug.mix.bank import SyntheticBank
from ganaug.mix.formats import ItemFormat, check_size, detect_format
from ganaug.mix.gate import gate, measure_fidelity
from ganaug.mix.policies import (
    TOP_UP_BELOW,
    allocate_synthetic,
    auto_policy,
    check_ratio,
    oversampled,
    resolve_policy,
)
from ganaug.mix.transforms import SeededTransform
from ganaug.seeds import Stream, derive_seed


class SyntheticMix(Dataset):
    """A real dataset plus a generator's samples, as one map-style Dataset.

    Args:
        real: the real training set, yielding ``(image, label)``, or an :class:`~ganaug.ImageStore`
            (items are then uint8 (C, H, W) tensors and int labels).
        generator: a :class:`TrainedGenerator` trained on images like ``real``'s.
        ratio: synthetic share of the real + synthetic items, in [0, 1); 0 gives the real dataset unchanged.
            ``"auto"`` (default): 0.5, except under ``class_policy="auto"`` on imbalanced classes, where the
            rare classes are topped up instead. ``None`` with ``class_policy="balance"`` tops the rare
            classes up; ignored for a dict policy. The share in use is in :attr:`ratio` (None for a top-up).
        class_policy: ``"auto"`` (the default: on imbalanced real classes, largest/smallest >= 2, the
            long-tail path: ``"balance"`` if some class has fewer than ``top_up_below`` real images, else no
            synthetic images, with oversampling either way; otherwise ``"match"``), ``"match"``
            (synthetic classes in the real proportions), ``"uniform"``, ``"balance"`` (synthetic images go to
            the rarest classes until real + synthetic counts are level, within ``max_per_real``), ``"tail"``
            (``"balance"`` for the classes with fewer than ``top_up_below`` real images only), or
            ``{class index or name: count}``. The policy used is in :attr:`policy`.
        top_up_below: under ``"auto"`` on imbalanced classes, synthetic images are added only when some
            class has fewer real images than this; under ``"tail"``, a class with at least this many gets
            none (default :data:`~ganaug.mix.policies.TOP_UP_BELOW`: synthetic images are meant for the
            classes too small to learn from their real images alone; where they helped and where they did
            not: docs/results.md). A warning says when no class is below it.
        oversample: after the synthetic images, repeat each class's items (real and synthetic, in turn)
            until every class has as many as the largest, so that a plain shuffling DataLoader draws every
            class equally often (class-balanced sampling built into the dataset; an epoch grows to
            classes x largest class). None (default): on when ``"auto"`` finds the classes imbalanced.
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
        fidelity: the per-class fidelity gate (:mod:`ganaug.mix.gate`): ``"auto"`` uses the one measured
            when the generator was trained (or measures it now on the real items), a
            :class:`~ganaug.metrics.fidelity.FidelityReport` is used as given, None mixes without the gate.
            Classes whose samples fail get no synthetic images, with a warning naming them.
        max_per_real: at most this many synthetic images per real image of a class, scaled down by the
            class's relative fidelity when below 1; None for no cap. So ``"balance"`` tops a class of 5 real
            images up by 20 at most, not by hundreds.
        item_keys: ``(image_key, label_key)`` when the real items are dicts with other key names than the
            usual ones (``image``/``img``/``pixel_values``..., ``label``/``target``...). Dict items give dict
            items: a real one keeps its other keys, a synthetic one holds the image and label (and
            ``is_synthetic`` with ``return_source``).
        variation_strength: with an image-to-image generator (``img2img``), every synthetic item is a
            *variation* of a randomly chosen real item of its class (corrupted, then restored), and this
            sets how strong the corruption is (0 to 1; None: the family's default). The real items are
            read once, at construction.
        no_synthetic: classes (indices or names) that get no synthetic images whatever the policy, e.g. those
            whose recall a plan saw fall under synthetic data (:meth:`from_recipe` passes the recipe's).
    """

    def __init__(self, real: Dataset, generator: TrainedGenerator, *, ratio: float | str | None = "auto",
                 class_policy: str | Mapping[int | str, int] = "auto", oversample: bool | None = None,
                 bank_size: int | None = None,
                 refresh: str | int = "epoch", transform: Any = None, seed: int = 0, return_source: bool = False,
                 synthetic_only: bool = False, labels: Sequence[int] | None = None,
                 sample_filter: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                 max_draws: int = 10, fidelity: FidelityReport | str | None = "auto",
                 max_per_real: float | None = 4.0, variation_strength: float | None = None,
                 item_keys: Sequence[str] | None = None, top_up_below: int = TOP_UP_BELOW,
                 no_synthetic: Sequence[int | str] = ()) -> None:
        check_arguments(real, generator, seed=seed, bank_size=bank_size, refresh=refresh, max_draws=max_draws,
                         transform=transform, sample_filter=sample_filter)
        self._real_store = real if isinstance(real, ImageStore) else getattr(real, "store", None)
        if isinstance(real, ImageStore):  # items (uint8 CHW tensor, int label)
            real = TensorDataset(real.images, real.labels)
        self.real, self.generator, self.transform = real, generator, transform
        self.seed, self.return_source, self.synthetic_only = int(seed), return_source, synthetic_only
        self.ratio = check_ratio(ratio, class_policy, synthetic_only)
        self._seeded_transform = SeededTransform(transform, self.seed) if transform is not None else None

        items = len(real)  # type: ignore[arg-type]
        first = item_of(real, 0, "the real dataset") if items else None
        self.item_form = item_form(first, type(real).__name__, item_keys) if items else ItemForm()
        if items and not synthetic_only:  # real items are served beside synthetic ones: refuse another size now
            check_size(self.item_form.split(first, 0, "the real dataset")[0], generator.image_shape)
        keys = (self.item_form.image_key, self.item_form.label_key) if self.item_form.mapping else None
        real_labels = checked_labels(labels) if labels is not None else read_labels(real, keys)
        if len(real_labels) != len(real):  # type: ignore[arg-type]
            raise DataError(f"labels= has {len(real_labels)} entries but the dataset has {len(real)} items")  # type: ignore[arg-type]
        self._check_classes(real_labels)
        if generator.conditioning == "image":
            generator = self.generator = self._varying(generator, real_labels, variation_strength)
        elif variation_strength is not None:
            raise ConfigError(f"variation_strength is for image-to-image generators; {generator.model!r} draws "
                              "images from noise")
        counts = [0] * generator.num_classes
        for label in real_labels:
            counts[label] += 1
        policy = resolve_policy(class_policy, generator.classes)
        if oversample not in (None, True, False):
            raise ConfigError(f"oversample={oversample!r}; use True, False or None (on for imbalanced classes "
                              "under class_policy='auto')")
        top_up_below = checked_threshold(top_up_below)
        if policy == "auto":
            policy, self.ratio = auto_policy(counts, self.ratio, synthetic_only, top_up_below)
            oversample = (policy != "match") if oversample is None else oversample
        self.policy: str | dict[int, int] = policy
        """The class policy in use (what ``"auto"`` chose, or the one given)."""
        wanted = allocate_synthetic(counts, self.ratio, policy, top_up_below)
        if policy == "tail" and not any(wanted) and self.ratio != 0:
            warnings.warn(f"no synthetic images: class_policy={class_policy!r} adds them only when some class has "
                          f"fewer than top_up_below={top_up_below} real images, and the smallest class here has "
                          f"{min(c for c in counts if c) if any(counts) else 0} (where synthetic images helped and "
                          "where they did not: see docs/results.md). To add them anyway, pass a higher top_up_below "
                          "or class_policy='balance', and measure with `ganaug gain`", stacklevel=2)
        self.fidelity = self._fidelity(fidelity, real_labels, wanted)
        per_class = gate(wanted, counts, self.fidelity, checked_cap(max_per_real))
        for k in class_indices(no_synthetic, generator.classes, "no_synthetic"):
            per_class[k] = 0
        check_memory(sum(per_class), generator.image_shape, f"SyntheticMix with {sum(per_class)} synthetic items",
                     fix="ask for fewer (the class_policy counts, ratio or max_per_real)")
        self.real_class_counts = counts
        self.n_real = 0 if synthetic_only else len(real_labels)
        self.real_labels = real_labels if not synthetic_only else []
        self.synthetic_labels = torch.arange(generator.num_classes).repeat_interleave(torch.tensor(per_class))
        self.n_synthetic = len(self.synthetic_labels)
        self.repeat_of = self._repeats(per_class) if oversample and not synthetic_only else torch.zeros(0, dtype=torch.long)
        """For each oversampling item (after the synthetic ones), the index of the item it repeats."""
        self.n_repeats = len(self.repeat_of)

        self._bank = SyntheticBank(generator, per_class, bank_size=bank_size, refresh=refresh, seed=self.seed,
                                   sample_filter=sample_filter, max_draws=max_draws)
        self.format = self._detect_format() if self.n_real else ItemFormat("tensor", "CHW", torch.uint8)
        self._label_form = self._detect_label_form() if self.n_real else int
        self.set_epoch(0)

    def _varying(self, generator: TrainedGenerator, real_labels: list[int], strength: float | None
                 ) -> TrainedGenerator:
        """A copy of an image-to-image generator whose samples are variations of this mix's real items."""
        channels, height, width = generator.image_shape
        store = self._real_store
        if not isinstance(store, ImageStore) or store.image_shape != generator.image_shape:
            keys = (self.item_form.image_key, self.item_form.label_key) if self.item_form.mapping else None
            store = load_data(self.real, image_size=(height, width), channels=channels, min_classes=1, item_keys=keys)
        varying = copy.copy(generator)
        varying.sources = ImageStore(store.images, torch.as_tensor(real_labels, dtype=torch.long), generator.classes)
        if strength is not None:
            if not 0 <= strength <= 1:
                raise ConfigError(f"variation_strength={strength}: must be in [0, 1]")
            varying.variation_strength = float(strength)
        return varying

    def _repeats(self, synthetic_per_class: list[int]) -> torch.Tensor:
        """The item each oversampling slot repeats: a class's items (real and synthetic) taken in turn, in
        an order shuffled once by the seed, so each is repeated as often as the others (within one)."""
        items: list[list[int]] = [[] for _ in synthetic_per_class]
        for index, label in enumerate(self._base_labels()):
            items[int(label)].append(index)
        shuffler = torch.Generator().manual_seed(derive_seed(self.seed, Stream.HASHED, 0x0E5A))
        slots = []
        for k, count in enumerate(oversampled(self.real_class_counts, synthetic_per_class)):
            if count:
                pool = torch.as_tensor(items[k])[torch.randperm(len(items[k]), generator=shuffler)]
                slots.append(pool.repeat(-(-count // len(pool)))[:count])
        return torch.cat(slots) if slots else torch.zeros(0, dtype=torch.long)

    @classmethod
    def from_recipe(cls, real: Dataset, generator: TrainedGenerator, recipe: Any, **kwargs: Any) -> SyntheticMix:
        """The mix a recipe of :func:`ganaug.plan` chose, on ``real``, with ``generator``.

        Args:
            real, generator: as for the constructor; the data and generator the recipe was planned with.
            recipe: a :class:`~ganaug.planning.recipe.Recipe` or the path of its JSON file.
            **kwargs: other constructor arguments (``transform``, ``seed``...); not those the recipe sets.

        A recipe that chose no synthetic data gives the real items (with class-balanced oversampling on
        imbalanced classes, as planned) and says so in one warning line. Data that differs from what the
        recipe was planned on (other counts, other images) gets a warning; other classes are refused.
        """
        from ganaug.mix.recipes import mix_from_recipe

        return mix_from_recipe(cls, real, generator, recipe, **kwargs)

    # -- set-up checks ------------------------------------------------------------------------

    def _check_classes(self, real_labels: Sequence[int]) -> None:
        names = class_names(self.real, self.item_form.label_key if self.item_form.mapping else None)
        k = self.generator.num_classes
        if names and len(names) != k:
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

    def _fidelity(self, fidelity: FidelityReport | str | None, real_labels: list[int], wanted: list[int]
                  ) -> FidelityReport | None:
        if fidelity is None or isinstance(fidelity, FidelityReport):
            return fidelity
        if fidelity != "auto":
            raise ConfigError(f"fidelity={fidelity!r}; use 'auto', a FidelityReport, or None to mix without the gate")
        if self.synthetic_only:
            return None  # synthetic-only training measures the generator itself: nothing to protect
        if self.generator.fidelity is not None or not any(wanted):
            return self.generator.fidelity
        return measure_fidelity(self.real, real_labels, self.generator, seed=self.seed, form=self.item_form)

    def _real_item(self, index: int) -> tuple[Any, Any]:
        """(image, label) of real item ``index``, whatever the items' form."""
        return self.item_form.split(item_of(self.real, index, "the real dataset"), index, "the real dataset")

    def _detect_format(self) -> ItemFormat:
        probe = [self._real_item(i)[0] for i in range(min(8, self.n_real))]
        return detect_format(probe, self.generator.image_shape)

    def _detect_label_form(self) -> Any:
        """A function giving synthetic labels the real labels' type (int, numpy or 0-d tensor)."""
        label = self._real_item(0)[1]
        if isinstance(label, torch.Tensor):
            return lambda value: torch.tensor(value, dtype=label.dtype)
        if isinstance(label, np.generic):
            return type(label)
        return int

    # -- the bank and epochs ------------------------------------------------------------------

    @property
    def bank(self) -> torch.Tensor:
        """The synthetic images held now, uint8 (bank size, C, H, W), in shared memory."""
        return self._bank.images

    @property
    def bank_labels(self) -> torch.Tensor:
        return self._bank.labels

    @property
    def acceptance(self) -> dict[str, float]:
        """Per class: share of draws the sample filter accepted at the last bank refresh (empty without one)."""
        return self._bank.acceptance

    @property
    def epoch(self) -> int:
        return self._bank.epoch

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch``: refresh the bank in place when the refresh policy says so.

        Call it before iterating the DataLoader for that epoch (as with ``DistributedSampler``);
        workers, persistent or not, see the new bank through shared memory.
        """
        self._bank.set_epoch(epoch)

    # -- Dataset protocol ---------------------------------------------------------------------

    def __len__(self) -> int:
        return self.n_real + self.n_synthetic + self.n_repeats

    def is_synthetic(self) -> torch.Tensor:
        """A bool per item, in index order: True where the item is (or repeats) a synthetic one."""
        return torch.cat([torch.zeros(self.n_real, dtype=torch.bool), torch.ones(self.n_synthetic, dtype=torch.bool),
                          self.repeat_of >= self.n_real])

    def __getitem__(self, index: int) -> tuple:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a SyntheticMix of {len(self)} items")
        source = index  # the item repeated; transforms stay seeded by ``index``, so repeats vary
        if index >= self.n_real + self.n_synthetic:
            source = int(self.repeat_of[index - self.n_real - self.n_synthetic])
        item = None
        if source < self.n_real:
            item = item_of(self.real, source, "the real dataset")
            image, label = self.item_form.split(item, source, "the real dataset")
            synthetic = False
        else:
            j = source - self.n_real
            image = self.format.render(self._bank.image(j))
            label, synthetic = self._label_form(int(self.synthetic_labels[j])), True
        if self._seeded_transform is not None:
            try:
                image = self._seeded_transform(image, self.epoch, index)
            except Exception as exc:
                raise user_code_error(f"transform= on item {index} ({'synthetic' if synthetic else 'real'})", exc,
                                      "fix the transform (it gets the real items' image type)") from exc
        if self.item_form.mapping and item is not None:  # a real dict keeps its other keys
            item = {**item, self.item_form.image_key: image}
            if self.return_source:
                item["is_synthetic"] = False
            return item
        return self.item_form.join(image, label, synthetic if self.return_source else None)

    # -- what is inside -----------------------------------------------------------------------

    def class_counts(self) -> dict[str, dict[str, int]]:
        """Per class name: real, synthetic, repeated (oversampling) and total items."""
        k = self.generator.num_classes
        synthetic = torch.bincount(self.synthetic_labels, minlength=k).tolist()
        real = self.real_class_counts if self.n_real else [0] * k
        base = torch.as_tensor(self._base_labels(), dtype=torch.long)
        repeated = torch.bincount(base[self.repeat_of], minlength=k).tolist()
        return {name: {"real": r, "synthetic": s, "repeated": o, "total": r + s + o}
                for name, r, s, o in zip(self.generator.classes, real, synthetic, repeated)}

    def _base_labels(self) -> list[int]:
        """Labels of the real then the synthetic items (the items a repeat can point at)."""
        return [int(v) for v in self.real_labels] + self.synthetic_labels.tolist()

    def labels(self) -> list[int]:
        """Label of every item, in index order."""
        base = self._base_labels()
        return base + [base[i] for i in self.repeat_of.tolist()]

    def class_balanced_sampler(self, num_samples: int | None = None) -> WeightedRandomSampler:
        """A DataLoader sampler that draws every class equally often, real and synthetic items alike.

        With ``class_policy="balance"`` this is the long-tail path: the top-up gives a rare class new
        images and the sampler draws that class as often as the others (what it gains:
        docs/results.md). Pass it as ``DataLoader(mix, sampler=mix.class_balanced_sampler())``.
        ``oversample`` (the default on imbalanced classes) builds the same balance into the mix itself,
        for users who keep ``shuffle=True``.
        """
        return class_balanced_sampler(self.labels(), num_samples, seed=derive_seed(self.seed, Stream.HASHED, 0xBA1))

    def __repr__(self) -> str:
        repeats = f", n_repeats={self.n_repeats}" if self.n_repeats else ""
        return (f"SyntheticMix(n_real={self.n_real}, n_synthetic={self.n_synthetic}{repeats}, policy={self.policy!r}, "
                f"ratio={self.ratio}, bank={len(self.bank)}, epoch={self.epoch})")

