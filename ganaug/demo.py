"""``ganaug demo``: the main job on the embedded default data, end to end, in a few minutes on a CPU.

Trains ``cdcgan`` on scikit-learn's bundled 8x8 digits, writes the run (grids, checkpoints, the
generator), and reports what matters for augmentation: does each sample look like its class
(conditional accuracy, judged by a classifier trained on real digits), and is there variety
within each class (diversity relative to the real images)? Then trains ``img2img`` on the same
digits and shows one restoration of held-out digits and a grid of variations beside their sources.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ganaug.data import ImageStore, load_digits
from ganaug.errors import ConfigError
from ganaug.grid import save_class_grid
from ganaug.metrics.diversity import diversity_ratio, per_class_diversity
from ganaug.metrics.restoration import psnr
from ganaug.seeds import Stream, derive_seed
from ganaug.train.trainer import fit

MARKER = ".ganaug-demo"


def _prepare(out: Path) -> None:
    """Reuse the demo's own folder; never wipe a folder the demo did not create."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise ConfigError(f"{out} exists and was not made by `ganaug demo`; pass --out to another folder")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by `ganaug demo`; safe to delete\n")


def run_demo(out: Path, *, steps: int = 1500, device: str = "auto", seed: int = 0, gain_seeds: int = 3,
             gain_steps: int = 300, restore_steps: int = 600, echo: Callable[[str], None] = print) -> dict[str, float]:
    """Train on digits' training split, print quality figures, show img2img's restoration and variations
    (``restore_steps`` of training; 0 skips it), then a small gain table on the test split."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    out = Path(out)
    _prepare(out)
    digits = load_digits()
    train_idx, test_idx = train_test_split(np.arange(len(digits)), test_size=0.25, random_state=seed,
                                           stratify=digits.labels.numpy())
    store, test_store = digits.subset(np.sort(train_idx)), digits.subset(np.sort(test_idx))
    echo(f"data: scikit-learn digits, {len(digits)} images of {digits.image_shape}, {digits.num_classes} classes; "
         f"{len(store)} to train on, {len(test_store)} held out for testing")
    started = time.perf_counter()
    generator = fit(store, "cdcgan", steps=steps, batch_size=64, device=device, seed=seed, out=out,
                    checkpoint_every=max(1, steps // 3), sample_every=max(1, steps // 3))
    seconds = time.perf_counter() - started

    x_train, y_train = store.images.flatten(1).numpy() / 255.0, store.labels.numpy()
    x_test, y_test = test_store.images.flatten(1).numpy() / 255.0, test_store.labels.numpy()
    judge = LogisticRegression(max_iter=2000).fit(x_train, y_train)
    real_accuracy = judge.score(x_test, y_test)
    fake, labels = generator.sample(per_class=100, seed=derive_seed(seed, Stream.DEMO_JUDGE), return_labels=True)
    conditional_accuracy = float(np.mean(judge.predict(fake.flatten(1).numpy() / 255.0) == labels.numpy()))
    ratio = diversity_ratio(per_class_diversity(fake, labels, store.num_classes),
                            per_class_diversity(store.images, store.labels, store.num_classes))
    results = {"seconds": seconds, "conditional_accuracy": conditional_accuracy,
               "judge_accuracy_on_real": float(real_accuracy), "diversity_ratio_mean": float(np.mean(ratio)),
               "diversity_ratio_min": float(np.min(ratio))}
    echo(f"trained {steps} steps in {seconds:.0f} s on {generator.device}")
    echo(f"conditional accuracy: {conditional_accuracy:.1%} of 1000 samples are judged the class asked for "
         f"(the judge, logistic regression, scores {real_accuracy:.1%} on held-out real digits)")
    echo(f"per-class diversity vs real images: mean {results['diversity_ratio_mean']:.2f}, "
         f"lowest class {results['diversity_ratio_min']:.2f} (1.0 = as varied as the real digits, 0 = collapsed)")
    fidelity = generator.fidelity
    if fidelity is not None:
        results["fidelity_min"] = float(np.nanmin(fidelity.fidelity))
        echo("per-class fidelity (share of samples a judge fitted on the real training digits takes for their "
             "class): " + ", ".join(f"{c} {100 * f:.0f}%" for c, f in zip(fidelity.classes, fidelity.fidelity)))
        echo("  failing classes (no synthetic images from them in SyntheticMix): "
             + (", ".join(fidelity.failing) or "none") + "; diversity alone never counts as healthy")
    echo(f"sample grid (a row per class): {out / 'samples' / 'grid_final.png'}")
    echo(f"training log:                  {out / 'log.jsonl'}")
    echo(f"checkpoints:                   {out / 'checkpoints'}")
    echo(f"generator:                     {out / 'generator'}  ->  ganaug.load('{out / 'generator'}')")
    echo(f"sample more:                   ganaug sample {out} --per-class 50 --out samples.npz")

    if restore_steps > 0:
        results.update(_image_to_image(store, test_store, out, steps=restore_steps, device=device, seed=seed,
                                        echo=echo))

    if gain_seeds > 0:
        from ganaug.gain import evaluate_gain

        echo(f"\ndoes it help a classifier? small-cnn, {gain_steps} steps per arm, {gain_seeds} seeds, tested on "
             "the held-out digits:")
        report = evaluate_gain(store, test_store, generator=generator, seeds=gain_seeds, steps=gain_steps,
                               ratios=(0.5,), device=device, seed=seed, out=out / "gain")
        echo(report.to_markdown())
        for line in report.verdict():
            echo(line)
        echo(f"gain report: {out / 'gain' / 'gain.md'} (plots beside it); the full protocol: ganaug gain --help")
        results["gain_seconds"] = report.seconds
    return results


def _image_to_image(store: ImageStore, test_store: ImageStore, out: Path, *, steps: int, device: str, seed: int,
                    echo: Callable[[str], None]) -> dict[str, float]:
    """Train img2img, inpaint one held-out digit per class against a mean fill, and vary training digits."""
    started = time.perf_counter()
    generator = fit(store, "img2img", steps=steps, batch_size=64, device=device, seed=seed, out=out / "img2img",
                    checkpoint_every=steps, sample_every=steps, progress=False)
    echo(f"\nimage-to-image: img2img trained {steps} steps in {time.perf_counter() - started:.0f} s "
         f"(run folder {out / 'img2img'})")
    first = [int(torch.nonzero(test_store.labels == k)[0]) for k in range(test_store.num_classes)]
    clean, labels = test_store.images[first], test_store.labels[first]
    masks = torch.zeros(len(first), 1, *clean.shape[-2:])
    masks[..., 2:6, 1:7] = 1  # the middle of each digit: a 4x6 box of its 8x8 pixels
    restored = generator.restore(clean, labels, masks=masks, seed=seed)
    known = (clean.float() * (1 - masks)).sum(dim=(1, 2, 3)) / (1 - masks).sum(dim=(1, 2, 3))
    mean_fill = torch.where(masks.bool(), known.view(-1, 1, 1, 1), clean.float()).round().to(torch.uint8)
    blanked = torch.where(masks.bool(), torch.zeros_like(clean), clean)
    figure = save_class_grid(torch.stack([clean, blanked, mean_fill, restored], dim=1).flatten(0, 1),
                             len(first), out / "restoration.png")
    ours = float(psnr(restored, clean, finite=True).mean())
    baseline = float(psnr(mean_fill, clean, finite=True).mean())
    echo(f"inpainting a 4x6 box in the middle of one held-out digit per class: PSNR {ours:.1f} dB "
         f"(mean fill: {baseline:.1f} dB); {figure}: per digit, original, masked, mean fill, img2img")
    sources = store.images[[int(torch.nonzero(store.labels == k)[0]) for k in range(store.num_classes)]]
    varied = generator.variations(sources.repeat_interleave(5, 0), torch.arange(store.num_classes).repeat_interleave(5),
                                  seed=seed, strength=0.5)
    cells = torch.cat([sources.unsqueeze(1), varied.view(store.num_classes, 5, *varied.shape[1:])], dim=1)
    grid = save_class_grid(cells.flatten(0, 1), store.num_classes, out / "variations.png")
    echo(f"variations (a masked box redrawn, strength 0.5): {grid}: per class, the source then 5 variations")
    echo(f"restore your own images: ganaug restore {out / 'img2img'} INPUT --task inpaint --masks random --out OUT")
    return {"inpaint_psnr": ours, "inpaint_psnr_mean_fill": baseline}
