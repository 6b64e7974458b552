"""Options of the gain protocol: :class:`GainConfig`, frozen and validated on construction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganaug.classifier import LR_SCHEDULES
from ganaug.configs import MAX_BATCH, MAX_STEPS, option, validate
from ganaug.gain.augment import PRESETS
from ganaug.mix.policies import TOP_UP_BELOW

METRICS = ("accuracy", "balanced_accuracy", "macro_f1")


@dataclass(frozen=True)
class GainConfig:
    """Options of the gain protocol (see :func:`ganaug.evaluate_gain`)."""

    classifier: str = option("small-cnn", "Registered classifier: small-cnn, small-resnet, logreg, or a plugin's.",
                             flag=True)
    classic_preset: str = option("auto", "Classic augmentation of the classic arms: 'digits' (small affine moves, "
                                 "elastic), 'photos' (horizontal flip, colour jitter, affine), 'microscopy' (flips, "
                                 "90-degree rotations, colour jitter: images without an orientation) or 'auto' "
                                 "(digits for grayscale, photos for RGB).", choices=PRESETS, flag=True)
    ratios: tuple[float, ...] = option((0.25, 0.5), "Synthetic shares to test, each in (0, 1).", above=0, below=1,
                                       flag=True)
    seeds: int = option(5, "Repeats of the subset draw, GAN training (with train_gan) and classifier training.",
                        minimum=1, flag=True)
    seed: int = option(0, "First seed; run i uses seed + i.", minimum=0, maximum=2**31 - 1, flag=True)
    steps: int = option(500, "Classifier optimisation steps, identical for every arm.", minimum=1,
                        maximum=MAX_STEPS, flag=True)
    batch_size: int = option(64, "Classifier batch size.", minimum=1, maximum=MAX_BATCH)
    lr: float = option(1e-3, "Adam learning rate of torch classifiers.", above=0)
    lr_schedule: str = option("cosine", "Learning rate of torch classifiers over the steps: 'cosine' (annealed to "
                              "0, so the scored weights do not hang on the last batches drawn), or 'constant'.",
                              choices=LR_SCHEDULES, flag=True)
    per_class: int | None = option(None, "Low-data protocol: keep this many training images per class "
                                   "(stratified, drawn per seed).", minimum=1, flag=True)
    imbalance: float | None = option(None, "Long-tail protocol: class k keeps about n_max * imbalance^(-k/(K-1)) "
                                     "images (drawn per seed); the ratio of the largest to the smallest class.",
                                     minimum=1, flag=True)
    long_tail_arms: bool | None = option(None, "Add the long-tail baselines (class-balanced sampling, with and "
                                         "without classic augmentation) and synthetic top-up arms; None: only with "
                                         "imbalance.")
    train_gan: bool = option(False, "Train a generator on each seed's training subset inside the protocol.",
                             flag=True)
    image_size: int | None = option(None, "Resize every training and test image to this square size when loading "
                                    "(the shorter side scaled, the centre cut out).", minimum=1, maximum=4096,
                                    flag=True)
    cache_data: bool = option(True, "Keep image folders' decoded images in the decoded cache ($GANAUG_CACHE_DIR, "
                              "else ~/.cache/ganaug/folders) and read them from it while the files are unchanged.",
                              flag=True)
    gan_model: str = option("auto", "Generator family trained with train_gan; 'auto' as in fit (by the images' "
                            "shape).", flag=True)
    gan_steps: int = option(1500, "Generator steps with train_gan.", minimum=1, maximum=MAX_STEPS,
                            flag=True)
    gan_batch_size: int = option(64, "Generator batch size with train_gan.", minimum=1, maximum=MAX_BATCH)
    keep_generators: bool = option(False, "With train_gan and an output folder, save each seed's generator to "
                                   "<out>/generators/seed<N> (load it with ganaug.load, or pass it as --generator).",
                                   flag=True)
    gan_overrides: dict[str, Any] = option(default_factory=dict, help='Options of the generator family for '
                                           'train_gan (e.g. {"g_channels": 32}).')
    synthetic_weights: tuple[float, ...] = option((), "Also run every classic synthetic arm with its synthetic "
                                                  "items' loss weighted by each of these (0 < w < 1) relative to "
                                                  "real ones (arms '..., synthetic weight W').", above=0, below=1,
                                                  flag=True)
    variation_strengths: tuple[float, ...] = option((), "Image-to-image generators: also run every classic synthetic "
                                                    "arm with variations of each of these strengths (0 to 1; arms "
                                                    "'..., variation strength S'); the other arms use the family's "
                                                    "variation_strength.", minimum=0, maximum=1, flag=True)
    arms: tuple[str, ...] = option((), "Run only these synthetic arms (by name, e.g. 'real+classic+synthetic@0.5'), "
                                   "beside every arm without synthetic data; empty: every arm.")
    plan: bool = option(False, "Add the arm real+classic+synthetic@plan: on each seed's training subset, ganaug.plan "
                        "chooses a mix by folds of that subset (with this protocol's classifier and classic "
                        "augmentation), and the arm trains on the mix its recipe names.", flag=True)
    plan_quick: bool = option(False, "The plan of the @plan arm in its quick mode (none against the default, one "
                              "repeat, half the steps).", flag=True)
    plan_steps: int | None = option(None, "Classifier steps of each of the plan's runs (default: the protocol's "
                                    "steps).", minimum=1, maximum=MAX_STEPS, flag=True)
    synthetic_only: bool = option(True, "Include the synthetic-only arm (the Classification Accuracy Score).")
    filter_confidence: float | None = option(
        None, "Also run every synthetic arm keeping only samples that the seed's real+classic classifier gives "
        "their class with at least this probability (arms '..., filtered').", above=0, maximum=1, flag=True)
    top_up_below: int = option(TOP_UP_BELOW, "The @auto arms add synthetic images only when some class has fewer "
                               "real images than this (SyntheticMix's top_up_below); 1 never adds any.", minimum=1,
                               flag=True)
    fidelity_gate: bool = option(True, "Synthetic arms use SyntheticMix's fidelity gate (classes whose samples "
                                 "fail get no synthetic images) and its max_per_real cap, as users do by default.")
    test_size: float = option(0.25, "Share held out for testing when no test set is given.", above=0, below=1)
    metric: str = option("balanced_accuracy", "Metric of the verdict and the plots.", choices=METRICS, flag=True)
    quality_samples: int = option(100, "Generated images per class for the quality measures.", minimum=2)
    device: str = option("auto", "'auto', 'cpu', 'cuda' or 'cuda:N'.", flag=True)
    progress: bool = option(True, "Show a progress bar.")

    def __post_init__(self) -> None:
        validate(self)
