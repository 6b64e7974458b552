"""How to train: :class:`TrainConfig` and the defaults that depend on the device."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from ganaug.errors import ConfigError


@dataclass
class TrainConfig:
    """How to train; the model's own hyper-parameters live in its family's config."""

    model: str = "cdcgan"
    """Registered generator family (see ``ganaug.list_generators()``)."""
    steps: int = 2000
    """Generator updates to run in total (a resumed run continues up to this number)."""
    batch_size: int | None = None
    """Real images per discriminator update (per process). None picks by device: 64 on the CPU, 512
    on CUDA (see :func:`default_batch_size`); the learning rates stay the family's either way."""
    device: str = "auto"
    """'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N'."""
    seed: int = 0
    """Seeds weights, batch order, noise and augmentation."""
    out: str | None = None
    """Run folder for logs, grids and checkpoints; None keeps everything in memory."""
    resume: bool = False
    """Continue from the newest valid checkpoint in ``out`` (start fresh if there is none)."""
    checkpoint_every: int = 500
    """Steps between checkpoints (and the most a crash can cost)."""
    sample_every: int = 500
    """Steps between sample grids and diversity scores."""
    log_every: int = 50
    """Steps between log lines (losses are read back from the device this often)."""
    keep_checkpoints: int = 3
    """How many of the newest checkpoints to keep."""
    grid_per_class: int = 8
    """Images per class (columns) in the sample grid."""
    diversity_samples: int = 32
    """Generated images per class for the diversity score."""
    image_size: int | None = None
    """Resize every image to this square size when loading the data."""
    channels: int | None = None
    """Convert every image to 1 or 3 channels when loading the data."""
    skip_bad: bool = False
    """Skip unreadable image files (with a warning) instead of stopping."""
    max_rollbacks: int = 3
    """On a NaN/inf loss or weight, roll back to the last good state this many times, then stop."""
    rollback_lr_factor: float = 0.5
    """Multiply both learning rates by this at each rollback."""
    collapse_warning: float = 0.35
    """Warn when a class's sample diversity falls below this fraction of its real images' diversity."""
    collapse_warning_after: int = 200
    """No collapse warning before this step: an untrained generator's variety means nothing yet."""
    fast_path: bool = True
    """On CUDA: bf16 autocast, TF32, fused Adam and cuDNN autotuning. False trains in plain float32
    (to check the fast path against). On the CPU both are the same float32 path."""
    channels_last: bool = True
    """Keep images and convolution weights in channels-last memory layout (measured on CPU: +7% for
    dcgan, +15% for cdcgan at 28x28; see docs/benchmarks.md)."""
    compile: str = "off"
    """``torch.compile`` G and D with this mode: "off", "default", "reduce-overhead" (CUDA graphs),
    "max-autotune" or "max-autotune-no-cudagraphs". Off by default: on the CPU it measured 0.8x
    (see docs/benchmarks.md), and it costs 20-60 s of compilation at start."""
    progress: bool = True
    """Show a progress bar."""
    tensorboard: bool = True
    """Write TensorBoard scalars and images when the tensorboard package is installed."""

    def validate(self) -> None:
        checked = ("steps", "batch_size", "checkpoint_every", "sample_every", "log_every", "keep_checkpoints")
        for name in [n for n in checked if not (n == "batch_size" and self.batch_size is None)]:
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "steps" else 1):
                raise ConfigError(f"{name}={value!r} must be a {'non-negative' if name == 'steps' else 'positive'} integer")
        if self.resume and self.out is None:
            raise ConfigError("resume=True needs out= (the run folder to resume from)")
        if self.compile not in COMPILE_MODES:
            raise ConfigError(f"compile={self.compile!r} is not a torch.compile mode; use one of "
                              f"{', '.join(map(repr, COMPILE_MODES))}")


CPU_DEFAULT_BATCH = 64
"""Default batch on the CPU, the one the families' learning rates are tuned for."""


CUDA_DEFAULT_BATCH = 512
"""Default batch on CUDA: a batch of 64 leaves a GPU idle between kernel launches."""


def default_batch_size(device: torch.device) -> int:
    """The batch size ``batch_size=None`` means on ``device``.

    The learning rates are not scaled with it: on MNIST (docs/benchmarks.md, "Larger batches") a GAN's
    quality followed its number of steps, not of images, and the square-root rule for Adam made
    dcgan worse (48% conditional accuracy against 83%). So a larger batch at the same ``steps``
    only adds images per step, which a GPU gets nearly for free.
    """
    return CUDA_DEFAULT_BATCH if device.type == "cuda" else CPU_DEFAULT_BATCH


COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def split_overrides(overrides: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate training options from the model family's options."""
    train = {k: v for k, v in overrides.items() if k in TRAIN_FIELDS}
    model = {k: v for k, v in overrides.items() if k not in TRAIN_FIELDS}
    return train, model
