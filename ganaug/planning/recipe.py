"""A recipe: which synthetic mix to use on one data set, why, and what it was planned on.

:func:`ganaug.plan` writes one (:class:`Recipe`); :meth:`ganaug.SyntheticMix.from_recipe` mixes exactly
what it says. It is a JSON file (:meth:`Recipe.save`, :meth:`Recipe.load`) that a person can read: the
choice, a one-line reason, every candidate's per-fold numbers and paired interval, the budget spent,
and the data it was planned on (class names, counts and a fingerprint), so that using it on other
data can be noticed (:meth:`Recipe.check_data`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganaug.errors import ConfigError, DataError

RECIPE_VERSION = 1
NONE = "none"
"""The candidate without synthetic data (what the user would do without ganaug)."""


@dataclass(frozen=True)
class Recipe:
    """What :func:`ganaug.plan` chose for one data set and generator.

    Attributes:
        choice: the chosen candidate's name (:data:`NONE`: no synthetic data).
        mix: :class:`~ganaug.SyntheticMix` keyword arguments of the choice.
        no_synthetic: classes (names) that get no synthetic images: their recall fell under the chosen mix.
        reason: one line saying why.
        uncertain: True when the folds could neither show a gain of the margin nor rule one out.
        candidates: per candidate, its mix, per-run scores, the paired difference against :data:`NONE`
            (points of the metric) and the per-class recall difference.
        budget: what the plan spent (folds, repeats, classifier steps and runs, seconds).
        data: the data it was planned on: ``classes``, ``counts`` and ``fingerprint``.
        generator: the generator family, its classes and image shape.
        config: the plan's options.
    """

    choice: str
    mix: dict[str, Any]
    no_synthetic: list[str]
    reason: str
    uncertain: bool
    candidates: list[dict[str, Any]]
    budget: dict[str, Any]
    data: dict[str, Any]
    generator: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    version: int = RECIPE_VERSION

    @property
    def synthetic(self) -> bool:
        """Whether the recipe mixes synthetic images in at all."""
        return self.choice != NONE

    def summary(self) -> str:
        """A few lines for a person: the choice, the reason, and each candidate's difference."""
        lines = [f"recipe: {self.choice}" + (f" (no synthetic images for {', '.join(self.no_synthetic)})"
                                            if self.no_synthetic else ""), f"why: {self.reason}"]
        metric = self.config.get("metric", "balanced_accuracy").replace("_", " ")
        for candidate in self.candidates:
            if candidate["name"] == NONE:
                lines.append(f"  {NONE}: {metric} {candidate['mean']:.1f}")
                continue
            d = candidate["difference"]
            lines.append(f"  {candidate['name']}: {d['mean']:+.1f} points [{d['ci_low']:+.1f}, {d['ci_high']:+.1f}]"
                         f" against {NONE} over {d['n']} folds")
        lines.append(f"budget: {self.budget['runs']} classifier runs of {self.budget['steps']} steps, "
                     f"{self.budget['seconds']:.0f} s")
        return "\n".join(lines)

    def save(self, path: str | Path) -> Path:
        """Write the recipe as JSON to ``path``; an existing file is never replaced."""
        path = Path(path)
        if path.exists():
            raise ConfigError(f"{path} exists; ganaug does not overwrite files: pass another path, or move it away")
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(dataclasses.asdict(self), indent=1, allow_nan=True)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Recipe:
        """Read a recipe written by :meth:`save`; a file that is not one is refused by name."""
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such recipe file; write one with `ganaug plan`") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not a recipe (invalid JSON: {exc}); write one with `ganaug plan`") from None
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(raw, dict) or not {"choice", "mix", "data"} <= raw.keys() or raw.keys() - names:
            raise ConfigError(f"{path}: not a recipe written by `ganaug plan` (fields {sorted(raw)[:8]}...)"
                              if isinstance(raw, dict) else f"{path}: not a recipe (a JSON {type(raw).__name__})")
        if raw.get("version", RECIPE_VERSION) > RECIPE_VERSION:
            raise ConfigError(f"{path}: recipe version {raw['version']} is newer than this ganaug reads "
                              f"({RECIPE_VERSION}); upgrade ganaug")
        try:
            return cls(**raw)
        except TypeError as exc:
            raise ConfigError(f"{path}: an incomplete recipe ({exc}); plan again with `ganaug plan`") from None

    def check_data(self, classes: Sequence[str], counts: Sequence[int], fingerprint: str | None = None) -> bool:
        """Warn (and return False) when the data differs from what the recipe was planned on."""
        planned = self.data
        if list(classes) != list(planned["classes"]):
            raise DataError(f"the recipe was planned on classes {planned['classes'][:6]}...; this data has "
                            f"{list(classes)[:6]}...: plan again on this data (`ganaug plan`)")
        problems = []
        if list(counts) != list(planned["counts"]):
            problems.append(f"images per class {list(counts)} (planned on {planned['counts']})")
        elif fingerprint is not None and planned.get("fingerprint") not in (None, fingerprint):
            problems.append("the same counts but other images")
        if problems:
            warnings.warn(f"this recipe ({self.choice!r}) was planned on other data than this: {'; '.join(problems)}. "
                          "Its choice may not hold here: plan again on this data (`ganaug plan`)", stacklevel=3)
            return False
        return True


def fingerprint(images: torch.Tensor | None, labels: Sequence[int]) -> str:
    """A SHA-256 of the labels and, when given, the uint8 images (N, C, H, W), in their order."""
    digest = hashlib.sha256()
    digest.update(torch.as_tensor(list(labels), dtype=torch.int64).numpy().tobytes())
    if images is not None:
        digest.update(str(tuple(images.shape)).encode())
        digest.update(images.contiguous().numpy().tobytes())
    return digest.hexdigest()
