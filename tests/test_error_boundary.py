"""The CLI's error boundary: one line and an exit status for every failure; a bug says so and keeps its traceback."""

from __future__ import annotations

import errno
import json
import warnings

import pytest
from click.testing import CliRunner

from ganaug import fit
from ganaug.boundary import BUG_EXIT, describe
from ganaug.cli import main
from ganaug.errors import ConfigError, TrainingInterrupted
from ganaug.runs.checkpoint import checkpoint_dirs, latest_checkpoint
from ganaug.storage import seal_meta

FAST = {"batch_size": 8, "progress": False, "sample_every": 1000, "device": "cpu"}


@pytest.mark.parametrize(("exc", "code", "fragment"), [
    (ConfigError("steps=-1 must be >= 0"), 1, "steps=-1 must be >= 0"),
    (TrainingInterrupted("stopped by SIGTERM at step 3", 15), 143, "stopped by SIGTERM at step 3"),
    (KeyboardInterrupt(), 130, "interrupted"),
    (OSError(errno.ENOSPC, "No space left on device", "/data/run/log.jsonl"), 1,
     "/data/run/log.jsonl: the disk is full"),
    (PermissionError(errno.EACCES, "Permission denied", "/etc/out.npz"), 1,
     "/etc/out.npz: Permission denied; check its permissions"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "x.toml"), 1, "x.toml: No such file"),
    (MemoryError(), 1, "out of memory"),
    (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 76800000000 bytes"), 1,
     "out of memory (DefaultCPUAllocator"),
], ids=["ganaug-error", "signal", "ctrl-c", "disk-full", "permission", "missing-file", "memory-error", "torch-oom"])
def test_each_kind_of_failure_gets_its_message_and_status(exc, code, fragment, tmp_path):
    failure = describe(exc, traceback_dir=tmp_path)
    assert (failure.exit_code, failure.bug) == (code, False)
    assert fragment in failure.message
    assert not list(tmp_path.iterdir()), "only bugs save a traceback"


def _raise_a_bug(*args, **kwargs):
    return {}["a key that is not there"]


def test_a_bug_is_one_line_with_the_saved_traceback_and_debug_shows_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GANAUG_CRASH_DIR", str(tmp_path / "crashes"))
    monkeypatch.setattr("ganaug.generator.load", _raise_a_bug)
    run = tmp_path / "run"
    run.mkdir()
    result = CliRunner().invoke(main, ["sample", str(run), "--out", str(tmp_path / "x.npz")])
    assert result.exit_code == BUG_EXIT
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0].startswith("Error: internal error, a bug in ganaug: KeyError")
    assert "please report it" in lines[0] and "--debug" in lines[0]
    (saved,) = (tmp_path / "crashes").iterdir()
    assert saved.name in lines[0]
    text = saved.read_text()
    assert "command: " in text and "Traceback (most recent call last)" in text and "_raise_a_bug" in text

    debug = CliRunner().invoke(main, ["--debug", "sample", str(run), "--out", str(tmp_path / "x.npz")])
    assert isinstance(debug.exception, KeyError)  # the traceback is shown, not caught
    monkeypatch.setenv("GANAUG_DEBUG", "1")
    assert isinstance(CliRunner().invoke(main, ["sample", str(run), "--out", str(tmp_path / "y.npz")]).exception,
                      KeyError)


def test_plugin_commands_are_inside_the_boundary(tmp_path, monkeypatch):
    import click

    from ganaug.cli import PluginCommandsGroup

    @click.command("explode")
    def explode():
        raise ZeroDivisionError("plugin bug")

    monkeypatch.setenv("GANAUG_CRASH_DIR", str(tmp_path))
    monkeypatch.setattr(PluginCommandsGroup, "_add_plugin_commands", lambda self: self.add_command(explode))
    result = CliRunner().invoke(main, ["explode"])
    assert result.exit_code == BUG_EXIT and "ZeroDivisionError: plugin bug" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("damage", ["edited", "resealed-missing-key", "resealed-wrong-type"])
def test_a_damaged_checkpoint_meta_falls_back_to_the_previous_checkpoint(tiny_store, tmp_path, damage):
    fit(tiny_store, "test_cdcgan", steps=4, out=tmp_path, checkpoint_every=2, **FAST)
    newest = checkpoint_dirs(tmp_path)[0] / "meta.json"
    meta = json.loads(newest.read_text())
    if damage == "edited":
        meta["step"] = 3  # without re-sealing: the checksum catches it
    elif damage == "resealed-missing-key":
        del meta["opt_g"]["param_groups"]
        meta = seal_meta(meta)
    else:
        meta["image_shape"] = "big"
        meta = seal_meta(meta)
    newest.write_text(json.dumps(meta))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checkpoint = latest_checkpoint(tmp_path)
    assert checkpoint.step == 2
    assert any("skipping damaged checkpoint" in str(w.message) and "meta.json" in str(w.message) for w in caught)
    with pytest.warns(UserWarning, match="skipping damaged checkpoint"):
        fit(tiny_store, "test_cdcgan", steps=6, out=tmp_path, checkpoint_every=2, resume=True, **FAST)
    assert checkpoint_dirs(tmp_path)[0].name == "step_00000006"
