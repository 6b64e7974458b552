"""How far an img2img generator's variations move from their sources, by strength, beside their fidelity.

Loads a kept generator (``--keep-generators`` of the gain protocol), redraws the long-tail or low-data
subset it was trained on (same setting and seed), makes one variation of every subset image at each
strength, and prints per class the novelty (:mod:`ganaug.metrics.novelty`: 0 for copies of the source,
1 for as far as another real image of the class) and the fidelity (a judge fitted on the subset's
images, as SyntheticMix's gate does):

    python bench/variation_novelty.py ../shared/data/mnist.npz \\
        bench/out/rare_cpu/longtail100_img2img/seed2/generators/seed2 --setting longtail100 --seed 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import ganaug
from ganaug.gain.subsets import draw_subset
from ganaug.metrics.fidelity import FidelityJudge
from ganaug.metrics.novelty import variation_novelty

SETTINGS = {"longtail100": {"per_class": 500, "imbalance": 100.0}, "longtail10": {"per_class": 500, "imbalance": 10.0},
            "lowdata10": {"per_class": 10, "imbalance": None}, "lowdata50": {"per_class": 50, "imbalance": None}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path)
    parser.add_argument("generator", type=Path)
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="longtail100")
    parser.add_argument("--seed", type=int, default=0, help="the seed the generator was trained for")
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with np.load(args.mnist) as archive:
        train = ganaug.load_data((archive["x_train"], archive["y_train"]))
    subset = train.subset(draw_subset(train.labels, train.num_classes, seed=args.seed, **SETTINGS[args.setting]))
    generator = ganaug.load(args.generator, device="cpu")
    judge = FidelityJudge(subset.images, subset.labels, subset.classes, seed=args.seed)
    counts = torch.bincount(subset.labels, minlength=subset.num_classes).tolist()
    print(f"{args.setting}, seed {args.seed}: {counts} real images per class\n")
    print("| strength | " + " | ".join(f"{c} novelty / fidelity" for c in subset.classes) + " |")
    print("|---" * (subset.num_classes + 1) + "|")
    for strength in args.strengths:
        varied = generator.variations(subset.images, subset.labels, strength=strength, seed=args.seed)
        novelty = variation_novelty(varied, subset.images, subset.labels, subset.num_classes, seed=args.seed)
        fidelity = judge.judge(varied, subset.labels).fidelity
        print(f"| {strength:g} | " + " | ".join(f"{n:.2f} / {100 * f:.0f}%" for n, f in zip(novelty, fidelity)) + " |",
              flush=True)


if __name__ == "__main__":
    main()
