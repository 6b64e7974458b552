"""The fidelity gate: synthetic images only for classes whose samples show their class, and never swamping the real ones.

Samples that do not show their class teach the classifier wrong labels, and topping a rare class up
with them can cost more than the class had to gain (docs/research-log.md, "Long tail: does the
classifier gain?"). So, whatever the class policy asks:

* a class whose samples **fail** the fidelity check (:mod:`ganaug.metrics.fidelity`) gets no
  synthetic images, with a warning that names it;
* a class gets at most ``max_per_real`` synthetic images per real image, scaled down by its relative
  fidelity when that is below 1 (a class whose samples are recognised 70% as often as its real
  images gets 70% of the cap).

The fidelity comes from the generator (measured at the end of ``fit`` on its training images and
saved with it) or, for a generator without one, is measured when the mix is built: a judge fitted on
(up to ``max_real_per_class`` of) the real items, 64 samples per class.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import torch

from ganaug.data.items import ItemForm
from ganaug.data.labels import item_of
from ganaug.data.pixels import _image_to_chw_uint8
from ganaug.generator import TrainedGenerator
from ganaug.metrics.fidelity import FidelityJudge, FidelityReport
from ganaug.seeds import Stream, derive_seed

SAMPLES_PER_CLASS = 64


def measure_fidelity(real: Any, labels: Sequence[int], generator: TrainedGenerator, *, seed: int = 0,
                     max_real_per_class: int = 200, form: ItemForm | None = None) -> FidelityReport:
    """Fit a judge on up to ``max_real_per_class`` real items per class and judge the generator's samples."""
    by_class: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        if len(by_class.setdefault(int(label), [])) < max_real_per_class:
            by_class[int(label)].append(index)
    chosen = sorted(i for indices in by_class.values() for i in indices)
    form = form or ItemForm()
    images = torch.stack([_image_to_chw_uint8(form.split(item_of(real, i, "the real dataset"), i, "the real dataset")[0],
                                              f"item {i}", generator.image_shape[0]) for i in chosen])
    judge = FidelityJudge(images, torch.as_tensor([int(labels[i]) for i in chosen]), generator.classes, seed=seed)
    fake, fake_labels = generator.sample(per_class=SAMPLES_PER_CLASS, seed=derive_seed(seed, Stream.HASHED, 77),
                                         return_labels=True)
    return judge.judge(fake, fake_labels)


def gate(per_class: Sequence[int], real_counts: Sequence[int], fidelity: FidelityReport | None,
         max_per_real: float | None) -> list[int]:
    """Synthetic counts after the gate: failing classes get 0, every class at most its (fidelity-scaled) cap."""
    out = list(per_class)
    failing = []
    for k, count in enumerate(out):
        scale = 1.0
        if fidelity is not None:
            if fidelity.passes(k) is False:
                if count:
                    failing.append(fidelity.classes[k])
                out[k] = 0
                continue
            relative = fidelity.relative[k]
            scale = min(1.0, relative) if relative == relative else 1.0
        if max_per_real is not None:
            cap = max_per_real * real_counts[k] * scale
            out[k] = min(count, math.floor(cap)) if cap < count else count  # a huge cap (1e308 * 10) is no cap
    if failing:
        warnings.warn(f"no synthetic images for class(es) {', '.join(map(repr, failing))}: their samples fail the "
                      f"fidelity check ({fidelity.warning()})", stacklevel=3)
    return out
