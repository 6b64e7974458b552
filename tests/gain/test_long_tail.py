"""The long-tail protocol: class-balanced baselines, top-up arms, the best non-synthetic arm, Holm."""

from __future__ import annotations

import pytest
import torch
from sklearn.linear_model import LogisticRegression
from torch.utils.data import TensorDataset

import ganaug
from ganaug.classifier import Classifier
from ganaug.gain import evaluate_gain
from ganaug.gain.arms import Arm, arm_from_name, arms_for
from ganaug.gain.config import GainConfig
from ganaug.gain.report import GainReport
from ganaug.metrics.stats import holm
from ganaug.testing import make_tiny_data


def test_holm_by_hand():
    # sorted p: 0.01 (x3), 0.02 (x2), 0.04 (x1) -> 0.03, 0.04, 0.04 (monotone); NaN stays out
    assert holm([0.04, 0.01, float("nan"), 0.02]) == pytest.approx([0.04, 0.03, float("nan"), 0.04], nan_ok=True)
    assert holm([0.5, 0.6]) == [1.0, 1.0]


def test_long_tail_arms_and_their_names():
    arms = arms_for(GainConfig(imbalance=10, ratios=(0.5,)))
    names = [arm.name for arm in arms]
    assert names == ["real", "real+classic", "real, balanced sampling", "real+classic, balanced sampling",
                     "real+synthetic@0.5", "real+classic+synthetic@0.5", "real+synthetic@auto",
                     "real+classic+synthetic@auto", "real+synthetic@balance",
                     "real+classic+synthetic@balance", "real+synthetic@balance, balanced sampling",
                     "real+classic+synthetic@balance, balanced sampling", "synthetic-only"]
    assert all(arm_from_name(arm.name) == arm for arm in arms)
    assert Arm(classic=True, topup=True).baseline == Arm(classic=True)
    assert Arm(classic=True, topup=True, balanced=True).baseline == Arm(classic=True, balanced=True)
    assert Arm(classic=True, auto=True).baseline == Arm(classic=True, balanced=True)  # it oversamples itself
    assert "real, balanced sampling" not in [a.name for a in arms_for(GainConfig(ratios=(0.5,)))]
    assert Arm(classic=True, auto=True).mix_policy == {}  # SyntheticMix's own defaults: the default path
    assert Arm(topup=True, balanced=True).mix_policy == {"ratio": None, "class_policy": "balance", "oversample": False}
    assert Arm(0.25, classic=True).mix_policy == {"ratio": 0.25, "class_policy": "match", "oversample": False}
    assert "real, balanced sampling" in [a.name for a in arms_for(GainConfig(ratios=(0.5,), long_tail_arms=True))]


def report_with(values: dict[str, list[float]]) -> GainReport:
    runs = [{"arm": arm, "seed": seed, "metrics": {"accuracy": v, "balanced_accuracy": v, "macro_f1": v,
                                                   "per_class_recall": [v, v]}}
            for arm, vs in values.items() for seed, v in enumerate(vs)]
    return GainReport({"metric": "balanced_accuracy", "seeds": 3, "ratios": [0.5]}, ["a", "b"], list(values), runs)


def test_every_synthetic_arm_is_judged_against_the_best_arm_without_synthetic_data():
    report = report_with({
        "real": [0.70, 0.71, 0.72],
        "real+classic, balanced sampling": [0.80, 0.82, 0.84],  # the best baseline
        "real+classic+synthetic@balance": [0.85, 0.88, 0.91],  # +6 over it
        "real+synthetic@0.5": [0.74, 0.75, 0.77],  # better than real, worse than the best
    })
    assert report.best_baseline() == Arm(classic=True, balanced=True)
    against = report.against_best()
    assert against["real+classic+synthetic@balance"]["mean"] == pytest.approx(0.06)
    assert against["real+synthetic@0.5"]["mean"] == pytest.approx(-0.0667, abs=1e-3)
    p = [against[a]["p_value"] for a in ("real+synthetic@0.5", "real+classic+synthetic@balance")]
    assert [against[a]["p_holm"] for a in ("real+synthetic@0.5", "real+classic+synthetic@balance")] == \
        pytest.approx(holm(p))
    line = report.verdict()[-1]
    assert line.startswith("against the best arm without synthetic data (real+classic, balanced sampling)")
    assert "better: real+classic+synthetic@balance (+6.0 points)" in line
    assert "worse: real+synthetic@0.5 (-6.7 points)" in line
    assert "Holm p=" in report.to_markdown()


def test_balanced_sampling_draws_every_class_equally_often():
    seen = []

    class Spy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(1, 2)

        def forward(self, x):
            seen.append(x.flatten(1)[:, 0].round().long())  # the image holds its label
            return self.linear(x.flatten(1)[:, :1])

    labels = torch.tensor([0] * 90 + [1] * 10)
    images = labels.float().view(-1, 1, 1, 1).expand(-1, 1, 2, 2).clone()
    Classifier(Spy()).fit(TensorDataset(images, labels), steps=40, batch_size=20, lr=1e-3, seed=0, balanced=True)
    share = float(torch.cat(seen).double().mean())
    assert 0.4 < share < 0.6
    seen.clear()
    Classifier(Spy()).fit(TensorDataset(images, labels), steps=40, batch_size=20, lr=1e-3, seed=0)
    assert float(torch.cat(seen).double().mean()) == pytest.approx(0.1, abs=0.02)


def test_imbalance_protocol_runs_every_arm(tiny_generator):
    store = make_tiny_data((1, 8, 8), num_classes=4, per_class=20)
    report = evaluate_gain(store, generator=tiny_generator, imbalance=4, ratios=(0.5,), seeds=2, steps=3,
                           batch_size=8, progress=False, quality_samples=4, synthetic_only=False)
    assert "real+classic, balanced sampling" in report.arm_names
    topup = [r for r in report.runs if r["arm"] == "real+classic+synthetic@balance"]
    assert len(topup) == 2 and len(report.fidelity) == 2  # the gate's per-class fidelity, per seed
    auto = [r for r in report.runs if r["arm"] == "real+classic+synthetic@auto"]
    assert [r["train_size"] for r in auto] == [r["n_real"] + r["n_synthetic"] + r["n_repeats"] for r in auto]
    assert all(r["n_repeats"] > 0 for r in auto)  # imbalance 4: the default policy oversamples the tail
    assert set(report.against_best()) == {"real+synthetic@0.5", "real+classic+synthetic@0.5",
                                          "real+synthetic@auto", "real+classic+synthetic@auto",
                                          "real+synthetic@balance", "real+classic+synthetic@balance",
                                          "real+synthetic@balance, balanced sampling",
                                          "real+classic+synthetic@balance, balanced sampling"}
    assert "Per-class fidelity" in report.to_markdown()


def test_top_up_below_decides_whether_the_auto_arms_top_up(tiny_generator):
    store = make_tiny_data((1, 8, 8), num_classes=4, per_class=20)  # imbalance 4: classes of 20, 13, 8 and 5
    common = dict(generator=tiny_generator, imbalance=4, seeds=1, steps=2, batch_size=8, progress=False,
                  quality_samples=4, synthetic_only=False, arms=("real+synthetic@auto",), fidelity_gate=False)

    def run(**options):
        report = evaluate_gain(store, **common, **options)
        assert report.config["top_up_below"] == options.get("top_up_below", 40)
        return report, next(r["n_synthetic"] for r in report.runs if r["arm"] == "real+synthetic@auto")

    report, every_class = run(top_up_below=1000)
    assert every_class > 0 and not any("held no synthetic images" in line for line in report.verdict())
    assert run(top_up_below=6)[1] == every_class  # the class of 5 images is enough: every class is topped up
    with pytest.warns(UserWarning, match="no synthetic images"):
        report, none = run(top_up_below=2)
    assert none == 0
    assert "real+synthetic@auto held no synthetic images on 1 of 1 seeds (no class had fewer than top_up_below=2" \
        in "\n".join(report.verdict())


def test_a_cosine_schedule_anneals_the_classifiers_learning_rate_to_zero():
    """Adam moves a weight by about lr per step; under "cosine" the last step's move is almost nothing."""
    class Recorder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.linear = torch.nn.Linear(4, 2)
            self.seen: list[torch.Tensor] = []

        def forward(self, x):
            self.seen.append(self.linear.weight.detach().clone())
            return self.linear(x.flatten(1))

    data = TensorDataset(torch.rand(40, 1, 2, 2), torch.arange(40) % 2)
    moves = {}
    for schedule in ("constant", "cosine"):
        model = Recorder()
        Classifier(model).fit(data, steps=20, batch_size=10, lr=0.01, seed=0, lr_schedule=schedule)
        moves[schedule] = (model.linear.weight.detach() - model.seen[-1]).abs().max().item()
    assert moves["constant"] > 0.002  # a good part of lr
    assert moves["cosine"] < 0.05 * moves["constant"]  # lr * (1 + cos(19 pi / 20)) / 2, about 0.6% of lr
    with pytest.raises(ganaug.ConfigError, match="lr_schedule='step'"):
        Classifier(Recorder()).fit(data, steps=2, batch_size=10, lr=0.01, seed=0, lr_schedule="step")
    with pytest.raises(ganaug.ConfigError, match="lr_schedule='step'"):  # refused for scikit-learn too
        Classifier(LogisticRegression()).fit(data, steps=2, batch_size=10, lr=0.01, seed=0, lr_schedule="step")
