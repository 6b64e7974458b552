"""Measuring a generator: does synthetic data help a classifier, next to classic augmentation?

* :mod:`ganaug.gain.protocol`: :func:`evaluate_gain`, the protocol driver;
* :mod:`ganaug.gain.config`: :class:`GainConfig`;
* :mod:`ganaug.gain.subsets`: the per-seed training subsets (low data, long tail);
* :mod:`ganaug.gain.arms`: the :class:`Arm` type, what each classifier trains on;
* :mod:`ganaug.gain.report`: :class:`GainReport` (statistics, verdict, files);
* :mod:`ganaug.gain.plots`: its PNG plots;
* :mod:`ganaug.gain.augment`: the classic augmentation baseline.
"""

import importlib

_LAZY = {"GainConfig": "ganaug.gain.config", "GainReport": "ganaug.gain.report", "evaluate_gain": "ganaug.gain.protocol"}


def __getattr__(name: str):
    """Import on first use: the CLI reads GainConfig's fields without loading scikit-learn and matplotlib."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ganaug.gain' has no attribute {name!r}")


__all__ = ["GainConfig", "GainReport", "evaluate_gain"]
