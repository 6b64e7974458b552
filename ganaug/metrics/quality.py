"""Generator quality in a classifier's feature space, so no pretrained weights are downloaded.

* conditional accuracy: share of samples the real-data classifier assigns to their conditioning class;
* Fréchet distance between Gaussian fits of real and generated features;
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
    """Overall and per-class conditional accuracy, Fréchet distance and PRDC."""
    report = {
        "conditional_accuracy": float((fake_predictions == fake_labels).double().mean()),
        "frechet_distance": frechet_distance(real_features, fake_features),
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
            **prdc(real_c, fake_c),
        })
    return report
