"""Scores of a classifier's predictions: accuracy, balanced accuracy, macro-F1 and per-class recall."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    recall_score,
)


def score(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> dict[str, Any]:
    """Accuracy, balanced accuracy, macro-F1 and per-class recall (classes 0..K-1, absent ones scoring 0)."""
    labels = list(range(num_classes))
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class_recall": [float(r) for r in recall_score(y_true, y_pred, labels=labels, average=None,
                                                            zero_division=0)],
    }
