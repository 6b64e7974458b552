"""Long-tailed MNIST: does the generator learn the tail? Per-class fidelity and an oracle's verdict.

For each seed, a long-tailed subset of the MNIST training set is drawn (``--per-class`` images in
the largest class, ``--imbalance`` the ratio of the largest to the smallest: 500, 299, ..., 8, 5 at the
defaults) and cdcgan is trained on it once per ``--runs`` entry ``CLASS_BALANCE:TRANSITION_END``
(class_balance 0: batches uniform over images, the old behaviour; 1: uniform over classes;
transition_end > 0: transitional conditioning, unconditional at first). For each run:

* the run's own per-class **fidelity** (ganaug.metrics.fidelity: a class-balanced judge fitted on the
  subset's real images) and its verdict (failing classes);
* an **oracle**: a CNN trained on all 60k MNIST training images (test accuracy printed) says which
  share of 1000 samples per class shows the class asked for; the honest "recognisable" figure;
* per-class diversity; a grid of the four rarest classes, copied to ``--grids``.

Run: ``python bench/longtail_generator.py ../shared/data/mnist.npz --seeds 2 --steps 2000``
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import ganaug
from ganaug.data import ImageStore
from ganaug.gain.subsets import draw_subset
from ganaug.grid import save_class_grid
from ganaug.metrics.diversity import diversity_ratio, per_class_diversity
from ganaug.metrics.fidelity import FidelityJudge

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_mnist import predict, recognised_per_class, train_judge  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path)
    parser.add_argument("--imbalance", type=float, default=100.0)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--width", type=int, default=32, help="g_channels and d_channels of cdcgan")
    parser.add_argument("--per-class", type=int, default=500)
    parser.add_argument("--runs", nargs="+", default=["0:0", "1:0", "1:1000"],
                        help="CLASS_BALANCE:TRANSITION_END per run")
    parser.add_argument("--oracle-epochs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench/out/longtail_generator"))
    parser.add_argument("--grids", type=Path, default=Path("docs/img"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    args.out.mkdir(parents=True, exist_ok=True)
    with np.load(args.mnist) as archive:
        x_train, y_train = torch.from_numpy(archive["x_train"][:, None]), torch.from_numpy(archive["y_train"]).long()
        x_test, y_test = torch.from_numpy(archive["x_test"][:, None]), torch.from_numpy(archive["y_test"]).long()
    started = time.perf_counter()
    oracle = train_judge(x_train, y_train, args.oracle_epochs, seed=0)
    oracle_accuracy = float((predict(oracle, x_test) == y_test).double().mean())
    print(f"oracle CNN: {oracle_accuracy:.1%} on the MNIST test set ({time.perf_counter() - started:.0f} s)", flush=True)
    classes = [str(k) for k in range(10)]
    results = []
    for seed in range(args.seeds):
        index = draw_subset(y_train, 10, per_class=args.per_class, imbalance=args.imbalance, seed=seed)
        store = ImageStore(x_train[index], y_train[index], classes)
        counts = store.class_counts()
        judge = FidelityJudge(store.images, store.labels, classes, seed=seed)
        for spec in args.runs:
            balance, transition = float(spec.split(":")[0]), int(spec.split(":")[1])
            name = f"seed{seed}_balance{balance:g}_transition{transition}"
            t0 = time.perf_counter()
            generator = ganaug.fit(store, "cdcgan", steps=args.steps, batch_size=64, seed=seed, device="cpu",
                                   progress=False, class_balance=balance, g_channels=args.width,
                                   d_channels=args.width, transition_end=transition, out=args.out / name)
            minutes = (time.perf_counter() - t0) / 60
            fake, labels = generator.sample(per_class=1000, seed=123, return_labels=True)
            report = judge.judge(fake, labels)
            oracle_per_class = recognised_per_class(oracle, fake, labels, 10)
            diversity = diversity_ratio(per_class_diversity(fake, labels, 10),
                                        per_class_diversity(store.images, store.labels, 10))
            row = {"seed": seed, "class_balance": balance, "transition_end": transition, "counts": counts, "minutes": round(minutes, 2),
                   "fidelity": report.fidelity, "judge_real_recall": report.real_recall, "failing": report.failing,
                   "oracle": oracle_per_class, "diversity": diversity}
            results.append(row)
            print(json.dumps({k: (np.round(v, 3).tolist() if isinstance(v, list) and v and isinstance(v[0], float)
                                  else v) for k, v in row.items()}), flush=True)
            rare = generator.sample(labels=torch.arange(6, 10).repeat_interleave(12), seed=7)
            save_class_grid(rare, 4, args.grids / f"longtail{args.imbalance:g}_rarest_{name}.png")
    summary = {"machine": platform.processor() or platform.machine(), "torch": torch.__version__,
               "oracle_accuracy": oracle_accuracy, "args": {k: str(v) for k, v in vars(args).items()},
               "runs": results}
    (args.out / "results.json").write_text(json.dumps(summary, indent=2))
    for spec in args.runs:
        balance, transition = float(spec.split(":")[0]), int(spec.split(":")[1])
        rows = [r for r in results if r["class_balance"] == balance and r["transition_end"] == transition]
        mean = lambda key: np.nanmean([r[key] for r in rows], axis=0)  # noqa: E731
        print(f"class_balance={balance:g}, transition_end={transition}: oracle per class "
              f"{np.round(mean('oracle'), 2).tolist()}, fidelity {np.round(mean('fidelity'), 2).tolist()}")


if __name__ == "__main__":
    main()
