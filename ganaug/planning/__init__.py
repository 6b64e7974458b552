"""Decide on the user's data: plan a synthetic mix by cross-validation, keep it as a recipe, mix by it.

* :func:`ganaug.plan` (:mod:`ganaug.planning.planner`): folds of the training data, a quick classifier per
  fold and candidate mix (:mod:`ganaug.planning.candidates`), the choice (:mod:`ganaug.planning.choose`);
* :class:`~ganaug.planning.recipe.Recipe`: the choice, why, and the data it was planned on, as a value and a
  JSON file; :meth:`ganaug.SyntheticMix.from_recipe` mixes by it.

Only the recipe is imported here; the planner (scikit-learn, albumentations) loads on first use.
"""
