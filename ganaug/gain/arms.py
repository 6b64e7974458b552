"""The arms of the gain protocol: what each classifier is trained on, as a type rather than a string."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ganaug.errors import ConfigError
from ganaug.gain.config import GainConfig

FILTERED = ", filtered"
BALANCED = ", balanced sampling"
WEIGHTED = ", synthetic weight "
STRENGTH = ", variation strength "


@dataclass(frozen=True)
class Arm:
    """One way of training the classifier.

    Attributes:
        ratio: synthetic share of each epoch; 0 for real data only, 1 for synthetic data only.
        classic: classic augmentation (albumentations) on every item.
        filtered: the synthetic bank keeps only samples the seed's ``real+classic`` classifier
            recognises (:class:`~ganaug.mix.filters.ConfidenceFilter`).
        topup: synthetic images top every smaller class up (``class_policy="balance"``, ``ratio=None``),
            within SyntheticMix's cap and fidelity gate, instead of a fixed share.
        balanced: class-balanced sampling of the training items (each class drawn equally often), the
            usual long-tail fix without synthetic data.
        weight: the loss weight of a synthetic item relative to a real one (1: the same).
        auto: SyntheticMix's default policy, ``class_policy="auto"``: on imbalanced classes a top-up (when some
            class has fewer than ``top_up_below`` real images) plus oversampling inside the mix (so the default
            path draws classes equally often without a sampler).
        strength: image-to-image generators: the variations' strength (SyntheticMix's ``variation_strength``);
            None for the family's own.
        planned: the mix :func:`ganaug.plan` chooses on the seed's training subset (its recipe, through
            :meth:`~ganaug.SyntheticMix.from_recipe`), which may be no synthetic data at all.
    """

    ratio: float = 0.0
    classic: bool = False
    filtered: bool = False
    topup: bool = False
    balanced: bool = False
    weight: float = 1.0
    auto: bool = False
    strength: float | None = None
    planned: bool = False

    @property
    def synthetic(self) -> bool:
        return self.ratio > 0 or self.topup or self.auto or self.planned

    @property
    def synthetic_only(self) -> bool:
        return self.ratio >= 1.0

    @property
    def baseline(self) -> Arm:
        """The arm without synthetic data that this one is judged against (class-balanced sampling for the
        ``auto`` arms, which oversample the rare classes themselves)."""
        return Arm(classic=self.classic, balanced=self.balanced or self.auto)

    @property
    def name(self) -> str:
        """``real[+classic][+synthetic@R|@balance|@auto|@plan][, filtered][, synthetic weight W][, variation strength S]
        [, balanced sampling]`` or ``synthetic-only``."""
        if self.synthetic_only:
            return "synthetic-only"
        name = "real+classic" if self.classic else "real"
        if self.planned:
            name += "+synthetic@plan"
        elif self.auto:
            name += "+synthetic@auto"
        elif self.topup:
            name += "+synthetic@balance"
        elif self.synthetic:
            name += f"+synthetic@{self.ratio:g}"
        weighted = f"{WEIGHTED}{self.weight:g}" if self.synthetic and self.weight != 1.0 else ""
        strength = f"{STRENGTH}{self.strength:g}" if self.synthetic and self.strength is not None else ""
        return name + (FILTERED if self.filtered else "") + weighted + strength + (BALANCED if self.balanced else "")

    @property
    def mix_policy(self) -> dict[str, object]:
        """The SyntheticMix keyword arguments of this arm's synthetic share: none for ``@auto`` (SyntheticMix's
        defaults), a top-up for ``@balance``, a fixed share in the real proportions otherwise."""
        if self.auto or self.planned:
            return {}
        if self.topup:
            return {"ratio": None, "class_policy": "balance", "oversample": False}
        return {"ratio": self.ratio, "class_policy": "match", "oversample": False}

    def __str__(self) -> str:
        return self.name


REAL, CLASSIC, SYNTHETIC_ONLY = Arm(), Arm(classic=True), Arm(ratio=1.0)


def arms_for(config: GainConfig) -> list[Arm]:
    """Every arm of a protocol, in the order they run (the real ones first: the filter needs ``real+classic``).

    With ``synthetic_weights``, every classic synthetic arm runs again with its synthetic items' loss weighted by
    each weight; with ``variation_strengths`` (image-to-image generators), with variations of each strength. With ``arms``, only the named synthetic arms run, beside every arm without synthetic data (the
    baselines they are judged against).

    With ``plan``, the arm ``real+classic+synthetic@plan`` (``, balanced sampling`` on a long tail) trains on
    the mix that :func:`ganaug.plan` chose on the seed's training subset.

    With ``imbalance`` (the long-tail protocol) the standard long-tail baselines join (class-balanced
    sampling, with and without classic augmentation), SyntheticMix's default policy (``@auto``: top-up and
    oversampling), and synthetic top-up arms, alone and with class-balanced sampling (the top-up gives the rare
    classes new images, balanced sampling draws them as often as the rest).
    """
    long_tail = config.imbalance is not None if config.long_tail_arms is None else config.long_tail_arms
    arms = [REAL, CLASSIC]
    if long_tail:
        arms += [Arm(balanced=True), Arm(classic=True, balanced=True)]
    for filtered in (False, True) if config.filter_confidence is not None else (False,):
        arms += [Arm(r, False, filtered) for r in config.ratios]
        arms += [Arm(r, True, filtered) for r in config.ratios]
        if long_tail:
            arms += [Arm(auto=True, filtered=filtered), Arm(classic=True, auto=True, filtered=filtered)]
            arms += [Arm(topup=True, filtered=filtered), Arm(classic=True, topup=True, filtered=filtered)]
            arms += [Arm(topup=True, filtered=filtered, balanced=True),
                     Arm(classic=True, topup=True, filtered=filtered, balanced=True)]
    plain = [arm for arm in arms if arm.synthetic and arm.classic and not arm.filtered]  # run again, varied:
    if config.plan:  # judged against the best arm without synthetic data: balanced sampling on a long tail
        arms.append(Arm(classic=True, planned=True, balanced=long_tail))
    arms += [dataclasses.replace(arm, weight=weight) for weight in config.synthetic_weights for arm in plain]
    arms += [dataclasses.replace(arm, strength=strength) for strength in config.variation_strengths for arm in plain]
    if config.synthetic_only:
        arms.append(SYNTHETIC_ONLY)
    if config.arms:
        unknown = sorted(set(config.arms) - {arm.name for arm in arms})
        if unknown:
            raise ConfigError(f"arms={unknown}: not arms of this protocol; its arms are "
                              f"{', '.join(repr(arm.name) for arm in arms)}")
        arms = [arm for arm in arms if not arm.synthetic or arm.name in config.arms]
    return arms


def arm_from_name(name: str) -> Arm:
    """The arm of a name written by :attr:`Arm.name` (reports saved as JSON hold names)."""
    if name == SYNTHETIC_ONLY.name:
        return SYNTHETIC_ONLY
    balanced = name.endswith(BALANCED)
    name = name.removesuffix(BALANCED)
    name, _, strength_text = name.partition(STRENGTH)
    name, _, weight_text = name.partition(WEIGHTED)
    try:
        weight = float(weight_text) if weight_text else 1.0
        strength = float(strength_text) if strength_text else None
    except ValueError:
        raise ConfigError(f"not an arm name: {name!r}") from None
    filtered = name.endswith(FILTERED)
    base, _, ratio = name.removesuffix(FILTERED).partition("+synthetic@")
    if base not in ("real", "real+classic"):
        raise ConfigError(f"not an arm name: {name!r}")
    topup, auto, planned = ratio == "balance", ratio == "auto", ratio == "plan"
    try:
        value = 0.0 if topup or auto or planned or not ratio else float(ratio)
    except ValueError:
        raise ConfigError(f"not an arm name: {name!r}") from None
    return Arm(value, base == "real+classic", filtered, topup, balanced, weight, auto, strength, planned)
