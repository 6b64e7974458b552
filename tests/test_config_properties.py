"""Property tests: random options never get past the config layer as anything but a config or a ConfigError.

1. Random option dicts (keys from :class:`TrainConfig`, the cdcgan config and junk; values of every
   TOML-like kind) through the dict path (``split_overrides`` + ``from_options`` + ``make_config``) and
   through a TOML file read by ``ganaug train DATA --config``: a valid config, or a ``ConfigError`` /
   exit status 1 with one ``Error:`` line; never another exception, never exit 70, never a traceback.
2. Random :class:`SyntheticMix` keyword arguments over a tiny real set and a 1-step generator: a mix
   whose ``len()``, first and last items work, or a :class:`GanaugError`.

The bugs these properties found are fixed; each is also a named case in ``tests/test_bad_inputs.py``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing
import warnings

import pytest
import torch
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import ganaug
from ganaug import ConfigError, GanaugError, SyntheticMix, UnknownGeneratorError
from ganaug.cli import main, read_config_file
from ganaug.configs import from_options
from ganaug.plugins.registry import default_registry
from ganaug.testing import make_tiny_data
from ganaug.train.config import TrainConfig, split_overrides
from tests.conftest import time_limit

TRAIN_FIELDS = sorted(f.name for f in dataclasses.fields(TrainConfig))
MODEL_FIELDS = sorted(f.name for f in dataclasses.fields(default_registry().generator("cdcgan").gan_class.config_class))
FUNCTION_PARAMETERS = {"data", "registry"}  # fit()'s own parameters, not options

SETTINGS = settings(max_examples=int(os.environ.get("GANAUG_PROPERTY_EXAMPLES", "80")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])




@pytest.fixture(scope="module", autouse=True)
def crash_files_in_a_temporary_folder(tmp_path_factory):
    """A bug's saved traceback goes to a temporary folder, not /tmp."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GANAUG_CRASH_DIR", str(tmp_path_factory.mktemp("crashes")))
        yield


# -- 1. option dicts ----------------------------------------------------------------------------

junk_keys = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True).filter(lambda k: k not in FUNCTION_PARAMETERS)
keys = st.one_of(st.sampled_from(TRAIN_FIELDS), st.sampled_from(MODEL_FIELDS), junk_keys)
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
scalars = st.one_of(
    st.integers(min_value=-10, max_value=5000),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**1100),  # past int64 and past float's range
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
    text,
    st.sampled_from(["cdcgan", "test_cdcgan", "cpu", "auto", "off", "translation", "none"]),
    st.booleans(),
)
values = st.one_of(
    scalars,
    st.lists(st.one_of(st.integers(-3, 3), st.floats(allow_nan=True), text), max_size=3),
    st.dictionaries(st.from_regex(r"[a-z]{1,4}", fullmatch=True), st.integers(-3, 3), max_size=2),
)
option_dicts = st.dictionaries(keys, values, max_size=5)


def _float_fields() -> set[str]:
    hints = {**typing.get_type_hints(TrainConfig),
             **typing.get_type_hints(default_registry().generator("cdcgan").gan_class.config_class)}
    return {name for name, hint in hints.items() if float in (hint, *typing.get_args(hint))}


FLOAT_FIELDS = _float_fields()


@SETTINGS
@given(options=option_dicts)
def test_option_dicts_give_a_config_or_a_config_error(options):
    """Any option dict gives a ConfigError or a config that holds the options given, every float finite."""
    train, model = split_overrides(options)
    try:
        _check_accepted(from_options(TrainConfig, train), train)
    except ConfigError:
        pass
    for family in ("cdcgan", "test_cdcgan"):
        try:
            _check_accepted(default_registry().generator(family).make_config(**model), model)
        except ConfigError:
            pass


def _check_accepted(config, options: dict) -> None:
    for name, value in options.items():
        got = getattr(config, name)
        same = got == (float(value) if isinstance(got, float) and isinstance(value, int) else value)
        assert same or isinstance(value, (list, dict)), (name, value, got)
    for name in FLOAT_FIELDS & {f.name for f in dataclasses.fields(config)}:
        got = getattr(config, name)
        assert got is None or not isinstance(got, float) or math.isfinite(got), (name, got)


@SETTINGS
@given(options=option_dicts)
def test_fit_refuses_bad_options_before_reading_data(options, tmp_path_factory):
    """``fit`` checks every option before it looks at the data: a config error, or the missing data."""
    try:
        ganaug.fit(str(tmp_path_factory.getbasetemp() / "no-such-data"), **options)
    except (ConfigError, UnknownGeneratorError):
        pass
    except ganaug.DataError as exc:
        assert "does not exist" in str(exc)
    else:
        pytest.fail("fit trained on data that does not exist")


def _toml_string(text: str) -> str:
    """A TOML basic string: quote, backslash and control characters escaped."""
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F or c in "\"\\" else c for c in text)
    return f'"{escaped}"'


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_string(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def write_toml(top: dict, model: dict) -> str:
    """A TOML document: ``top`` as top-level keys, ``model`` as a ``[model]`` table."""
    lines = [f"{_toml_string(k)} = {_toml_value(v)}" for k, v in top.items()]
    if model:
        lines.append("[model]")
        lines += [f"{_toml_string(k)} = {_toml_value(v)}" for k, v in model.items()]
    return "\n".join(lines) + "\n"


@SETTINGS
@given(top=option_dicts, model=option_dicts)
def test_toml_config_files_give_one_error_line_and_status_1(top, model, tmp_path_factory):
    """``ganaug train MISSING --config f.toml``: a bad option or the missing data, as one line and exit 1."""
    assume("model" not in top or not (model or isinstance(top["model"], dict)))  # one `model` key per TOML file
    merged = {**top, **model}
    assume("data" not in merged)  # refused by name, tested in test_bad_inputs.py
    folder = tmp_path_factory.mktemp("toml")
    path = folder / "options.toml"
    path.write_text(write_toml(top, model), encoding="utf-8")
    read = read_config_file(path)
    assert {**top, **model}.keys() == read.keys()
    result = CliRunner().invoke(main, ["train", str(folder / "no-such-data"), "--config", str(path)],
                                catch_exceptions=False)
    output = result.output
    assert result.exit_code == 1, output
    assert "Traceback" not in output and "internal error" not in output, output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, output


# -- 2. SyntheticMix arguments ------------------------------------------------------------------


class MixInputs(tuple):
    """(store, generator), with a short repr for hypothesis' failure reports."""

    def __new__(cls, store, generator):
        return super().__new__(cls, (store, generator))

    def __repr__(self) -> str:
        return "MixInputs(3 classes x 10 images of 8x8, 1-step test_cdcgan)"


@pytest.fixture(scope="module")
def mix_inputs():
    """3 classes x 10 tiny images, a 1-step test_cdcgan, and a memory cap so no example can ask for gigabytes."""
    store = make_tiny_data(num_classes=3, per_class=10)
    generator = ganaug.fit(store, "test_cdcgan", steps=1, batch_size=8, progress=False)
    with pytest.MonkeyPatch.context() as patch:
        from ganaug.data import memory

        patch.setattr(memory, "available_memory", lambda: 16 * 2**20)
        yield MixInputs(store, generator)


def mostly(valid, invalid):
    """``valid`` about five times as often as ``invalid``, so most examples get past the first check."""
    return st.sampled_from(range(6)).flatmap(lambda pick: invalid if pick == 5 else valid)


counts = mostly(st.integers(0, 40), st.one_of(st.integers(-3, -1), st.integers(), st.floats(allow_nan=True), text,
                                             st.none(), st.booleans()))
policy_keys = mostly(st.one_of(st.integers(0, 2), st.sampled_from(["class0", "class2"])),
                     st.one_of(st.integers(-2, 5), st.just("nosuch"), st.floats(), st.none()))
mix_kwargs = st.fixed_dictionaries({}, optional={
    "ratio": mostly(st.one_of(st.none(), st.floats(0, 1, exclude_max=True), st.sampled_from([0, 0.25, 0.5, 0.9])),
                    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 3), text)),
    "class_policy": mostly(st.one_of(st.sampled_from(["match", "uniform", "balance"]),
                                     st.dictionaries(policy_keys, counts, max_size=4)),
                           st.one_of(text, st.integers(), st.lists(st.integers(0, 3)))),
    "seed": mostly(st.integers(0, 2**63 - 1), st.one_of(st.integers(-5, -1), st.integers(min_value=2**63), st.floats(),
                                                        text, st.none())),
    "bank_size": mostly(st.one_of(st.none(), st.integers(1, 60)), st.one_of(st.integers(-2, 0), st.floats(), text)),
    "refresh": mostly(st.one_of(st.sampled_from(["epoch", "never"]), st.integers(1, 4)),
                      st.one_of(st.just("daily"), st.integers(-1, 0), st.none(), st.floats())),
    "max_per_real": mostly(st.one_of(st.none(), st.floats(0, 100), st.integers(0, 10)),
                           st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, -1), text)),
    "max_draws": mostly(st.integers(1, 20), st.one_of(st.integers(-2, 0), st.floats(), st.none(), text)),
    "fidelity": mostly(st.sampled_from(["auto", None]), st.one_of(text, st.integers())),
})


@SETTINGS
@given(kwargs=mix_kwargs)
def test_mix_arguments_give_a_working_mix_or_a_ganaug_error(kwargs, mix_inputs):
    store, generator = mix_inputs
    with time_limit(10), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fidelity gate's warning about the 1-step generator's classes
        try:
            mix = SyntheticMix(store, generator, **kwargs)
        except GanaugError as exc:
            event(f"refused: {type(exc).__name__}")
            return
        event("constructed")
        assert len(mix) == mix.n_real + mix.n_synthetic
        if len(mix):
            image, label = mix[0]
            assert isinstance(image, torch.Tensor) and image.shape == (1, 8, 8)
            image, label = mix[len(mix) - 1]
            assert image.shape == (1, 8, 8) and 0 <= int(label) < 3
