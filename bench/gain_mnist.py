"""Classifier gain from cdcgan samples on real MNIST in low-data settings (CPU, several seeds).

For each ``--per-class`` setting: per seed, draw N training images per class from the MNIST training
set, train cdcgan on them only, then train the small CNN on every arm (real, real+classic,
real+synthetic@r, real+classic+synthetic@r, synthetic-only) and test on the full 10k MNIST test set.
Writes ``<out>/per_class_<N>/`` (gain.json, gain.md, plots) and prints each table with its verdict.

Run: ``python bench/gain_mnist.py ../shared/data/mnist.npz --per-class 10 50 200 --seeds 5``
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

import ganaug
from ganaug.classifier import LR_SCHEDULES
from ganaug.gain import evaluate_gain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path)
    parser.add_argument("--per-class", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="first seed (to add seeds to an earlier run)")
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.25, 0.5])
    parser.add_argument("--steps", type=int, default=300, help="classifier steps per arm")
    parser.add_argument("--gan-steps", type=int, default=1000)
    parser.add_argument("--gan-channels", type=int, default=32, help="g_channels and d_channels of cdcgan")
    parser.add_argument("--filter-confidence", type=float, default=None,
                        help="also run the synthetic arms filtered by the real+classic classifier's confidence")
    parser.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="cosine",
                        help="the classifier's learning rate over its steps (constant: the tables before 2026-11-28)")
    parser.add_argument("--out", type=Path, default=Path("bench/out/gain_mnist"))
    args = parser.parse_args()

    with np.load(args.mnist) as archive:
        train = ganaug.load_data((archive["x_train"], archive["y_train"]))
        test = ganaug.load_data((archive["x_test"], archive["y_test"]))
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}")
    for n in args.per_class:
        started = time.perf_counter()
        report = evaluate_gain(train, test, train_gan=True, per_class=n, seeds=args.seeds, seed=args.seed,
                               ratios=tuple(args.ratios), lr_schedule=args.lr_schedule,
                               steps=args.steps, gan_steps=args.gan_steps, device="cpu", progress=False,
                               gan_overrides={"g_channels": args.gan_channels, "d_channels": args.gan_channels},
                               filter_confidence=args.filter_confidence, out=args.out / f"per_class_{n}", overwrite=True)
        print(f"\n### {n} images per class ({args.seeds} seeds, {(time.perf_counter() - started) / 60:.1f} min)\n")
        print(report.to_markdown())
        for line in report.verdict():
            print(f"- {line}")
        print(flush=True)


if __name__ == "__main__":
    main()
