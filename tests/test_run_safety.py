"""A run folder belongs to one process; a full disk or a signal in any phase loses nothing that was saved."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ganaug import fit
from ganaug.errors import DiskFullError, RunFolderBusyError, TrainingInterrupted
from ganaug.runs.checkpoint import checkpoint_dirs
from ganaug.runs.lock import LOCK_FILE, RunLock
from ganaug.storage import read_folder
from ganaug.train.signals import StopNow, StopRequest
from ganaug.train.trainer import Trainer

FAST = {"batch_size": 8, "progress": False, "sample_every": 1000, "device": "cpu"}

HOLD_LOCK = """
import sys, time
from ganaug.runs.lock import RunLock
RunLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(60)
"""


# -- the lock ---------------------------------------------------------------------------------------


def test_a_second_run_on_a_locked_folder_is_refused_and_the_lock_is_released_after(tiny_store, tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunFolderBusyError, match=rf"in use by another ganaug process \(PID {os.getpid()}"):
            fit(tiny_store, "test_cdcgan", steps=2, out=tmp_path, **FAST)
    assert not checkpoint_dirs(tmp_path), "the refused run must not have written anything"
    fit(tiny_store, "test_cdcgan", steps=2, out=tmp_path, **FAST)  # released: the folder is free again
    assert (tmp_path / LOCK_FILE).read_text() == "", "a clean end leaves no holder in the lock file"
    with RunLock(tmp_path) as lock:  # and nothing holds it after the run
        assert lock.held


def test_a_lock_held_by_another_process_refuses_and_a_killed_holder_leaves_no_lock(tiny_store, tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunFolderBusyError, match=rf"PID {holder.pid} on .*--out"):
            fit(tiny_store, "test_cdcgan", steps=2, out=tmp_path, resume=True, **FAST)
    finally:
        holder.kill()
        holder.wait()
    with pytest.warns(UserWarning, match=rf"PID {holder.pid} .* did not end cleanly .* stale"):
        fit(tiny_store, "test_cdcgan", steps=2, out=tmp_path, **FAST)
    assert checkpoint_dirs(tmp_path)


def test_two_cli_trainers_on_one_folder(npz, tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "ganaug", "train", str(npz), "--out", str(out), "--model", "test_cdcgan",
               "--steps", "100000", "--batch-size", "8", "--device", "cpu", "--checkpoint-every", "50"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not ((out / LOCK_FILE).exists() and (out / LOCK_FILE).read_text()):
            time.sleep(0.2)
        second = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True, timeout=120)
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
    assert second.returncode == 1, second.stderr
    assert f"{out} is in use by another ganaug process (PID {first.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode == 128 + signal.SIGTERM


# -- a full disk ------------------------------------------------------------------------------------


def test_a_full_disk_keeps_the_last_checkpoint_and_resume_continues_after(tiny_store, tmp_path, monkeypatch):
    import ganaug.storage as storage

    real_save, calls = storage.save_file, []

    def save_until_full(tensors, path):
        calls.append(path)
        if len(calls) == 2:  # the second checkpoint: the disk fills up halfway through
            with open(path, "wb") as handle:
                handle.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return real_save(tensors, path)

    monkeypatch.setattr(storage, "save_file", save_until_full)
    with pytest.raises(DiskFullError, match=r"the disk is full: .* failed at step 4 .*step_00000002.*--resume"):
        fit(tiny_store, "test_cdcgan", steps=6, out=tmp_path, checkpoint_every=2, **FAST)
    assert [p.name for p in checkpoint_dirs(tmp_path)] == ["step_00000002"]
    read_folder(checkpoint_dirs(tmp_path)[0])  # intact
    assert not list((tmp_path / "checkpoints").glob(".tmp-*")), "the half-written checkpoint's bytes are freed"

    monkeypatch.setattr(storage, "save_file", real_save)  # space freed
    fit(tiny_store, "test_cdcgan", steps=6, out=tmp_path, checkpoint_every=2, resume=True, **FAST)
    assert checkpoint_dirs(tmp_path)[0].name == "step_00000006"


def test_a_full_disk_while_the_weights_are_written_gets_the_full_disk_message(tiny_store, tmp_path, monkeypatch):
    """safetensors reports a full disk as its own SafetensorError, not as an OSError: it must read the same."""
    import ganaug.storage as storage
    from safetensors import SafetensorError

    real_save, calls = storage.save_file, []

    def save_until_full(tensors, path):
        calls.append(path)
        if len(calls) == 2:
            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
        return real_save(tensors, path)

    monkeypatch.setattr(storage, "save_file", save_until_full)
    with pytest.raises(DiskFullError, match=r"the disk is full: writing .*weights.safetensors failed at step 4 .*"
                                            r"step_00000002.*--resume"):
        fit(tiny_store, "test_cdcgan", steps=6, out=tmp_path, checkpoint_every=2, **FAST)
    assert [p.name for p in checkpoint_dirs(tmp_path)] == ["step_00000002"]


def test_the_cli_reports_a_full_disk_in_one_line(npz, tmp_path, monkeypatch):
    from click.testing import CliRunner

    import ganaug.runs.folder as folder
    from ganaug.cli import main

    def full(self, record):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.log_file))

    monkeypatch.setattr(folder.RunFolder, "append_log", full)
    result = CliRunner().invoke(main, ["train", str(npz), "--model", "test_cdcgan", "--steps", "3", "--batch-size",
                                       "8", "--out", str(tmp_path / "run"), "--device", "cpu"],
                                catch_exceptions=False)
    assert result.exit_code == 1
    assert "the disk is full: writing " in result.output and "log.jsonl" in result.output
    assert len([line for line in result.output.splitlines() if "Error: " in line]) == 1, result.output
    assert "Traceback" not in result.output


# -- signals in every phase -------------------------------------------------------------------------


def test_a_signal_inside_a_step_is_deferred_and_outside_stops_at_once():
    stop = StopRequest()
    with stop.handlers():
        with stop.deferred():
            signal.raise_signal(signal.SIGTERM)
            assert stop.requested  # the step goes on
        stop.signal_number = None
        with pytest.raises(StopNow):
            signal.raise_signal(signal.SIGTERM)
        assert stop.name == "SIGTERM"


def test_sigterm_during_set_up_stops_before_training(tiny_store, tmp_path, monkeypatch):
    def check_disk(self):
        signal.raise_signal(signal.SIGTERM)

    monkeypatch.setattr(Trainer, "_check_disk", check_disk)
    with pytest.raises(TrainingInterrupted, match="stopped by SIGTERM during set-up, before training began") as info:
        fit(tiny_store, "test_cdcgan", steps=4, out=tmp_path, **FAST)
    assert info.value.signal_number == signal.SIGTERM
    assert not checkpoint_dirs(tmp_path)
    with RunLock(tmp_path):  # the lock was released
        pass


def test_sigterm_while_scoring_writes_a_checkpoint_and_resumes(tiny_store, tmp_path, monkeypatch):
    from ganaug.train.monitor import Monitor

    scored = Monitor.sample_and_score

    def interrupted_scoring(self, trained, step, final=False):
        if not final:
            signal.raise_signal(signal.SIGTERM)  # arrives halfway through the scoring
        return scored(self, trained, step, final=final)

    monkeypatch.setattr(Monitor, "sample_and_score", interrupted_scoring)
    options = {**FAST, "sample_every": 3}
    with pytest.raises(TrainingInterrupted, match=r"stopped by SIGTERM at step 3; checkpoint written to .*step_00000003"):
        fit(tiny_store, "test_cdcgan", steps=6, out=tmp_path, **options)
    monkeypatch.setattr(Monitor, "sample_and_score", scored)
    fit(tiny_store, "test_cdcgan", steps=6, out=tmp_path, resume=True, **options)
    steps = [json.loads(line).get("step") for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert max(s for s in steps if s is not None) == 6



def test_a_multi_process_run_on_a_locked_folder_is_refused_in_one_line_per_process(npz, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    with RunLock(out):
        result = subprocess.run([sys.executable, "-m", "ganaug", "train", str(npz), "--out", str(out), "--model",
                                 "test_cdcgan", "--steps", "2", "--batch-size", "8", "--device", "cpu", "--nproc", "2"],
                                env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert f"{out} is in use by another ganaug process (PID {os.getpid()}" in result.stderr
    assert "Error: rank 1: stopped because rank 0 could not set up the run" in result.stderr
    assert "Error: training stopped because rank" in result.stderr  # rank 0 may exit first, or be stopped
    assert "Traceback" not in result.stderr
    assert "RuntimeError" not in result.stderr and "ganaug-crash" not in result.stderr  # not gloo's error
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error_lines) == 3, result.stderr  # one line from each rank, one from the launcher
