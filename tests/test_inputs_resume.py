"""Resuming never overwrites what the user has and never surprises in silence.

Each case gets one ``Error:`` line (exit status 1) that names the culprit and says how to fix it,
raised before any work when the information is there before the work, or one warning where going
on is right, naming what was kept. Everything shared (a tiny .npz of 3 classes x 10 images of 8x8,
a 2-step ``test_cdcgan`` run with a checkpoint at each step) is built once by :func:`corpus`; a case
that changes a run works on its own copy.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

import ganaug
from ganaug import CheckpointError, ConfigError
from ganaug.cli import main
from ganaug.runs.checkpoint import checkpoint_dirs, read_checkpoint
from ganaug.testing import make_tiny_data
from ganaug.train.config import TrainConfig
from tests.test_bad_inputs import _error_lines


def _train(*args: str | Path) -> object:
    return CliRunner().invoke(main, ["train", *map(str, args)], catch_exceptions=False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> SimpleNamespace:
    d = tmp_path_factory.mktemp("resume")
    store = make_tiny_data(num_classes=3, per_class=10)
    np.savez(d / "tiny.npz", x=store.images[:, 0].numpy(), y=store.labels.numpy())
    four = make_tiny_data(num_classes=4, per_class=10)
    np.savez(d / "four.npz", x=four.images[:, 0].numpy(), y=four.labels.numpy())
    (d / "quiet.toml").write_text("progress = false\ntensorboard = false\ncheckpoint_every = 1\n")
    common = ["--steps", "2", "--batch-size", "8", "--device", "cpu", "--config", d / "quiet.toml"]
    for data, run in (("tiny.npz", "run"), ("four.npz", "other")):
        result = _train(d / data, "--model", "test_cdcgan", "--out", d / run, *common)
        assert result.exit_code == 0, result.output
    return SimpleNamespace(dir=d, npz=d / "tiny.npz", four=d / "four.npz", run=d / "run", other=d / "other",
                           store=store)


@pytest.fixture(autouse=True)
def _crash_files_in_tmp_path(monkeypatch, tmp_path):
    monkeypatch.setenv("GANAUG_CRASH_DIR", str(tmp_path / "crashes"))


def _copy(corpus, tmp_path: Path) -> Path:
    return shutil.copytree(corpus.run, tmp_path / "run")


def _resume(corpus, run: Path, *args: str | Path, data: Path | None = None, config: Path | None = None):
    return _train(data or corpus.npz, "--model", "test_cdcgan", "--device", "cpu", "--out", run, "--resume",
                  "--config", config or corpus.dir / "quiet.toml", *args)


def _one_error(result) -> str:
    errors = _error_lines(result)
    assert result.exit_code == 1 and len(errors) == 1, result.output
    assert "Traceback" not in result.output
    return errors[0]


def _fails_if_data_is_loaded(monkeypatch) -> None:
    import ganaug.train.trainer as trainer

    def no_loading(*args, **kwargs):
        raise AssertionError("the data was loaded before the refusal")

    monkeypatch.setattr(trainer, "load_data", no_loading)


# -- 1. options the checkpoint keeps ----------------------------------------------------------------


def test_resume_warns_naming_each_family_option_the_checkpoint_keeps(corpus, tmp_path):
    run = _copy(corpus, tmp_path)
    toml = tmp_path / "changed.toml"
    toml.write_text("progress = false\ntensorboard = false\n[model]\nz_dim = 16\nlr_g = 0.001\nmode_seeking = 0.0\n")
    with pytest.warns(UserWarning) as caught:
        result = _resume(corpus, run, "--steps", "3", config=toml)
    assert result.exit_code == 0, result.output
    kept = [str(w.message) for w in caught if "z_dim" in str(w.message)]
    assert len(kept) == 1, [str(w.message) for w in caught]
    for part in ("z_dim=8 (not 16)", "lr_g=0.0002 (not 0.001)", "mode_seeking=0.1 (not 0.0)", "another --out"):
        assert part in kept[0], kept[0]
    assert read_checkpoint(checkpoint_dirs(run)[0]).model_config["z_dim"] == 8


def test_resume_through_fit_names_kept_training_and_family_options_in_one_warning(corpus, tmp_path):
    run = _copy(corpus, tmp_path)
    with pytest.warns(UserWarning, match=r"seed=0 \(not 5\).*z_dim=8 \(not 4\).*another --out"):
        ganaug.fit(corpus.npz, "test_cdcgan", steps=3, batch_size=8, device="cpu", seed=5, out=run, resume=True,
                   progress=False, tensorboard=False, z_dim=4)


def test_resume_with_the_same_options_says_nothing(corpus, tmp_path):
    run = _copy(corpus, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ganaug.fit(corpus.npz, "test_cdcgan", steps=3, batch_size=8, device="cpu", out=run, resume=True,
                   progress=False, tensorboard=False, z_dim=8, lr_g=0.0002)


# -- 2. nothing to resume from --------------------------------------------------------------------


def test_resume_of_a_finished_run_without_its_checkpoints_refuses_and_keeps_the_generator(corpus, tmp_path,
                                                                                           monkeypatch):
    run = _copy(corpus, tmp_path)
    shutil.rmtree(run / "checkpoints")
    before = (run / "generator" / "generator.safetensors").read_bytes()
    _fails_if_data_is_loaded(monkeypatch)
    error = _one_error(_resume(corpus, run, "--steps", "4"))
    assert str(run) in error and "no checkpoint to resume from" in error, error
    assert "restore" in error and "--out" in error, error
    assert (run / "generator" / "generator.safetensors").read_bytes() == before
    assert not (run / "checkpoints").exists()


def test_resume_when_every_checkpoint_is_damaged_refuses_and_keeps_them(corpus, tmp_path):
    run = _copy(corpus, tmp_path)
    for folder in checkpoint_dirs(run):
        weights = folder / "weights.safetensors"
        weights.write_bytes(weights.read_bytes()[:100])
    with pytest.warns(UserWarning, match="skipping damaged checkpoint"):
        error = _one_error(_resume(corpus, run, "--steps", "4"))
    assert "no checkpoint to resume from" in error and "damaged" in error and "--out" in error, error
    assert [p.name for p in checkpoint_dirs(run)] == ["step_00000002", "step_00000001"]


# -- 3. steps not above the checkpoint's ------------------------------------------------------------


@pytest.mark.parametrize("steps", ["1", "2"])
def test_resume_with_steps_not_above_the_checkpoint_refuses_before_loading_data(corpus, tmp_path, monkeypatch,
                                                                              steps):
    run = _copy(corpus, tmp_path)
    _fails_if_data_is_loaded(monkeypatch)
    error = _one_error(_resume(corpus, run, "--steps", steps))
    assert "step_00000002 is at step 2" in error and f"steps={steps}" in error, error
    assert "pass --steps above 2" in error, error


# -- 4. steps=0 -----------------------------------------------------------------------------------


def test_steps_0_is_refused_from_a_flag_a_file_and_fit(corpus, tmp_path):
    error = _one_error(_train(corpus.npz, "--model", "test_cdcgan", "--steps", "0", "--out", tmp_path / "a"))
    assert "steps=0 trains nothing; pass steps >= 1" in error, error
    toml = tmp_path / "zero.toml"
    toml.write_text("steps = 0\n")
    error = _one_error(_train(corpus.npz, "--model", "test_cdcgan", "--out", tmp_path / "b", "--config", toml))
    assert "steps=0 trains nothing; pass steps >= 1" in error, error
    with pytest.raises(ConfigError, match="steps=0 trains nothing; pass steps >= 1"):
        ganaug.fit(corpus.npz, "test_cdcgan", steps=0, out=tmp_path / "c")
    with pytest.raises(ConfigError, match="steps=-1 must be >= 1"):
        TrainConfig(steps=-1)
    assert not any((tmp_path / name).exists() for name in "abc")


# -- 5. metadata without its checksum -------------------------------------------------------------


def _strip_checksum(meta_path: Path, **edits) -> None:
    meta = json.loads(meta_path.read_text())
    del meta["meta_sha256"]
    meta.update(edits)
    meta_path.write_text(json.dumps(meta))


def test_a_checkpoint_without_its_checksum_is_refused_and_the_one_before_resumed(corpus, tmp_path):
    run = _copy(corpus, tmp_path)
    newest = checkpoint_dirs(run)[0]
    _strip_checksum(newest / "meta.json", lr_scale=1000.0)
    with pytest.raises(CheckpointError, match=r"meta.json: no checksum \(meta_sha256\).*edited or damaged.*restore"):
        read_checkpoint(newest)
    with pytest.warns(UserWarning, match=r"step_00000002/meta.json: no checksum"):
        result = _resume(corpus, run, "--steps", "3")
    assert result.exit_code == 0, result.output
    resumed = read_checkpoint(checkpoint_dirs(run)[0])
    assert resumed.step == 3 and resumed.lr_scale == 1.0


def test_a_saved_generator_without_its_checksum_is_refused(corpus, tmp_path):
    generator = shutil.copytree(corpus.run / "generator", tmp_path / "generator")
    assert "fidelity" in json.loads((generator / "generator.json").read_text())
    _strip_checksum(generator / "generator.json", classes=["a", "b", "c"])
    with pytest.raises(CheckpointError, match=r"generator.json: no checksum.*edited or damaged.*restore"):
        ganaug.load(generator)


def test_files_of_0_1_which_predate_checksums_still_read():
    fixture = Path(__file__).parent / "fixtures" / "run_v0_1"
    assert read_checkpoint(fixture / "checkpoints" / "step_00000002").step == 2
    assert ganaug.load(fixture / "generator").classes == ["class0", "class1", "class2"]


# -- 6. mismatches say the fix ----------------------------------------------------------------------


def test_resume_with_another_family_says_which_to_pass_before_loading_data(corpus, tmp_path, monkeypatch):
    run = _copy(corpus, tmp_path)
    _fails_if_data_is_loaded(monkeypatch)
    error = _one_error(_train(corpus.npz, "--model", "dcgan", "--steps", "4", "--out", run, "--resume"))
    assert "trained with model 'test_cdcgan', not 'dcgan'" in error, error
    assert "pass --model test_cdcgan to resume it, or use another --out (out=) for a new run" in error, error


def test_resume_with_other_data_says_to_use_the_same_data(corpus, tmp_path):
    run = _copy(corpus, tmp_path)
    error = _one_error(_resume(corpus, run, "--steps", "4", data=corpus.four))
    assert "trained on classes" in error, error
    assert "resume with the same DATA, or use another --out (out=) for a new run" in error, error


def test_resume_with_another_image_size_says_which_size(corpus, tmp_path):
    run = _copy(corpus, tmp_path)
    error = _one_error(_resume(corpus, run, "--steps", "4", "--image-size", "16"))
    assert "images (1, 8, 8)" in error and "(1, 16, 16)" in error, error
    assert "--image-size 8" in error and "another --out" in error, error


def test_a_newest_checkpoint_from_another_run_is_named_with_the_fix(corpus, tmp_path):
    run = _copy(corpus, tmp_path)
    foreign = run / "checkpoints" / "step_00000009"
    shutil.copytree(checkpoint_dirs(corpus.other)[0], foreign)
    error = _one_error(_resume(corpus, run, "--steps", "12"))
    assert str(foreign) in error and "another run" in error, error
    assert f"move it out of {run / 'checkpoints'}" in error, error
