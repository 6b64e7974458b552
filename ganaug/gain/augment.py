"""Classic augmentation presets (albumentations), the baseline synthetic data must beat.

The augmentation that helps one data set can hurt another (rotating a 6 makes a 9; a cell has no up
or down), so there is one preset per kind of image:

* ``digits`` (the default for grayscale): small affine moves (scale, translation, rotation), plus a
  light elastic distortion on images of 16 pixels and up (on 8x8 images elastic noise destroys the
  content);
* ``photos`` (the default for RGB): horizontal flip, colour jitter and small affine moves;
* ``microscopy``: images without an orientation (cells, tissue, slides): horizontal and vertical
  flips, 90-degree rotations, colour jitter (stain and illumination vary) and small affine moves.

Albumentations ignores global seeds, so each preset is a ``Compose(..., seed=seed)``; SyntheticMix
reseeds it per item so results do not depend on workers or batch size.
"""

from __future__ import annotations

from typing import Any

from ganaug.errors import ConfigError

PRESETS = ("auto", "digits", "photos", "microscopy")


def classic_preset(image_shape: tuple[int, int, int], seed: int = 0, kind: str = "auto") -> Any:
    """A classic augmentation for images of ``image_shape`` (C, H, W), as uint8 HWC arrays.

    Args:
        image_shape: (C, H, W) of the images.
        seed: the Compose's seed.
        kind: one of :data:`PRESETS`; ``"auto"`` is ``digits`` for grayscale and ``photos`` for RGB.

    Returns:
        an ``albumentations.Compose``.
    """
    import albumentations as A  # imported here: the configs that name the presets load without it

    if kind not in PRESETS:
        raise ConfigError(f"unknown classic augmentation preset {kind!r}; choose from {', '.join(PRESETS)}")
    channels, height, width = image_shape
    if kind == "auto":
        kind = "digits" if channels == 1 else "photos"
    affine = A.Affine(scale=(0.9, 1.1), translate_percent=(-0.1, 0.1), rotate=(-10, 10), border_mode=0, p=0.9)
    jitter = A.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.02, p=0.8)
    if kind == "digits":
        transforms = [affine]
        if min(height, width) >= 16:
            transforms.append(A.ElasticTransform(alpha=min(height, width) * 0.5, sigma=min(height, width) * 0.15,
                                                 border_mode=0, p=0.5))
    elif kind == "photos":
        transforms = [A.HorizontalFlip(p=0.5), jitter, affine] if channels == 3 else [A.HorizontalFlip(p=0.5), affine]
    else:
        transforms = [A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5), A.RandomRotate90(p=1.0)]
        transforms += ([jitter] if channels == 3 else []) + [
            A.Affine(scale=(0.9, 1.1), translate_percent=(-0.05, 0.05), border_mode=0, p=0.5)]
    return A.Compose(transforms, seed=seed)
