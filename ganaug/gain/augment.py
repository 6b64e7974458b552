"""Classic augmentation presets (albumentations), the baseline synthetic data must beat.

* grayscale: small affine moves (scale, translation, rotation), plus a light elastic distortion on
  images of 16 pixels and up (on 8x8 images elastic noise destroys the content);
* RGB: horizontal flip, colour jitter and small affine moves.

Albumentations ignores global seeds, so each preset is a ``Compose(..., seed=seed)``; SyntheticMix
reseeds it per item so results do not depend on workers or batch size.
"""

from __future__ import annotations

import albumentations as A


def classic_preset(image_shape: tuple[int, int, int], seed: int = 0) -> A.Compose:
    """A sensible classic augmentation for images of ``image_shape`` (C, H, W), as uint8 HWC arrays."""
    channels, height, width = image_shape
    affine = A.Affine(scale=(0.9, 1.1), translate_percent=(-0.1, 0.1), rotate=(-10, 10), border_mode=0, p=0.9)
    if channels == 1:
        transforms = [affine]
        if min(height, width) >= 16:
            transforms.append(A.ElasticTransform(alpha=min(height, width) * 0.5, sigma=min(height, width) * 0.15,
                                                 border_mode=0, p=0.5))
    else:
        transforms = [A.HorizontalFlip(p=0.5),
                      A.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.02, p=0.8),
                      affine]
    return A.Compose(transforms, seed=seed)
