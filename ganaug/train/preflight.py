"""What ``fit`` checks before it reads any data: every bad option and every obstacle in the run folder, at once.

A user who got one message per run fixed one mistake per run, each after the data had loaded again. Here
the training options, the family's options (when the family is named; ``model="auto"`` names it only once
the images' shape is known) and the run folder's layout are all checked, and every problem found goes
into one :class:`~ganaug.errors.ConfigError`, one line, ``"; "``-separated. When training runs out of
memory all the same, :func:`out_of_memory` names the options of ``ganaug train`` that shrink it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ganaug.errors import ConfigError, GanaugError, OutOfMemoryError, UnknownGeneratorError
from ganaug.plugins.registry import GeneratorEntry, Registry
from ganaug.runs.folder import RunFolder
from ganaug.train.config import AUTO_FAMILY, TrainConfig

OUT_OF_MEMORY_FIX = ("use a smaller batch_size= (--batch-size), smaller images (image_size=, --image-size) or a "
                     "smaller model (another family with --model, or narrower layers in the --config file's [model] "
                     "table, e.g. g_channels and d_channels)")
"""What to do when training runs out of memory: only options that ``ganaug train`` has."""


def out_of_memory(exc: BaseException, batch_size: int | None) -> OutOfMemoryError:
    """The error for training that ran out of memory (``exc``, from torch or Python) at ``batch_size``."""
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0][:300]
    return OutOfMemoryError(f"out of memory while training with batch_size={batch_size} ({text}); {OUT_OF_MEMORY_FIX}")


def preflight(make_config: Callable[[], TrainConfig], model: Any, model_overrides: dict[str, Any],
              registry: Registry) -> tuple[TrainConfig, GeneratorEntry | None]:
    """The training config and the named family's entry (None for ``"auto"``), once everything checks out.

    Args:
        make_config: builds the :class:`TrainConfig` (which validates itself).
        model: the family asked for, as given (its type is the config's to check).
        model_overrides: the family's options.
        registry: where the family is looked up.

    Raises:
        ConfigError: every problem found, in one message; a lone problem of another kind (an unknown
            family) is raised as it is.
    """
    problems: list[GanaugError] = []
    config: TrainConfig | None = None
    family: GeneratorEntry | None = None
    try:
        config = make_config()
    except ConfigError as exc:
        problems.append(exc)
    if isinstance(model, str) and model != AUTO_FAMILY:
        try:
            family = registry.generator(model)
            family.make_config(**model_overrides)
        except (ConfigError, UnknownGeneratorError) as exc:
            problems.append(exc)
    if config is not None and config.out is not None:
        folder = RunFolder(config.out)
        try:
            problems += [ConfigError(problem) for problem in folder.layout_problems()]
            if not config.resume:
                problems += [ConfigError(problem) for problem in folder.fresh_run_problems()]
        except OSError as exc:  # a name too long for the file system, a folder that cannot be listed
            problems.append(ConfigError(f"out={str(config.out)[:80]!r}: not a usable folder ({exc.strerror or exc}); "
                                        "choose another out= (--out)"))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigError("; ".join(str(problem) for problem in problems))
    assert config is not None
    return config, family
