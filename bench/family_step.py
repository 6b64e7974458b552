"""Seconds per training step of GAN families on colour images, against cdcgan in the same run.

One step is what the trainer does per generator update with d_steps=1: a fake batch, D's loss and
update on the real and fake batches, G's loss and update through a frozen D (channels-last, float32).
The families alternate step by step, so a machine whose load changes affects both alike; the report is
the median seconds per step and the ratio to cdcgan at the same width. cdcgan takes sides up to 64 only.

    python bench/family_step.py --sizes 32 64 128 --width 32 --threads 2   (--device cuda on a GPU)
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch

import ganaug
from ganaug.devices import resolve_device


def build(name: str, size: int, width: int, device: torch.device) -> tuple[ganaug.GAN, tuple]:
    gan = ganaug.create_generator(name, num_classes=8, image_shape=(3, size, size), g_channels=width,
                                  d_channels=width).to(device, memory_format=torch.channels_last)
    return gan, gan.configure_optimizers()


def step(gan: ganaug.GAN, optimizers: tuple, real: torch.Tensor, labels: torch.Tensor) -> float:
    opt_g, opt_d = optimizers
    synchronize(real.device)
    started = time.perf_counter()
    z = gan.sample_noise(len(real), device=real.device)
    fake_labels = gan.fake_labels(labels)
    fake = gan.generator(z, fake_labels)
    loss_d = gan.discriminator_loss(real, fake.detach(), labels, fake_labels)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    gan.discriminator.requires_grad_(False)
    loss_g = gan.generator_loss(fake, z, fake_labels)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    gan.discriminator.requires_grad_(True)
    synchronize(real.device)
    return time.perf_counter() - started


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--families", nargs="+", default=["cdcgan", "biggan"])
    parser.add_argument("--width", type=int, default=32, help="g_channels and d_channels of every family")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per family (after one warm-up)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = resolve_device(args.device)
    results = []
    for size in args.sizes:
        real = (torch.rand(args.batch_size, 3, size, size, device=device) * 2 - 1).contiguous(
            memory_format=torch.channels_last)
        labels = torch.arange(args.batch_size, device=device) % 8
        names = [n for n in args.families if not (n == "cdcgan" and size > 64)]
        built = {name: build(name, size, args.width, device) for name in names}
        times: dict[str, list[float]] = {name: [] for name in names}
        for i in range(args.steps + 1):
            for name, (gan, optimizers) in built.items():
                seconds = step(gan, optimizers, real, labels)
                if i:
                    times[name].append(seconds)
        base = statistics.median(times["cdcgan"]) if "cdcgan" in times else None
        for name in names:
            median = statistics.median(times[name])
            row = {"size": size, "family": name, "width": args.width, "batch": args.batch_size, "device": str(device),
                   "seconds_per_step": round(median, 3),
                   "vs_cdcgan": round(median / base, 2) if base else None}
            results.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps({"machine": platform.processor() or platform.machine(), "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
