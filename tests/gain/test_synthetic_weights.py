"""Loss weights for synthetic items: the classifier honours them, the protocol runs them as arms, ``arms=`` picks."""

from __future__ import annotations

import pytest
import torch
from sklearn.linear_model import LogisticRegression

import ganaug
from ganaug.classifier import Classifier
from ganaug.gain import evaluate_gain
from ganaug.gain.arms import Arm, arm_from_name, arms_for
from ganaug.gain.config import GainConfig
from ganaug.testing import make_tiny_data


class SourcedItems(torch.utils.data.Dataset):
    """Dark images are class 0 and bright ones class 1 among the real items; the (three times as many)
    synthetic items carry the opposite labels."""

    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(0)
        dark = torch.randint(0, 60, (40, 1, 4, 4), generator=generator, dtype=torch.uint8)
        bright = torch.randint(195, 256, (40, 1, 4, 4), generator=generator, dtype=torch.uint8)
        real = [(image, 0, False) for image in dark[:10]] + [(image, 1, False) for image in bright[:10]]
        fake = [(image, 1, True) for image in dark[10:]] + [(image, 0, True) for image in bright[10:]]
        self.items = real + fake
        self.targets = [item[1] for item in self.items]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        return self.items[index]


def _real_accuracy(classifier: Classifier) -> float:
    images = torch.cat([torch.full((5, 1, 4, 4), 20, dtype=torch.uint8), torch.full((5, 1, 4, 4), 230, dtype=torch.uint8)])
    return float((classifier.predict(images) == torch.tensor([0] * 5 + [1] * 5)).float().mean())


@pytest.mark.parametrize("balanced", [False, True])
def test_a_small_synthetic_weight_lets_the_real_labels_win(balanced):
    def trained(weight: float) -> Classifier:
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
        return Classifier(model).fit(SourcedItems(), steps=150, batch_size=16, lr=0.05, seed=0, balanced=balanced,
                                     synthetic_weight=weight)

    assert _real_accuracy(trained(1.0)) == 0.0, "equal weights: the three-times-larger synthetic set decides"
    assert _real_accuracy(trained(0.01)) == 1.0


def test_scikit_learn_classifiers_get_the_weights_as_sample_weight():
    def trained(weight: float) -> Classifier:
        return Classifier(LogisticRegression(max_iter=500)).fit(SourcedItems(), steps=1, batch_size=1, lr=1.0,
                                                                seed=0, synthetic_weight=weight)

    assert _real_accuracy(trained(1.0)) == 0.0 and _real_accuracy(trained(0.01)) == 1.0


def test_weights_need_items_that_say_their_source():
    plain = torch.utils.data.TensorDataset(torch.zeros(8, 1, 4, 4, dtype=torch.uint8), torch.tensor([0, 1] * 4))
    with pytest.raises(ganaug.ConfigError, match="return_source=True"):
        Classifier(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))).fit(
            plain, steps=1, batch_size=4, lr=0.1, seed=0, synthetic_weight=0.5)


def test_weighted_arms_their_names_and_the_arms_filter():
    config = GainConfig(imbalance=10, ratios=(0.5,), synthetic_weights=(0.25,))
    weighted = [arm for arm in arms_for(config) if arm.weight != 1.0]
    assert [arm.name for arm in weighted] == [
        "real+classic+synthetic@0.5, synthetic weight 0.25", "real+classic+synthetic@auto, synthetic weight 0.25",
        "real+classic+synthetic@balance, synthetic weight 0.25",
        "real+classic+synthetic@balance, synthetic weight 0.25, balanced sampling"]
    assert all(arm_from_name(arm.name) == arm for arm in weighted)
    assert Arm(classic=True, topup=True, weight=0.25).baseline == Arm(classic=True)

    only = GainConfig(imbalance=10, ratios=(0.5,), synthetic_weights=(0.25,),
                      arms=("real+classic+synthetic@balance, synthetic weight 0.25, balanced sampling",))
    assert [arm.name for arm in arms_for(only)] == [
        "real", "real+classic", "real, balanced sampling", "real+classic, balanced sampling",
        "real+classic+synthetic@balance, synthetic weight 0.25, balanced sampling"]
    with pytest.raises(ganaug.ConfigError, match=r"arms=\['real\+synthetic@0.3'\]: not arms of this protocol"):
        arms_for(GainConfig(ratios=(0.5,), arms=("real+synthetic@0.3",)))
    with pytest.raises(ganaug.ConfigError, match="synthetic_weights"):
        GainConfig(synthetic_weights=(1.5,))


def test_the_protocol_runs_a_weighted_arm_and_saves_its_report(tiny_generator, tmp_path):
    data = make_tiny_data(num_classes=4, per_class=20)
    report = evaluate_gain(data, generator=tiny_generator, seeds=1, steps=3, ratios=(0.5,), synthetic_weights=(0.5,),
                           out=tmp_path / "gain",
                           arms=("real+classic+synthetic@0.5, synthetic weight 0.5",), classifier="logreg",
                           synthetic_only=False, progress=False, quality_samples=4, fidelity_gate=False)
    names = [run["arm"] for run in report.runs]
    assert names == ["real", "real+classic", "real+classic+synthetic@0.5, synthetic weight 0.5"]
    assert report.runs[-1]["n_synthetic"] > 0
    assert (tmp_path / "gain" / "gain_vs_ratio.png").exists() and (tmp_path / "gain" / "gain.json").exists()


def test_a_report_without_ratio_arms_plots_a_note_not_an_empty_legend(tmp_path):
    import warnings

    from ganaug.gain.plots import plot_ratio_curve

    summary = {"real": {"balanced_accuracy": {"mean": 0.8, "ci_low": 0.7, "ci_high": 0.9}}}
    config = {"metric": "balanced_accuracy", "ratios": [0.5], "classifier": "small-cnn", "seeds": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns on a legend with no labelled artists
        assert plot_ratio_curve(summary, config, tmp_path / "curve.png").exists()
