"""SyntheticMix's argument checks: each bad argument refused by name before anything is read or generated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from ganaug.data import ImageStore
from ganaug.data.huggingface import check_hf_container, is_hf_dataset
from ganaug.data.labels import checked_label
from ganaug.errors import ConfigError, DataError
from ganaug.generator import TrainedGenerator
from ganaug.seeds import check_seed


def checked_threshold(top_up_below: Any) -> int:
    """``top_up_below=`` as an int, or a ConfigError."""
    if not isinstance(top_up_below, (int, np.integer)) or isinstance(top_up_below, bool) or top_up_below < 1:
        raise ConfigError(f"top_up_below={top_up_below!r} must be an integer >= 1 (the real-image count below which "
                          "a class counts as scarce for class_policy='auto' and 'tail')")
    return int(top_up_below)


def check_arguments(real: Any, generator: Any, *, seed: Any, bank_size: Any, refresh: Any, max_draws: Any,
                     transform: Any, sample_filter: Any) -> None:
    """Refuse bad SyntheticMix arguments by name before anything is read or generated."""
    check_hf_container(real, "real")
    if not (isinstance(real, (Dataset, ImageStore)) or is_hf_dataset(real)) or not hasattr(real, "__len__"):
        raise ConfigError(f"real={type(real).__name__}: pass a map-style torch Dataset of (image, label) or of "
                          "dicts, a Hugging Face Dataset, or an ImageStore")
    if not isinstance(generator, TrainedGenerator):
        raise ConfigError(f"generator={type(generator).__name__ if generator is not None else None}: pass a trained "
                          "generator (ganaug.load('runs/<run>') or the result of ganaug.fit)")

    def is_int(value: Any) -> bool:
        return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))

    check_seed(seed)
    if bank_size is not None and (not is_int(bank_size) or bank_size < 1):
        raise ConfigError(f"bank_size={bank_size!r} must be an integer >= 1, or None (one image per synthetic item)")
    if not (refresh in ("epoch", "never") or (is_int(refresh) and refresh >= 1)):
        raise ConfigError(f"refresh={refresh!r}; use 'epoch', 'never' or a number of epochs >= 1")
    if not is_int(max_draws) or max_draws < 1:
        raise ConfigError(f"max_draws={max_draws!r} must be a positive integer")
    if transform is not None and not callable(transform):
        raise ConfigError(f"transform={transform!r} must be callable (an albumentations or torchvision transform)")
    if sample_filter is not None and not callable(sample_filter):
        raise ConfigError(f"sample_filter={sample_filter!r} must be callable: filter(images, labels) -> keep")


def checked_labels(labels: Any) -> list[int]:
    """``labels=`` as a list of ints, or a DataError naming the first bad one."""
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__"):
        raise DataError(f"labels={labels!r}: pass one integer label per real item (a list, array or tensor)")
    values = labels.tolist() if hasattr(labels, "tolist") else list(labels)
    return [checked_label(value, f"item {index} of labels=") for index, value in enumerate(values)]


def checked_cap(max_per_real: Any) -> float | None:
    """``max_per_real=`` (a finite number >= 0, or None for no cap), or a ConfigError."""
    if max_per_real is not None and (not isinstance(max_per_real, (int, float)) or isinstance(max_per_real, bool)
                                     or not max_per_real >= 0 or max_per_real == float("inf")):
        raise ConfigError(f"max_per_real={max_per_real!r} must be a finite number >= 0, or None for no cap")
    return max_per_real


def class_indices(classes: Any, names: Sequence[str], argument: str) -> list[int]:
    """Class indices of ``classes`` (indices or names among ``names``); unknown ones are refused by name."""
    if isinstance(classes, (str, int)):
        classes = [classes]
    names, out = list(names), []
    for value in classes:
        if isinstance(value, str) and value in names:
            out.append(names.index(value))
        elif isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= value < len(names):
            out.append(int(value))
        else:
            raise ConfigError(f"{argument}={list(classes)!r}: {value!r} is not one of the generator's classes "
                              f"(names {names[:6]}{'...' if len(names) > 6 else ''} or indices 0..{len(names) - 1})")
    return out
