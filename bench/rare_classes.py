"""The rare-classes protocol on a real data set (MNIST, blood cells...), the whole pipeline repeated per seed.

For each setting and each seed, the seed draws the training subset, trains the default generator
(``cdcgan`` with its default options, ``--gan-steps`` steps, batch 64) on exactly that subset, and
trains the same classifier on every arm of the gain protocol, scored on the data set's test images.
So the intervals cover the subset draw, the GAN and the classifier, not the classifier alone.

Settings (``--settings``): ``longtail100`` and ``longtail10`` (500 images in the largest class,
imbalance 100 or 10: the long-tail arms, class-balanced sampling and synthetic top-up included),
``lowdata10``, ``lowdata20``, ``lowdata50`` and ``lowdata100`` (that many images per class).

DATA is an ``.npz`` with ``x_train y_train x_test y_test`` (MNIST's layout; ``classes`` optional) or a folder
with ``train/<class>/`` and ``test/<class>/`` image folders (``--image-size`` resizes them as read). For
colour images, ``--classifier small-resnet --classic-preset microscopy`` (cells) or ``photos``.

One seed of one setting is one process (``--seed S --seeds 1``), so a machine with many cores or a
GPU runs them side by side; ``bench/merge_gain.py`` merges the per-seed reports:

    python bench/rare_classes.py ../shared/data/mnist.npz --settings longtail100 --seed 0 --seeds 1 --device cuda
    python bench/rare_classes.py ../shared/data/blood-cells --image-size 32 --settings lowdata20 --gan-model biggan \
        --classifier small-resnet --classic-preset microscopy --seed 0 --seeds 1
    python bench/merge_gain.py bench/out/rare_classes/longtail100/seed*/gain.json --out merged/

``--arms`` runs only the named synthetic arms (beside every baseline); ``--generators DIR`` reuses the
generators kept in ``DIR/seed<N>`` instead of training them (each seed's generator was trained on that
seed's subset, so the result is the pipeline's); ``--train-only`` trains and saves them without the arms,
so one machine can train the generators of some seeds while it measures others.

``--gan-model img2img`` measures variations of real images instead of samples from noise (results go
to ``<setting>_img2img``); ``--variation-strengths 0.75 1`` adds the classic synthetic arms again with variations
of those strengths (``..., variation strength S``). ``--budget-factor 3`` runs the same arms with 3x the classifier steps (``--steps``), to check that a
longer budget does not change the ranking of the arms. ``--plan`` adds ``real+classic+synthetic@plan``: the mix
``ganaug.plan`` chooses on the seed's training subset (``--plan-quick``, ``--plan-steps`` size the plan).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import ganaug
from ganaug.classifier import LR_SCHEDULES
from ganaug.gain import GainConfig
from ganaug.gain.arms import arms_for
from ganaug.gain.protocol import seed_subset, train_seed_generator

SETTINGS = {
    "longtail100": {"per_class": 500, "imbalance": 100.0},
    "longtail10": {"per_class": 500, "imbalance": 10.0},
    "lowdata10": {"per_class": 10},
    "lowdata20": {"per_class": 20},
    "lowdata50": {"per_class": 50},
    "lowdata100": {"per_class": 100},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="an .npz with x_train y_train x_test y_test, or a folder with "
                        "train/<class>/ and test/<class>/")
    parser.add_argument("--image-size", type=int, default=None, help="resize the images as they are read")
    parser.add_argument("--classifier", default="small-cnn", help="registered classifier (small-resnet for 32 px "
                        "and up)")
    parser.add_argument("--classic-preset", default="auto", help="classic augmentation: auto, digits, photos, "
                        "microscopy")
    parser.add_argument("--remeasure-fidelity", action="store_true", help="with --generators: the gate measures "
                        "each generator's fidelity with today's judge instead of reading the one saved at training")
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=sorted(SETTINGS))
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1000, help="classifier steps per arm")
    parser.add_argument("--budget-factor", type=int, default=1, help="multiply --steps (the budget check)")
    parser.add_argument("--gan-steps", type=int, default=2000)
    parser.add_argument("--gan-model", default="cdcgan", help="generator family (img2img: variations of real images)")
    parser.add_argument("--gan-options", type=json.loads, default={}, help='family options as JSON, e.g. {"g_channels": 16}')
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.5])
    parser.add_argument("--arms", nargs="+", default=(), help="run only these synthetic arms (beside every "
                        "baseline), e.g. 'real+classic+synthetic@auto'")
    parser.add_argument("--generators", type=Path, default=None, help="use the generators kept in DIR/seed<N> "
                        "(by --keep-generators, or trained ahead on the same subset) instead of training them")
    parser.add_argument("--train-only", action="store_true", help="only train and save each seed's generator "
                        "to OUT/<setting>/generators/seed<N> (as the protocol would), for --generators later")
    parser.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="cosine",
                        help="the classifier's learning rate over its steps (constant: the tables before 2026-11-28)")
    parser.add_argument("--top-up-below", type=int, default=GainConfig.top_up_below,
                        help="the @auto arms' top_up_below (1: no synthetic images)")
    parser.add_argument("--variation-strengths", type=float, nargs="+", default=(),
                        help="img2img: also run the classic synthetic arms with variations of these strengths")
    parser.add_argument("--plan", action="store_true", help="add the arm real+classic+synthetic@plan (ganaug.plan "
                        "on each seed's training subset, then its recipe's mix)")
    parser.add_argument("--plan-quick", action="store_true", help="the @plan arm's plan in its quick mode")
    parser.add_argument("--plan-steps", type=int, default=None, help="classifier steps of each of the plan's runs")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--out", type=Path, default=Path("bench/out/rare_classes"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    train, test = load_split(args.data, args.image_size)
    steps = args.steps * args.budget_factor
    for name in args.settings:
        started = time.perf_counter()
        folder = args.out / (name if args.budget_factor == 1 else f"{name}_x{args.budget_factor}")
        if args.data.stem != "mnist" or args.image_size:
            folder = folder.with_name(f"{data_name(args)}_{folder.name}")
        if args.gan_model != "cdcgan" or args.data.stem != "mnist" or args.image_size:
            folder = folder.with_name(f"{folder.name}_{args.gan_model}")
        if args.train_only:
            train_generators(train, name, args, folder / "generators")
            continue
        common = dict(classifier=args.classifier, classic_preset=args.classic_preset, seeds=args.seeds, seed=args.seed, steps=steps, lr_schedule=args.lr_schedule,
                      top_up_below=args.top_up_below, ratios=tuple(args.ratios), arms=tuple(args.arms),
                      variation_strengths=tuple(args.variation_strengths), plan=args.plan,
                      plan_quick=args.plan_quick, plan_steps=args.plan_steps,
                      device=args.device, progress=False, out=folder / f"seed{args.seed}" if args.seeds == 1 else folder, overwrite=True,
                      **SETTINGS[name])
        if args.generators is not None:  # one seed at a time: each seed's own generator
            if args.seeds != 1:
                parser.error("--generators needs --seeds 1 (each seed has its own generator)")
            generator = ganaug.load(args.generators / f"seed{args.seed}")
            if args.remeasure_fidelity:
                generator.fidelity = None  # SyntheticMix's gate measures it on the seed's real images
            report = ganaug.evaluate_gain(train, test, generator=generator, **common)
        else:
            report = ganaug.evaluate_gain(train, test, train_gan=True, gan_steps=args.gan_steps, gan_batch_size=64,
                                          gan_model=args.gan_model, gan_overrides=args.gan_options,
                                          keep_generators=True, **common)
        minutes = (time.perf_counter() - started) / 60
        print(f"\n### {name}, seeds {args.seed}..{args.seed + args.seeds - 1}, {steps} steps ({minutes:.1f} min)\n")
        print(report.to_markdown())
        for line in report.verdict():
            print(f"- {line}")
        print(flush=True)


def load_split(data: Path, image_size: int | None) -> tuple[ganaug.ImageStore, ganaug.ImageStore]:
    """The training and test stores of an .npz (MNIST's keys) or of a folder holding train/ and test/."""
    if data.is_dir():
        return (ganaug.load_data(data / "train", image_size=image_size),
                ganaug.load_data(data / "test", image_size=image_size))
    with np.load(data) as archive:
        classes = [str(c) for c in archive["classes"]] if "classes" in archive else None
        return (ganaug.load_data((archive["x_train"], archive["y_train"]), image_size=image_size, classes=classes),
                ganaug.load_data((archive["x_test"], archive["y_test"]), image_size=image_size, classes=classes))


def data_name(args: argparse.Namespace) -> str:
    """The results' folder prefix: the data set's name and size (``blood-cells32``), or ``mnist``."""
    return f"{args.data.stem}{args.image_size or ''}"


def train_generators(train: ganaug.ImageStore, setting: str, args: argparse.Namespace, folder: Path) -> None:
    """Each seed's generator, trained on that seed's subset as the protocol would, saved for --generators.

    ``--arms`` given here are checked first, so that a name the later arms step would refuse stops the
    run in seconds, not after the generators' training.
    """
    if args.arms:
        arms_for(GainConfig(ratios=tuple(args.ratios), arms=tuple(args.arms), top_up_below=args.top_up_below,
                            variation_strengths=tuple(args.variation_strengths), plan=args.plan,
                      plan_quick=args.plan_quick, plan_steps=args.plan_steps, **SETTINGS[setting]))
    for seed in range(args.seed, args.seed + args.seeds):
        started = time.perf_counter()
        config = GainConfig(seed=seed, train_gan=True, gan_model=args.gan_model, gan_steps=args.gan_steps,
                            gan_overrides=args.gan_options, device=args.device, progress=False, **SETTINGS[setting])
        generator = train_seed_generator(train.subset(seed_subset(train, config, seed)), config, seed)
        generator.save(folder / f"seed{seed}")
        print(f"{setting}, seed {seed}: {args.gan_model} trained in {(time.perf_counter() - started) / 60:.1f} min, "
              f"saved to {folder / f'seed{seed}'}", flush=True)


if __name__ == "__main__":
    main()
