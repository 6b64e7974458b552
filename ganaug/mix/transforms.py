"""Random transforms seeded per item, so an item does not depend on workers, batch size or order."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image

from ganaug.seeds import Stream, derive_seed


class SeededTransform:
    """Applies ``transform`` (albumentations or torchvision) with a seed derived from ``(seed, epoch, index)``.

    Albumentations ignores global seeds, so it is reseeded through ``set_random_seed`` and fed an HWC
    array; a torchvision (or any callable) transform runs under a forked, seeded torch RNG.
    """

    def __init__(self, transform: Any, seed: int) -> None:
        self.transform, self.seed = transform, int(seed)
        self.albumentations = _is_albumentations(transform)

    def __call__(self, image: Any, epoch: int, index: int) -> Any:
        seed = derive_seed(self.seed, Stream.HASHED, epoch, index, 1)
        if self.albumentations:
            if isinstance(image, Image.Image):
                image = np.asarray(image)
            elif isinstance(image, torch.Tensor):
                image = image.permute(1, 2, 0).numpy() if image.ndim == 3 else image.numpy()
            self.transform.set_random_seed(seed)
            return self.transform(image=image)["image"]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self.transform(image)


def _is_albumentations(transform: Any) -> bool:
    try:
        import albumentations as A
    except ImportError:  # pragma: no cover - a declared dependency
        return False
    return isinstance(transform, (A.BaseCompose, A.BasicTransform))
