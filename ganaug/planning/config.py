"""Options of a plan: :class:`PlanConfig`, frozen and validated on construction."""

from __future__ import annotations

from dataclasses import dataclass

from ganaug.classifier import LR_SCHEDULES
from ganaug.configs import MAX_BATCH, MAX_STEPS, option, validate
from ganaug.gain.augment import PRESETS
from ganaug.gain.config import METRICS
from ganaug.mix.policies import TOP_UP_BELOW


@dataclass(frozen=True)
class PlanConfig:
    """Options of :func:`ganaug.plan`."""

    folds: int = option(3, "Stratified folds of the training data: each is held out once while a classifier "
                        "trains on the others.", minimum=2, flag=True)
    repeats: int = option(2, "Repeats of the fold split, each shuffled anew: folds x repeats paired comparisons.",
                          minimum=1, flag=True)
    steps: int = option(300, "Classifier optimisation steps per run, the same for every candidate.", minimum=1,
                        maximum=MAX_STEPS, flag=True)
    classifier: str = option("auto", "Registered classifier: 'auto' (small-cnn for grayscale images, small-resnet "
                             "for colour), small-cnn, small-resnet, logreg, or a plugin's.", flag=True)
    classic_preset: str = option("auto", "Classic augmentation applied to every candidate, 'none' included "
                                 "(digits, photos, microscopy; auto: digits for grayscale, photos for colour).",
                                 choices=PRESETS, flag=True)
    batch_size: int = option(64, "Classifier batch size.", minimum=1, maximum=MAX_BATCH)
    lr: float = option(1e-3, "Adam learning rate of torch classifiers.", above=0)
    lr_schedule: str = option("cosine", "Learning rate over the steps.", choices=LR_SCHEDULES)
    metric: str = option("balanced_accuracy", "What the candidates are compared on (on the held-out fold).",
                         choices=METRICS, flag=True)
    margin: float = option(1.0, "Points of the metric a mix must gain over 'none', with its interval above 0, to be "
                           "chosen.", minimum=0, flag=True)
    confidence: float = option(0.95, "Confidence of the paired intervals over the folds.", above=0, below=1)
    top_up_below: int = option(TOP_UP_BELOW, "The default candidate's top_up_below (SyntheticMix's).", minimum=1)
    quick: bool = option(False, "Only 'none' against the default mix, one repeat, half the steps.", flag=True)
    image_size: int | None = option(None, "Resize the images to this square size when loading (a folder of mixed "
                                    "sizes).", minimum=1, maximum=4096, flag=True)
    seed: int = option(0, "Seed of the fold splits, classifiers and synthetic images.", minimum=0,
                       maximum=2**31 - 1, flag=True)
    device: str = option("auto", "'auto', 'cpu', 'cuda' or 'cuda:N'.", flag=True)
    progress: bool = option(True, "Show progress.")

    def __post_init__(self) -> None:
        validate(self)

    @property
    def runs_per_candidate(self) -> int:
        return self.folds * (1 if self.quick else self.repeats)

    @property
    def classifier_steps(self) -> int:
        return max(1, self.steps // 2) if self.quick else self.steps
