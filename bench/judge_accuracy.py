"""How well does the fidelity judge recognise *real* images it was not fitted on? No generator involved.

The rare-classes issue asks for the rarest class's samples to be judged their class more than 90% of
the time (``ganaug.metrics.fidelity``). This measures the judge itself on each seed's subset of the
rare-classes protocol: fitted on the subset's real images, as in a run, it classifies the 10k MNIST
test images, which no run sees. Per class it prints the judge's cross-validated recall on the subset
(the gate's yardstick) beside its recall on the held-out test images, and the same for a judge fitted
on the subset plus its one-pixel shifts (a cheap variant, to see whether a stronger judge is within
reach). Seconds per seed on one core.

Run: ``python bench/judge_accuracy.py ../shared/data/mnist.npz --settings longtail100 lowdata10 --seeds 5``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import ganaug
from ganaug.gain.config import GainConfig
from ganaug.gain.protocol import seed_subset
from ganaug.metrics.fidelity import FidelityJudge

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rare_classes import SETTINGS  # noqa: E402


def with_shifts(images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The images and their 8 one-pixel shifts (zero padding), labels repeated."""
    height, width = images.shape[-2:]
    padded = F.pad(images, (1, 1, 1, 1))
    copies = [padded[..., 1 + dy:1 + dy + height, 1 + dx:1 + dx + width] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return torch.cat(copies), labels.repeat(len(copies))


def held_out_recall(judge: FidelityJudge, images: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """Per class, the share of held-out real images that the judge takes for their own class."""
    predicted = judge.predict(images)
    return [float((predicted[labels == k] == k).double().mean()) for k in range(len(judge.classes))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path, help="mnist.npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=sorted(SETTINGS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with np.load(args.mnist) as archive:
        x_train, y_train = archive["x_train"], archive["y_train"]
        x_test, y_test = torch.from_numpy(archive["x_test"][:, None]), torch.from_numpy(archive["y_test"]).long()
    train = ganaug.load_data((x_train, y_train))
    for setting in args.settings:
        rows = {"cross-validated on the subset": [], "held-out test images": [], "held-out, judge fitted with shifts": []}
        for seed in range(args.seeds):
            config = GainConfig(seed=seed, **SETTINGS[setting])
            store = train.subset(seed_subset(train, config, seed))
            judge = FidelityJudge(store.images, store.labels, store.classes, seed=seed)
            rows["cross-validated on the subset"].append(judge.real_recall)
            rows["held-out test images"].append(held_out_recall(judge, x_test, y_test))
            shifted = FidelityJudge(*with_shifts(store.images, store.labels), store.classes, seed=seed,
                                    max_per_class=9 * 500)
            rows["held-out, judge fitted with shifts"].append(held_out_recall(shifted, x_test, y_test))
        print(f"## {setting}: judge recall (%) per class, mean over {args.seeds} seeds; counts of seed 0: "
              f"{train.subset(seed_subset(train, GainConfig(seed=0, **SETTINGS[setting]), 0)).class_counts()}")
        print("| recall on | " + " | ".join(train.classes) + " | mean | last class (the rarest of a long tail), per seed |")
        print("|---|" + "---|" * (len(train.classes) + 2))
        for name, per_seed in rows.items():
            table = np.array(per_seed) * 100
            per_class = table.mean(0)
            print(f"| {name} | " + " | ".join(f"{v:.0f}" for v in per_class) + f" | {per_class.mean():.1f} | "
                  + ", ".join(f"{v:.0f}" for v in table[:, -1]) + " |")
        print(json.dumps({"setting": setting, **{k: np.round(v, 4).tolist() for k, v in rows.items()}}), flush=True)


if __name__ == "__main__":
    main()
