"""The mixes a plan compares: none, the default, and a smaller and a larger dose of synthetic images.

Each candidate is a set of :class:`~ganaug.SyntheticMix` keyword arguments. Which ones depends on the
real class counts, as ``SyntheticMix``'s own default does:

* level classes (largest/smallest under :data:`~ganaug.mix.policies.IMBALANCED`): no synthetic data;
  synthetic shares 0.25, 0.5 (the default) and 0.75, in the real class proportions;
* imbalanced classes: no synthetic data but class-balanced oversampling (what a careful user does on a
  long tail without ganaug); the default (``class_policy="auto"``), when it adds any synthetic image;
  every class topped up with at most 1 (smaller) or 10 (larger) synthetic images per real one, against
  the default's 4.

The classic augmentation of the plan is applied to every candidate alike, "none" included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ganaug.mix.policies import IMBALANCED, auto_policy, imbalance_of
from ganaug.planning.recipe import NONE


@dataclass(frozen=True)
class Candidate:
    """One mix a plan tries: its name and its SyntheticMix keyword arguments."""

    name: str
    mix: dict[str, Any] = field(default_factory=dict)


def candidates_for(counts: Sequence[int], *, top_up_below: int, quick: bool = False) -> list[Candidate]:
    """The candidates for real classes of these ``counts`` (:data:`NONE` first); ``quick``: none and the default."""
    if imbalance_of(counts) < IMBALANCED:
        default = Candidate("share 0.5 (the default)", {"ratio": 0.5, "class_policy": "match"})
        others = [Candidate("share 0.25", {"ratio": 0.25, "class_policy": "match"}),
                  Candidate("share 0.75", {"ratio": 0.75, "class_policy": "match"})]
        return [Candidate(NONE, {"ratio": 0.0})] + ([default] if quick else [others[0], default, others[1]])
    none = Candidate(NONE, {"ratio": 0.0, "class_policy": "match", "oversample": True})
    policy, _ = auto_policy(counts, "auto", False, top_up_below)
    default = ([Candidate("top-up, at most 4 per real image (the default)", {"top_up_below": top_up_below})]
               if policy == "balance" else [])  # "tail" with no class under top_up_below adds nothing: it is none
    if quick:
        return [none] + (default or [Candidate("top-up, at most 4 per real image", _TOP_UP | {"max_per_real": 4.0})])
    return [none, Candidate("top-up, at most 1 per real image", _TOP_UP | {"max_per_real": 1.0}), *default,
            Candidate("top-up, at most 10 per real image", _TOP_UP | {"max_per_real": 10.0})]


_TOP_UP = {"class_policy": "balance", "ratio": None, "oversample": True}
