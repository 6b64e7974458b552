"""Long-tailed MNIST: does a generator's synthetic data help a classifier beyond the usual long-tail fixes?

One long-tailed subset of the MNIST training set (``--per-class`` images in the largest class,
``--imbalance`` the ratio of the largest to the smallest, drawn with ``--subset-seed``: the same set as
bench/longtail_generator.py's) and the generator trained on exactly that subset
(``--generator``: a run folder of bench/longtail_generator.py). The gain protocol then trains the same
small CNN on every arm over ``--seeds`` classifier seeds and tests it on the 10k MNIST test images:
real data, classic augmentation, class-balanced sampling with and without it, synthetic data at a
fixed share and as a top-up of the rare classes (through SyntheticMix's fidelity gate and cap), each
synthetic arm compared with the best arm without synthetic data (Holm-adjusted). The seeds vary the
classifier, not the subset or the generator: the intervals are over classifier training only.

``--budget-check`` reruns the arms without synthetic data at 3x the steps and prints both rankings,
to show whether the classifier's budget is long enough for the ranking to hold.

Run: ``python bench/longtail_gain.py ../shared/data/mnist.npz --generator bench/out/longtail_generator/seed0_balance1``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

import ganaug
from ganaug.classifier import LR_SCHEDULES
from ganaug.data import ImageStore
from ganaug.gain.subsets import draw_subset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path)
    parser.add_argument("--generator", type=Path, required=True)
    parser.add_argument("--per-class", type=int, default=500, help="images of the largest class")
    parser.add_argument("--imbalance", type=float, default=100.0)
    parser.add_argument("--subset-seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.5])
    parser.add_argument("--no-gate", action="store_true", help="mix without SyntheticMix's fidelity gate and cap")
    parser.add_argument("--synthetic-weights", type=float, nargs="*", default=[],
                        help="also run the classic synthetic arms with synthetic items' loss weighted by each")
    parser.add_argument("--arms", nargs="*", default=[],
                        help="run only these synthetic arms (by name), beside the arms without synthetic data")
    parser.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="cosine",
                        help="the classifier's learning rate over its steps (constant: the tables before 2026-11-28)")
    parser.add_argument("--budget-check", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench/out/longtail_gain"))
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with np.load(args.mnist) as archive:
        x_train, y_train = torch.from_numpy(archive["x_train"][:, None]), torch.from_numpy(archive["y_train"]).long()
        test = (archive["x_test"], archive["y_test"])
    classes = [str(k) for k in range(10)]
    index = draw_subset(y_train, 10, per_class=args.per_class, imbalance=args.imbalance, seed=args.subset_seed)
    subset = ImageStore(x_train[index], y_train[index], classes)
    print(f"subset: {subset.class_counts()} images per class")
    generator = ganaug.load(args.generator)
    common = {"seeds": args.seeds, "ratios": tuple(args.ratios), "long_tail_arms": True, "device": "cpu",
              "fidelity_gate": not args.no_gate, "progress": False, "quality_samples": 100,
              "synthetic_weights": tuple(args.synthetic_weights), "arms": tuple(args.arms),
              "lr_schedule": args.lr_schedule}
    report = ganaug.evaluate_gain(subset, test, generator=generator, steps=args.steps, out=args.out, overwrite=True, **common)
    print(report.to_markdown())
    for line in report.verdict():
        print("-", line)
    recall = report.per_class_recall()
    print("\nper-class recall (%), the five rarest classes:")
    print("| arm | " + " | ".join(classes[5:]) + " |")
    print("|---|" + "---|" * 5)
    for arm, values in recall.items():
        print(f"| {arm} | " + " | ".join(f"{100 * v:.1f}" for v in values[5:]) + " |")
    if args.budget_check:
        longer = ganaug.evaluate_gain(subset, test, generator=generator, steps=3 * args.steps, out=args.out / "x3", overwrite=True,
                                      **{**common, "ratios": (), "synthetic_only": False, "synthetic_weights": (),
                                         "arms": ()})
        for name, rep in ((f"{args.steps} steps", report), (f"{3 * args.steps} steps", longer)):
            summary = rep.summary()
            ranking = sorted((a for a in summary if "synthetic" not in a),
                             key=lambda a: -summary[a]["balanced_accuracy"]["mean"])
            print(f"ranking at {name}: " + " > ".join(
                f"{a} ({100 * summary[a]['balanced_accuracy']['mean']:.1f})" for a in ranking))
    (args.out / "args.json").write_text(json.dumps({k: str(v) for k, v in vars(args).items()}, indent=2))


if __name__ == "__main__":
    main()
