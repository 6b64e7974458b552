"""SyntheticMix from a recipe of :func:`ganaug.plan`: its mix arguments, its classes left out, its data checked."""

from __future__ import annotations

import os
import warnings
from typing import Any

from torch.utils.data import Dataset

from ganaug.data import ImageStore
from ganaug.errors import ConfigError, DataError
from ganaug.generator import TrainedGenerator
from ganaug.planning.recipe import Recipe, fingerprint


def mix_from_recipe(cls: type, real: Dataset, generator: TrainedGenerator, recipe: Any, **kwargs: Any) -> Any:
    """What :meth:`ganaug.SyntheticMix.from_recipe` builds (``cls`` is SyntheticMix or a subclass)."""
    if isinstance(recipe, (str, os.PathLike)):
        recipe = Recipe.load(recipe)
    elif not isinstance(recipe, Recipe):
        raise ConfigError(f"recipe={type(recipe).__name__}: pass a Recipe (ganaug.plan(...)) or its JSON file")
    clash = sorted(set(kwargs) & (set(recipe.mix) | {"no_synthetic"}))
    if clash:
        raise ConfigError(f"{', '.join(clash)}: set by the recipe ({recipe.choice!r}); leave them out, or build "
                          "SyntheticMix(...) yourself")
    if list(generator.classes) != list(recipe.generator["classes"]):
        raise DataError(f"the recipe was planned with a generator of classes {recipe.generator['classes'][:6]}...; "
                        f"this one has {list(generator.classes)[:6]}...: plan again with this generator")
    if generator.model != recipe.generator["model"]:
        warnings.warn(f"the recipe was planned with a {recipe.generator['model']!r} generator, this one is "
                      f"{generator.model!r}: its choice may not hold; plan again with this generator", stacklevel=3)
    mix = cls(real, generator, **recipe.mix, no_synthetic=recipe.no_synthetic, **kwargs)
    store = mix._real_store
    images = store.images if isinstance(store, ImageStore) and len(store) == mix.n_real else None
    recipe.check_data(generator.classes, mix.real_class_counts,
                      fingerprint(images, mix.real_labels) if images is not None else None)
    if not recipe.synthetic:
        warnings.warn(f"the recipe chose no synthetic data, so this mix holds the real items only: {recipe.reason}",
                      stacklevel=3)
    return mix
