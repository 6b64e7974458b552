"""How well does the fidelity judge recognise *real* images it was not fitted on? No generator involved.

The rare-classes issue asks for the rarest class's samples to be judged their class more than 90% of
the time (``ganaug.metrics.fidelity``). This measures the judge itself on each seed's subset of the
rare-classes protocol: fitted on the subset's real images, as in a run, it classifies the 10k MNIST
test images, which no run sees. Per class it prints the judge's raw cross-validated recall on the
subset and the same shrunk toward the mean over classes (the gate's yardstick), beside its recall on
the held-out test images, and the held-out recall of a judge fitted on the subset plus its one-pixel
shifts (a cheap variant, to see whether a stronger judge is within reach). Last, the mean absolute
error of each yardstick against the held-out recall, by class size. Seconds per seed on one core.

Run: ``python bench/judge_accuracy.py ../shared/data/mnist.npz --settings longtail100 lowdata10 --seeds 5``

``--reports bench/results/rare_classes/*/seed*/gain.json`` also recomputes, from the fidelity and
yardstick that each report holds, which gate decisions the yardstick's error margin
(``FidelityReport.margin``) would change in those runs.
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
from ganaug.gain.subsets import draw_subset
from ganaug.metrics.fidelity import FidelityJudge, FidelityReport

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


def recheck_reports(paths: list[Path], labels: np.ndarray, prior_images: float, margin: float = 2.0) -> None:
    """Print the gate decisions of saved rare-classes reports that the yardstick's error margin would change.

    Each report's fidelity and yardstick are kept as recorded; the decisions are the gate's own
    (``FidelityReport.passes``) without the margin, as recorded, and with ``margin`` standard errors of
    a yardstick resting on the class's real images plus ``prior_images``.
    """
    judged = flipped = 0
    label_tensor = torch.as_tensor(labels).long()
    for path in paths:
        report = json.loads(path.read_text())
        config = report["config"]
        for record in report.get("fidelity", []):
            classes = record["classes"]
            subset = draw_subset(label_tensor, len(classes), per_class=config.get("per_class"),
                                 imbalance=config.get("imbalance"), seed=record["seed"])
            counts = np.bincount(labels[subset.numpy()], minlength=len(classes))
            threshold = record.get("min_fidelity", 0.8)
            plain = FidelityReport(classes, record["fidelity"], record["real_recall"], threshold)
            margined = FidelityReport(classes, record["fidelity"], record["real_recall"], threshold,
                                      yardstick_images=[float(n + prior_images) for n in counts], margin=margin)
            for k in range(len(classes)):
                if plain.passes(k) is None:
                    continue
                judged += 1
                if plain.passes(k) != margined.passes(k):
                    flipped += 1
                    print(f"{path} seed {record['seed']} class {k} ({counts[k]} images): fails without the margin, "
                          f"passes with it (fidelity {plain.fidelity[k]:.2f}, line {plain.fail_line[k]:.2f} -> "
                          f"{margined.fail_line[k]:.2f})")
    print(f"{judged} judged classes in {len(paths)} reports: {flipped} would pass with a margin of {margin} "
          "standard errors that fail without it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path, help="mnist.npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--settings", nargs="*", choices=sorted(SETTINGS), default=sorted(SETTINGS),
                        help="the settings to measure the judge on (none: only --reports)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--reports", type=Path, nargs="*", default=[],
                        help="rare-classes gain.json reports whose gate decisions to recheck with the margin")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with np.load(args.mnist) as archive:
        x_train, y_train = archive["x_train"], archive["y_train"]
        x_test, y_test = torch.from_numpy(archive["x_test"][:, None]), torch.from_numpy(archive["y_test"]).long()
    train = ganaug.load_data((x_train, y_train))
    if args.reports:
        recheck_reports(args.reports, y_train.astype(np.int64), prior_images=10.0)
    for setting in args.settings:
        rows = {"cross-validated on the subset": [], "the same, shrunk (the yardstick)": [], "held-out test images": [],
                "held-out, judge fitted with shifts": []}
        sizes = []
        for seed in range(args.seeds):
            config = GainConfig(seed=seed, **SETTINGS[setting])
            store = train.subset(seed_subset(train, config, seed))
            judge = FidelityJudge(store.images, store.labels, store.classes, seed=seed)
            rows["cross-validated on the subset"].append(judge.cross_validated_recall)
            rows["the same, shrunk (the yardstick)"].append(judge.real_recall)
            sizes.append(store.class_counts())
            rows["held-out test images"].append(held_out_recall(judge, x_test, y_test))
            shifted = FidelityJudge(*with_shifts(store.images, store.labels), store.classes, seed=seed,
                                    max_per_class=9 * 500)
            rows["held-out, judge fitted with shifts"].append(held_out_recall(shifted, x_test, y_test))
        print(f"## {setting}: judge recall (%) per class, mean over {args.seeds} seeds; counts of seed 0: {sizes[0]}")
        print("| recall on | " + " | ".join(train.classes) + " | mean | last class (the rarest of a long tail), per seed |")
        print("|---|" + "---|" * (len(train.classes) + 2))
        for name, per_seed in rows.items():
            table = np.array(per_seed) * 100
            per_class = table.mean(0)
            print(f"| {name} | " + " | ".join(f"{v:.0f}" for v in per_class) + f" | {per_class.mean():.1f} | "
                  + ", ".join(f"{v:.0f}" for v in table[:, -1]) + " |")
        held_out, size = np.array(rows["held-out test images"]), np.array(sizes)
        buckets = {f"{low}-{high} images": (size >= low) & (size <= high)
                   for low, high in ((2, 8), (9, 40), (41, 100), (101, 500))}
        for name in ("cross-validated on the subset", "the same, shrunk (the yardstick)"):
            error = np.abs(np.array(rows[name]) - held_out)
            by_size = {label: float(error[mask].mean()) for label, mask in buckets.items() if mask.any()}
            print(f"mean |{name} - held-out|: " + ", ".join(f"{k} {v:.3f}" for k, v in by_size.items()))
        print(json.dumps({"setting": setting, "sizes": sizes, **{k: np.round(v, 4).tolist() for k, v in rows.items()}}), flush=True)


if __name__ == "__main__":
    main()
