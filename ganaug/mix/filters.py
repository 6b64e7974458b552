"""Sample filters: keep only the synthetic images a classifier recognises as the class asked for.

A conditional GAN sometimes draws an image that does not show its class (a "4" that reads as a
"9"); mixed into training, it teaches the classifier a wrong label. A filter is any callable
``filter(images, labels) -> keep`` taking uint8 images (N, C, H, W) and int64 labels (N,) and
returning a bool tensor (N,). :class:`SyntheticMix` (``sample_filter=``) redraws rejected bank
images with fresh noise (rejection sampling) so the bank holds only accepted ones.

:class:`ConfidenceFilter` is the usual choice: a classifier trained on the *real* training images
(never on test images) must give the asked class at least ``min_confidence`` probability.
"""

from __future__ import annotations

from typing import Any

import torch

from ganaug.classifier import Classifier
from ganaug.errors import ConfigError


class ConfidenceFilter:
    """Keep samples to which ``classifier`` gives their own label at least ``min_confidence`` probability.

    Args:
        classifier: a torch module mapping float images in [0, 1], (N, C, H, W), to logits (N, K);
            or a scikit-learn estimator with ``predict_proba`` on flattened [0, 1] images.
        min_confidence: probability threshold in (0, 1]; 0.5 drops images the classifier reads as
            another class, 0.9 keeps only clear ones (at the cost of variety: filtering a class's
            harder-looking images narrows what the classifier sees).
        device: where a torch classifier runs ("auto", "cpu", "cuda"...).
        batch_size: images per classifier call.
    """

    def __init__(self, classifier: Any, min_confidence: float = 0.5, *, device: str | torch.device = "cpu",
                 batch_size: int = 1024) -> None:
        if not isinstance(min_confidence, (int, float)) or not 0.0 < float(min_confidence) <= 1.0:
            raise ConfigError(f"min_confidence={min_confidence!r} must be a probability in (0, 1]")
        if not isinstance(classifier, torch.nn.Module) and not hasattr(classifier, "predict_proba"):
            raise ConfigError(f"{type(classifier).__name__} is neither a torch module nor a scikit-learn estimator "
                              "with predict_proba; pass a classifier trained on the real images")
        self.classifier = classifier
        self.min_confidence = float(min_confidence)
        self._judge = Classifier(classifier, device=device, batch_size=batch_size)

    def confidence(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The classifier's probability of each image's own label, float (N,)."""
        return self._judge.probability_of(images, labels)

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.confidence(images, labels) >= self.min_confidence

    def __repr__(self) -> str:
        return f"ConfidenceFilter({type(self.classifier).__name__}, min_confidence={self.min_confidence})"
