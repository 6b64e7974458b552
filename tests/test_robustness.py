"""Kills, signals, garbage input and planted files: at most one checkpoint interval lost, a clear message each time."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganaug
from ganaug import CheckpointError, DataError, load_data
from ganaug.runs.checkpoint import checkpoint_dirs
from ganaug.storage import read_folder
from ganaug.testing import make_tiny_data
from tests.conftest import write_image_folder

TRAIN = ["--model", "test_cdcgan", "--batch-size", "16", "--seed", "3", "--device", "cpu", "--checkpoint-every", "1",
         "--sample-every", "1000"]


def _train_command(data: Path, out: Path, steps: int, resume: bool = False, config: Path | None = None) -> list[str]:
    command = [sys.executable, "-m", "ganaug", "train", str(data), "--steps", str(steps), "--out", str(out), *TRAIN]
    return command + (["--config", str(config)] if config else []) + (["--resume"] if resume else [])


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def _logged_losses(out: Path) -> list[tuple[int, float, float]]:
    """(step, loss_d, loss_g) of every complete loss line of the run's log."""
    try:
        lines = (out / "log.jsonl").read_text().splitlines()
    except FileNotFoundError:
        return []
    losses = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the line being written
        if "loss_d" in record:
            losses.append((record["step"], record["loss_d"], record["loss_g"]))
    return losses


def _logged_step(out: Path) -> int:
    losses = _logged_losses(out)
    return losses[-1][0] if losses else 0


def _writing(checkpoints: Path) -> bool:
    """A checkpoint is being written: its hidden temporary folder exists."""
    try:
        with os.scandir(checkpoints) as entries:
            return any(entry.name.startswith(".tmp-step_") for entry in entries)
    except FileNotFoundError:
        return False


def test_sigkills_after_a_step_or_mid_write_never_corrupt_and_resume_exactly(npz, tmp_path):
    """SIGKILL at chosen moments, not after sleeps: once the log reaches a chosen step, or while a
    checkpoint's temporary folder exists (a kill mid-write). Every checkpoint left must verify, at
    most one checkpoint interval is lost, and resuming to the end gives the uninterrupted run's
    weights, optimiser states and losses."""
    steps, config = 48, tmp_path / "train.toml"
    config.write_text("progress = false\nlog_every = 1\n")
    reference = tmp_path / "reference"
    subprocess.run(_train_command(npz, reference, steps, config=config), env=_env(), check=True, capture_output=True)

    out, rng, mid_write = tmp_path / "killed", random.Random(7), 0
    checkpoints = out / "checkpoints"
    plan = ["step", "write", "step", "write"]
    for trial, condition in enumerate(plan):
        start = _logged_step(out)
        target = start + rng.randint(2, 6)
        with open(tmp_path / f"stderr{trial}.txt", "w") as stderr:
            process = subprocess.Popen(_train_command(npz, out, steps, resume=trial > 0, config=config), env=_env(),
                                       stdout=subprocess.DEVNULL, stderr=stderr)
            deadline = time.monotonic() + 60
            # Once the log shows the target step, kill: "write" while a checkpoint is being written,
            # "step" while none is (during a training step).
            while _logged_step(out) < target or _writing(checkpoints) != (condition == "write"):
                assert process.poll() is None, (tmp_path / f"stderr{trial}.txt").read_text()[-2000:]
                assert time.monotonic() < deadline, f"trial {trial} never reached step {target}"
                time.sleep(0.0005)  # a checkpoint write (three fsyncs) lasts longer; a busy loop would slow training
            process.send_signal(signal.SIGKILL)
            assert process.wait() == -signal.SIGKILL
        mid_write += _writing(checkpoints)  # the kill landed before the temporary folder was renamed
        logged, folders = _logged_step(out), checkpoint_dirs(out)
        assert logged >= target and logged < steps
        for folder in folders:
            read_folder(folder)  # raises on any damaged checkpoint
        newest = int(folders[0].name.removeprefix("step_"))
        assert logged - 1 <= newest <= logged, (logged, newest)  # at most one checkpoint interval lost
    assert mid_write >= 1, "no kill landed while a checkpoint was being written"

    subprocess.run(_train_command(npz, out, steps, resume=True, config=config), env=_env(), check=True,
                   capture_output=True)
    assert not list(checkpoints.glob(".tmp-*")), "the resumed run leaves no temporary folder behind"
    (expected, _), (got, _) = read_folder(checkpoint_dirs(reference)[0]), read_folder(checkpoint_dirs(out)[0])
    assert checkpoint_dirs(out)[0].name == f"step_{steps:08d}"
    assert expected.keys() == got.keys()
    for key in expected:  # weights, EMA and optimiser states
        assert torch.equal(expected[key], got[key]), key
    assert _logged_losses(out) == _logged_losses(reference)
    assert [step for step, _, _ in _logged_losses(out)] == list(range(1, steps + 1))
    print(f"{len(plan)} SIGKILLs, {mid_write} during a checkpoint write")


def test_kill_during_a_checkpoint_write_loses_only_that_checkpoint(tiny_store, tmp_path):
    """What a SIGKILL mid-write leaves: a half-written temp folder, or a damaged newest checkpoint."""
    ganaug.fit(tiny_store, "test_cdcgan", steps=6, batch_size=16, out=tmp_path, checkpoint_every=2, progress=False)
    half = tmp_path / "checkpoints" / ".tmp-step_00000008-99999"
    half.mkdir()
    (half / "weights.safetensors").write_bytes(b"\x00" * 100)
    newest = tmp_path / "checkpoints" / "step_00000006" / "weights.safetensors"
    newest.write_bytes(newest.read_bytes()[:50])
    with pytest.warns(UserWarning, match="checksum mismatch"):
        resumed = ganaug.fit(tiny_store, "test_cdcgan", steps=8, batch_size=16, out=tmp_path, checkpoint_every=2,
                             resume=True, progress=False)
    straight = ganaug.fit(tiny_store, "test_cdcgan", steps=8, batch_size=16, out=tmp_path / "straight",
                          checkpoint_every=2, progress=False)
    assert not half.exists()
    for key, value in straight.gan.state_dict().items():
        assert torch.equal(value, resumed.gan.state_dict()[key]), key


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_write_a_checkpoint_and_exit_cleanly(npz, tmp_path, signum, code):
    out = tmp_path / "run"
    command = _train_command(npz, out, 100000)
    command[command.index("--checkpoint-every") + 1] = "1000"
    process = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120  # set-up (the judge's fit) can take long on a loaded machine: wait for a step
    log = out / "log.jsonl"
    while not (log.exists() and '"loss_d"' in log.read_text()) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert f"stopped by {signal.Signals(signum).name} at step" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr
    step = int(stderr.split(" at step ")[1].split(";")[0])
    assert checkpoint_dirs(out)[0].name == f"step_{step:08d}"
    read_folder(checkpoint_dirs(out)[0])


# -- bad input corpus ---------------------------------------------------------------------------


def _folder_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


def _save(path: Path, image: Image.Image, **kwargs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **kwargs)


def test_special_image_modes_convert_as_documented(tmp_path):
    root = tmp_path / "modes"
    _save(root / "a" / "sixteen.png", Image.fromarray(np.full((8, 8), 65535, np.uint16)))  # I;16 -> 255
    _save(root / "a" / "palette.png", Image.new("P", (8, 8), 3))
    _save(root / "b" / "rgba.png", Image.new("RGBA", (8, 8), (10, 20, 30, 0)))
    _save(root / "b" / "cmyk.jpg", Image.new("CMYK", (8, 8), (0, 0, 0, 0)))
    before = _folder_digest(root)
    store = load_data(root, channels=3)
    assert store.image_shape == (3, 8, 8) and store.class_counts() == [2, 2]
    assert int(store.images[1].min()) == 255  # 16-bit white stays white
    assert int(store.images[2].min()) >= 250  # b/cmyk.jpg: CMYK (0, 0, 0, 0) is white
    assert store.images[3, :, 0, 0].tolist() == [10, 20, 30]  # b/rgba.png: alpha dropped
    assert _folder_digest(root) == before, "loading modified the user's data folder"


def test_grayscale_mixed_with_rgb_needs_channels(tmp_path):
    root = write_image_folder(tmp_path / "mixed", classes=("a",), per_class=2)
    write_image_folder(root, classes=("b",), per_class=2, mode="RGB")
    with pytest.raises(DataError, match="mixed channel counts; pass channels=1 or 3"):
        load_data(root)


def test_truncated_jpeg_and_text_named_png(tmp_path):
    root = write_image_folder(tmp_path / "bad", per_class=2)
    buffer = root / "cat" / "photo.jpg"
    Image.new("L", (8, 8), 128).save(buffer, quality=90)
    buffer.write_bytes(buffer.read_bytes()[:40])
    (root / "dog" / "notes.png").write_text("hello, I am text")
    with pytest.raises(DataError, match=r"photo.jpg: unreadable or corrupt image"):
        load_data(root)
    with pytest.warns(UserWarning, match="skipped 2 unreadable"):
        assert len(load_data(root, skip_bad=True)) == 4


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    root = write_image_folder(tmp_path / "bomb", per_class=2, size=(40, 40))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(DataError, match="image too large"):
        load_data(root)


def test_empty_class_folder_warns(tmp_path):
    root = write_image_folder(tmp_path / "some", classes=("a", "b"), per_class=2)
    (root / "c").mkdir()
    with pytest.warns(UserWarning, match="empty class folder"):
        store = load_data(root)
    assert store.classes == ["a", "b", "c"] and store.class_counts() == [2, 2, 0]


def test_npz_with_wrong_dtypes(tmp_path):
    np.savez(tmp_path / "complex.npz", x=np.zeros((4, 4, 4), np.complex64), y=[0, 1, 0, 1])
    with pytest.raises(DataError, match="dtype complex64 are not supported"):
        load_data(tmp_path / "complex.npz")
    np.savez(tmp_path / "floatlabels.npz", x=np.zeros((4, 4, 4), np.uint8), y=[0.5, 1, 0, 1])
    with pytest.raises(DataError, match="labels must be integers"):
        load_data(tmp_path / "floatlabels.npz")


def test_a_store_that_would_not_fit_in_memory_is_refused(tmp_path, monkeypatch):
    import ganaug.data.memory as data_module

    monkeypatch.setattr(data_module, "available_memory", lambda: 1000)
    store = make_tiny_data(num_classes=4, per_class=20)
    with pytest.raises(DataError, match=r"80 images of \(1, 8, 8\) need 5.6 KiB in memory.* only 1000.0 B"):
        load_data((store.images[:, 0].numpy(), store.labels.numpy()))
    root = write_image_folder(tmp_path / "f", per_class=20)
    with pytest.raises(DataError, match="40 images of"):
        load_data(root)


# -- nothing unsafe is loaded ----------------------------------------------------------------------


def test_checkpoint_links_outside_the_run_are_refused(tiny_store, tmp_path):
    run = tmp_path / "run"
    ganaug.fit(tiny_store, "test_cdcgan", steps=2, batch_size=16, out=run, progress=False)
    elsewhere = tmp_path / "elsewhere"
    os.rename(checkpoint_dirs(run)[0], elsewhere)
    os.symlink(elsewhere, run / "checkpoints" / "step_00000002")
    with pytest.warns(UserWarning, match="links outside the run folder"):
        with pytest.raises(CheckpointError, match="no generator.json, no checkpoint"):
            ganaug.load(run)
    inside = tmp_path / "gen"
    ganaug.load(elsewhere).save(inside)
    (inside / "generator.safetensors").rename(tmp_path / "outside.safetensors")
    os.symlink(tmp_path / "outside.safetensors", inside / "generator.safetensors")
    with pytest.raises(CheckpointError, match="links outside"):
        ganaug.load(inside)


def test_importing_ganaug_turns_off_albumentations_update_check():
    # albumentations 2.0.8 asks PyPI for a newer release on import; ganaug fetches nothing at run time.
    code = "import os, ganaug; print(os.environ['NO_ALBUMENTATIONS_UPDATE'])"
    env = {k: v for k, v in os.environ.items() if k != "NO_ALBUMENTATIONS_UPDATE"}
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True).stdout.strip() == "1"
