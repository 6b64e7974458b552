"""Scaling of DDP training from 1 to N processes on this machine (images/s per process).

Runs ``ganaug train`` once as a single process (using all ``--threads``) and once under torchrun with
N processes (threads split between them), same model and per-process batch, and reads the
throughput from each run's log. Efficiency = (N-process images/s / N) / (1-process images/s).

Run: ``python bench/ddp_scaling.py --nproc 2 --threads 2 [--model cdcgan] [--steps 150]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import ganaug


def throughput(log: Path) -> float:
    rates = [json.loads(line)["images_per_s"] for line in log.read_text().splitlines() if "images_per_s" in line]
    return statistics.median(rates[1:] or rates)  # the first interval includes warm-up


def run(command: list[str], threads: int) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONWARNINGS": "ignore"}
    subprocess.run(command, check=True, env=env, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads in all")
    parser.add_argument("--model", default="cdcgan")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=64, help="per process")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = ganaug.load_data("digits", image_size=28)
        data = Path(tmp) / "digits28.npz"
        np.savez(data, x=store.images[:, 0].numpy(), y=store.labels.numpy())
        common = ["train", str(data), "--model", args.model, "--steps", str(args.steps), "--batch-size",
                  str(args.batch_size), "--device", "cpu", "--checkpoint-every", "100000", "--sample-every", "100000"]
        run([sys.executable, "-m", "ganaug", *common, "--out", f"{tmp}/one"], args.threads)
        run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={args.nproc}",
             "-m", "ganaug", *common, "--out", f"{tmp}/many"], max(1, args.threads // args.nproc))
        one, many = throughput(Path(tmp) / "one" / "log.jsonl"), throughput(Path(tmp) / "many" / "log.jsonl")
    print(f"{args.model}, 28x28, per-process batch {args.batch_size}, {args.threads} CPU threads in all")
    print(f"1 process:  {one:.0f} images/s")
    print(f"{args.nproc} processes: {many:.0f} images/s in all, {many / args.nproc:.0f} per process")
    print(f"scaling efficiency: {many / args.nproc / one:.2f} (speed-up {many / one:.2f}x)")


if __name__ == "__main__":
    main()
