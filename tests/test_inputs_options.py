"""No silent surprises: bad options are refused up front, all at once, with the option and the fix named.

Each case is checked through ``ganaug ...`` (click's CliRunner, one ``Error:`` line, exit status 1) or the
Python API. "Before any data is read" is checked with a data function that leaves a marker file when it
is called (:data:`DATA_MODULE`): the marker must not exist after the refusal.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

import ganaug
from ganaug import ConfigError
from ganaug.cli import main
from ganaug.gain.config import GainConfig
from ganaug.planning.config import PlanConfig
from ganaug.testing import make_tiny_data
from tests.conftest import time_limit
from tests.test_bad_inputs import _error_lines

DATA_MODULE = "ganaug_inputs_options_data"
MARKER_ENV = "GANAUG_TEST_DATA_MARKER"
DATA_MODULE_SOURCE = textwrap.dedent(f'''\
    """Data functions for tests/test_inputs_options.py: each leaves a marker file when called."""
    import os
    import pathlib
    import time

    import torch
    from torch.utils.data import TensorDataset


    def _mark():
        pathlib.Path(os.environ["{MARKER_ENV}"]).write_text("called")


    def tiny():
        _mark()
        images = (torch.arange(30 * 64) % 251).to(torch.uint8).view(30, 1, 8, 8)
        return TensorDataset(images, torch.arange(30) % 3)


    def sleepy():
        _mark()
        time.sleep(120)
''')

QUIET = "progress = false\n"
TRAIN = "--model test_cdcgan --steps 2 --device cpu --out {out}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> SimpleNamespace:
    """A tiny .npz (3 classes x 10 images of 8x8), one of 4 classes, one of 16x16, a 2-step run, the data module."""
    d = tmp_path_factory.mktemp("inputs")
    store = make_tiny_data(num_classes=3, per_class=10)
    np.savez(d / "tiny.npz", x=store.images[:, 0].numpy(), y=store.labels.numpy())
    four = make_tiny_data(num_classes=4, per_class=10)
    np.savez(d / "four_classes.npz", x=four.images[:, 0].numpy(), y=four.labels.numpy())
    big = make_tiny_data((1, 16, 16), num_classes=3, per_class=10)
    np.savez(d / "sixteen.npz", x=big.images[:, 0].numpy(), y=big.labels.numpy())
    (d / "quiet.toml").write_text(QUIET)
    (d / f"{DATA_MODULE}.py").write_text(DATA_MODULE_SOURCE)
    result = CliRunner().invoke(main, ["train", str(d / "tiny.npz"), *TRAIN.format(out=d / "run").split(),
                                       "--batch-size", "8", "--config", str(d / "quiet.toml")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return SimpleNamespace(dir=d, npz=d / "tiny.npz", run=d / "run")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path, corpus):
    """Crash files and the data marker in tmp_path, the data module importable and forgotten after."""
    monkeypatch.setenv("GANAUG_CRASH_DIR", str(tmp_path / "crashes"))
    monkeypatch.setenv(MARKER_ENV, str(tmp_path / "data-was-read"))
    monkeypatch.syspath_prepend(str(corpus.dir))
    monkeypatch.chdir(tmp_path)
    yield
    sys.modules.pop(DATA_MODULE, None)


def _run(args: str, tmp_path: Path, corpus: SimpleNamespace, toml: str | None = QUIET, seconds: int = 60
         ) -> tuple[list[str], str]:
    """Run ``ganaug ARGS`` (with ``--config`` a TOML file holding ``toml``); its Error: lines and all its output."""
    text = args.format(npz=corpus.npz, run=corpus.run, d=corpus.dir, out=tmp_path / "out", data=f"{DATA_MODULE}:tiny")
    argv = text.split()
    if toml is not None:
        (tmp_path / "case.toml").write_text(toml)
        argv += ["--config", str(tmp_path / "case.toml")]
    with time_limit(seconds):  # an option accepted by mistake could start a run that never ends
        result = CliRunner().invoke(main, argv, catch_exceptions=False)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in output, output
    assert result.exit_code == 1, output
    errors = _error_lines(result)
    assert len(errors) == 1, errors  # one message, however many problems it names
    return errors, output


def _data_read(tmp_path: Path) -> bool:
    return (tmp_path / "data-was-read").exists()


# -- 1, 2: upper bounds of step counts and batch sizes ---------------------------------------------


@pytest.mark.parametrize(("flag", "value", "bound"), [("--steps", "99999999999999999999999", "1000000000"),
                                                      ("--batch-size", "100000000", "65536")])
def test_train_refuses_absurd_steps_and_batch_sizes_before_reading_data(flag, value, bound, corpus, tmp_path):
    name = flag[2:].replace("-", "_")
    errors, _ = _run(f"train {{data}} --model test_cdcgan --device cpu --out {{out}} {flag} {value}", tmp_path, corpus)
    assert re.search(rf"{name}={value} must be >= \d+ and <= {bound}", errors[0]), errors
    assert not _data_read(tmp_path)


@pytest.mark.parametrize(("cls", "field", "bound"), [
    (GainConfig, "steps", 10**9), (GainConfig, "gan_steps", 10**9), (GainConfig, "plan_steps", 10**9),
    (PlanConfig, "steps", 10**9), (GainConfig, "batch_size", 65536), (GainConfig, "gan_batch_size", 65536),
    (PlanConfig, "batch_size", 65536)])
def test_gain_and_plan_step_counts_and_batch_sizes_have_an_upper_bound(cls, field, bound):
    cls(**{field: bound})
    with pytest.raises(ConfigError, match=rf"{field}={bound + 1} must be >= \d+ and <= {bound}"):
        cls(**{field: bound + 1})


def _out_of_memory(self, *args, **kwargs):
    raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1099511627776 bytes.")


def test_out_of_memory_while_training_names_the_batch_size_and_only_train_options(corpus, tmp_path, monkeypatch):
    from ganaug.train.trainer import Trainer

    monkeypatch.setattr(Trainer, "_step", _out_of_memory)
    errors, _ = _run(f"train {{npz}} {TRAIN}", tmp_path, corpus)
    assert "out of memory" in errors[0] and "--batch-size" in errors[0], errors
    assert "--per-class" not in errors[0], errors  # not a `train` option
    train_flags = {flag for param in main.commands["train"].params for flag in param.opts + param.secondary_opts}
    assert set(re.findall(r"--[a-z][a-z-]*", errors[0])) <= train_flags, errors


def test_an_error_during_training_starts_its_own_line_after_a_live_progress_bar(corpus, tmp_path, monkeypatch):
    from ganaug import progress
    from ganaug.train.trainer import Trainer

    monkeypatch.setattr(progress, "_interactive", lambda stream: True)  # a tqdm bar, as on a terminal
    monkeypatch.setattr(Trainer, "_step", _out_of_memory)
    _, output = _run(f"train {{npz}} {TRAIN}", tmp_path, corpus, toml=None)
    assert "train:" in output, output  # the bar was drawn
    assert re.search(r"(?:^|\n)Error: out of memory", output), repr(output)


# -- 3: the DiffAugment policy, checked by the family's config ------------------------------------


DIFFAUGMENT_FIX = "choose a comma list of color, translation, cutout (or 'auto', 'none')"


@pytest.mark.parametrize("model", ["test_cdcgan", "cdcgan", "biggan"])
def test_an_unknown_diffaugment_policy_is_refused_by_name_before_reading_data(model, corpus, tmp_path):
    errors, _ = _run(f"train {{data}} --model {model} --steps 2 --device cpu --out {{out}}", tmp_path, corpus,
                     toml=QUIET + '[model]\ndiffaugment = "bogus"\n')
    assert f"diffaugment='bogus': not a DiffAugment policy; {DIFFAUGMENT_FIX}" in errors[0], errors
    assert not _data_read(tmp_path)


def test_fit_refuses_an_unknown_diffaugment_policy_in_a_list(tmp_path):
    with pytest.raises(ConfigError, match=re.escape(f"diffaugment='color,blur': 'blur' is not a DiffAugment policy; "
                                                    f"{DIFFAUGMENT_FIX}")):
        ganaug.fit(f"{DATA_MODULE}:tiny", "cdcgan", steps=1, diffaugment="color,blur", progress=False)
    assert not _data_read(tmp_path)
    for good in ("auto", "none", "", "color, translation,cutout"):
        ganaug.create_generator("test_cdcgan", num_classes=2, image_shape=(1, 8, 8), diffaugment=good)


# -- 4: every bad value in one message ----------------------------------------------------------------


def test_every_bad_training_and_family_option_is_reported_in_one_line(corpus, tmp_path):
    errors, _ = _run(f"train {{data}} {TRAIN}", tmp_path, corpus,
                     toml=QUIET + "seed = -1\nbatch_size = 0\n[model]\nlr_g = -1.0\nd_steps = 0\n")
    for fragment in ("seed=-1 must be >= 0", "batch_size=0 must be >= 1", "lr_g=-1.0 must be > 0",
                     "d_steps=0 must be >= 1"):
        assert fragment in errors[0], errors
    assert not _data_read(tmp_path)


def test_fit_reports_every_bad_option_in_one_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        ganaug.fit(f"{DATA_MODULE}:tiny", "test_cdcgan", seed=-1, batch_size=0, lr_g=-1.0, progress=False)
    message = str(info.value)
    assert "\n" not in message
    for fragment in ("seed=-1", "batch_size=0", "lr_g=-1.0"):
        assert fragment in message, message
    assert not _data_read(tmp_path)


def test_gain_and_plan_configs_report_every_bad_option():
    with pytest.raises(ConfigError) as info:
        GainConfig(seeds=0, steps=0, test_size=2.0)
    for fragment in ("seeds=0", "steps=0", "test_size=2.0"):
        assert fragment in str(info.value), info.value
    with pytest.raises(ConfigError) as info:
        PlanConfig(folds=1, margin=-1.0, seed="x")
    for fragment in ("folds=1", "margin=-1.0", "seed='x' must be an integer"):
        assert fragment in str(info.value), info.value


# -- 5: SIGTERM while the data loads --------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_loading_data_stops_with_one_line(signum, corpus, tmp_path):
    marker = tmp_path / "data-was-read"
    env = {**os.environ, MARKER_ENV: str(marker), "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": os.pathsep.join([str(corpus.dir), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "ganaug", "train", f"{DATA_MODULE}:sleepy", "--model", "test_cdcgan", "--steps",
               "2", "--device", "cpu", "--out", str(tmp_path / "out")]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), process.communicate(timeout=30)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    name = signal.Signals(signum).name
    assert process.returncode == 128 + signum, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"stopped by {name} while loading the data" in lines[0], stderr
    assert "nothing was trained or saved" in lines[0], stderr


def test_sigterm_during_gain_stops_with_one_line(corpus, tmp_path):
    marker = tmp_path / "data-was-read"
    env = {**os.environ, MARKER_ENV: str(marker), "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": os.pathsep.join([str(corpus.dir), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "ganaug", "gain", f"{DATA_MODULE}:sleepy", "--train-gan", "--gan-model",
               "test_cdcgan", "--out", str(tmp_path / "gain")]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), process.communicate(timeout=30)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "stopped by SIGTERM during `ganaug gain`; no report was written" in lines[0], stderr


# -- 6: the run folder's layout, checked before the data is read ------------------------------------


@pytest.mark.parametrize("name", ["checkpoints", "samples"])
def test_a_file_where_the_run_needs_a_folder_is_refused_before_reading_data(name, corpus, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text("mine")
    errors, _ = _run(f"train {{data}} {TRAIN}", tmp_path, corpus)
    assert (f"{out / name} is a file; ganaug needs a folder there: move that file away or use another --out"
            in errors[0]), errors
    assert not _data_read(tmp_path)
    assert (out / name).read_text() == "mine"


# -- 7: gain with a generator or test set that does not match the data ------------------------------


GAIN = "gain {{d}}/{train} --generator {{run}} --out {{out}} --steps 2 --seeds 1"


@pytest.mark.parametrize(("train", "fix"), [
    ("four_classes.npz", "measure a generator trained on this data (generator=, --generator), or train one per "
                         "seed with train_gan=True (--train-gan)"),
    ("sixteen.npz", "image_size=8 (--image-size 8) resizes the data to the generator's size")])
def test_gain_with_a_generator_of_other_data_says_how_to_fix_it(train, fix, corpus, tmp_path):
    errors, _ = _run(GAIN.format(train=train), tmp_path, corpus, toml=None)
    assert "the generator makes 3 classes of (1, 8, 8)" in errors[0] and fix in errors[0], errors


@pytest.mark.parametrize(("test", "fix"), [
    ("four_classes.npz", "pass a test set of the training set's classes and image size (test=, --test), or none, "
                         "to hold out test_size= of the training set"),
    ("sixteen.npz", "image_size= (--image-size) resizes both to one size")])
def test_gain_with_a_test_set_of_other_data_says_how_to_fix_it(test, fix, corpus, tmp_path):
    errors, _ = _run(GAIN.format(train="tiny.npz") + f" --test {{d}}/{test}", tmp_path, corpus, toml=None)
    assert "test set has" in errors[0] and fix in errors[0], errors
