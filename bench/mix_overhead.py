"""Cost of SyntheticMix in a training loop, against a real-only dataset of the same length.

One epoch of a small CNN over ``SyntheticMix(real, generator, ratio)`` (bank already generated)
against the same CNN over a real-only dataset with as many items, in the same run, alternating
``--repeats`` times; prints the median time ratio (target <= 1.10 on CPU) and the bank's
generation rate in images/s (``set_epoch`` regenerating the bank).

Run: ``python bench/mix_overhead.py [--image-size 28] [--ratio 0.5] [--workers 0]``
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

import ganaug


class FloatImages(Dataset):
    """A typical user dataset: float tensors in [0, 1] (as ToTensor gives) and int labels."""

    def __init__(self, store: ganaug.ImageStore, repeat: int = 1) -> None:
        self.store, self.n = store, len(store)
        self.targets = store.labels.repeat(repeat).tolist()

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        return self.store.images[index % self.n].float() / 255.0, self.targets[index]


def small_cnn(channels: int, num_classes: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
                         nn.Flatten(), nn.Linear(512, num_classes))


def epoch_seconds(dataset: Dataset, workers: int, seed: int, num_classes: int, channels: int) -> float:
    torch.manual_seed(seed)
    model = small_cnn(channels, num_classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=workers)
    started = time.perf_counter()
    for images, labels in loader:
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=28)
    parser.add_argument("--ratio", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    store = ganaug.load_data("digits", image_size=args.image_size)
    generator = ganaug.fit(store, "cdcgan", steps=1, progress=False, device="cpu")  # weights do not matter here
    real = FloatImages(store)
    mix = ganaug.SyntheticMix(real, generator, ratio=args.ratio, seed=0)
    same_length = FloatImages(store, repeat=-(-len(mix) // len(store)))
    same_length.targets = same_length.targets[: len(mix)]

    started = time.perf_counter()
    mix.set_epoch(1)
    bank_rate = len(mix.bank) / (time.perf_counter() - started)

    k, c = store.num_classes, store.image_shape[0]
    epoch_seconds(real, args.workers, 0, k, c)  # warm-up
    real_times, mix_times = [], []
    for repeat in range(args.repeats):
        real_times.append(epoch_seconds(same_length, args.workers, repeat, k, c))
        mix_times.append(epoch_seconds(mix, args.workers, repeat, k, c))
    ratio = statistics.median(m / r for m, r in zip(mix_times, real_times))
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}")
    print(f"items per epoch: {len(mix)} ({mix.n_real} real + {mix.n_synthetic} synthetic), "
          f"{args.image_size}x{args.image_size}, batch 64, workers {args.workers}")
    print(f"real-only epoch: median {statistics.median(real_times):.3f} s")
    print(f"SyntheticMix epoch: median {statistics.median(mix_times):.3f} s")
    print(f"time ratio mix / real-only: {ratio:.3f} (target <= 1.10)")
    print(f"bank generation (cdcgan, {args.image_size}x{args.image_size}, CPU): {bank_rate:.0f} images/s")


if __name__ == "__main__":
    main()
