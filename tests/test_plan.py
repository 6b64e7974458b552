"""Planning a mix on the user's data: the decision rule, the candidates, the recipe file and its use."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

import ganaug
from ganaug import ConfigError, DataError, Recipe, SyntheticMix
from ganaug.cli import main
from ganaug.metrics.fidelity import FidelityReport
from ganaug.planning.candidates import candidates_for
from ganaug.planning.choose import decide
from ganaug.planning.recipe import NONE, fingerprint
from ganaug.testing import make_tiny_data

NAMES = [NONE, "a", "b"]
FAST = {"steps": 4, "folds": 2, "repeats": 1, "classifier": "small-cnn", "progress": False, "device": "cpu"}


def _recalls(runs: int, classes: int, value: float = 0.8) -> list[list[float]]:
    return [[value] * classes for _ in range(runs)]


def test_a_mix_surely_better_by_the_margin_is_chosen_and_classes_that_fell_get_none():
    none = [0.70, 0.72, 0.71, 0.69, 0.70, 0.71]
    a = [s + 0.005 for s in none]  # +0.5 points: under the margin
    b = [s + d for s, d in zip(none, (0.03, 0.04, 0.035, 0.03, 0.045, 0.04))]  # +3.7 points, surely
    b_recalls = [[0.9, 0.7, math.nan] for _ in none]  # class 1 falls under b, class 2 never held out
    decision = decide(NAMES, [none, a, b], [_recalls(6, 3), _recalls(6, 3), b_recalls], margin=1.0, confidence=0.95)
    assert decision.chosen == 2 and not decision.uncertain
    assert decision.no_synthetic == [1]
    assert decision.per_class[2][0] == pytest.approx(10.0) and math.isnan(decision.per_class[2][2])
    assert "'b' raised balanced accuracy by 3.7 points" in decision.reason


def test_none_is_chosen_when_no_mix_gains_the_margin_and_the_folds_rule_it_out():
    none = [0.70, 0.72, 0.71, 0.69, 0.70, 0.71]
    worse = [s - 0.02 for s in none]
    decision = decide([NONE, "a"], [none, worse], [_recalls(6, 2)] * 2, margin=1.0, confidence=0.95)
    assert decision.chosen == 0 and not decision.uncertain and decision.no_synthetic == []
    assert "no mix gained the margin" in decision.reason and "'a', -2.0" in decision.reason


def test_folds_that_cannot_tell_choose_none_and_say_so():
    none = [0.70, 0.60, 0.80]
    noisy = [0.75, 0.58, 0.90]  # +4.3 points on average, but the interval spans zero
    decision = decide([NONE, "a"], [none, noisy], [_recalls(3, 2)] * 2, margin=1.0, confidence=0.95)
    assert decision.chosen == 0 and decision.uncertain
    assert "cannot tell" in decision.reason


def test_the_first_candidate_must_be_none():
    with pytest.raises(ValueError, match="none"):
        decide(["a", NONE], [[0.5], [0.5]], [[[0.5]], [[0.5]]], margin=1, confidence=0.95)


def test_candidates_follow_the_class_counts():
    level = [c.name for c in candidates_for([20, 20, 20], top_up_below=40)]
    assert level == [NONE, "share 0.25", "share 0.5 (the default)", "share 0.75"]
    assert [c.name for c in candidates_for([20, 20, 20], top_up_below=40, quick=True)] == [
        NONE, "share 0.5 (the default)"]
    tail = candidates_for([500, 50, 5], top_up_below=40)
    assert [c.name for c in tail] == [NONE, "top-up, at most 1 per real image",
                                      "top-up, at most 4 per real image (the default)",
                                      "top-up, at most 10 per real image"]
    assert tail[0].mix == {"ratio": 0.0, "class_policy": "match", "oversample": True}
    # no class under top_up_below: the default adds nothing, so it is not a candidate of its own
    assert "top-up, at most 4 per real image (the default)" not in [c.name for c in candidates_for(
        [500, 200, 50], top_up_below=40)]


def test_plan_returns_a_recipe_that_round_trips_through_its_file(tiny_store, tiny_generator, tmp_path):
    lines = []
    recipe = ganaug.plan(tiny_store, tiny_generator, echo=lines.append, **FAST)
    assert lines == ["plan: 4 candidates x 2 held-out folds = 8 classifier runs of 4 steps on 80 images"]
    assert recipe.budget["runs"] == 8 and recipe.budget["seconds"] > 0
    assert [c["name"] for c in recipe.candidates][0] == NONE
    assert all(len(c["scores"]) == 2 for c in recipe.candidates)
    assert recipe.data["counts"] == [20, 20, 20, 20]
    assert recipe.data["fingerprint"] == fingerprint(tiny_store.images, tiny_store.labels.tolist())
    # a 2-step generator's samples fail the gate for every class: every mix is the real data, and it says so
    assert all(n == 0 for c in recipe.candidates for n in c["synthetic_images"])
    assert recipe.choice == NONE and "the fidelity gate let no class's samples in" in recipe.reason
    path = recipe.save(tmp_path / "recipe.json")
    loaded = Recipe.load(path)
    assert loaded.mix == recipe.mix and loaded.data == recipe.data and loaded.candidates[1]["difference"]["n"] == 2
    with pytest.raises(ConfigError, match="does not overwrite"):
        recipe.save(path)


def test_plan_refuses_data_the_generator_was_not_trained_on_and_classes_too_small_to_fold(tiny_generator):
    with pytest.raises(DataError, match="plan on the data the generator was trained on"):
        ganaug.plan(make_tiny_data((1, 12, 12), num_classes=4, per_class=5), tiny_generator, **FAST)
    lonely = make_tiny_data(num_classes=4, per_class=5)
    lonely = lonely.subset(np.r_[0:15, 15])  # the last class keeps one image
    with pytest.raises(DataError, match="fewer than 2 images"):
        ganaug.plan(lonely, tiny_generator, **FAST)


def _recipe(store, generator, choice="a", mix=None, no_synthetic=()):
    counts = np.bincount(store.labels.numpy(), minlength=store.num_classes).tolist()
    return Recipe(choice=choice, mix=mix if mix is not None else {"ratio": 0.5, "class_policy": "match"},
                  no_synthetic=list(no_synthetic), reason="test", uncertain=False, candidates=[],
                  budget={"runs": 0, "steps": 0, "seconds": 0.0}, data={
                      "classes": list(store.classes), "counts": counts,
                      "fingerprint": fingerprint(store.images, store.labels.tolist())},
                  generator={"model": generator.model, "classes": list(generator.classes),
                             "image_shape": list(generator.image_shape)})


def _passing(generator):
    passing = copy.copy(generator)
    passing.fidelity = FidelityReport(list(generator.classes), [0.9] * 4, [0.9] * 4)
    return passing


def test_a_mix_from_a_recipe_is_exactly_the_mix_it_names(tiny_store, tiny_generator):
    generator = _passing(tiny_generator)
    recipe = _recipe(tiny_store, generator, no_synthetic=["class1"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same data: no warning
        mix = SyntheticMix.from_recipe(tiny_store, generator, recipe, seed=3)
    plain = SyntheticMix(tiny_store, generator, ratio=0.5, class_policy="match", seed=3, no_synthetic=["class1"])
    assert mix.class_counts() == plain.class_counts()
    assert mix.class_counts()["class1"]["synthetic"] == 0 and mix.class_counts()["class0"]["synthetic"] > 0
    assert np.array_equal(mix.bank.numpy(), plain.bank.numpy())


def test_a_recipe_of_none_gives_the_real_items_and_says_why(tiny_store, tiny_generator, tmp_path):
    recipe = _recipe(tiny_store, tiny_generator, choice=NONE, mix={"ratio": 0.0})
    path = recipe.save(tmp_path / "none.json")
    with pytest.warns(UserWarning, match="no synthetic data, so this mix holds the real items only: test"):
        mix = SyntheticMix.from_recipe(tiny_store, tiny_generator, path)
    assert mix.n_synthetic == 0 and len(mix) == len(tiny_store)


def test_a_recipe_used_on_other_data_warns_and_other_classes_are_refused(tiny_store, tiny_generator):
    generator = _passing(tiny_generator)
    recipe = _recipe(tiny_store, generator)
    fewer = tiny_store.subset(np.r_[0:10, 20:80])
    with pytest.warns(UserWarning, match=r"planned on other data.*images per class \[10, 20, 20, 20\]"):
        SyntheticMix.from_recipe(fewer, generator, recipe)
    other = make_tiny_data(num_classes=4, per_class=20, seed=5)
    with pytest.warns(UserWarning, match="the same counts but other images"):
        SyntheticMix.from_recipe(other, generator, recipe)
    renamed = dict(recipe.generator, classes=["w", "x", "y", "z"])
    with pytest.raises(DataError, match="plan again with this generator"):
        SyntheticMix.from_recipe(tiny_store, generator, Recipe(**{**recipe.__dict__, "generator": renamed}))


def test_from_recipe_refuses_arguments_the_recipe_sets_and_unknown_classes(tiny_store, tiny_generator, tmp_path):
    recipe = _recipe(tiny_store, tiny_generator)
    with pytest.raises(ConfigError, match="ratio: set by the recipe"):
        SyntheticMix.from_recipe(tiny_store, tiny_generator, recipe, ratio=0.3)
    with pytest.raises(ConfigError, match="'owl' is not one of the generator's classes"):
        SyntheticMix(tiny_store, tiny_generator, no_synthetic=["owl"])
    bad = tmp_path / "bad.json"
    bad.write_text("{\"hello\": 1}")
    with pytest.raises(ConfigError, match="not a recipe"):
        Recipe.load(bad)
    with pytest.raises(ConfigError, match="no such recipe file"):
        Recipe.load(tmp_path / "missing.json")


def test_the_plan_command_writes_a_recipe_and_never_replaces_a_file(npz, tmp_path):
    run = tmp_path / "run"
    ganaug.fit(str(npz), "test_cdcgan", steps=2, batch_size=16, progress=False, out=run)
    out = tmp_path / "recipe.json"
    args = ["plan", str(npz), "--generator", str(run), "--out", str(out), "--steps", "4", "--folds", "2",
            "--repeats", "1", "--classifier", "small-cnn", "--device", "cpu"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "plan: 4 candidates x 2 held-out folds = 8 classifier runs" in result.output
    assert "recipe: " in result.output and f"wrote {out}" in result.output
    assert Recipe.load(out).data["counts"] == [20, 20, 20, 20]
    again = CliRunner().invoke(main, args)
    assert again.exit_code != 0 and "does not overwrite" in again.output


def test_the_gain_protocol_measures_the_planned_mix_against_the_arms_without_synthetic_data(tiny_store,
                                                                                            tiny_generator):
    from ganaug.gain.arms import arm_from_name

    report = ganaug.evaluate_gain(tiny_store, generator=tiny_generator, plan=True, arms=("real+classic+synthetic@plan",),
                                  seeds=1, steps=3, plan_steps=3, plan_quick=True, synthetic_only=False,
                                  classifier="small-cnn", device="cpu", progress=False)
    assert [arm.name for arm in report.arms] == ["real", "real+classic", "real+classic+synthetic@plan"]
    planned = next(run for run in report.runs if run["arm"] == "real+classic+synthetic@plan")
    assert planned["recipe"]["choice"] == NONE and planned["recipe"]["runs"] == 6
    assert planned["n_synthetic"] == 0 and planned["n_real"] == len(tiny_store) * 3 // 4
    assert arm_from_name("real+classic+synthetic@plan, balanced sampling").planned
    assert "real+classic+synthetic@plan" in report.to_markdown()
