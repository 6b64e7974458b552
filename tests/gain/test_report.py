"""GainReport's verdict: one sentence per synthetic arm with the paired difference's numbers, on hand-made runs."""

from __future__ import annotations

from ganaug.gain.config import METRICS
from ganaug.gain.report import GainReport

REAL = [0.80, 0.82, 0.84]
CLASSIC = [0.85, 0.86, 0.87]



def per_baseline(report: GainReport) -> list[str]:
    """The verdict's sentences against each arm's own baseline (the best-baseline line is tested elsewhere)."""
    return [line for line in report.verdict() if not line.startswith("against the best arm")]

def _report(per_arm: dict[str, list[float]], metric: str = "balanced_accuracy", accuracy: float = 0.5) -> GainReport:
    """Runs whose ``metric`` takes the given per-seed values; the other metrics are ``accuracy`` everywhere,
    so a verdict computed on the wrong metric would find no difference. Runs are stored in reverse seed
    order: pairing must go by seed, not by position."""
    runs = []
    for arm, values in per_arm.items():
        for seed in reversed(range(len(values))):
            metrics = {m: accuracy for m in METRICS}
            metrics[metric] = values[seed]
            runs.append({"arm": arm, "seed": seed, "metrics": {**metrics, "per_class_recall": [0.5, 0.5]}})
    seeds = len(next(iter(per_arm.values())))
    return GainReport(config={"metric": metric, "seeds": seeds}, classes=["a", "b"], arms=list(per_arm), runs=runs)


def _shifted(base: list[float], shifts: list[float]) -> list[float]:
    return [b + s for b, s in zip(base, shifts)]


def test_verdict_above_below_and_not_measurably_different():
    report = _report({
        "real": REAL,
        "real+classic": CLASSIC,
        "real+synthetic@0.25": _shifted(REAL, [0.05, 0.06, 0.07]),  # mean +6, CI clear of 0 above
        "real+synthetic@0.5": _shifted(REAL, [-0.03, -0.04, -0.05]),  # mean -4, CI clear of 0 below
        "real+classic+synthetic@0.5": _shifted(CLASSIC, [0.02, -0.01, 0.005]),  # CI spans 0
        "synthetic-only": _shifted(REAL, [0.10, 0.10, 0.10]),  # compared with nothing
    })
    assert per_baseline(report) == [
        "synthetic data (real+synthetic@0.25) raised balanced accuracy by 6.0 points "
        "(95% CI +3.5 to +8.5, p=0.0091, 3 seeds) over real data alone",
        "synthetic data (real+synthetic@0.5) lowered balanced accuracy by 4.0 points "
        "(95% CI -6.5 to -1.5, p=0.02, 3 seeds) against real data alone",
        "synthetic data (real+classic+synthetic@0.5) did not change balanced accuracy measurably against classic "
        "augmentation: +0.5 points (95% CI -3.2 to +4.2, p=0.62, 3 seeds)",
    ]
    assert report.to_dict()["verdict"] == report.verdict()


def test_a_constant_shift_is_significant_with_p_zero():
    report = _report({"real": REAL, "real+synthetic@0.5": _shifted(REAL, [0.02, 0.02, 0.02])})
    assert per_baseline(report) == ["synthetic data (real+synthetic@0.5) raised balanced accuracy by 2.0 points "
                                "(95% CI +2.0 to +2.0, p=0, 3 seeds) over real data alone"]


def test_verdict_reads_the_configured_metric():
    """Balanced accuracy differs, accuracy does not: a verdict on accuracy finds no change."""
    per_arm = {"real": REAL, "real+synthetic@0.5": _shifted(REAL, [0.05, 0.06, 0.07])}
    report = _report(per_arm)
    report.config["metric"] = "accuracy"
    assert per_baseline(report) == ["synthetic data (real+synthetic@0.5) did not change accuracy measurably against "
                                "real data alone: +0.0 points (95% CI +0.0 to +0.0, p=1, 3 seeds)"]


def test_one_seed_gives_the_change_without_an_interval():
    report = _report({"real": [0.80], "real+classic": [0.85], "real+synthetic@0.5": [0.83],
                      "real+classic+synthetic@0.5": [0.84]})
    assert per_baseline(report) == [
        "real+synthetic@0.5 vs real: balanced accuracy changed by +3.0 points (one seed: no confidence interval)",
        "real+classic+synthetic@0.5 vs real+classic: balanced accuracy changed by -1.0 points "
        "(one seed: no confidence interval)",
    ]


def test_no_sentence_without_the_baseline():
    report = _report({"real": REAL, "real+classic+synthetic@0.5": _shifted(REAL, [0.05, 0.06, 0.07])})
    assert per_baseline(report) == []
    report = _report({"real+classic": CLASSIC, "real+synthetic@0.5": _shifted(CLASSIC, [0.05, 0.06, 0.07])})
    assert per_baseline(report) == []
