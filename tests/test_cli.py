"""The CLI through click's CliRunner: train, sample, demo, --version, and errors without tracebacks."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

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
        assert archive["x"].shape == (4, 1, 8, 8) and archive["y"].tolist() == [0, 0, 1, 1]
        assert archive["classes"].tolist() == ["cat", "dog"]

    assert _newest_step(out) == 3
    result = runner.invoke(main, ["train", str(image_folder), "--model", "test_cdcgan", "--steps", "5",
                                  "--out", str(out), "--config", str(config), "--resume"])
    assert result.exit_code == 0, result.output
    assert _newest_step(out) == 5
    _assert_report(result.stdout, out, classes=2)


def _newest_step(run):
    newest = ganaug.runs.checkpoint.checkpoint_dirs(run)[0]
    step = json.loads((newest / "meta.json").read_text())["step"]
    assert newest.name == f"step_{step:08d}"
    return step


def _assert_report(stdout, out, classes):
    """The four lines `ganaug train` ends with."""
    lines = stdout.strip().splitlines()[-4:]
    assert re.fullmatch(rf"trained TrainedGenerator\(model='test_cdcgan', classes={classes}, image_shape=\(1, 8, 8\), "
                        r"device=cpu\) in \d+ s", lines[0]), lines[0]
    assert lines[1:] == [f"run folder:  {out}  (log.jsonl, samples/, checkpoints/)",
                         f"generator:   {out / 'generator'}  (load with ganaug.load)",
                         f"final grid:  {out / 'samples' / 'grid_final.png'}"]


def _losses(run):
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    return [(r["step"], r["loss_d"], r["loss_g"]) for r in records if "loss_d" in r]


def test_resume_ends_where_an_uninterrupted_run_does(runner, npz, tmp_path):
    """6 steps straight, or 3 then --resume to 6: same checkpoint, weights, optimiser states and losses."""
    config = tmp_path / "train.toml"
    config.write_text("progress = false\nlog_every = 1\ncheckpoint_every = 2\n")
    common = [str(npz), "--model", "test_cdcgan", "--batch-size", "8", "--seed", "3", "--device", "cpu",
              "--config", str(config)]
    straight, halves = tmp_path / "straight", tmp_path / "halves"

    result = runner.invoke(main, ["train", *common, "--steps", "6", "--out", str(straight)])
    assert result.exit_code == 0, result.output
    _assert_report(result.stdout, straight, classes=4)
    result = runner.invoke(main, ["train", *common, "--steps", "3", "--out", str(halves)])
    assert result.exit_code == 0, result.output
    assert _newest_step(halves) == 3
    assert [step for step, _, _ in _losses(halves)] == [1, 2, 3]
    result = runner.invoke(main, ["train", *common, "--steps", "6", "--out", str(halves)])
    assert result.exit_code == 1 and "--resume" in result.output  # a used run folder needs --resume
    result = runner.invoke(main, ["train", *common, "--steps", "6", "--out", str(halves), "--resume"])
    assert result.exit_code == 0, result.output
    _assert_report(result.stdout, halves, classes=4)

    assert _newest_step(straight) == _newest_step(halves) == 6
    a, b = (load_file(str(ganaug.runs.checkpoint.checkpoint_dirs(run)[0] / "weights.safetensors"))
            for run in (straight, halves))
    assert a.keys() == b.keys() and any(k.startswith("gan.ema_generator.") for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert _losses(halves) == _losses(straight) and len(_losses(straight)) == 6
    expected = ganaug.load(straight).sample(per_class=2, seed=0)
    assert torch.equal(ganaug.load(halves / "generator").sample(per_class=2, seed=0), expected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "no/such/folder"], "does not exist"),
        (["train", "digits", "--model", "cdcgann"], "Did you mean 'cdcgan'"),
        (["train", "digits", "--steps", "-1"], "steps=-1"),
        (["sample", "."], "Missing option '--out'"),
        (["gain", "digits", "--train-gan", "--variation-strengths", "0.75,1"], "picks a family that draws images from noise"),
        (["gain", "digits", "--train-gan", "--variation-strengths", "2"], "variation_strengths"),
    ],
)
def test_errors_are_messages_not_tracebacks(runner, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, args, catch_exceptions=False)
    assert result.exit_code == (2 if message.startswith("Missing option") else 1), result.output  # 2: click's usage
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
    result = runner.invoke(main, ["demo", "--out", str(out), "--steps", "30", "--gain-seeds", "2", "--gain-steps", "3",
                                  "--restore-steps", "3"])
    assert result.exit_code == 0, result.output
    assert "inpainting a 4x6 box" in result.output and "(mean fill:" in result.output
    assert (out / "restoration.png").exists() and (out / "variations.png").exists()
    assert "conditional accuracy" in result.output and "per-class diversity" in result.output
    assert "per-class fidelity" in result.output and "failing classes" in result.output
    assert "| real+classic+synthetic@0.5 |" in result.output and (out / "gain" / "gain.json").exists()
    assert (out / "samples" / "grid_final.png").exists()
    result = runner.invoke(main, ["demo", "--out", str(out), "--steps", "2", "--gain-seeds", "0",
                                  "--restore-steps", "0"])  # reruns replace it
    assert result.exit_code == 0, result.output
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "precious.txt").write_text("keep")
    result = runner.invoke(main, ["demo", "--out", str(tmp_path / "mine"), "--steps", "2", "--gain-seeds", "0",
                                  "--restore-steps", "0"])
    assert result.exit_code == 1 and "was not made by `ganaug demo`" in result.output
    assert (tmp_path / "mine" / "precious.txt").exists()
