"""Measuring a generator: does synthetic data help a classifier, next to classic augmentation?

* :mod:`ganaug.gain.protocol`: :func:`evaluate_gain`, the protocol driver;
* :mod:`ganaug.gain.config`: :class:`GainConfig`;
* :mod:`ganaug.gain.subsets`: the per-seed training subsets (low data, long tail);
* :mod:`ganaug.gain.arms`: the :class:`Arm` type, what each classifier trains on;
* :mod:`ganaug.gain.report`: :class:`GainReport` (statistics, verdict, files);
* :mod:`ganaug.gain.plots`: its PNG plots;
* :mod:`ganaug.gain.augment`: the classic augmentation baseline.
"""

from ganaug.gain.config import GainConfig
from ganaug.gain.protocol import evaluate_gain
from ganaug.gain.report import GainReport

__all__ = ["GainConfig", "GainReport", "evaluate_gain"]
