"""The CLI's flags come from the config dataclasses: names, choices, defaults and validation."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from ganaug.cli import main
from ganaug.configs import cli_fields
from ganaug.gain.config import GainConfig
from ganaug.train.config import TrainConfig


@pytest.mark.parametrize(("command", "config"), [("train", TrainConfig), ("gain", GainConfig)])
def test_every_flag_field_is_an_option_with_its_help(command, config):
    result = CliRunner().invoke(main, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for field in cli_fields(config):
        flag = "--" + field.name.replace("_", "-")
        assert flag in result.output, flag
        assert field.metadata["help"].split(".")[0][:30] in " ".join(result.output.split()), field.name


def test_flags_are_validated_by_the_config_not_by_hand(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["gain", "digits", "--train-gan", "--seeds", "0", "--out", str(tmp_path / "g")])
    assert result.exit_code == 1 and "seeds=0 must be >= 1" in result.output and "Traceback" not in result.output
    result = runner.invoke(main, ["gain", "digits", "--train-gan", "--ratios", "0.5,x"])
    assert result.exit_code == 1 and "--ratios '0.5,x': use a comma list of numbers" in result.output
    result = runner.invoke(main, ["train", "digits", "--steps", "-1", "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "steps=-1 must be >= 1" in result.output
    result = runner.invoke(main, ["train", "digits", "--nproc", "-3"])
    assert result.exit_code == 2 and "-3 is not in the range x>=1" in result.output


def test_toml_values_are_typed_by_the_config(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('seed = "abc"\n[model]\nlr_g = "fast"\n')
    result = CliRunner().invoke(main, ["train", "digits", "--config", str(config), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "seed='abc' must be an integer" in result.output


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().steps = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        GainConfig().seeds = 3  # type: ignore[misc]
