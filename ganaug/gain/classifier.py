"""Training and applying the downstream classifier, torch or scikit-learn, and scoring its predictions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    recall_score,
)
from torch.utils.data import DataLoader

from ganaug.errors import ConfigError
from ganaug.gain.config import GainConfig
from ganaug.mix import SyntheticMix


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


def _collate(items):
    images, labels = zip(*items)
    return to_float_batch(images), torch.as_tensor([int(y) for y in labels])


def train_classifier(model: Any, dataset: SyntheticMix, config: GainConfig, seed: int,
                     device: torch.device) -> Any:
    """Fit a torch classifier for ``config.steps`` steps, or a scikit-learn one on one pass of the data."""
    if not isinstance(model, torch.nn.Module):
        images, labels = _collate([dataset[i] for i in range(len(dataset))])
        return model.fit(images.flatten(1).numpy(), labels.numpy())
    model = model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True, collate_fn=_collate,
                        drop_last=len(dataset) >= config.batch_size,
                        generator=torch.Generator().manual_seed(seed))
    epochs = math.ceil(config.steps / max(len(loader), 1))
    refresh_every = max(1, epochs // 10)  # about ten synthetic banks per run
    step, epoch = 0, 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        while step < config.steps:
            if epoch % refresh_every == 0:
                dataset.set_epoch(epoch)
            for images, labels in loader:
                loss = torch.nn.functional.cross_entropy(model(images.to(device)), labels.to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
                if step >= config.steps:
                    break
            epoch += 1
    return model.eval()


@torch.no_grad()
def predict(model: Any, images: torch.Tensor, device: torch.device, features: bool = False) -> torch.Tensor:
    """Class predictions (or penultimate features) for uint8 images (N, C, H, W)."""
    if not isinstance(model, torch.nn.Module):
        if features:
            raise ConfigError("scikit-learn classifiers have no feature layer; use a torch classifier to measure quality")
        return torch.as_tensor(model.predict(images.flatten(1).numpy() / 255.0))
    outputs = []
    for start in range(0, len(images), 1024):
        x = images[start:start + 1024].to(device).float() / 255.0
        out = (model.features(x) if hasattr(model, "features") else model(x)) if features else model(x).argmax(1)
        outputs.append(out.cpu())
    return torch.cat(outputs)


def score(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> dict[str, Any]:
    labels = list(range(num_classes))
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class_recall": [float(r) for r in recall_score(y_true, y_pred, labels=labels, average=None,
                                                            zero_division=0)],
    }
