"""Built-in downstream classifiers for the gain measurement, registered like plugin ones.

* ``small-cnn`` (default): two conv blocks and a linear head; any size from 8x8.
* ``small-resnet``: a CIFAR-style ResNet (3 stages of torchvision basic blocks, 16/32/64 wide) for
  32x32 and up.
* ``logreg``: scikit-learn logistic regression on pixels.

Torch classifiers take float images in [0, 1] of shape (B, C, H, W) and return logits; they expose
``features(x)`` (the penultimate layer), the space in which generator quality is measured.
"""

from __future__ import annotations

import torch
from torch import nn

from ganaug.errors import ConfigError
from ganaug.plugins.hookspecs import hookimpl


class SmallCNN(nn.Module):
    """Conv(32)-Conv(64) with batch norm and pooling, then a 128-unit feature layer."""

    def __init__(self, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels = image_shape[0]
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
            nn.Flatten(), nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.3),
        )
        self.head = nn.Linear(128, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class SmallResNet(nn.Module):
    """ResNet-8 for small images: a 3x3 stem and three stages of two basic blocks (16, 32, 64)."""

    def __init__(self, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        from torchvision.models.resnet import BasicBlock  # imported here: torchvision costs seconds to import

        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(image_shape[0], 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
                                   nn.ReLU()]
        width = 16
        for stage, out in enumerate((16, 32, 64)):
            stride = 1 if stage == 0 else 2
            down = None
            if stride != 1 or width != out:
                down = nn.Sequential(nn.Conv2d(width, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))
            layers += [BasicBlock(width, out, stride, down), BasicBlock(out, out)]
            width = out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(64, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def small_cnn(num_classes: int, image_shape: tuple[int, int, int], seed: int = 0) -> nn.Module:
    """A :class:`SmallCNN` whose initial weights depend on ``seed`` only (the caller's RNG is untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return SmallCNN(num_classes, image_shape)


def small_resnet(num_classes: int, image_shape: tuple[int, int, int], seed: int = 0) -> nn.Module:
    if min(image_shape[1:]) < 32:
        raise ConfigError(f"small-resnet is meant for images of 32x32 and up, got {image_shape}; use small-cnn")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return SmallResNet(num_classes, image_shape)


def logistic_regression(num_classes: int, image_shape: tuple[int, int, int], seed: int = 0):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=500, random_state=seed)


@hookimpl
def register_classifiers(register):
    register("small-cnn", small_cnn, description="two conv blocks and a linear head (default)")
    register("small-resnet", small_resnet, description="CIFAR-style ResNet-8, for 32x32 and up")
    register("logreg", logistic_regression, description="scikit-learn logistic regression on pixels")
