"""End-point noise of the gain protocol's classifier: the same training data, several classifier seeds, per schedule.

The protocol scores the classifier's weights after its last step. With a constant learning rate those
weights hang on the last batches drawn; annealed to zero (``lr_schedule="cosine"``) they should not. This
trains the small CNN on one fixed mix (a seed's long-tailed subset and its kept generator, SyntheticMix with
its defaults and the classic transform: the protocol's ``real+classic+synthetic@auto``, or the top-up arm
with a class-balanced sampler) for a few classifier seeds under each schedule, and prints one JSON line per
run. The spread over classifier seeds is the noise that the protocol's intervals carry on top of the data's.

Run (after ``bench/rare_classes.py --train-only`` kept the generator of seed 6):
    python bench/classifier_schedule.py ../shared/data/mnist.npz \
        --generators bench/out/rare_cpu/longtail100/generators --seed 6 --arms auto balance
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import ganaug
from ganaug.classifier import LR_SCHEDULES, Classifier
from ganaug.gain import GainConfig
from ganaug.gain.arms import Arm
from ganaug.gain.augment import classic_preset
from ganaug.gain.protocol import seed_subset
from ganaug.gain.subsets import StoreDataset
from ganaug.metrics.classification import score
from ganaug.mix import SyntheticMix
from ganaug.plugins.registry import default_registry

# the protocol's arms: SyntheticMix's defaults with plain shuffling, or the top-up with a class-balanced sampler
ARMS = {"auto": Arm(classic=True, auto=True), "balance": Arm(classic=True, topup=True, balanced=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path)
    parser.add_argument("--generators", type=Path, required=True, help="kept generators, DIR/seed<N>")
    parser.add_argument("--seed", type=int, default=6, help="pipeline seed: subset, generator and mix")
    parser.add_argument("--classifier-seeds", type=int, default=3)
    parser.add_argument("--imbalance", type=float, default=100.0)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--arms", nargs="+", choices=sorted(ARMS), default=["auto"])
    parser.add_argument("--schedules", nargs="+", choices=LR_SCHEDULES, default=list(LR_SCHEDULES))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with np.load(args.mnist) as archive:
        train = ganaug.load_data((archive["x_train"], archive["y_train"]))
        test = ganaug.load_data((archive["x_test"], archive["y_test"]))
    config = GainConfig(imbalance=args.imbalance, per_class=500, steps=args.steps, device="cpu", progress=False)
    subset = train.subset(seed_subset(train, config, args.seed))
    generator = ganaug.load(args.generators / f"seed{args.seed}")
    real = StoreDataset(subset)
    transform = classic_preset(subset.image_shape, args.seed)
    factory = default_registry().classifier(config.classifier).factory
    for arm in args.arms:
        policy, balanced = ARMS[arm].mix_policy, ARMS[arm].balanced
        for schedule in args.schedules:
            for classifier_seed in range(args.seed, args.seed + 100 * args.classifier_seeds, 100):
                started = time.perf_counter()
                mix = SyntheticMix(real, generator, seed=args.seed, transform=transform, labels=real.targets, **policy)
                model = factory(num_classes=subset.num_classes, image_shape=subset.image_shape, seed=classifier_seed)
                classifier = Classifier(model, device="cpu").fit(
                    mix, steps=config.steps, batch_size=config.batch_size, lr=config.lr, seed=classifier_seed,
                    balanced=balanced, lr_schedule=schedule)
                metrics = score(test.labels.numpy(), classifier.predict(test.images).numpy(), subset.num_classes)
                print(json.dumps({"seed": args.seed, "arm": arm, "schedule": schedule, "classifier_seed": classifier_seed,
                                  "balanced_accuracy": round(100 * metrics["balanced_accuracy"], 2),
                                  "recall": [round(100 * r, 1) for r in metrics["per_class_recall"]],
                                  "seconds": round(time.perf_counter() - started)}), flush=True)


if __name__ == "__main__":
    main()
