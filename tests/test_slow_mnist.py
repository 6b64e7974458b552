"""Slow check on real MNIST (skipped by `make test`; run `make test-slow` or `pytest -m slow`).

Trains cdcgan on the real MNIST training set for 600 steps on the CPU (about 4 minutes on 2 cores)
and checks that a classifier trained on real digits recognises the asked class in most samples and
that samples vary within each class. The full run (bench/quality_mnist.py --minutes 10) and its figures:
docs/results.md, "MNIST, all 60k images, `cdcgan`".
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ganaug
from ganaug.metrics.diversity import diversity_ratio, per_class_diversity
from tests.conftest import MNIST

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MNIST.exists(), reason=f"real MNIST not found at {MNIST} (it is not part of a clone)"),
]


def test_cdcgan_on_mnist_draws_the_asked_digits_with_variety():
    from sklearn.linear_model import LogisticRegression

    with np.load(MNIST) as archive:
        x, y = archive["x_train"], archive["y_train"]
    judge = LogisticRegression(max_iter=300).fit(x[:10000].reshape(10000, -1) / 255.0, y[:10000])
    store = ganaug.load_data((x, y))
    generator = ganaug.fit(store, "cdcgan", steps=600, batch_size=64, device="cpu", seed=0, progress=False)
    fake, labels = generator.sample(per_class=200, seed=1, return_labels=True)
    accuracy = float(np.mean(judge.predict(fake.flatten(1).numpy() / 255.0) == labels.numpy()))
    ratio = diversity_ratio(per_class_diversity(fake, labels, 10), per_class_diversity(store.images, store.labels, 10))
    assert accuracy >= 0.75, f"conditional accuracy {accuracy:.1%}"
    assert min(ratio) >= 0.5, f"per-class diversity ratios {ratio}"
    assert torch.isfinite(torch.tensor(ratio)).all()
