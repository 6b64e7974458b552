"""The CLI through click's CliRunner: train, sample, demo, --version, and errors without tracebacks."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import ganaug
from ganaug.cli import main


@pytest.fixture
def runner():
    return CliRunner()


def test_version(runner):
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and ganaug.__version__ in result.output


def test_train_then_sample_folder_and_npz(runner, image_folder, tmp_path):
    config = tmp_path / "train.toml"
    config.write_text('batch_size = 4\nprogress = false\n[model]\nz_dim = 4\n')
    out = tmp_path / "run"
    result = runner.invoke(main, ["train", str(image_folder), "--model", "test_cdcgan", "--steps", "3",
                                  "--out", str(out), "--config", str(config), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "generator:" in result.output
    assert ganaug.load(out).gan.config.z_dim == 4

    result = runner.invoke(main, ["sample", str(out), "--per-class", "3", "--out", str(tmp_path / "imgs")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "imgs").iterdir()) == ["cat", "dog"]
    assert len(list((tmp_path / "imgs" / "cat").glob("*.png"))) == 3
    assert ganaug.load_data(tmp_path / "imgs").class_counts() == [3, 3]

    result = runner.invoke(main, ["sample", str(out), "--per-class", "2", "--out", str(tmp_path / "s.npz")])
    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "s.npz") as archive:
        assert archive["x"].shape == (4, 8, 8) and archive["y"].tolist() == [0, 0, 1, 1]
        assert archive["classes"].tolist() == ["cat", "dog"]

    result = runner.invoke(main, ["train", str(image_folder), "--model", "test_cdcgan", "--steps", "5",
                                  "--out", str(out), "--config", str(config), "--resume"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "no/such/folder"], "does not exist"),
        (["train", "digits", "--model", "cdcgann"], "Did you mean 'cdcgan'"),
        (["train", "digits", "--steps", "-1"], "steps=-1"),
        (["sample", "."], "Missing option '--out'"),
    ],
)
def test_errors_are_messages_not_tracebacks(runner, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_data_error_names_the_file(runner, image_folder, tmp_path):
    (image_folder / "cat" / "bad.png").write_bytes(b"nope")
    result = runner.invoke(main, ["train", str(image_folder), "--model", "test_cdcgan", "--steps", "1",
                                  "--out", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert "cat/bad.png: unreadable or corrupt image" in result.output and "--skip-bad" in result.output


def test_demo_runs_and_reports(runner, tmp_path):
    out = tmp_path / "demo"
    result = runner.invoke(main, ["demo", "--out", str(out), "--steps", "30", "--gain-seeds", "2", "--gain-steps", "3"])
    assert result.exit_code == 0, result.output
    assert "conditional accuracy" in result.output and "per-class diversity" in result.output
    assert "| real+classic+synthetic@0.5 |" in result.output and (out / "gain" / "gain.json").exists()
    assert (out / "samples" / "grid_final.png").exists()
    result = runner.invoke(main, ["demo", "--out", str(out), "--steps", "2", "--gain-seeds", "0"])  # reruns replace it
    assert result.exit_code == 0, result.output
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "precious.txt").write_text("keep")
    result = runner.invoke(main, ["demo", "--out", str(tmp_path / "mine"), "--steps", "2", "--gain-seeds", "0"])
    assert result.exit_code == 1 and "was not made by `ganaug demo`" in result.output
    assert (tmp_path / "mine" / "precious.txt").exists()
