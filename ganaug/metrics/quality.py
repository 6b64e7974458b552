"""Generator quality in a classifier's feature space, so no pretrained weights are downloaded.

* conditional accuracy: share of samples the real-data classifier assigns to their conditioning class;
* Fréchet distance between Gaussian fits of real and generated features;
* kernel distance (KID, Bińkowski et al. 2018): the unbiased squared MMD under the cubic polynomial
  kernel, averaged over random subsets. Unlike the Fréchet distance it has no bias that depends on
  the number of samples, so it can be compared between classes of 5 and of 500 images;
* precision, recall, density and coverage (Naeem et al. 2020) with k-nearest-neighbour balls.

Recall and coverage are the ones that matter for augmentation: a generator that draws one good image
per class has high precision and near-zero recall and coverage.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from scipy import linalg


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2)) between feature sets (N, D)."""
    if len(real) < 2 or len(fake) < 2:
        return math.nan
    x, y = real.double().numpy(), fake.double().numpy()
    mu_x, mu_y = x.mean(0), y.mean(0)
    cov_x, cov_y = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    with warnings.catch_warnings():  # a singular product is handled just below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(cov_x @ cov_y)
    if not np.isfinite(covmean).all():  # singular product: regularise, as common FID code does
        offset = np.eye(len(cov_x)) * 1e-6
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            covmean = linalg.sqrtm((cov_x + offset) @ (cov_y + offset))
    covmean = covmean.real
    return float(((mu_x - mu_y) ** 2).sum() + np.trace(cov_x) + np.trace(cov_y) - 2 * np.trace(covmean))


def kernel_distance(real: torch.Tensor, fake: torch.Tensor, *, subsets: int = 100, subset_size: int = 1000,
                    seed: int = 0) -> float:
    """The kernel inception distance of ``fake`` against ``real`` features (N, D), in any feature space.

    The unbiased estimate of the squared MMD under the kernel ``k(x, y) = (x . y / D + 1) ** 3``,
    averaged over ``subsets`` draws of ``min(subset_size, len)`` points from each set (without
    replacement within a draw, seeded by ``seed``). When both sets fit in one subset, every draw is
    the whole of both, so the estimate is computed once. About 0 for two samples of the same
    distribution (it can read slightly below 0); NaN with fewer than 2 points on a side.
    """
    n, m = len(real), len(fake)
    size_x, size_y = min(subset_size, n), min(subset_size, m)
    if size_x < 2 or size_y < 2:
        return math.nan
    x, y = real.double(), fake.double()
    if size_x == n and size_y == m:
        return _mmd(_kernel(x, x), _kernel(y, y), _kernel(x, y))
    generator = torch.Generator().manual_seed(seed)
    draws = [(torch.randperm(n, generator=generator)[:size_x], torch.randperm(m, generator=generator)[:size_y])
             for _ in range(subsets)]
    if max(n, m) <= _POOLED:  # every kernel value once, then each draw's sums as products with its indicators
        k_xx, k_yy, k_xy = _kernel(x, x), _kernel(y, y), _kernel(x, y)
        a, b = torch.zeros(subsets, n, dtype=torch.float64), torch.zeros(subsets, m, dtype=torch.float64)
        for row, (ia, ib) in enumerate(draws):
            a[row, ia], b[row, ib] = 1.0, 1.0
        within_x = (((a @ k_xx) * a).sum(1) - a @ k_xx.diagonal()) / (size_x * (size_x - 1))
        within_y = (((b @ k_yy) * b).sum(1) - b @ k_yy.diagonal()) / (size_y * (size_y - 1))
        across = ((a @ k_xy) * b).sum(1) / (size_x * size_y)
        return float((within_x + within_y - 2 * across).mean())
    return float(np.mean([_mmd(_kernel(x[ia], x[ia]), _kernel(y[ib], y[ib]), _kernel(x[ia], y[ib]))
                          for ia, ib in draws]))


_POOLED = 4096  # up to this many points a side, the kernel matrices are computed once for all draws


def _kernel(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return (p @ q.T / p.shape[1] + 1) ** 3


def _mmd(k_xx: torch.Tensor, k_yy: torch.Tensor, k_xy: torch.Tensor) -> float:
    """The unbiased squared MMD from the three kernel matrices (the diagonals of the within-set ones left out)."""
    n, m = len(k_xx), len(k_yy)
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (n * (n - 1))
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(within_x + within_y - 2 * k_xy.mean())


def prdc(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` against ``real`` features (N, D).

    A real point's ball has the radius of its k-th nearest real neighbour; likewise for fake points.
    precision: share of fakes inside some real ball; recall: share of reals inside some fake ball;
    density: mean count of real balls holding each fake, divided by k; coverage: share of real balls
    holding at least one fake.
    """
    k = min(k, len(real) - 1, len(fake) - 1)
    if k < 1:
        return {"precision": math.nan, "recall": math.nan, "density": math.nan, "coverage": math.nan}
    real, fake = real.double(), fake.double()
    real_radius = torch.cdist(real, real).kthvalue(k + 1, dim=1).values  # +1 skips the point itself
    fake_radius = torch.cdist(fake, fake).kthvalue(k + 1, dim=1).values
    real_to_fake = torch.cdist(real, fake)  # (R, F)
    inside_real = real_to_fake <= real_radius[:, None]  # fake j inside real ball i
    inside_fake = real_to_fake <= fake_radius[None, :]  # real i inside fake ball j
    return {
        "precision": float(inside_real.any(0).double().mean()),
        "recall": float(inside_fake.any(1).double().mean()),
        "density": float(inside_real.double().sum(0).mean() / k),
        "coverage": float((real_to_fake.min(1).values <= real_radius).double().mean()),
    }


def quality_report(real_features: torch.Tensor, real_labels: torch.Tensor, fake_features: torch.Tensor,
                   fake_labels: torch.Tensor, fake_predictions: torch.Tensor, num_classes: int) -> dict:
    """Overall and per-class conditional accuracy, Fréchet distance, kernel distance and PRDC."""
    report = {
        "conditional_accuracy": float((fake_predictions == fake_labels).double().mean()),
        "frechet_distance": frechet_distance(real_features, fake_features),
        "kernel_distance": kernel_distance(real_features, fake_features),
        **prdc(real_features, fake_features),
        "per_class": [],
    }
    for c in range(num_classes):
        real_c, fake_c = real_features[real_labels == c], fake_features[fake_labels == c]
        report["per_class"].append({
            "class": c,
            "conditional_accuracy": float((fake_predictions[fake_labels == c] == c).double().mean())
            if len(fake_c) else math.nan,
            "frechet_distance": frechet_distance(real_c, fake_c),
            "kernel_distance": kernel_distance(real_c, fake_c, seed=c),
            **prdc(real_c, fake_c),
        })
    return report


QUALITY_KEYS = ("fd", "kid", "precision", "recall", "density", "coverage")
"""The quality keys of a training log record; each also as ``per_class_<key>``, a list over classes."""
_LONG_NAMES = {"fd": "frechet_distance", "kid": "kernel_distance"}


def log_record(report: dict) -> dict[str, object]:
    """A :func:`quality_report` in the short keys of ``log.jsonl`` (:data:`QUALITY_KEYS`), rounded to 4 digits."""
    record: dict[str, object] = {}
    for key in QUALITY_KEYS:
        name = _LONG_NAMES.get(key, key)
        record[key] = _round(report[name])
        record[f"per_class_{key}"] = [_round(item[name]) for item in report["per_class"]]
    return record


def _round(value: float) -> float:
    return float(f"{value:.4g}") if value == value else value
