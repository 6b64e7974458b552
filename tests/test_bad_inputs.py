"""A corpus of bad inputs: each one gets a message naming the culprit, never a traceback.

Two tables, one row per bad input a user could give:

* ``CLI_CASES``: ``ganaug ...`` through click's CliRunner. Checked: the exit status (1 for a bad
  input, 2 for a click usage error; 70 would mean a bug), an ``Error:`` line on stderr that contains
  a fragment naming the culprit (the option, file, value or item), and no ``Traceback``.
* ``API_CASES``: the Python API. Checked: the :class:`~ganaug.errors.GanaugError` subclass raised and
  a message naming the culprit.

A row whose input currently gets a traceback, exit status 70, a raw Python exception or a message
that does not name the culprit is kept as it should behave and marked ``xfail(strict=True)`` with what
happens now; when it is fixed, strict xfail fails the run so the mark gets removed.

Everything shared (a tiny .npz of 3 classes x 10 images of 8x8, a 2-step ``test_cdcgan`` run, a 2-step
``test_img2img`` run, bad files) is built once per module by :func:`corpus`.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from torch.utils.data import Dataset, TensorDataset

import ganaug
from ganaug import CheckpointError, ConfigError, DataError, GanaugError, SyntheticMix
from ganaug.cli import main
from ganaug.errors import UserCodeError
from ganaug.storage import seal_meta
from ganaug.testing import make_tiny_data
from tests.conftest import time_limit, write_image_folder

DATA_MODULE = "ganaug_badinput_data"
IMPORT_FAILS_MODULE = "ganaug_badinput_import_fails"
SYNTAX_ERROR_MODULE = "ganaug_badinput_syntax_error"
MODULES = (DATA_MODULE, IMPORT_FAILS_MODULE, SYNTAX_ERROR_MODULE)

DATA_MODULE_SOURCE = textwrap.dedent('''\
    """Data functions for ganaug's bad-input tests (written by tests/test_bad_inputs.py)."""
    import torch
    from torch.utils.data import Dataset


    def boom():
        raise RuntimeError("disk on fire")


    def needs_an_argument(path):
        return path


    def a_list():
        return [1, 2, 3]


    class RaisingAtItem4(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, index):
            if index == 4:
                raise ValueError("bad row")
            return torch.zeros(8, 8, dtype=torch.uint8), index % 2


    def raising_dataset():
        return RaisingAtItem4()


    class NotPairs(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, index):
            return torch.zeros(8, 8, dtype=torch.uint8)


    def not_pairs():
        return NotPairs()


    class StringLabels(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, index):
            return torch.zeros(8, 8, dtype=torch.uint8), "cat" if index % 2 else "dog"


    def string_labels():
        return StringLabels()


    class NaNImages(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, index):
            return torch.full((8, 8), float("nan")), index % 2


    def nan_images():
        return NaNImages()
''')
BOOM_LINE = DATA_MODULE_SOURCE.splitlines().index('    raise RuntimeError("disk on fire")') + 1

MEMORY_CAP = 4 * 2**30
"""Memory checks see 4 GiB available, so 'too large for memory' cases refuse the same on any machine."""


# -- shared inputs ------------------------------------------------------------------------------


def _edited_generator(source: Path, target: Path, edit: Callable[[dict], None], reseal: bool = True) -> Path:
    """A copy of a saved generator whose generator.json was edited (and re-sealed past the checksum)."""
    shutil.copytree(source, target)
    meta = json.loads((target / "generator.json").read_text())
    edit(meta)
    (target / "generator.json").write_text(json.dumps(seal_meta(meta) if reseal else meta))
    return target


def _train(data: Path, model: str, out: Path, config: Path) -> Path:
    result = CliRunner().invoke(main, ["train", str(data), "--model", model, "--steps", "2", "--batch-size", "8",
                                       "--device", "cpu", "--out", str(out), "--config", str(config)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> SimpleNamespace:
    """Every shared input, built once: good data and runs, and the bad files the cases point to."""
    d = tmp_path_factory.mktemp("corpus")
    store = make_tiny_data(num_classes=3, per_class=10)
    x, y = store.images[:, 0].numpy(), store.labels.numpy()
    np.savez(d / "tiny.npz", x=x, y=y)
    (d / "quiet.toml").write_text("progress = false\n")
    (d / "notes.txt").write_text("not data\n")
    (d / "model.pt").write_bytes(b"\x80\x04 a pickle, maybe")
    (d / "empty").mkdir()
    write_image_folder(d / "images", classes=("cat", "dog"), per_class=3)

    # bad .npz files
    np.savez(d / "nokeys.npz", images=x, labels=y)
    (d / "notzip.npz").write_bytes(b"hello, I am not a zip archive")
    truncated = (d / "tiny.npz").read_bytes()
    (d / "truncated.npz").write_bytes(truncated[: len(truncated) // 2])
    np.savez(d / "objects.npz", x=np.array([np.zeros((8, 8)), "a"], dtype=object), y=np.array([0, 1]))
    np.savez(d / "float_labels.npz", x=x, y=np.full(30, 0.5))
    np.savez(d / "negative_labels.npz", x=x, y=np.where(y == 0, -1, y))
    images = x.astype(np.float32) / 255
    images[3, 2, 2] = np.nan
    np.savez(d / "nan_images.npz", x=images, y=y)
    np.savez(d / "inf_images.npz", x=np.full((30, 8, 8), np.inf, np.float32), y=y)
    np.savez(d / "mismatched.npz", x=x, y=y[:20])
    np.savez(d / "string_labels.npz", x=x, y=np.array(["a", "b", "c"] * 10))
    np.savez(d / "one_class.npz", x=x, y=np.zeros(30, np.int64))
    np.savez(d / "empty.npz", x=x[:0], y=y[:0])
    np.savez(d / "flat_images.npz", x=np.zeros(30, np.uint8), y=y)
    np.savez(d / "five_d_images.npz", x=np.zeros((30, 1, 1, 8, 8), np.uint8), y=y)
    np.savez(d / "one_pixel.npz", x=np.zeros((30, 1, 1), np.uint8), y=y)
    np.savez(d / "sparse_labels.npz", x=x, y=np.where(y == 2, 10**6, y))
    np.savez(d / "astronomical_labels.npz", x=x, y=np.where(y == 2, 2 * 10**12, y))
    four = make_tiny_data(num_classes=4, per_class=10)
    np.savez(d / "four_classes.npz", x=four.images[:, 0].numpy(), y=four.labels.numpy())

    # bad mask files for `ganaug restore`
    np.save(d / "masks_3x3.npy", np.ones((3, 3)))
    (d / "masks_garbage.npy").write_bytes(b"garbage, not an .npy file")
    (d / "masks_notzip.npz").write_bytes(b"hello, I am not a zip archive")

    # module:function sources
    (d / f"{DATA_MODULE}.py").write_text(DATA_MODULE_SOURCE)
    (d / f"{IMPORT_FAILS_MODULE}.py").write_text('raise RuntimeError("import-time failure")\n')
    (d / f"{SYNTAX_ERROR_MODULE}.py").write_text("def f(:\n    pass\n")

    # runs
    run = _train(d / "tiny.npz", "test_cdcgan", d / "run", d / "quiet.toml")
    i2i = _train(d / "tiny.npz", "test_img2img", d / "i2i", d / "quiet.toml")
    saved = run / "generator"
    gens = d / "generators"
    _edited_generator(saved, gens / "edited", lambda m: m.update(classes=["a", "b", "c", "d"]), reseal=False)
    _edited_generator(saved, gens / "model_config_oops", lambda m: m.update(model_config="oops"))
    _edited_generator(saved, gens / "huge_z_dim", lambda m: m["model_config"].update(z_dim=10**9))
    _edited_generator(saved, gens / "unknown_option", lambda m: m["model_config"].update(zz=1))
    _edited_generator(saved, gens / "not_installed", lambda m: m.update(model="nosuchgan"))
    _edited_generator(saved, gens / "bad_shape", lambda m: m.update(image_shape=[1, 8]))
    _edited_generator(saved, gens / "no_classes", lambda m: m.update(classes=[]))
    shutil.copytree(saved, gens / "not_json")
    (gens / "not_json" / "generator.json").write_text("{not json")
    shutil.copytree(saved, gens / "truncated_weights")
    weights = gens / "truncated_weights" / "generator.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    shutil.copytree(saved, gens / "no_weights")
    (gens / "no_weights" / "generator.safetensors").unlink()

    return SimpleNamespace(dir=d, npz=d / "tiny.npz", run=run, i2i=i2i, gens=gens, store=store,
                           generator=ganaug.load(run))


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """Crash files in tmp_path, a fixed memory budget, the data modules importable and forgotten after."""
    from ganaug.data import memory

    monkeypatch.setenv("GANAUG_CRASH_DIR", str(tmp_path / "crashes"))
    monkeypatch.setattr(memory, "available_memory", lambda: MEMORY_CAP)
    monkeypatch.chdir(tmp_path)
    yield
    for name in MODULES:
        sys.modules.pop(name, None)




def xfail(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


# -- CLI cases ----------------------------------------------------------------------------------

TRAIN = "--model test_cdcgan --steps 2 --device cpu --out {out}"
"""Train flags of most cases: a fresh run folder per case, quiet unless the case's TOML says otherwise."""


@dataclass
class Cli:
    args: str
    """The command line; {npz}, {run}, {i2i}, {d} (bad files), {gens}, {out}, {toml} are filled in."""
    fragment: str
    """Must appear in the Error: line on stderr; filled in like ``args``."""
    code: int = 1
    toml: str | bytes | None = None
    """Contents of {toml} (after a ``progress = false`` line when it is text)."""


def cli(id: str, args: str, fragment: str, code: int = 1, toml: str | bytes | None = None, marks=()):
    return pytest.param(Cli(args, fragment, code, toml), id=id, marks=marks)


def toml_case(id: str, toml: str | bytes, fragment: str, args: str = f"train {{npz}} {TRAIN} --config {{toml}}",
              marks=()):
    return cli(id, args, fragment, toml=toml, marks=marks)


NO_STEPS = "train {npz} --model test_cdcgan --device cpu --out {out} --config {toml}"
"""For TOML cases that set steps: a flag would win over the file."""
NO_MODEL = "train {npz} --steps 2 --device cpu --out {out} --config {toml}"
GAIN = "--generator {run} --out {out} --steps 2 --seeds 1"

CLI_CASES = [
    # TOML config files
    toml_case("toml-lr-g-a-string", '[model]\nlr_g = "fast"\n', "lr_g='fast' must be a number"),
    toml_case("toml-seed-a-string", 'seed = "abc"\n', "seed='abc' must be an integer"),
    toml_case("toml-d-steps-0", "[model]\nd_steps = 0\n", "d_steps=0 must be >= 1"),
    toml_case("toml-grid-per-class-0", "grid_per_class = 0\n", "grid_per_class=0 must be >= 1"),
    toml_case("toml-image-size-a-string", 'image_size = "big"\n', "image_size='big' must be an integer"),
    toml_case("toml-steps-negative", "steps = -1\n", "steps=-1 must be >= 1", args=NO_STEPS),
    toml_case("toml-steps-a-date", "steps = 1979-05-27\n", "steps=datetime.date(1979, 5, 27) must be an integer",
              args=NO_STEPS),
    toml_case("toml-steps-a-list", "steps = [1, 2]\n", "steps=[1, 2] must be an integer", args=NO_STEPS),
    toml_case("toml-batch-size-1.5", "batch_size = 1.5\n", "batch_size=1.5 must be an integer"),
    toml_case("toml-channels-2", "channels = 2\n", "channels=2 is not one of 1, 3"),
    toml_case("toml-resume-a-string", 'resume = "yes"\n', "resume='yes' must be true or false"),
    toml_case("toml-compile-unknown", 'compile = "fast"\n', "compile='fast' is not one of"),
    toml_case("toml-class-balance-2", "class_balance = 2\n", "class_balance=2.0 must be >= 0 and <= 1"),
    toml_case("toml-device-unknown", 'device = "tpu"\n', "device='tpu' is not a device",
              args="train {npz} --model test_cdcgan --steps 2 --out {out} --config {toml}"),
    toml_case("toml-model-unknown", 'model = "nosuch"\n', "unknown generator 'nosuch'", args=NO_MODEL),
    toml_case("toml-transition-out-of-order", "[model]\ntransition_start = 5\ntransition_end = 2\n",
              "transition_start (5) <= transition_end (2)"),
    toml_case("toml-diffaugment-unknown", '[model]\ndiffaugment = "blur"\n',
              "diffaugment='blur': not a DiffAugment policy; choose a comma list of color, translation, cutout"),
    toml_case("toml-other-table", "[other]\nx = 1\n", "unknown option(s) 'other'"),
    toml_case("toml-data-key", 'data = "x"\n', "data = 'x' is not an option"),
    toml_case("toml-invalid-syntax", "steps = = 3\n", "case.toml: invalid TOML"),
    toml_case("toml-key-twice", "seed = 1\nseed = 2\n", "case.toml: invalid TOML (Cannot overwrite a value"),
    toml_case("toml-unknown-train-key-did-you-mean", "chekpoint_every = 3\n", "did you mean 'checkpoint_every'"),
    toml_case("toml-unknown-model-key-did-you-mean", "[model]\nzdim = 4\n", "did you mean 'z_dim'"),
    toml_case("toml-z-dim-0", "max_rollbacks = 0\n[model]\nz_dim = 0\n", "z_dim=0"),
    toml_case("toml-g-channels-0", "[model]\ng_channels = 0\n", "g_channels=0"),
    toml_case("toml-lr-g-nan", "[model]\nlr_g = nan\n", "lr_g=nan"),
    toml_case("toml-lr-g-negative", "[model]\nlr_g = -1.0\n", "lr_g=-1.0"),
    toml_case("toml-lr-g-inf", "max_rollbacks = 0\n[model]\nlr_g = inf\n", "lr_g=inf"),
    toml_case("toml-beta1-nan", "[model]\nbeta1 = nan\n", "beta1=nan"),
    toml_case("toml-ema-decay-1.5", "[model]\nema_decay = 1.5\n", "ema_decay=1.5"),
    toml_case("toml-class-balance-nan", "class_balance = nan\n", "class_balance=nan"),
    toml_case("toml-huge-int-for-a-float", "[model]\nlr_g = 1" + "0" * 400 + "\n", "lr_g"),
    toml_case("toml-model-not-a-string", "model = 3\n", "model=3", args=NO_MODEL),
    toml_case("toml-registry-key", 'registry = "x"\n', "registry"),
    toml_case("toml-not-utf8", b"\xff\xfe\x00 not text", "case.toml"),
    cli("config-file-missing", "train {npz} --config {d}/nosuch.toml", "'--config'", code=2),
    cli("config-file-a-folder", "train {npz} --config {d}", "'--config'", code=2),
    # train flags
    cli("train-seed-too-big", f"train {{npz}} {TRAIN} --seed 99999999999999999999999",
        "seed=99999999999999999999999 must be >= 0"),
    cli("train-seed-negative", f"train {{npz}} {TRAIN} --seed -1", "seed=-1 must be >= 0"),
    cli("train-steps-negative", "train {npz} --model test_cdcgan --steps -5 --out {out}", "steps=-5 must be >= 1"),
    cli("train-steps-not-a-number", f"train {{npz}} {TRAIN} --steps abc", "'--steps'", code=2),
    cli("train-nproc-negative", f"train {{npz}} {TRAIN} --nproc -3", "'--nproc'", code=2),
    cli("train-nproc-0", f"train {{npz}} {TRAIN} --nproc 0", "'--nproc'", code=2),
    cli("train-model-unknown", "train {npz} --model nosuch --steps 2 --out {out}", "unknown generator 'nosuch'"),
    cli("train-class-balance-2", f"train {{npz}} {TRAIN} --class-balance 2", "class_balance=2.0 must be"),
    cli("train-image-size-0", f"train {{npz}} {TRAIN} --image-size 0", "image_size=0 must be >= 1"),
    cli("train-image-size-5000", f"train {{npz}} {TRAIN} --image-size 5000", "image_size=5000 must be"),
    cli("train-batch-size-0", f"train {{npz}} {TRAIN} --batch-size 0", "batch_size=0 must be >= 1"),
    cli("train-checkpoint-every-0", f"train {{npz}} {TRAIN} --checkpoint-every 0", "checkpoint_every=0 must be"),
    cli("train-channels-2", f"train {{npz}} {TRAIN} --channels 2", "'--channels'", code=2),
    cli("train-device-unknown", "train {npz} --model test_cdcgan --steps 2 --device tpu --out {out}",
        "device='tpu' is not a device"),
    cli("train-out-a-file", "train {npz} --model test_cdcgan --steps 2 --out {d}/notes.txt",
        "output folder {d}/notes.txt"),
    cli("train-out-under-a-file", "train {npz} --model test_cdcgan --steps 2 --out {d}/notes.txt/run",
        "output folder {d}/notes.txt/run"),
    cli("train-resume-a-run-of-another-model", "train {npz} --model test_cdcgan --steps 2 --out {i2i} --resume",
        "trained with model 'test_img2img', not 'test_cdcgan'"),
    # DATA
    cli("data-missing", f"train {{d}}/nosuch.npz {TRAIN}", "nosuch.npz' does not exist"),
    cli("data-a-text-file", f"train {{d}}/notes.txt {TRAIN}", "notes.txt: not a folder or an .npz"),
    cli("data-npz-without-x-and-y", f"train {{d}}/nokeys.npz {TRAIN}", "nokeys.npz: needs keys 'x' and 'y'"),
    cli("data-npz-not-a-zip", f"train {{d}}/notzip.npz {TRAIN}", "notzip.npz: not a readable .npz"),
    cli("data-npz-truncated", f"train {{d}}/truncated.npz {TRAIN}", "truncated.npz: not a readable .npz"),
    cli("data-npz-object-arrays", f"train {{d}}/objects.npz {TRAIN}", "objects.npz: cannot be read without unpickling"),
    cli("data-float-labels", f"train {{d}}/float_labels.npz {TRAIN}", "float_labels.npz: labels must be integers"),
    cli("data-negative-labels", f"train {{d}}/negative_labels.npz {TRAIN}", "label -1 at index 0 is negative"),
    cli("data-string-labels", f"train {{d}}/string_labels.npz {TRAIN}", "string_labels.npz: labels must be integers"),
    cli("data-nan-images", f"train {{d}}/nan_images.npz {TRAIN}", "nan_images.npz: float image 3 holds NaN"),
    cli("data-inf-images", f"train {{d}}/inf_images.npz {TRAIN}", "inf_images.npz: float image 0 holds NaN or inf"),
    cli("data-lengths-differ", f"train {{d}}/mismatched.npz {TRAIN}", "mismatched.npz: 30 images but 20 labels"),
    cli("data-one-class", f"train {{d}}/one_class.npz {TRAIN}", "single class"),
    cli("data-empty-npz", f"train {{d}}/empty.npz {TRAIN}", "empty.npz: the dataset is empty"),
    cli("data-1d-images", f"train {{d}}/flat_images.npz {TRAIN}", "flat_images.npz: images must be (N, H, W)"),
    cli("data-5d-images", f"train {{d}}/five_d_images.npz {TRAIN}", "got (30, 1, 1, 8, 8)"),
    cli("data-images-of-one-pixel", f"train {{d}}/one_pixel.npz {TRAIN}", "got (C, H, W) = (1, 1, 1)"),
    cli("data-sparse-labels", f"train {{d}}/sparse_labels.npz {TRAIN}", "labels span 1000001 classes"),
    cli("data-folder-without-classes", f"train {{d}}/empty {TRAIN}", "empty: no class folders"),
    cli("data-dataset-name-typo", f"train digitz {TRAIN}", "'digitz' does not exist"),
    cli("data-module-missing", f"train ganaug_no_such_module:make {TRAIN}",
        "cannot import module 'ganaug_no_such_module'"),
    cli("data-function-missing", f"train {DATA_MODULE}:nosuch {TRAIN}", f"module '{DATA_MODULE}' has no function 'nosuch'"),
    cli("data-function-raises", f"train {DATA_MODULE}:boom {TRAIN}",
        f"the data function '{DATA_MODULE}:boom' raised RuntimeError: disk on fire at {{d}}/{DATA_MODULE}.py:{BOOM_LINE}"),
    cli("data-function-needs-an-argument", f"train {DATA_MODULE}:needs_an_argument {TRAIN}",
        f"'{DATA_MODULE}:needs_an_argument' raised TypeError"),
    cli("data-function-returns-a-list", f"train {DATA_MODULE}:a_list {TRAIN}", "returned a list, not a torch or Hugging Face Dataset"),
    cli("data-dataset-item-raises", f"train {DATA_MODULE}:raising_dataset {TRAIN}",
        "RaisingAtItem4[4] (item 4 of the dataset) raised ValueError: bad row"),
    cli("data-dataset-not-pairs", f"train {DATA_MODULE}:not_pairs {TRAIN}", "item 0 of NotPairs is not an (image, label)"),
    cli("data-dataset-string-labels", f"train {DATA_MODULE}:string_labels {TRAIN}", "label of item 0 is 'dog' (str)"),
    cli("data-dataset-nan-images", f"train {DATA_MODULE}:nan_images {TRAIN}", "item 0: float image holds NaN"),
    cli("data-module-import-raises", f"train {IMPORT_FAILS_MODULE}:make {TRAIN}", f"module '{IMPORT_FAILS_MODULE}'"),
    cli("data-module-syntax-error", f"train {SYNTAX_ERROR_MODULE}:f {TRAIN}", f"module '{SYNTAX_ERROR_MODULE}'"),
    # sample
    cli("sample-per-class-negative", "sample {run} --per-class -1 --out {out}", "per_class=-1 must be an integer >= 0"),
    cli("sample-per-class-too-many-for-memory", "sample {run} --per-class 100000000 --out {out}", "--per-class"),
    cli("sample-per-class-not-a-number", "sample {run} --per-class abc --out {out}", "'--per-class'", code=2),
    cli("sample-seed-negative", "sample {run} --seed -1 --out {out}", "seed=-1 must be an integer"),
    cli("sample-device-unknown", "sample {run} --device tpu --out {out}", "device='tpu' is not a device"),
    cli("sample-out-under-a-file", "sample {run} --per-class 1 --out {d}/notes.txt/sub", "--out {d}/notes.txt/sub"),
    cli("sample-out-npz-under-a-file", "sample {run} --per-class 1 --out {d}/notes.txt/sub.npz",
        "--out {d}/notes.txt/sub.npz: cannot write there"),
    cli("sample-run-a-file", "sample {d}/notes.txt --out {out}", "notes.txt: ganaug loads folders"),
    cli("sample-run-an-empty-folder", "sample {d}/empty --out {out}", "empty: no generator.json, no checkpoint"),
    cli("sample-run-missing", "sample {d}/nosuch --out {out}", "'RUN'", code=2),
    cli("sample-generator-json-edited", "sample {gens}/edited --out {out}", "generator.json: checksum mismatch"),
    cli("sample-model-config-oops", "sample {gens}/model_config_oops --out {out}",
        "model_config must be a JSON object, got 'oops'"),
    cli("sample-z-dim-too-large-for-memory", "sample {gens}/huge_z_dim --out {out}", "z_dim=1000000000"),
    cli("sample-model-config-unknown-option", "sample {gens}/unknown_option --out {out}", "unknown option(s) 'zz'"),
    cli("sample-family-not-installed", "sample {gens}/not_installed --out {out}",
        "'nosuchgan', which is not installed"),
    cli("sample-image-shape-damaged", "sample {gens}/bad_shape --out {out}", "image_shape must be [channels"),
    cli("sample-classes-empty", "sample {gens}/no_classes --out {out}", "classes must be a list"),
    cli("sample-generator-json-not-json", "sample {gens}/not_json --out {out}", "generator.json: unreadable JSON"),
    cli("sample-weights-truncated", "sample {gens}/truncated_weights --out {out}",
        "generator.safetensors: checksum mismatch"),
    cli("sample-weights-missing", "sample {gens}/no_weights --out {out}", "missing generator.json or generator.safetensors"),
    cli("sample-image-family-without-sources", "sample {i2i} --out {out}", "pass --sources DATA"),
    cli("sample-sources-missing", "sample {i2i} --sources {d}/nosuch.npz --out {out}", "nosuch.npz' does not exist"),
    # gain
    cli("gain-per-class-negative", f"gain {{npz}} {GAIN} --per-class -3", "per_class=-3 must be >= 1"),
    cli("gain-per-class-0", f"gain {{npz}} {GAIN} --per-class 0", "per_class=0 must be >= 1"),
    cli("gain-per-class-more-than-there-are", f"gain {{npz}} {GAIN} --per-class 50", "per_class=50 but class(es)"),
    cli("gain-seeds-0", "gain {npz} --generator {run} --out {out} --seeds 0", "seeds=0 must be >= 1"),
    cli("gain-ratio-1.5", f"gain {{npz}} {GAIN} --ratios 1.5", "ratios=(1.5,) must be > 0 and < 1"),
    cli("gain-ratios-not-numbers", f"gain {{npz}} {GAIN} --ratios abc", "--ratios 'abc': use a comma list"),
    cli("gain-classifier-unknown", f"gain {{npz}} {GAIN} --classifier nosuch", "unknown classifier 'nosuch'"),
    cli("gain-imbalance-below-1", f"gain {{npz}} {GAIN} --imbalance 0.5", "imbalance=0.5 must be >= 1"),
    cli("gain-metric-unknown", f"gain {{npz}} {GAIN} --metric auc", "'--metric'", code=2),
    cli("gain-without-a-generator", "gain {npz} --out {out}", "pass a trained generator="),
    cli("gain-generator-a-file", "gain {npz} --generator {d}/notes.txt --out {out}", "notes.txt: ganaug loads folders"),
    cli("gain-out-a-file", "gain {npz} --generator {run} --out {d}/notes.txt", "'--out'", code=2),
    cli("gain-test-data-missing", f"gain {{npz}} {GAIN} --test {{d}}/nosuch.npz", "nosuch.npz' does not exist"),
    cli("gain-generator-of-other-classes", f"gain {{d}}/four_classes.npz {GAIN}",
        "the generator makes 3 classes of (1, 8, 8); the data has 4 classes"),
    cli("gain-seed-beyond-32-bits", f"gain {{npz}} {GAIN} --seed 5000000000", "seed=5000000000"),
    cli("gain-imbalance-huge", f"gain {{npz}} {GAIN} --imbalance 1000000000", "imbalance"),
    # restore
    cli("restore-noise-family", "restore {run} {npz} --masks random --out {out}", "needs an image-to-image family"),
    cli("restore-task-unknown", "restore {i2i} {npz} --task paint --out {out}", "'--task'", code=2),
    cli("restore-inpaint-without-masks", "restore {i2i} {npz} --out {out}", "task='inpaint' needs masks="),
    cli("restore-masks-with-denoise", "restore {i2i} {npz} --task denoise --masks random --out {out}",
        "masks are for task='inpaint'"),
    cli("restore-masks-missing", "restore {i2i} {npz} --masks {d}/nosuch.npy --out {out}",
        "mask file {d}/nosuch.npy does not exist"),
    cli("restore-masks-wrong-shape", "restore {i2i} {npz} --masks {d}/masks_3x3.npy --out {out}",
        "masks of shape (3, 3) do not match 30 images of 8x8"),
    cli("restore-masks-a-text-file", "restore {i2i} {npz} --masks {d}/notes.txt --out {out}",
        "cannot read the mask image {d}/notes.txt"),
    cli("restore-masks-npy-garbage", "restore {i2i} {npz} --masks {d}/masks_garbage.npy --out {out}",
        "masks_garbage.npy"),
    cli("restore-masks-npz-not-a-zip", "restore {i2i} {npz} --masks {d}/masks_notzip.npz --out {out}",
        "masks_notzip.npz"),
    cli("restore-input-without-x-and-y", "restore {i2i} {d}/nokeys.npz --masks random --out {out}",
        "nokeys.npz: needs keys 'x' and 'y'"),
]


def _fill(text: str, corpus: SimpleNamespace, tmp_path: Path) -> str:
    return (text.replace("{npz}", str(corpus.npz)).replace("{run}", str(corpus.run)).replace("{i2i}", str(corpus.i2i))
            .replace("{gens}", str(corpus.gens)).replace("{d}", str(corpus.dir)).replace("{out}", str(tmp_path / "out"))
            .replace("{toml}", str(tmp_path / "case.toml")))


def _error_lines(result) -> list[str]:
    """The ``Error: ...`` lines of stderr (from 'Error:' on: a progress bar may share the line)."""
    try:
        stderr = result.stderr
    except ValueError:  # click < 8.2 without mix_stderr=False
        stderr = result.output
    return ["Error: " + line.split("Error: ", 1)[1] for line in re.split(r"[\r\n]+", stderr) if "Error: " in line]


@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_bad_input(case: Cli, corpus, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(corpus.dir))
    if case.toml is not None:
        path = tmp_path / "case.toml"
        if isinstance(case.toml, bytes):
            path.write_bytes(case.toml)
        else:
            path.write_text("progress = false\n" + case.toml)
    args = _fill(case.args, corpus, tmp_path).split()
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in output, output
    assert result.exit_code == case.code, output
    fragment = _fill(case.fragment, corpus, tmp_path)
    errors = _error_lines(result)
    assert any(fragment in line for line in errors), f"{fragment!r} not in the Error: lines {errors}\n{output}"
    if case.code != 2:
        assert len(errors) == 1, errors  # one message, not a cascade


def test_labels_up_to_two_trillion_are_refused_by_name(corpus, tmp_path):
    """Run in a child limited to 4 GiB of address space: without the limit this input exhausts the machine."""

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))

    process = subprocess.run([sys.executable, "-m", "ganaug", "train", str(corpus.dir / "astronomical_labels.npz"),
                              "--model", "test_cdcgan", "--steps", "2", "--out", str(tmp_path / "out"), "--config",
                              str(corpus.dir / "quiet.toml")], capture_output=True, text=True, timeout=120,
                             preexec_fn=limit_memory, check=False, env={**os.environ, "GANAUG_CRASH_DIR": str(tmp_path)})
    assert "Traceback" not in process.stderr
    assert process.returncode == 1, process.stderr
    assert "labels span 2000000000001 classes" in process.stderr, process.stderr


# -- data the user already had must survive -----------------------------------------------------


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_saving_a_generator_over_the_users_files_refuses(corpus, tmp_path, kind):
    target = tmp_path / "holiday-photos"
    if kind == "folder":
        target.mkdir()
        (target / "precious.jpg").write_bytes(b"irreplaceable")
    else:
        target.write_bytes(b"irreplaceable")
    try:
        with pytest.raises(GanaugError, match="holiday-photos"):
            corpus.generator.save(target)
    finally:
        survivor = target / "precious.jpg" if kind == "folder" else target
        assert survivor.is_file() and survivor.read_bytes() == b"irreplaceable", "the user's data was deleted"


def test_training_into_a_folder_whose_generator_folder_holds_user_files_refuses(corpus, tmp_path):
    out = tmp_path / "mine"
    (out / "generator").mkdir(parents=True)
    (out / "generator" / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(main, ["train", str(corpus.npz), *TRAIN.format(out=out).split(), "--config",
                                       str(corpus.dir / "quiet.toml")], catch_exceptions=False)
    assert (out / "generator" / "precious.txt").exists(), "the user's file was deleted"
    assert result.exit_code == 1 and "generator" in "".join(_error_lines(result)), result.output


# -- API cases ----------------------------------------------------------------------------------


@dataclass
class Api:
    call: Callable[[SimpleNamespace], Any]
    error: type[BaseException] | None
    """The GanaugError subclass expected; None: any outcome but a non-GanaugError exception (match still applies)."""
    match: str
    seconds: int = 30


def api(id: str, call, error, match: str, seconds: int = 30, marks=()):
    return pytest.param(Api(call, error, match, seconds), id=id, marks=marks)


class _RaisingDataset(Dataset):
    """The tiny store as a plain Dataset whose item ``bad`` raises."""

    def __init__(self, store, bad: int) -> None:
        self.store, self.bad = store, bad
        self.targets = store.labels.tolist()

    def __len__(self) -> int:
        return len(self.store.labels)

    def __getitem__(self, index: int):
        if index == self.bad:
            raise KeyError(f"row {index} is missing")
        return self.store.images[index], int(self.store.labels[index])


def _broken_transform(image):
    raise ValueError("transform broke")


def _mix(c, **kwargs):
    return SyntheticMix(c.store, c.generator, **kwargs)


def _fit(c, **kwargs):
    return ganaug.fit(c.store, "test_cdcgan", **{"steps": 1, "batch_size": 8, "progress": False, **kwargs})


def _gain(c, **kwargs):
    return ganaug.evaluate_gain(c.store, **{"generator": c.generator, "steps": 2, "seeds": 1, "progress": False,
                                            **kwargs})


API_CASES = [
    # SyntheticMix
    api("mix-policy-count-a-string", lambda c: _mix(c, class_policy={0: "many"}), ConfigError,
        r"class_policy\[0\]='many'"),
    api("mix-policy-count-too-large-for-memory",
        lambda c: _mix(c, class_policy={0: 10**10}, max_per_real=None, fidelity=None, ratio=None), DataError,
        "SyntheticMix with 10000000000 synthetic items"),
    api("mix-generator-none", lambda c: SyntheticMix(c.store, None), ConfigError, "generator=None"),
    api("mix-real-a-list", lambda c: SyntheticMix([1, 2, 3], c.generator), ConfigError, "real=list"),
    api("mix-ratio-2", lambda c: _mix(c, ratio=2), ConfigError, "ratio=2 must be a number in"),
    api("mix-ratio-a-string", lambda c: _mix(c, ratio="x"), ConfigError, "ratio='x' must be a number"),
    api("mix-ratio-nan", lambda c: _mix(c, ratio=float("nan")), ConfigError, "ratio=nan must be a number"),
    api("mix-policy-unknown-name", lambda c: _mix(c, class_policy="nope"), ConfigError, "class_policy='nope'"),
    api("mix-policy-class-7", lambda c: _mix(c, class_policy={7: 3}), ConfigError, "class index 7 outside 0..2"),
    api("mix-policy-negative-count", lambda c: _mix(c, class_policy={0: -1}), ConfigError,
        "-1 images of class 0"),
    api("mix-policy-float-key", lambda c: _mix(c, class_policy={1.5: 1}), ConfigError, "class_policy key 1.5"),
    api("mix-seed-negative", lambda c: _mix(c, seed=-1), ConfigError, "seed=-1 must be an integer"),
    api("mix-seed-a-string", lambda c: _mix(c, seed="a"), ConfigError, "seed='a' must be an integer"),
    api("mix-bank-size-0", lambda c: _mix(c, bank_size=0), ConfigError, "bank_size=0 must be an integer >= 1"),
    api("mix-refresh-0", lambda c: _mix(c, refresh=0), ConfigError, "refresh=0; use 'epoch', 'never'"),
    api("mix-refresh-unknown", lambda c: _mix(c, refresh="daily"), ConfigError, "refresh='daily'"),
    api("mix-transform-not-callable", lambda c: _mix(c, transform=3), ConfigError, "transform=3 must be callable"),
    api("mix-max-draws-0", lambda c: _mix(c, max_draws=0), ConfigError, "max_draws=0 must be a positive integer"),
    api("mix-labels-too-few", lambda c: _mix(c, labels=[0, 1]), DataError, "labels= has 2 entries but the dataset has 30"),
    api("mix-real-item-raises", lambda c: SyntheticMix(_RaisingDataset(c.store, 20), c.generator, fidelity=None)[20],
        UserCodeError, r"item 20 of the real dataset\) raised KeyError: 'row 20 is missing'"),
    api("mix-transform-raises-on-a-real-item",
        lambda c: _mix(c, transform=_broken_transform, fidelity=None)[3], UserCodeError,
        r"transform= on item 3 \(real\) raised ValueError: transform broke"),
    api("mix-transform-raises-on-a-synthetic-item",
        lambda c: _mix(c, transform=_broken_transform, fidelity=None)[35], UserCodeError,
        r"transform= on item 35 \(synthetic\) raised ValueError: transform broke"),
    api("mix-max-per-real-nan", lambda c: _mix(c, max_per_real=float("nan")), ConfigError, "max_per_real=nan"),
    api("mix-max-per-real-inf", lambda c: _mix(c, max_per_real=float("inf")), None, "max_per_real"),
    api("mix-labels-strings", lambda c: SyntheticMix(TensorDataset(c.store.images, c.store.labels), c.generator,
                                                     labels=["a"] * 30), DataError, "'a'"),
    api("mix-real-item-raises-during-construction",
        lambda c: SyntheticMix(_RaisingDataset(c.store, 5), c.generator, fidelity=None), UserCodeError, "item 5"),
    api("mix-real-item-raises-while-measuring-fidelity",
        lambda c: SyntheticMix(_RaisingDataset(c.store, 20), c.generator), UserCodeError, "item 20"),
    api("mix-balance-ratio-near-1",
        lambda c: _mix(c, ratio=1 - 1e-7, class_policy="balance", max_per_real=None, fidelity=None), DataError,
        "synthetic items", seconds=3),
    # fit
    api("fit-steps-a-string", lambda c: _fit(c, steps="10"), ConfigError, "steps='10' must be an integer"),
    api("fit-batch-size-0", lambda c: _fit(c, batch_size=0), ConfigError, "batch_size=0 must be >= 1"),
    api("fit-device-unknown", lambda c: _fit(c, device="tpu"), ConfigError, "device='tpu' is not a device"),
    api("fit-model-not-a-string", lambda c: ganaug.fit(c.store, 3, steps=1, progress=False), ConfigError,
        "model=3 must be a string"),
    api("fit-seed-a-float", lambda c: _fit(c, seed=1.5), ConfigError, "seed=1.5 must be an integer"),
    api("fit-resume-without-out", lambda c: _fit(c, resume=True), ConfigError, "resume=True needs out="),
    api("fit-data-none", lambda c: ganaug.fit(None, "test_cdcgan", steps=1, progress=False), DataError,
        "cannot read data from a NoneType"),
    api("fit-unknown-model-option-did-you-mean", lambda c: _fit(c, lr_gg=1), ConfigError, "did you mean 'lr_g'"),
    api("fit-unknown-train-option-did-you-mean", lambda c: _fit(c, checkpoint_evry=1), ConfigError,
        "did you mean 'checkpoint_every'"),
    api("fit-huge-int-for-a-float", lambda c: _fit(c, lr_g=10**400), ConfigError, "lr_g"),
    api("fit-class-balance-nan", lambda c: _fit(c, class_balance=float("nan")), ConfigError, "class_balance=nan"),
    # load_data
    api("load-data-channels-2", lambda c: ganaug.load_data(c.npz, channels=2), DataError, "channels=2 is not supported"),
    api("load-data-image-size-0-by-5", lambda c: ganaug.load_data(c.npz, image_size=(0, 5)), DataError,
        r"image_size=\(0, 5\) must be a positive int"),
    api("load-data-tuple-of-3", lambda c: ganaug.load_data((np.zeros((3, 8, 8)), np.zeros(3), np.zeros(3))),
        DataError, "a tuple source must be \\(x, y\\), got a tuple of 3 items"),
    api("load-data-a-list", lambda c: ganaug.load_data([np.zeros((8, 8))] * 3), DataError,
        "cannot read data from a list"),
    api("load-data-too-few-class-names", lambda c: ganaug.load_data(c.npz, classes=["a", "b"]), DataError,
        "label 2 at index 20 is outside 0..1"),
    api("load-data-image-size-a-string", lambda c: ganaug.load_data(c.npz, image_size="big"), DataError,
        "image_size='big'"),
    api("load-data-ragged-arrays", lambda c: ganaug.load_data(([np.zeros((8, 8)), np.zeros((4, 4))], [0, 1])),
        DataError, r"\(x, y\)"),
    api("load-data-x-a-string", lambda c: ganaug.load_data(("abc", [0, 1, 2])), DataError, r"\(x, y\)"),
    api("load-data-duplicate-class-names", lambda c: ganaug.load_data(c.npz, classes=["a", "a", "b"]), DataError,
        "'a'"),
    # load
    api("load-missing-folder", lambda c: ganaug.load(c.dir / "nosuch"), CheckpointError, "nosuch: no such folder"),
    api("load-a-pt-file", lambda c: ganaug.load(c.dir / "model.pt"), CheckpointError,
        "model.pt: ganaug loads folders .* not single files"),
    api("load-device-unknown", lambda c: ganaug.load(c.run, device="tpu"), ConfigError, "device='tpu'"),
    # TrainedGenerator.sample
    api("sample-per-class-negative", lambda c: c.generator.sample(per_class=-1), ConfigError, "per_class=-1"),
    api("sample-per-class-a-float", lambda c: c.generator.sample(per_class=1.5), ConfigError, "per_class=1.5"),
    api("sample-unknown-class-name", lambda c: c.generator.sample(labels=["nosuch"]), ConfigError,
        "unknown class 'nosuch'"),
    api("sample-per-class-too-many-for-memory", lambda c: c.generator.sample(per_class=10**8), DataError,
        r"100000000 images per class \(per_class, --per-class\)"),
    api("sample-label-out-of-range", lambda c: c.generator.sample(labels=[7]), ConfigError, "label 7 outside 0..2"),
    api("sample-seed-negative", lambda c: c.generator.sample(seed=-1), ConfigError, "seed=-1"),
    api("sample-label-a-float", lambda c: c.generator.sample(labels=[1.5]), ConfigError, "1.5"),
    api("sample-label-none", lambda c: c.generator.sample(labels=[None]), ConfigError, "None"),
    api("sample-labels-an-int", lambda c: c.generator.sample(labels=3), ConfigError, "labels=3"),
    api("sample-batch-size-0", lambda c: c.generator.sample(per_class=1, batch_size=0), ConfigError, "batch_size=0"),
    # evaluate_gain
    api("gain-unknown-option-did-you-mean", lambda c: _gain(c, steep=3), ConfigError, "did you mean 'steps'"),
    api("gain-gan-overrides-not-a-table", lambda c: _gain(c, gan_overrides=3), ConfigError,
        "gan_overrides=3 must be a table"),
    api("gain-test-size-1", lambda c: _gain(c, test_size=1.0), ConfigError, "test_size=1.0 must be > 0 and < 1"),
    api("gain-generator-a-missing-path", lambda c: _gain(c, generator=str(c.dir / "no-such-run")), CheckpointError,
        "no-such-run: no such folder"),
    api("gain-classic-not-callable", lambda c: _gain(c, classic=5), ConfigError, "classic=5"),
    api("gain-classifier-factory-raises", lambda c: _gain(c, classifier_factory=lambda **kwargs: 1 / 0),
        UserCodeError, "classifier_factory"),
]


@pytest.mark.parametrize("case", API_CASES)
def test_api_bad_input(case: Api, corpus):
    with time_limit(case.seconds):
        if case.error is None:
            try:
                case.call(corpus)
            except GanaugError as exc:
                assert re.search(case.match, str(exc)), str(exc)
            return
        with pytest.raises(case.error, match=case.match) as info:
            case.call(corpus)
    assert isinstance(info.value, GanaugError)
