"""How to train: :class:`TrainConfig` and the defaults that depend on the device."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from ganaug.configs import MAX_BATCH, MAX_STEPS, option, validate
from ganaug.data.resize import DEFAULT_RESIZE, RESIZE_RULES
from ganaug.errors import ConfigError
from ganaug.seeds import MAX_SEED

COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")

AUTO_FAMILY = "auto"
"""``model="auto"``: the family is chosen from the images' shape by :func:`default_family`."""

CPU_DEFAULT_BATCH = 64
"""Default batch on the CPU, the one the families' learning rates are tuned for."""
CUDA_DEFAULT_BATCH = 512
"""Default batch on CUDA: a batch of 64 leaves a GPU idle between kernel launches."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train; the model's own hyper-parameters live in its family's config.

    Frozen and validated on construction: a value of the wrong type or out of range raises
    :class:`~ganaug.errors.ConfigError` naming the field, before any data is loaded.
    """

    model: str = option(AUTO_FAMILY, "Registered generator family (see `ganaug plugins`), or 'auto': cdcgan for "
                        "grayscale images up to 64 px, biggan for colour images of 32 px and up and for anything "
                        "larger than 64 px (see the README).", flag=True)
    steps: int = option(2000, "Generator updates to run in total (a resumed run continues up to this number).",
                        minimum=1, maximum=MAX_STEPS, flag=True)
    batch_size: int | None = option(
        None, "Real images per discriminator update (per process). None picks by device: 64 on the CPU, 512 on "
        "CUDA; the learning rates stay the family's either way.", minimum=1, maximum=MAX_BATCH,
        flag=True)
    device: str = option("auto", "'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N'.", flag=True)
    seed: int = option(0, "Seeds weights, batch order, noise and augmentation.", minimum=0, maximum=MAX_SEED,
                       flag=True)
    out: str | None = option(None, "Run folder for logs, grids and checkpoints; None keeps everything in memory.",
                             flag=True)
    resume: bool = option(False, "Continue from the newest valid checkpoint in `out` (start fresh in a folder "
                          "without a run; refused when a run's checkpoints are all gone or damaged).",
                          flag=True)
    checkpoint_every: int = option(500, "Steps between checkpoints (and the most a crash can cost).", minimum=1,
                                   maximum=MAX_STEPS, flag=True)
    sample_every: int = option(500, "Steps between sample grids and diversity scores.", minimum=1,
                                maximum=MAX_STEPS, flag=True)
    log_every: int = option(50, "Steps between log lines (losses are read back from the device this often).",
                            minimum=1, maximum=MAX_STEPS)
    keep_checkpoints: int = option(3, "How many of the newest checkpoints to keep.", minimum=1)
    grid_per_class: int = option(8, "Images per class (columns) in the sample grid.", minimum=1)
    diversity_samples: int = option(32, "Generated images per class for the diversity score.", minimum=2)
    image_size: int | None = option(None, "Resize every image to this square size when loading the data.",
                                    minimum=1, maximum=4096, flag=True)
    channels: int | None = option(None, "Convert every image to 1 or 3 channels when loading the data.",
                                  choices=(1, 3), flag=True)
    skip_bad: bool = option(False, "Skip unreadable image files (with a warning) instead of stopping.", flag=True)
    resize: str = option(DEFAULT_RESIZE, "How image_size is reached by images of another aspect ratio: crop (scale "
                         "the shorter side, cut the centre), squash (stretch the whole image) or pad (scale the longer "
                         "side, centre on black). Square images to a square size are the same under every rule.",
                         choices=RESIZE_RULES, flag=True)
    cache_data: bool = option(True, "Keep an image folder's decoded images in the decoded cache ($GANAUG_CACHE_DIR, "
                              "else ~/.cache/ganaug/folders) and read them from it while the files are unchanged.",
                              flag=True)
    max_rollbacks: int = option(3, "On a NaN/inf loss or weight, roll back to the last good state this many "
                                "times, then stop.", minimum=0)
    rollback_lr_factor: float = option(0.5, "Multiply both learning rates by this at each rollback.", above=0,
                                       maximum=1)
    collapse_warning: float = option(0.35, "Warn when a class's sample diversity falls below this fraction of its "
                                     "real images' diversity.", minimum=0)
    fidelity_samples: int = option(200, "Generated images per class judged for fidelity and quality at the end "
                                   "(the record SyntheticMix's gate reads); fewer make the gate noisy.", minimum=2)
    score_samples: int = option(64, "Generated images per class judged for fidelity and quality at the sample "
                                "steps before the end (a progress reading; drawing them is most of the scoring's "
                                "cost).", minimum=2)
    judge: str = option("auto", "The fidelity judge fitted on the real images: 'cnn' (a small CNN trained on them: "
                        "sees colour, slower), 'pixels' (PCA + LDA on pixels: fast, blind on colour) or 'auto' (cnn "
                        "for colour images and from 16 px, pixels below). How well each judges, and what scoring "
                        "costs: docs/results.md.", choices=("auto", "pixels", "cnn"), flag=True)
    min_fidelity: float = option(0.8, "A class's samples fail when a judge fitted on the real images recognises "
                                 "them less than this fraction as often as it recognises real images of the class "
                                 "(see ganaug.metrics.fidelity).", minimum=0, maximum=1)
    class_balance: float = option(1.0, "How real batches (and so fake labels) are drawn: 0 uniformly over images, "
                                  "1 uniformly over classes (rare classes as often as common ones), in between a "
                                  "class of n images drawn with weight n^(1 - class_balance). 1 (the default) shows "
                                  "the generator its rarest classes as often as the others, so that it learns to "
                                  "draw them too (docs/results.md, 'Rare classes: class-balanced batches'). A set "
                                  "whose classes are all the same size trains the same either way.", minimum=0,
                                  maximum=1, flag=True)
    collapse_warning_after: int = option(200, "No collapse or fidelity warning before this step: an untrained "
                                         "generator's samples mean nothing yet.", minimum=0, maximum=MAX_STEPS)
    fast_path: bool = option(True, "On CUDA: bf16 autocast, TF32, fused Adam and cuDNN autotuning. False trains in "
                             "plain float32 (to check the fast path against). On the CPU both are the same float32 "
                             "path.")
    channels_last: bool = option(True, "Keep images and convolution weights in channels-last memory layout, "
                                 "often faster for convolutions; False keeps PyTorch's default contiguous layout "
                                 "(speeds: docs/results.md).")
    compile: str = option("off", "torch.compile G and D with this mode: off, default, reduce-overhead (CUDA graphs), "
                          "max-autotune or max-autotune-no-cudagraphs. Off by default: compiling takes time at start, "
                          "and on the CPU it made training slower, not faster (docs/results.md).",
                          choices=COMPILE_MODES, flag=True)
    progress: bool = option(True, "Show a progress bar.")
    tensorboard: bool = option(True, "Write TensorBoard scalars and images when the tensorboard package is "
                               "installed.")

    def __post_init__(self) -> None:
        if type(self.steps) is int and self.steps == 0:  # a run of 0 steps would save an untrained generator
            raise ConfigError("TrainConfig: steps=0 trains nothing; pass steps >= 1")
        validate(self)
        if self.resume and self.out is None:
            raise ConfigError("resume=True needs out= (the run folder to resume from)")


def default_family(image_shape: tuple[int, int, int]) -> str:
    """The family that ``model="auto"`` trains on images of ``image_shape`` (C, H, W).

    ``cdcgan`` is the one measured on grayscale digits (8 to 28 px) and takes sides up to 64;
    ``biggan`` (residual blocks, LeCam) takes 16 to 256 and is the one measured on colour cells
    (docs/results.md).
    """
    channels, height, width = image_shape
    if max(height, width) > 64 or (channels == 3 and min(height, width) >= 32):
        return "biggan"
    return "cdcgan"


def resolve_family(model: str, image_shape: tuple[int, int, int]) -> str:
    """``model`` itself, or for ``"auto"`` the :func:`default_family` of ``image_shape``."""
    return default_family(image_shape) if model == AUTO_FAMILY else model


def default_batch_size(device: torch.device) -> int:
    """The batch size ``batch_size=None`` means on ``device``.

    The learning rates are not scaled with it: a GAN's quality followed its number of steps rather
    than of images, and scaling Adam's rate with the batch (the square-root rule) made samples worse
    (docs/research-log.md, "Larger batches"). So a larger batch at the same ``steps`` only adds images
    per step, which a GPU gets nearly for free.
    """
    return CUDA_DEFAULT_BATCH if device.type == "cuda" else CPU_DEFAULT_BATCH


TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def split_overrides(overrides: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate training options from the model family's options."""
    train = {k: v for k, v in overrides.items() if k in TRAIN_FIELDS}
    model = {k: v for k, v in overrides.items() if k not in TRAIN_FIELDS}
    return train, model
