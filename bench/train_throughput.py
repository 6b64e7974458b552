"""Training throughput of ganaug.fit against a tutorial-style loop, same model, same images, same run.

The baseline is the TensorFlow DCGAN tutorial's loop ported to PyTorch line by line: a DataLoader over
a TensorDataset of float images in [-1, 1] (prepared on the host), batch 64, float32, a
discriminator step then a generator step, and the loss read back each step as a tutorial prints it.
It calls the same GAN object (same networks, same losses, the same EMA update for families that keep
one), so the only differences are the ones ganaug's trainer makes.

Also reported: FLOPs per training image (torch.utils.flop_counter, forward and backward of one
tutorial step), achieved FLOP/s, the share of the device's peak (MFU) when the peak is known
(``--peak-tflops`` or a known CUDA device), and the sampling rate of ``TrainedGenerator.sample``.

Variants: ``--fit-batch-sizes 512 auto`` also times fit at other batches (still against the tutorial
at its batch), and ``--compile default reduce-overhead`` times fit under torch.compile modes.

Run: ``python bench/train_throughput.py [--device cpu|cuda] [--steps 100] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

import ganaug
import ganaug.train.config
from ganaug.gan import update_ema

# Dense peak TFLOP/s by device name fragment and dtype (vendor figures, without sparsity).
PEAKS = {"H100": {"bf16": 989.0, "fp32": 67.0}, "H200": {"bf16": 989.0, "fp32": 67.0},
         "A100": {"bf16": 312.0, "fp32": 19.5}}


def mnist_like(n: int, seed: int = 0) -> ganaug.ImageStore:
    """Stand-in 28x28 digits (content does not matter for speed): digits resized to 28x28, repeated."""
    digits = ganaug.load_data("digits", image_size=28)
    index = torch.randint(0, len(digits), (n,), generator=torch.Generator().manual_seed(seed))
    return digits.subset(index)


def tutorial_loop(gan: ganaug.GAN, store: ganaug.ImageStore, steps: int, batch_size: int,
                  device: torch.device) -> float:
    """The tutorial's loop; returns images per second."""
    images = store.images.float() / 127.5 - 1.0
    loader = DataLoader(TensorDataset(images, store.labels), batch_size=batch_size, shuffle=True, drop_last=True)
    opt_g, opt_d = gan.configure_optimizers()
    gan.to(device).train()
    done, started = 0, None
    while done < steps:
        for real, labels in loader:
            if done == 1:  # the first step pays one-off costs in both loops; time from the second
                _sync(device)
                started = time.perf_counter()
            real, labels = real.to(device), labels.to(device)
            fake_labels = gan.fake_labels(labels)
            noise = torch.randn(len(real), gan.config.z_dim, device=device)
            fake = gan.generator(noise, fake_labels)
            disc_loss = gan.discriminator_loss(real, fake.detach(), labels, fake_labels)
            opt_d.zero_grad()
            disc_loss.backward()
            opt_d.step()
            gen_loss = gan.generator_loss(fake, noise, fake_labels)
            opt_g.zero_grad()
            gen_loss.backward()
            opt_g.step()
            if hasattr(gan, "ema_generator"):
                update_ema(gan.ema_generator, gan.generator, gan.config.ema_decay)
            _ = gen_loss.item(), disc_loss.item()  # the tutorial reads its losses back every step
            done += 1
            if done >= steps:
                break
    _sync(device)
    return (steps - 1) * batch_size / (time.perf_counter() - started)


CHEAP_SCORING = {"judge": "pixels", "fidelity_samples": 2, "score_samples": 2, "diversity_samples": 2,
                 "grid_per_class": 1}
"""fit's closing score at its smallest: it is outside the timed intervals, and would otherwise hold the machine."""


def ganaug_fit(model: str, store: ganaug.ImageStore, steps: int, batch_size: int, device: torch.device,
               **overrides) -> float:
    """ganaug.fit on the same data; images per second while training, as fit's own log measures it.

    fit logs its throughput every ``steps // 5`` steps (the log reads the losses back, a sync); the
    first interval holds the first step's one-off costs and is left out, the median of the rest is
    returned. fit's set-up and its closing sample-and-score are outside every interval (and cut to its
    smallest, :data:`CHEAP_SCORING`).
    """
    every = max(1, steps // 5)
    with tempfile.TemporaryDirectory() as out:
        ganaug.fit(store, model, steps=steps, batch_size=batch_size, device=str(device), progress=False, out=out,
                   log_every=every, sample_every=10**9, checkpoint_every=10**9, **CHEAP_SCORING, **overrides)
        records = [json.loads(line) for line in (Path(out) / "log.jsonl").read_text().splitlines()]
    rates = [record["images_per_s"] for record in records if "images_per_s" in record][1:]
    return statistics.median(rates) if rates else float("nan")


def flops_per_image(model: str, store: ganaug.ImageStore, batch_size: int, **overrides) -> float:
    gan = ganaug.create_generator(model, num_classes=store.num_classes, image_shape=store.image_shape, **overrides)
    real = store.images[:batch_size].float() / 127.5 - 1
    labels = store.labels[:batch_size]
    counter = FlopCounterMode(display=False)
    with counter:
        fake = gan.generator(gan.sample_noise(batch_size, device="cpu"), labels)
        gan.discriminator_loss(real, fake.detach(), labels, labels).backward()
        gan.generator_loss(fake, gan.sample_noise(batch_size, device="cpu"), labels).backward()
    return counter.get_total_flops() / batch_size


def sampling_rate(model: str, store: ganaug.ImageStore, device: torch.device, n: int, **overrides) -> float:
    generator = ganaug.fit(store, model, steps=1, device=str(device), progress=False, batch_size=64, **CHEAP_SCORING,
                           **overrides)
    generator.sample(per_class=10, seed=0)  # warm-up
    _sync(device)
    started = time.perf_counter()
    generator.sample(per_class=n // store.num_classes, seed=1, batch_size=4096)
    _sync(device)
    return n / (time.perf_counter() - started)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_tflops(device: torch.device, dtype: str, given: float | None) -> float | None:
    if given:
        return given
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        for fragment, peaks in PEAKS.items():
            if fragment in name:
                return peaks[dtype]
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models", nargs="+", default=["dcgan", "cdcgan"])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64, help="the tutorial loop's batch (and fit's, to compare)")
    parser.add_argument("--fit-batch-sizes", nargs="*", default=[], metavar="N|auto",
                        help="also time fit at these batches ('auto': fit's default on the device)")
    parser.add_argument("--compile", nargs="*", default=[], metavar="MODE",
                        help="also time fit with these torch.compile modes (at the last fit batch)")
    parser.add_argument("--no-tutorial", action="store_true", help="time fit only (ratios are then n/a)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample-images", type=int, default=10000)
    parser.add_argument("--peak-tflops", type=float, default=None, help="device peak, for MFU")
    parser.add_argument("--json", type=str, default=None, help="also write results here")
    args = parser.parse_args()

    device = ganaug.devices.resolve_device(args.device)
    largest = max([args.batch_size, *(int(b) for b in args.fit_batch_sizes if b != "auto"),
                   ganaug.train.config.default_batch_size(device)])
    store = mnist_like(max(4096, largest * 8))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    print(f"device: {name}; torch {torch.__version__}; {torch.get_num_threads()} CPU threads; 28x28, "
          f"{args.steps} steps, median of {args.repeats}", flush=True)
    fit_peak = peak_tflops(device, "bf16" if device.type == "cuda" else "fp32", args.peak_tflops)
    plain_peak = peak_tflops(device, "fp32", args.peak_tflops)
    rows, samples = [], []
    for model in args.models:
        flops = flops_per_image(model, store, 64)
        variants = [("fit", args.batch_size, "off")]
        for batch in args.fit_batch_sizes:
            size = ganaug.train.config.default_batch_size(device) if batch == "auto" else int(batch)
            variants.append((f"fit, batch {'auto = ' if batch == 'auto' else ''}{size}", size, "off"))
        for mode in args.compile:
            variants.append((f"fit, compile={mode}", variants[-1][1], mode))
        timings: dict[str, list[float]] = {label: [] for label, _, _ in variants}
        tutorial: list[float] = []
        for repeat in range(args.repeats):  # alternate, so drifts in machine load hit all alike
            if not args.no_tutorial:
                torch.manual_seed(repeat)
                gan = ganaug.create_generator(model, num_classes=store.num_classes, image_shape=store.image_shape)
                tutorial.append(tutorial_loop(gan, store, args.steps, args.batch_size, device))
            for label, batch, mode in variants:
                try:
                    timings[label].append(ganaug_fit(model, store, args.steps, batch, device, compile=mode))
                except Exception as exc:  # a compile mode that fails here is reported, not fatal
                    print(f"  {model} {label}: failed: {type(exc).__name__}: {str(exc)[:300]}", flush=True)
                    timings[label].append(float("nan"))
        base = statistics.median(tutorial) if tutorial else None
        if base:
            rows.append(_row(model, f"tutorial loop, batch {args.batch_size}", args.batch_size, base, base, flops,
                             plain_peak))
        for label, batch, _ in variants:
            rate = statistics.median(timings[label])
            rows.append(_row(model, label, batch, rate, base, flops, fit_peak))
        samples.append({"model": model, "sample_images_per_s": sampling_rate(model, store, device, args.sample_images)})
        for row in rows[-len(variants) - bool(base):]:
            print(f"  {row}", flush=True)
    print(f"\n| model | loop | batch | img/s | vs tutorial (batch {args.batch_size}) | GFLOP/img | achieved TFLOP/s "
          "| MFU |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "n/a"
        mfu = f"{100 * r['mfu']:.1f}%" if r["mfu"] is not None else "n/a"
        print(f"| {r['model']} | {r['loop']} | {r['batch']} | {r['images_per_s']:.0f} | {ratio} "
              f"| {r['gflops_per_image']:.3f} | {r['achieved_tflops']:.3f} | {mfu} |")
    print("\n| model | TrainedGenerator.sample img/s |\n|---|---|")
    for s in samples:
        print(f"| {s['model']} | {s['sample_images_per_s']:.0f} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"device": name, "rows": rows, "sampling": samples}, handle, indent=2)


def _row(model: str, loop: str, batch: int, rate: float, base: float | None, flops: float,
         peak: float | None) -> dict:
    return {"model": model, "loop": loop, "batch": batch, "images_per_s": rate,
            "ratio": rate / base if base else None, "gflops_per_image": flops / 1e9,
            "achieved_tflops": rate * flops / 1e12, "mfu": rate * flops / 1e12 / peak if peak else None}


if __name__ == "__main__":
    main()
