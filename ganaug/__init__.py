"""ganaug: train conditional GANs on your own labelled images and use their samples as training data.

Quick start::

    import ganaug
    gen = ganaug.fit("digits", steps=300, out="runs/digits")
    images, labels = gen.sample(per_class=16, return_labels=True)
    gen = ganaug.load("runs/digits")

Plugins are not loaded at import; the registry is built on first use.
"""

import os

# ganaug fetches nothing at run time; albumentations 2.0.8 asks PyPI for a newer release on import unless
# told not to (a user who sets the variable keeps their value).
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from ganaug._version import __version__
from ganaug.data import ImageStore, class_balanced_sampler, load_data
from ganaug.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    GanaugError,
    TrainingDivergedError,
    TrainingInterrupted,
    UnknownGeneratorError,
)
from ganaug.gan import GAN, GANConfig
from ganaug.generator import TrainedGenerator, load
from ganaug.mix import MixedBatchSampler, SyntheticMix
from ganaug.mix.filters import ConfidenceFilter
from ganaug.planning.recipe import Recipe
from ganaug.plugins.hookspecs import hookimpl
from ganaug.plugins.registry import create_generator, list_generators
from ganaug.restoration import restore
from ganaug.train.config import TrainConfig
from ganaug.train.trainer import fit

_LAZY = {"evaluate_gain": "ganaug.gain.protocol", "GainConfig": "ganaug.gain.config",
         "GainReport": "ganaug.gain.report", "plan": "ganaug.planning.planner", "PlanConfig": "ganaug.planning.config"}


def __getattr__(name: str):
    """``evaluate_gain``, ``plan`` and friends load scikit-learn and albumentations: import them on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ganaug' has no attribute {name!r}")


__all__ = [
    "GAN",
    "CheckpointError",
    "ConfidenceFilter",
    "ConfigError",
    "DataError",
    "GANConfig",
    "GainConfig",
    "GainReport",
    "GanaugError",
    "ImageStore",
    "MixedBatchSampler",
    "PlanConfig",
    "Recipe",
    "SyntheticMix",
    "TrainConfig",
    "TrainedGenerator",
    "TrainingDivergedError",
    "TrainingInterrupted",
    "UnknownGeneratorError",
    "__version__",
    "class_balanced_sampler",
    "create_generator",
    "evaluate_gain",
    "fit",
    "hookimpl",
    "list_generators",
    "load",
    "load_data",
    "plan",
    "restore",
]
