"""The arms of the gain protocol: what each classifier is trained on, as a type rather than a string."""

from __future__ import annotations

from dataclasses import dataclass

from ganaug.errors import ConfigError
from ganaug.gain.config import GainConfig

FILTERED = ", filtered"


@dataclass(frozen=True)
class Arm:
    """One way of training the classifier.

    Attributes:
        ratio: synthetic share of each epoch; 0 for real data only, 1 for synthetic data only.
        classic: classic augmentation (albumentations) on every item.
        filtered: the synthetic bank keeps only samples the seed's ``real+classic`` classifier
            recognises (:class:`~ganaug.mix.filters.ConfidenceFilter`).
    """

    ratio: float = 0.0
    classic: bool = False
    filtered: bool = False

    @property
    def synthetic(self) -> bool:
        return self.ratio > 0

    @property
    def synthetic_only(self) -> bool:
        return self.ratio >= 1.0

    @property
    def baseline(self) -> Arm:
        """The arm without synthetic data that this one is judged against."""
        return Arm(classic=self.classic)

    @property
    def name(self) -> str:
        """``real``, ``real+classic``, ``real[+classic]+synthetic@R[, filtered]`` or ``synthetic-only``."""
        if self.synthetic_only:
            return "synthetic-only"
        base = "real+classic" if self.classic else "real"
        if not self.synthetic:
            return base
        return f"{base}+synthetic@{self.ratio:g}" + (FILTERED if self.filtered else "")

    def __str__(self) -> str:
        return self.name


REAL, CLASSIC, SYNTHETIC_ONLY = Arm(), Arm(classic=True), Arm(ratio=1.0)


def arms_for(config: GainConfig) -> list[Arm]:
    """Every arm of a protocol, in the order they run (the real ones first: the filter needs ``real+classic``)."""
    arms = [REAL, CLASSIC]
    for filtered in (False, True) if config.filter_confidence is not None else (False,):
        arms += [Arm(r, False, filtered) for r in config.ratios]
        arms += [Arm(r, True, filtered) for r in config.ratios]
    if config.synthetic_only:
        arms.append(SYNTHETIC_ONLY)
    return arms


def arm_from_name(name: str) -> Arm:
    """The arm of a name written by :attr:`Arm.name` (reports saved as JSON hold names)."""
    for arm in (REAL, CLASSIC, SYNTHETIC_ONLY):
        if name == arm.name:
            return arm
    filtered = name.endswith(FILTERED)
    base, _, ratio = name.removesuffix(FILTERED).partition("+synthetic@")
    if base not in ("real", "real+classic") or not ratio:
        raise ConfigError(f"not an arm name: {name!r}")
    return Arm(float(ratio), base == "real+classic", filtered)
