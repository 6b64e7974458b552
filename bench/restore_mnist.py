"""img2img against simple baselines at restoring held-out MNIST test images: PSNR and SSIM with 95% CIs.

img2img trains on ``--train-images`` MNIST training images (stratified by class, drawn by ``--seed``)
for ``--steps`` steps at batch ``--batch-size`` on the CPU (2 threads); its run folder, with the
saved generator, goes to ``<out>/run``. Then ``--test-images`` MNIST *test* images (never seen in
training, stratified too) are damaged by this script, with fixed seeds, in three ways:

* **inpaint**: one random box covering 0.25 of the image per image, blanked to mid-grey
  (:func:`ganaug.corruptions.box_masks`, :func:`~ganaug.corruptions.apply_mask`);
* **denoise**: Gaussian noise of standard deviation 0.2 of the pixel range
  (:func:`~ganaug.corruptions.add_noise`);
* **enhance**: downscaled by 2 (area) and upscaled back (bilinear) (:func:`~ganaug.corruptions.degrade`).

Each damaged image is restored by img2img (:meth:`ganaug.TrainedGenerator.restore`, which is given the
image's class, as it is in training) and by simple baselines:

* inpaint: the damaged image itself; the mean of the image's unmasked pixels in the box; the per-pixel
  mean of the training images in the box; the per-pixel mean of the training images *of the image's
  class* in the box (it knows the label, like img2img);
* denoise: the noisy image; a 3x3 Gaussian blur (sigma 0.8); a 3x3 median filter;
* enhance: the degraded (bilinear) image; a bicubic upscaling of the downscaled image.

Every method is scored against the clean image on the whole image (:mod:`ganaug.metrics.restoration`:
PSNR with identical images capped at the highest finite value, SSIM with the usual 11x11 window) and
each score is a mean over images with a 95% t interval; img2img minus the best baseline is a paired
difference over the same images. Written to ``<out>``: ``restore_mnist.md`` (the tables),
``restore_mnist.json`` and ``grid_<task>.png`` (a row per example: clean, the damaged input, each other baseline, img2img).

Run: ``python bench/restore_mnist.py ../shared/data/mnist.npz`` (defaults: 10000 images, 1500 steps,
1000 test images); a quick check: ``--train-images 500 --steps 20 --test-images 100``.
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
import torch.nn.functional as F
from torchvision.transforms.functional import gaussian_blur

import ganaug
from ganaug.corruptions import add_noise, apply_mask, box_masks, degrade
from ganaug.gan import to_uint8, to_unit_range
from ganaug.grid import save_class_grid
from ganaug.metrics.restoration import psnr, ssim
from ganaug.metrics.stats import mean_ci, paired_difference

MASK_AREA = 0.25
NOISE_SIGMA = 0.2
ENHANCE_FACTOR = 2
BLUR_SIGMA = 0.8
GRID_EXAMPLES = 8
IMG2IMG = "img2img"


def load_mnist(path: Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """MNIST as uint8 (N, 1, 28, 28) images and int64 labels: train images, train labels, test images, test labels."""
    with np.load(path) as archive:
        return (torch.from_numpy(archive["x_train"])[:, None], torch.from_numpy(archive["y_train"]).long(),
                torch.from_numpy(archive["x_test"])[:, None], torch.from_numpy(archive["y_test"]).long())


def stratified(labels: torch.Tensor, count: int, seed: int) -> torch.Tensor:
    """``count`` indices drawn at random by ``seed``, each class in proportion to its share of ``labels``.

    Each index's key is its rank within its class (in a seeded shuffle) over the class's size; the
    ``count`` smallest keys take about the same fraction of every class.
    """
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    shuffled = labels[order]
    key = torch.empty(len(labels))
    for k in shuffled.unique().tolist():
        rows = torch.nonzero(shuffled == k).flatten()
        key[rows] = (torch.arange(len(rows)) + 0.5) / len(rows)
    return order[torch.sort(key, stable=True).indices[:count]].sort().values


# -- corruptions, made here with fixed seeds -----------------------------------------------------


def inpaint_damage(clean: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One box of area :data:`MASK_AREA` per image, blanked: ``(damaged uint8, masks (N, 1, H, W) float)``."""
    uniforms = torch.rand(len(clean), 3, generator=torch.Generator().manual_seed(seed))
    masks = box_masks(tuple(clean.shape[-2:]), torch.full((len(clean),), MASK_AREA), uniforms)
    return to_uint8(apply_mask(to_unit_range(clean), masks)), masks


def denoise_damage(clean: torch.Tensor, seed: int) -> torch.Tensor:
    """Gaussian noise of standard deviation :data:`NOISE_SIGMA` (of the 0..1 range), clipped and quantized."""
    noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(seed))
    return to_uint8(add_noise(to_unit_range(clean), torch.full((len(clean),), NOISE_SIGMA), noise))


def enhance_damage(clean: torch.Tensor) -> torch.Tensor:
    """Downscaled by :data:`ENHANCE_FACTOR` (area) and back up (bilinear)."""
    return to_uint8(degrade(to_unit_range(clean), ENHANCE_FACTOR))


# -- baselines ------------------------------------------------------------------------------------


def fill(damaged: torch.Tensor, masks: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``damaged`` with the masked pixels taken from ``values`` (broadcast to the images' shape)."""
    values = values.expand_as(damaged).float()
    return torch.where(masks.bool().expand_as(damaged), values.round().clamp(0, 255), damaged.float()).to(torch.uint8)


def mean_fill(damaged: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Masked pixels set to the mean of the image's unmasked pixels (per channel)."""
    known = 1.0 - masks
    means = (damaged.float() * known).sum((2, 3), keepdim=True) / known.sum((2, 3), keepdim=True).clamp(min=1)
    return fill(damaged, masks, means)


def median3(images: torch.Tensor) -> torch.Tensor:
    """3x3 median filter (edges padded by reflection)."""
    count, channels, height, width = images.shape
    padded = F.pad(images.float(), (1, 1, 1, 1), mode="reflect")
    patches = F.unfold(padded, kernel_size=3).view(count, channels, 9, height * width)
    return patches.median(dim=2).values.view(count, channels, height, width).round().to(torch.uint8)


def blur3(images: torch.Tensor) -> torch.Tensor:
    """3x3 Gaussian blur, sigma :data:`BLUR_SIGMA`."""
    blurred = gaussian_blur(images.float(), kernel_size=[3, 3], sigma=[BLUR_SIGMA, BLUR_SIGMA])
    return blurred.round().clamp(0, 255).to(torch.uint8)


def bicubic(clean: torch.Tensor) -> torch.Tensor:
    """The same downscaled image as :func:`enhance_damage`, upscaled bicubically instead."""
    height, width = clean.shape[-2:]
    small = F.interpolate(to_unit_range(clean), size=(height // ENHANCE_FACTOR, width // ENHANCE_FACTOR), mode="area")
    return to_uint8(F.interpolate(small, size=(height, width), mode="bicubic", align_corners=False).clamp(-1, 1))


# -- the benchmark --------------------------------------------------------------------------------


def restorations(generator: ganaug.TrainedGenerator, clean: torch.Tensor, labels: torch.Tensor,
                 train_images: torch.Tensor, train_labels: torch.Tensor,
                 seed: int) -> dict[str, tuple[torch.Tensor, dict[str, torch.Tensor]]]:
    """Per task: the damaged images and each method's restoration (baselines first, img2img last)."""
    pixel_mean = train_images.float().mean(0, keepdim=True)
    class_means = torch.stack([train_images[train_labels == k].float().mean(0) for k in range(10)])
    restore = generator.restore

    damaged, masks = inpaint_damage(clean, seed + 1)
    inpaint = {"damaged (box blank)": damaged, "mean fill (image's unmasked mean)": mean_fill(damaged, masks),
               "training pixel mean": fill(damaged, masks, pixel_mean),
               "training pixel mean of the class": fill(damaged, masks, class_means[labels]),
               IMG2IMG: restore(damaged, labels, task="inpaint", masks=masks, seed=seed)}
    noisy = denoise_damage(clean, seed + 2)
    denoise = {"noisy input": noisy, "Gaussian blur 3x3, sigma 0.8": blur3(noisy), "median 3x3": median3(noisy),
               IMG2IMG: restore(noisy, labels, task="denoise", seed=seed)}
    degraded = enhance_damage(clean)
    enhance = {"degraded input (bilinear)": degraded, "bicubic": bicubic(clean),
               IMG2IMG: restore(degraded, labels, task="enhance", seed=seed)}
    return {"inpaint": (damaged, inpaint), "denoise": (noisy, denoise), "enhance": (degraded, enhance)}


def score(methods: dict[str, torch.Tensor], clean: torch.Tensor) -> dict[str, dict]:
    """Per method: PSNR and SSIM per image, their means with 95% CIs; img2img minus the best baseline, paired."""
    per_image = {name: {"psnr": psnr(images, clean, finite=True).tolist(), "ssim": ssim(images, clean).tolist()}
                 for name, images in methods.items()}
    out: dict[str, dict] = {name: {metric: mean_ci(values).as_dict() for metric, values in scores.items()}
                            for name, scores in per_image.items()}
    for metric in ("psnr", "ssim"):
        best = max((name for name in methods if name != IMG2IMG), key=lambda name: out[name][metric]["mean"])
        difference = paired_difference(per_image[IMG2IMG][metric], per_image[best][metric])
        out[IMG2IMG][f"{metric}_minus_best_baseline"] = {"baseline": best, **difference.as_dict()}
    return out


def interval(values: dict, digits: int) -> str:
    return f"{values['mean']:.{digits}f} [{values['ci_low']:.{digits}f}, {values['ci_high']:.{digits}f}]"


def signed(values: dict, digits: int) -> str:
    return (f"{values['mean']:+.{digits}f} [{values['ci_low']:+.{digits}f}, {values['ci_high']:+.{digits}f}] "
            f"(p={values['p_value']:.2g})")


def markdown(results: dict[str, dict[str, dict]]) -> str:
    """The scores table and the paired differences table."""
    lines = ["| task | method | PSNR (dB) [95% CI] | SSIM [95% CI] |", "|---|---|---|---|"]
    for task, methods in results.items():
        for name, values in methods.items():
            label = f"**{name}**" if name == IMG2IMG else name
            lines.append(f"| {task} | {label} | {interval(values['psnr'], 2)} | {interval(values['ssim'], 3)} |")
    lines += ["", "| task | img2img minus the best baseline, paired per image | PSNR (dB) [95% CI] | SSIM [95% CI] |",
              "|---|---|---|---|"]
    for task, methods in results.items():
        psnr_d, ssim_d = (methods[IMG2IMG][f"{m}_minus_best_baseline"] for m in ("psnr", "ssim"))
        against = psnr_d["baseline"] if psnr_d["baseline"] == ssim_d["baseline"] else \
            f"PSNR: {psnr_d['baseline']}; SSIM: {ssim_d['baseline']}"
        lines.append(f"| {task} | {against} | {signed(psnr_d, 2)} | {signed(ssim_d, 3)} |")
    return "\n".join(lines) + "\n"


def save_grids(clean: torch.Tensor, damage: dict[str, tuple[torch.Tensor, dict[str, torch.Tensor]]],
               folder: Path) -> list[Path]:
    """One PNG per task, a row per example: clean, then each method (the first is the damaged input), img2img last."""
    paths = []
    count = min(GRID_EXAMPLES, len(clean))
    for task, (_, methods) in damage.items():
        columns = [clean[:count], *(images[:count] for images in methods.values())]
        cells = torch.stack(columns, dim=1).flatten(0, 1)  # example 0's columns first
        paths.append(save_class_grid(cells, count, folder / f"grid_{task}.png"))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path, help="mnist.npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--train-images", type=int, default=10000, help="training images img2img learns from")
    parser.add_argument("--steps", type=int, default=1500, help="img2img training steps")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test-images", type=int, default=1000, help="held-out test images to restore")
    parser.add_argument("--out", type=Path, default=Path("bench/out/restore_mnist"))
    parser.add_argument("--seed", type=int, default=0, help="training subset, training, test subset, damage")
    args = parser.parse_args()
    torch.set_num_threads(2)

    x_train, y_train, x_test, y_test = load_mnist(args.mnist)
    train_index = stratified(y_train, args.train_images, args.seed)
    test_index = stratified(y_test, args.test_images, args.seed + 1)
    train_images, train_labels = x_train[train_index], y_train[train_index]
    clean, labels = x_test[test_index], y_test[test_index]
    store = ganaug.load_data((train_images.numpy(), train_labels.numpy()), classes=[str(d) for d in range(10)])

    run = args.out / "run"
    if run.exists():
        shutil.rmtree(run)
    started = time.perf_counter()
    generator = ganaug.fit(store, "img2img", steps=args.steps, batch_size=args.batch_size, device="cpu",
                           progress=False, seed=args.seed, out=run)
    train_seconds = time.perf_counter() - started
    print(f"img2img: {args.steps} steps on {len(store)} images in {train_seconds / 60:.1f} min", flush=True)

    started = time.perf_counter()
    damage = restorations(generator, clean, labels, train_images, train_labels, args.seed)
    results = {task: score(methods, clean) for task, (_, methods) in damage.items()}
    eval_seconds = time.perf_counter() - started
    table = markdown(results)
    print(table)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "restore_mnist.md").write_text(table)
    grids = save_grids(clean, damage, args.out)
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads",
        "torch": torch.__version__, "train_images": len(store), "test_images": len(clean), "steps": args.steps,
        "batch_size": args.batch_size, "seed": args.seed, "train_minutes": round(train_seconds / 60, 2),
        "eval_seconds": round(eval_seconds, 1), "generator": str(run / "generator"),
        "damage": {"mask_area": MASK_AREA, "noise_sigma": NOISE_SIGMA, "enhance_factor": ENHANCE_FACTOR},
        "results": results, "grids": [str(path) for path in grids],
    }
    (args.out / "restore_mnist.json").write_text(json.dumps(report, indent=2))
    print(f"written to {args.out} (evaluation {eval_seconds:.0f} s)")


if __name__ == "__main__":
    main()
