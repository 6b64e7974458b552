"""One adapter over the two kinds of classifier ganaug trains or consults: torch modules and scikit-learn estimators.

The gain protocol trains them, the sample filter asks them for probabilities, the quality measures
read their features, and the fidelity judge does all three; each goes through :class:`Classifier`,
so the torch-or-scikit-learn branch lives here only. Images come in as uint8 (N, C, H, W) and are
scaled to [0, 1]: a torch classifier gets (B, C, H, W) floats, a scikit-learn one flattened pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ganaug.data.labels import class_balanced_sampler, read_labels
from ganaug.devices import resolve_device
from ganaug.errors import ConfigError

LR_SCHEDULES = ("constant", "cosine")


class Classifier:
    """A torch module mapping [0, 1] images to logits, or a scikit-learn estimator on flattened pixels.

    Args:
        model: the torch ``nn.Module`` (optionally with ``features(x)``, its penultimate layer) or the
            scikit-learn estimator (``fit``, ``predict``, and ``predict_proba`` for probabilities).
        device: where a torch model runs.
        batch_size: images per forward pass when predicting.
    """

    def __init__(self, model: Any, *, device: str | torch.device = "cpu", batch_size: int = 1024) -> None:
        self.model = model
        self.is_torch = isinstance(model, torch.nn.Module)
        self.device = resolve_device(device)
        self.batch_size = int(batch_size)

    def fit(self, dataset: Dataset, *, steps: int, batch_size: int, lr: float, seed: int,
            balanced: bool = False, synthetic_weight: float = 1.0, lr_schedule: str = "constant") -> Classifier:
        """Train for ``steps`` Adam steps (torch) or on one pass of the data (scikit-learn).

        ``lr_schedule``: ``"constant"`` keeps ``lr`` to the end; ``"cosine"`` anneals it to 0 over the
        ``steps``, so the weights that are scored do not depend on the last few batches drawn.
        A scikit-learn estimator trains with its own solver: ``steps``, ``batch_size``, ``lr`` and
        ``lr_schedule`` do not apply to it (a bad schedule name is still refused).

        A dataset with ``set_epoch`` (a :class:`~ganaug.mix.SyntheticMix`) gets about ten synthetic
        banks over the run. The torch RNG is forked and seeded with ``seed``; the caller's is untouched.
        With ``balanced``, items are drawn with replacement, each class equally often (a torch
        classifier), or weighted by the inverse class frequency (a scikit-learn one with
        ``sample_weight``); the dataset must tell its labels (``labels()`` or ``targets``).
        With ``synthetic_weight`` below 1 the items must be ``(image, label, is_synthetic)`` (a SyntheticMix with
        ``return_source=True``), and a synthetic item's loss counts that much of a real one's.
        """
        if lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"lr_schedule={lr_schedule!r}: choose one of {', '.join(LR_SCHEDULES)}")
        if not self.is_torch:
            items = [dataset[i] for i in range(len(dataset))]
            images, labels, *_ = collate(items)
            weights = torch.ones(len(items), dtype=torch.float64)
            if balanced:
                weights = class_balanced_sampler(labels).weights.double()
            if synthetic_weight != 1.0:
                weights = weights * item_weights(items, synthetic_weight).double()
            kwargs = {"sample_weight": weights.numpy()} if balanced or synthetic_weight != 1.0 else {}
            self.model = self.model.fit(images.flatten(1).numpy(), labels.numpy(), **kwargs)
            return self
        model = self.model.to(self.device).train()
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
                    if lr_schedule == "cosine" else None)
        generator = torch.Generator().manual_seed(seed)
        sampler = class_balanced_sampler(_dataset_labels(dataset), generator=generator) if balanced else None
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=sampler is None, sampler=sampler,
                            collate_fn=collate, drop_last=len(dataset) >= batch_size, generator=generator)
        epochs = math.ceil(steps / max(len(loader), 1))
        refresh_every = max(1, epochs // 10)  # about ten synthetic banks per run
        step, epoch = 0, 0
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            while step < steps:
                if epoch % refresh_every == 0 and hasattr(dataset, "set_epoch"):
                    dataset.set_epoch(epoch)
                for images, labels, *source in loader:
                    losses = torch.nn.functional.cross_entropy(model(images.to(self.device)), labels.to(self.device),
                                                               reduction="none")
                    if synthetic_weight != 1.0:
                        weights = _weights_of(source, synthetic_weight).to(self.device)
                        loss = (losses * weights).sum() / weights.sum()
                    else:
                        loss = losses.mean()
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    if schedule is not None:
                        schedule.step()
                    step += 1
                    if step >= steps:
                        break
                epoch += 1
        self.model = model.eval()
        return self

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Predicted class of each uint8 image, int64 (N,)."""
        if not self.is_torch:
            return torch.as_tensor(self.model.predict(_pixels(images)))
        return self._batched(images, lambda x: self.model(x).argmax(1))

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The penultimate layer (``model.features``, else the logits) of each image, (N, D)."""
        if not self.is_torch:
            raise ConfigError("scikit-learn classifiers have no feature layer; use a torch classifier to measure "
                              "quality")
        return self._batched(images, lambda x: self.model.features(x) if hasattr(self.model, "features") else self.model(x))

    @torch.no_grad()
    def probability_of(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The classifier's probability of each image's own label, float (N,); 0 for a class it never saw."""
        labels = labels.long().cpu()
        if not self.is_torch:
            probabilities = self.model.predict_proba(_pixels(images))
            order = getattr(self.model, "classes_", range(probabilities.shape[1]))
            columns = {int(c): i for i, c in enumerate(order)}
            index = np.array([columns.get(int(y), -1) for y in labels])
            picked = np.where(index >= 0, probabilities[np.arange(len(index)), np.maximum(index, 0)], 0.0)
            return torch.as_tensor(picked, dtype=torch.float32)
        was_training = self.model.training
        self.model.eval()
        probabilities = self._batched(images, lambda x: torch.softmax(self.model(x).float(), dim=1))
        self.model.train(was_training)
        return probabilities.gather(1, labels[:, None]).squeeze(1) if len(images) else torch.empty(0)

    def _batched(self, images: torch.Tensor, forward: Any) -> torch.Tensor:
        """``forward`` on [0, 1] float batches of ``batch_size`` images on the device, concatenated on the CPU."""
        if not len(images):
            return torch.empty(0)
        outputs = []
        for start in range(0, len(images), self.batch_size):
            x = images[start:start + self.batch_size].to(self.device).float() / 255.0
            outputs.append(forward(x).cpu())
        return torch.cat(outputs)


def _dataset_labels(dataset: Dataset) -> list[int]:
    if callable(getattr(dataset, "labels", None)):
        return list(dataset.labels())  # a SyntheticMix: real and synthetic items
    return read_labels(dataset)


def _pixels(images: torch.Tensor) -> np.ndarray:
    return images.flatten(1).numpy() / 255.0


def to_float_batch(images: Sequence[Any]) -> torch.Tensor:
    """HWC uint8 arrays (or CHW uint8 tensors) to a float batch (B, C, H, W) in [0, 1]."""
    first = images[0]
    if isinstance(first, torch.Tensor):
        batch = torch.stack(list(images))
        return batch.float() / 255.0 if batch.dtype == torch.uint8 else batch.float()
    array = np.stack([np.asarray(im) for im in images])
    if array.ndim == 3:
        array = array[..., None]
    return torch.from_numpy(array).permute(0, 3, 1, 2).float() / 255.0


def collate(items: Sequence[tuple[Any, ...]]) -> tuple[torch.Tensor, ...]:
    """``(image, label)`` items to a float image batch in [0, 1] and int64 labels; ``(image, label, is_synthetic)``
    items (a SyntheticMix with ``return_source=True``) add a bool tensor of the flags."""
    images, labels, *rest = zip(*items)
    batch = (to_float_batch(images), torch.as_tensor([int(y) for y in labels]))
    return batch + (torch.as_tensor([bool(s) for s in rest[0]]),) if rest else batch


def item_weights(items: Sequence[tuple[Any, ...]], synthetic_weight: float) -> torch.Tensor:
    """Loss weights of ``(image, label, is_synthetic)`` items: 1 for a real item, ``synthetic_weight`` for a
    synthetic one."""
    flags = [torch.as_tensor([bool(item[2]) for item in items])] if items and len(items[0]) >= 3 else []
    return _weights_of(flags, synthetic_weight)


def _weights_of(source: list[torch.Tensor], synthetic_weight: float) -> torch.Tensor:
    if not source:
        raise ConfigError("synthetic_weight needs items (image, label, is_synthetic): build the SyntheticMix with "
                          "return_source=True")
    return 1.0 - source[0].float() * (1.0 - float(synthetic_weight))
