"""Quality measures in a feature space: Fréchet distance, kernel distance (KID), precision/recall/density/coverage."""

from __future__ import annotations

import math

import pytest
import torch

from ganaug.metrics.quality import frechet_distance, kernel_distance, log_record, prdc, quality_report


def _normal(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed)) + shift


def _unbiased_mmd_by_loops(x: torch.Tensor, y: torch.Tensor) -> float:
    """The unbiased squared MMD under (x.y / D + 1)^3, written out term by term."""
    x, y, d = x.double(), y.double(), x.shape[1]
    k = lambda a, b: (float(a @ b) / d + 1) ** 3  # noqa: E731
    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return xx + yy - 2 * xy


def test_kid_is_the_unbiased_mmd_when_one_subset_holds_both_sets():
    x, y = _normal(12, 3, 0), _normal(9, 3, 1, shift=0.5)
    assert kernel_distance(x, y) == pytest.approx(_unbiased_mmd_by_loops(x, y), rel=1e-9)


def test_kid_over_subsets_averages_the_unbiased_mmd_of_each_draw():
    # the pooled path (kernel matrices once, draws as indicator products) equals the draws done one by one
    x, y = _normal(30, 4, 2), _normal(25, 4, 3, shift=0.3)
    generator = torch.Generator().manual_seed(7)
    draws = [(torch.randperm(30, generator=generator)[:10], torch.randperm(25, generator=generator)[:10])
             for _ in range(6)]
    expected = sum(_unbiased_mmd_by_loops(x[a], y[b]) for a, b in draws) / len(draws)
    assert kernel_distance(x, y, subsets=6, subset_size=10, seed=7) == pytest.approx(expected, rel=1e-9)


def test_kid_is_about_zero_for_one_distribution_and_grows_with_the_shift():
    real = _normal(400, 8, 4)
    same = kernel_distance(real, _normal(400, 8, 5))
    shifted = [kernel_distance(real, _normal(400, 8, 5, shift=s)) for s in (0.25, 0.5, 1.0)]
    assert abs(same) < 0.05 * shifted[0]
    assert shifted[0] < shifted[1] < shifted[2]


def test_kid_of_two_samples_of_one_distribution_is_not_clipped_at_zero():
    # unbiased: over independent pairs its readings straddle 0 rather than all sitting above it
    readings = [kernel_distance(_normal(40, 4, 2 * s), _normal(40, 4, 2 * s + 1)) for s in range(12)]
    assert min(readings) < 0 < max(readings)


def test_kid_and_fd_are_nan_with_fewer_than_two_points_a_side():
    x = _normal(5, 3, 0)
    assert math.isnan(kernel_distance(x, x[:1])) and math.isnan(frechet_distance(x[:1], x))


def test_fd_is_zero_for_the_same_set_and_reads_a_mean_shift():
    x = _normal(500, 3, 0)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(x, x + 2.0) == pytest.approx(3 * 2.0 ** 2, rel=1e-6)


def test_prdc_of_a_collapsed_generator_has_precision_but_no_recall_or_coverage():
    real = _normal(200, 2, 0)
    collapsed = real[:1].repeat(200, 1) + 1e-3 * _normal(200, 2, 1)
    scores = prdc(real, collapsed)
    assert scores["precision"] == 1.0 and scores["recall"] < 0.05 and scores["coverage"] < 0.05


def test_quality_report_per_class_and_its_log_record():
    real = torch.cat([_normal(50, 4, 0), _normal(50, 4, 1, shift=3.0)])
    labels = torch.tensor([0] * 50 + [1] * 50)
    fake = torch.cat([_normal(50, 4, 2), _normal(50, 4, 3, shift=1.0)])  # class 1 drawn off its real place
    report = quality_report(real, labels, fake, labels, labels, num_classes=2)
    kid = [item["kernel_distance"] for item in report["per_class"]]
    assert kid[1] > 10 * abs(kid[0]) and report["conditional_accuracy"] == 1.0
    record = log_record(report)
    assert len(record["per_class_kid"]) == 2 and record["kid"] == pytest.approx(report["kernel_distance"], rel=1e-3)
