"""What a run's scoring (judge fit, periodic and final samples, fidelity, quality, grids) costs against its training.

For each image size and images-per-class count, a short ``fit`` (``--steps`` steps, one scoring half-way,
the final one) runs on that many real images per class of the data, with the family ``model="auto"``
picks and every other option at its default. Its ``log.jsonl`` gives the judge's fit
(``judge_seconds``), one periodic and the final scoring (``score_seconds``), and the seconds per step
(from ``images_per_s``, first step left out). They are projected onto a default run (``TrainConfig``:
``steps``, ``sample_every``) measured in the same process:

    share = (judge + periodic * (steps / sample_every - 1) + final) / (steps * step + the same)

The projection, not a timed test: the issue's target is a share of at most 5% at every size.

    OMP_NUM_THREADS=1 python bench/scoring_cost.py ../shared/data/blood-cells/train --sizes 32 64 128 \\
        --per-class 20 500 --threads 1
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
from pathlib import Path

import torch

import ganaug
from ganaug.data import ImageStore
from ganaug.train.config import TrainConfig


def subset(store: ImageStore, per_class: int, seed: int = 0) -> ImageStore:
    generator = torch.Generator().manual_seed(seed)
    keep = []
    for k in range(store.num_classes):
        index = torch.nonzero(store.labels == k).flatten()
        keep.append(index[torch.randperm(len(index), generator=generator)[:per_class]])
    index = torch.cat(keep)
    return ImageStore(store.images[index], store.labels[index], list(store.classes))


def measure(store: ImageStore, steps: int, batch_size: int | None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        ganaug.fit(store, steps=steps, sample_every=max(1, steps // 2), log_every=1, progress=False, out=out,
                   device="cpu", batch_size=batch_size, checkpoint_every=10 ** 9)
        records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
        config = json.loads((out / "config.json").read_text())
    scores = [r for r in records if "score_seconds" in r]
    losses = [r for r in records if "images_per_s" in r][1:]
    batch = config["train"]["batch_size"]
    step = statistics.median(batch / r["images_per_s"] for r in losses)
    return {"family": config["train"]["model"], "batch": batch, "step_seconds": step,
            "judge_seconds": scores[0]["judge_seconds"], "periodic_seconds": scores[0]["score_seconds"],
            "final_seconds": scores[-1]["score_seconds"]}


def project(result: dict, defaults: TrainConfig) -> dict:
    periodic_count = max(0, -(-defaults.steps // defaults.sample_every) - 1)
    scoring = result["judge_seconds"] + periodic_count * result["periodic_seconds"] + result["final_seconds"]
    training = defaults.steps * result["step_seconds"]
    return {"default_steps": defaults.steps, "periodic_scorings": periodic_count, "scoring_seconds": scoring,
            "training_seconds": training, "share": scoring / (scoring + training)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="anything load_data takes (a folder in ImageFolder layout, an .npz)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--per-class", type=int, nargs="+", default=[20, 500])
    parser.add_argument("--steps", type=int, default=4, help="steps of each short fit (at least 3)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: fit's default for the device")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    defaults = TrainConfig()
    rows = []
    print(f"# {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"projected onto steps={defaults.steps}, sample_every={defaults.sample_every}")
    print("| size | images per class | family | batch | s/step | judge fit s | periodic scoring s | final scoring s "
          "| scoring share of a default run |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        full = ganaug.load_data(args.data, image_size=size)
        for per_class in args.per_class:
            result = measure(subset(full, per_class), max(3, args.steps), args.batch_size)
            result.update(size=size, per_class=per_class, **project(result, defaults))
            rows.append(result)
            print(f"| {size} | {per_class} | {result['family']} | {result['batch']} | {result['step_seconds']:.2f} "
                  f"| {result['judge_seconds']:.0f} | {result['periodic_seconds']:.1f} | {result['final_seconds']:.1f} "
                  f"| {result['share']:.1%} |", flush=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
