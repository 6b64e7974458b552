"""The fidelity judge on real held-out images: pixel judge against CNN judge, next to a reference classifier.

No generator is involved. For each data set (an .npz with x_train y_train x_test y_test), setting and
seed, the judges are fitted on the setting's training subset as in a run (``FidelityJudge``, at most
``max_per_class`` images per class) and classify the held-out test images, which no judge sees. Per
class it prints:

* the held-out recall of the ``pixels`` judge (PCA + LDA) and of the ``cnn`` judge;
* the ``cnn`` judge's own yardstick (cross-validated on the subset, then shrunk as the gate uses it);
* the held-out recall of a reference classifier trained on the same real images the judge kept (the
  judge's network, twice as wide, trained ``--reference-epochs`` passes with the same augmentation and
  class-balanced batches);
* whether the gate would declare a class of *real* held-out images failing (``FidelityReport.passes``
  at ``min_fidelity`` 0.8 against the judge's yardstick, less its error margin).

Settings: ``all`` (every training image, capped by ``max_per_class``), ``lowdata20`` (20 per class),
``longtail100`` (500 down to 5, imbalance 100). Run under ``nice`` with one thread:

    OMP_NUM_THREADS=1 nice python bench/judge_colour.py bench/out/blood-cells32.npz bench/out/blood-cells64.npz \\
        ../shared/data/mnist.npz --seeds 3

One JSON line per (data set, setting) follows each table, for the research log (docs/research-log.md).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from ganaug.gain.subsets import draw_subset
from ganaug.metrics.fidelity import FidelityJudge
from ganaug.metrics.judge_net import CnnJudgeConfig, features_and_logits, train_judge_net

SETTINGS = {"all": {"per_class": None, "imbalance": None}, "lowdata20": {"per_class": 20, "imbalance": None},
            "longtail100": {"per_class": 500, "imbalance": 100.0}}


def load(path: Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, list[str]]:
    with np.load(path) as archive:
        arrays = [torch.from_numpy(archive[k]) for k in ("x_train", "y_train", "x_test", "y_test")]
        classes = [str(c) for c in archive["classes"]] if "classes" in archive else None
    x_train, y_train, x_test, y_test = arrays
    if x_train.ndim == 3:
        x_train, x_test = x_train[:, None], x_test[:, None]
    classes = classes or [str(k) for k in range(int(y_train.max()) + 1)]
    return x_train, y_train.long(), x_test, y_test.long(), classes


def recall(predicted: torch.Tensor, labels: torch.Tensor, num_classes: int) -> list[float]:
    return [float((predicted[labels == k] == k).double().mean()) for k in range(num_classes)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="+")
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=["all", "lowdata20", "longtail100"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reference-epochs", type=float, default=40.0)
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--no-pixels", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for path in args.data:
        x_train, y_train, x_test, y_test, classes = load(path)
        k = len(classes)
        for setting in args.settings:
            rows: dict[str, list[list[float]]] = {name: [] for name in (
                "pixels judge, held-out", "cnn judge, held-out", "cnn yardstick (cross-validated)",
                "cnn yardstick (shrunk)", "reference classifier, held-out")}
            failing, seconds, sizes = [], [], []
            for seed in range(args.seeds):
                index = draw_subset(y_train, k, seed=seed, **SETTINGS[setting])
                images, labels = x_train[index], y_train[index]
                if not args.no_pixels:
                    pixels = FidelityJudge(images, labels, classes, kind="pixels", seed=seed)
                    rows["pixels judge, held-out"].append(recall(pixels.predict(x_test), y_test, k))
                started = time.perf_counter()
                judge = FidelityJudge(images, labels, classes, kind="cnn", device="cpu", seed=seed)
                seconds.append(time.perf_counter() - started)
                sizes.append(torch.bincount(judge.labels, minlength=k).tolist())
                rows["cnn judge, held-out"].append(recall(judge.predict(x_test), y_test, k))
                rows["cnn yardstick (cross-validated)"].append(judge.cross_validated_recall)
                rows["cnn yardstick (shrunk)"].append(judge.real_recall)
                failing.append(judge.judge(x_test, y_test).failing)
                if not args.no_reference:
                    config = CnnJudgeConfig(width=32, epochs=args.reference_epochs, min_steps=600, max_steps=2500)
                    net = train_judge_net(judge.images, judge.labels, k, config, seed=seed + 1000,
                                          device=torch.device("cpu"))
                    rows["reference classifier, held-out"].append(
                        recall(features_and_logits(net, x_test)[1].argmax(1), y_test, k))
                print(f"# {path.name} {setting} seed {seed}: cnn judge fitted in {seconds[-1]:.0f} s; "
                      f"real held-out classes failing: {failing[-1] or 'none'}", flush=True)
            shape = "x".join(map(str, x_train.shape[1:]))
            print(f"\n## {path.name} ({shape}), {setting}: recall (%) per class, mean over {args.seeds} seeds; "
                  f"images per class (seed 0): {sizes[0]}; cnn judge fit {np.mean(seconds):.0f} s on average")
            print("| recall on held-out real images | " + " | ".join(classes) + " | mean |")
            print("|---|" + "---|" * (k + 1))
            for name, per_seed in rows.items():
                if per_seed:
                    per_class = np.nanmean(np.array(per_seed, dtype=float), axis=0) * 100
                    print(f"| {name} | " + " | ".join(f"{v:.0f}" for v in per_class) + f" | {per_class.mean():.1f} |")
            if rows["reference classifier, held-out"]:
                gap = np.array(rows["reference classifier, held-out"]) - np.array(rows["cnn judge, held-out"])
                print(f"largest per-class gap reference - cnn judge (points, per seed): "
                      + ", ".join(f"{100 * g:.0f}" for g in gap.max(1)))
            print(f"real held-out classes declared failing: {failing}")
            print(json.dumps({"data": path.name, "setting": setting, "sizes": sizes, "seconds": seconds,
                              "failing": failing, **{n: np.round(v, 4).tolist() for n, v in rows.items()}}), flush=True)


if __name__ == "__main__":
    main()
