"""Does a larger batch with a square-root-scaled learning rate train as well per image? (real MNIST)

On a GPU a batch of 64 leaves the device idle, so ``ganaug.fit`` defaults to a larger batch there
and scales Adam's learning rates by sqrt(batch / 64). This checks that rule on the CPU, where the
same arithmetic runs slowly but identically: each arm sees the same number of real images, and a
CNN trained on real MNIST judges the samples (conditional accuracy) next to the per-class
diversity ratio. Arms: batch 64 at the base rate (the reference), the large batch at the base rate,
the large batch at the sqrt-scaled rate, and batch 64 for as many *steps* as the large-batch arms
(what the larger batch buys at equal steps). ``--equal-steps N`` runs instead batch 64 and the large
batch for N steps each at the base rate: what the default GPU batch gives a user who keeps ``steps``.

Run: ``python bench/batch_scaling.py ../shared/data/mnist.npz --model dcgan --images 96000 --large 512``
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import ganaug
from ganaug.metrics.diversity import diversity_ratio, per_class_diversity
from ganaug.plugins.registry import default_registry

sys.path.insert(0, str(Path(__file__).parent))
from quality_mnist import predict, train_judge  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path)
    parser.add_argument("--model", default="dcgan")
    parser.add_argument("--images", type=int, default=96000, help="real images each arm sees")
    parser.add_argument("--large", type=int, default=512, help="the large batch")
    parser.add_argument("--equal-steps", type=int, default=0,
                        help="instead: batch 64 and the large batch for this many steps each, base lr")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("overrides", nargs="*", help="model options as key=value (e.g. width=32)")
    args = parser.parse_intermixed_args()
    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.overrides)}

    with np.load(args.mnist) as archive:
        x_train, y_train = torch.from_numpy(archive["x_train"])[:, None], torch.from_numpy(archive["y_train"]).long()
        x_test, y_test = torch.from_numpy(archive["x_test"])[:, None], torch.from_numpy(archive["y_test"]).long()
    judge = train_judge(x_train, y_train, epochs=1, seed=args.seed)
    print(f"judge CNN: {float((predict(judge, x_test) == y_test).float().mean()):.2%} on real test images", flush=True)
    store = ganaug.ImageStore(x_train, y_train, [str(d) for d in range(10)])
    real_diversity = per_class_diversity(x_train, y_train, 10)

    entry = default_registry().generator(args.model)
    base = entry.make_config(**overrides)
    factor = math.sqrt(args.large / 64)
    large_steps = args.images // args.large
    arms = [
        ("batch 64, base lr", 64, 1.0, args.images // 64),
        (f"batch {args.large}, base lr", args.large, 1.0, large_steps),
        (f"batch {args.large}, lr x{factor:.2f} (sqrt)", args.large, factor, large_steps),
        (f"batch 64, base lr, {large_steps} steps (equal steps)", 64, 1.0, large_steps),
    ]
    if args.equal_steps:
        arms = [(f"batch 64, base lr, {args.equal_steps} steps", 64, 1.0, args.equal_steps),
                (f"batch {args.large}, base lr, {args.equal_steps} steps", args.large, 1.0, args.equal_steps)]
    rows = []
    for name, batch, scale, steps in arms:
        started = time.perf_counter()
        generator = ganaug.fit(store, args.model, steps=steps, batch_size=batch, seed=args.seed, progress=False,
                               sample_every=10**9, checkpoint_every=10**9, lr_g=base.lr_g * scale,
                               lr_d=base.lr_d * scale, **overrides)
        seconds = time.perf_counter() - started
        fake, labels = generator.sample(per_class=500, seed=args.seed + 1, return_labels=True)
        accuracy = float((predict(judge, fake) == labels).float().mean())
        ratio = diversity_ratio(per_class_diversity(fake, labels, 10), real_diversity)
        row = {"arm": name, "batch": batch, "lr_scale": round(scale, 3), "steps": steps, "images": steps * batch,
               "conditional_accuracy": accuracy, "diversity_ratio_mean": float(np.mean(ratio)),
               "diversity_ratio_min": float(np.min(ratio)), "minutes": round(seconds / 60, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    machine = platform.processor() or platform.machine()
    print(f"\n{args.model} {overrides or ''} on MNIST, {machine}, torch {torch.__version__}")
    print("| arm | steps | images | conditional accuracy | diversity (mean / min) | minutes |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['arm']} | {r['steps']} | {r['images']} | {r['conditional_accuracy']:.1%} | "
              f"{r['diversity_ratio_mean']:.2f} / {r['diversity_ratio_min']:.2f} | {r['minutes']} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
