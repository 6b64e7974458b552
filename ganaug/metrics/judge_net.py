"""The CNN the fidelity judge learns on the run's real images: its network, its training and its inference.

A linear judge on pixels cannot tell colour images apart (their classes differ by texture and colour
rather than by where the bright pixels are; docs/results.md, "The fidelity judge on real images it
never saw"), so :class:`~ganaug.metrics.fidelity.FidelityJudge` can instead learn a small CNN from
the real images alone, nothing downloaded. It trains with what a long tail needs to be judged fairly:

* **class-balanced sampling**: every batch draws each class equally often (a class of 5 images as
  often as one of 500), with replacement;
* **classic augmentation** on whole batches (:mod:`ganaug.metrics.batch_augment`), so a few images
  per class are not memorised pixel for pixel;
* a budget in passes over the images (``epochs``) between ``min_steps`` and ``max_steps``, so a small
  set costs seconds and a large one a bounded time;
* images larger than ``resolution`` are area-downscaled to it first, so the cost stops growing with
  the image size.

Its penultimate layer (:meth:`JudgeNet.features`) is the feature space the quality measures use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganaug.configs import option, validate
from ganaug.metrics.batch_augment import PRESETS, augment_batch, resolve_preset


@dataclass(frozen=True)
class CnnJudgeConfig:
    """How the CNN judge is built and trained (one network per cross-validation fold)."""

    width: int = option(16, "Channels of the first convolution; the next two have 2x and 4x, and the feature "
                        "layer 4x.", minimum=1)
    resolution: int = option(32, "Images whose shorter side is larger are area-downscaled to about this first "
                             "(bounds the cost at 64 px and up).", minimum=4)
    epochs: float = option(10.0, "Training images drawn per network, in passes over the kept real images.",
                           above=0)
    min_steps: int = option(150, "Fewest training steps of one network (small sets).", minimum=1)
    max_steps: int = option(600, "Most training steps of one network (large sets).", minimum=1)
    batch_size: int = option(64, "Images per training step.", minimum=1)
    lr: float = option(3e-3, "Peak learning rate of the one-cycle schedule (AdamW).", above=0)
    weight_decay: float = option(5e-4, "AdamW weight decay.", minimum=0)
    label_smoothing: float = option(0.1, "Cross-entropy label smoothing.", minimum=0, below=1)
    augment: str = option("auto", "Classic augmentation of the training batches: auto (digits for grayscale, "
                          "microscopy for colour), digits, photos, microscopy or none.", choices=PRESETS)

    def __post_init__(self) -> None:
        validate(self)

    def steps_for(self, images: int) -> int:
        """Training steps of one network fitted on ``images`` real images."""
        steps = math.ceil(self.epochs * images / self.batch_size)
        return int(min(self.max_steps, max(self.min_steps, steps)))


class JudgeNet(nn.Module):
    """Three conv blocks (width, 2x, 4x) with batch norm, two max pools, global average pooling, a linear head.

    Args:
        channels: image channels (1 or 3).
        num_classes: outputs of the head.
        width: channels of the first block.
        resolution: larger inputs are area-downscaled so that their shorter side is about this.

    Shape:
        x: (B, C, H, W) floats in [0, 1]; ``features`` (B, 4 * width); ``forward`` (B, num_classes).
    """

    def __init__(self, channels: int, num_classes: int, width: int = 16, resolution: int = 32) -> None:
        super().__init__()
        self.resolution = resolution
        blocks: list[nn.Module] = []
        widths = (channels, width, 2 * width, 4 * width)
        for block, (inputs, outputs) in enumerate(zip(widths, widths[1:])):
            blocks += [nn.Conv2d(inputs, outputs, 3, padding=1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU()]
            if block < 2:
                blocks.append(nn.MaxPool2d(2, ceil_mode=True))
        self.body = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4 * width, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        if min(height, width) > self.resolution:
            factor = self.resolution / min(height, width)
            x = F.adaptive_avg_pool2d(x, (max(1, round(height * factor)), max(1, round(width * factor))))
        return self.body(x.contiguous(memory_format=torch.channels_last))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def train_judge_net(images: torch.Tensor, labels: torch.Tensor, num_classes: int, config: CnnJudgeConfig, *,
                    seed: int, device: torch.device) -> JudgeNet:
    """A :class:`JudgeNet` trained on uint8 ``images`` with class-balanced batches; returned in eval mode.

    The initial weights, the batches and their augmentation are functions of ``seed`` only (the
    caller's torch RNG is untouched).

    Shape:
        images: (N, C, H, W) uint8; labels: (N,) int64 in 0..num_classes-1.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = JudgeNet(images.shape[1], num_classes, config.width, config.resolution)
    net = net.to(device, memory_format=torch.channels_last).train()
    steps = config.steps_for(len(images))
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.lr, total_steps=steps, pct_start=0.15)
    labels = labels.cpu().long()
    weights = (1.0 / torch.bincount(labels, minlength=num_classes).clamp(min=1).double())[labels]
    preset = resolve_preset(config.augment, images.shape[1])
    images, targets = images.to(device), labels.to(device)
    for _ in range(steps):
        index = torch.multinomial(weights, config.batch_size, replacement=True, generator=generator)
        batch = augment_batch(images[index.to(device)].float() / 255.0, generator, preset)
        loss = F.cross_entropy(net(batch), targets[index.to(device)], label_smoothing=config.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    return net.eval()


@torch.inference_mode()
def features_and_logits(net: JudgeNet, images: torch.Tensor, *, batch_size: int = 512) -> tuple[torch.Tensor,
                                                                                                  torch.Tensor]:
    """The penultimate layer and the logits of uint8 images, computed in batches on the net's device, on the CPU.

    Shape:
        images: (N, C, H, W) uint8; returns (N, 4 * width) and (N, num_classes) floats.
    """
    device = next(net.parameters()).device
    features, logits = [], []
    for start in range(0, len(images), batch_size):
        f = net.features(images[start:start + batch_size].to(device).float() / 255.0)
        features.append(f.float().cpu())
        logits.append(net.head(f).float().cpu())
    if not features:
        return torch.empty(0, net.head.in_features), torch.empty(0, net.head.out_features)
    return torch.cat(features), torch.cat(logits)
