"""Fixtures of the mix tests: the tiny 4-class store and the session's 2-step generator trained on it."""

from __future__ import annotations

import pytest

from ganaug.testing import make_tiny_data


@pytest.fixture(scope="module")
def store():
    return make_tiny_data(num_classes=4, per_class=20)


@pytest.fixture(scope="module")
def generator(tiny_generator):
    return tiny_generator
