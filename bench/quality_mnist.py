"""cdcgan on real MNIST on the CPU within a time budget: conditional accuracy, diversity, a grid.

A small CNN is trained on the real MNIST training set (the judge; its test accuracy is printed).
cdcgan trains in chunks of ``--chunk`` steps, resumed exactly from its checkpoints, until
``--minutes`` are spent. Then 1000 samples per class are generated and the judge says which share
shows the class asked for (target: >= 90%). The final grid is copied to ``--grid``.

Run: ``python bench/quality_mnist.py ../shared/data/mnist.npz --minutes 10``
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import ganaug
from ganaug.metrics.diversity import diversity_ratio, per_class_diversity


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def train_judge(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = small_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), 128):
            index = order[start:start + 128]
            loss = nn.functional.cross_entropy(model(x[index].float() / 255.0), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return torch.cat([model(x[i:i + 1000].float() / 255.0).argmax(1) for i in range(0, len(x), 1000)])


def recognised_per_class(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> list[float]:
    """Per class, the share of ``images`` of that class (by ``labels``) that ``model`` predicts as that class."""
    hits = predict(model, images) == labels
    return [float(hits[labels == k].double().mean()) for k in range(num_classes)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path, help="mnist.npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--minutes", type=float, default=10.0, help="GAN training budget")
    parser.add_argument("--chunk", type=int, default=500, help="steps between budget checks")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path("bench/out/mnist_cdcgan"))
    parser.add_argument("--grid", type=Path, default=Path("docs/img/mnist_cdcgan_grid.png"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with np.load(args.mnist) as archive:
        x_train, y_train = torch.from_numpy(archive["x_train"])[:, None], torch.from_numpy(archive["y_train"]).long()
        x_test, y_test = torch.from_numpy(archive["x_test"])[:, None], torch.from_numpy(archive["y_test"]).long()
    started = time.perf_counter()
    judge = train_judge(x_train, y_train, epochs=1, seed=args.seed)
    judge_accuracy = float((predict(judge, x_test) == y_test).float().mean())
    print(f"judge CNN: {judge_accuracy:.2%} on the real test set ({time.perf_counter() - started:.0f} s)", flush=True)

    store = ganaug.ImageStore(x_train, y_train, [str(d) for d in range(10)])
    if args.out.exists():
        shutil.rmtree(args.out)
    steps, started, budget = 0, time.perf_counter(), args.minutes * 60
    while time.perf_counter() - started < budget:
        steps += args.chunk
        generator = ganaug.fit(store, "cdcgan", steps=steps, batch_size=args.batch_size, seed=args.seed,
                               out=args.out, resume=steps > args.chunk, checkpoint_every=args.chunk,
                               sample_every=args.chunk, progress=False)
        elapsed = time.perf_counter() - started
        print(f"  {steps} steps, {elapsed / 60:.1f} min, {steps * args.batch_size / elapsed:.0f} images/s", flush=True)
    gan_seconds = time.perf_counter() - started

    fake, labels = generator.sample(per_class=1000, seed=args.seed + 1, return_labels=True)
    per_class = recognised_per_class(judge, fake, labels, 10)
    conditional = sum(per_class) / len(per_class)  # the same share: 1000 samples of every class
    ratio = diversity_ratio(per_class_diversity(fake, labels, 10), per_class_diversity(x_train, y_train, 10))
    args.grid.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(args.out / "samples" / "grid_final.png", args.grid)
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads",
        "torch": torch.__version__, "steps": steps, "batch_size": args.batch_size,
        "gan_minutes": round(gan_seconds / 60, 1), "images_per_s": round(steps * args.batch_size / gan_seconds),
        "judge_test_accuracy": judge_accuracy, "conditional_accuracy": conditional,
        "conditional_accuracy_per_class": per_class,
        "diversity_ratio_mean": float(np.mean(ratio)), "diversity_ratio_min": float(np.min(ratio)),
    }
    print(json.dumps(result, indent=2))
    (args.out / "quality.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
