"""Nothing the user has is overwritten: every ``--out`` of every command, and the calls behind them.

Also the restore inputs that used to come back silently changed: images of another size or colour
than the generator's, mask folders of another size, grey masks and masks that mark nothing.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import ganaug
from ganaug import ConfigError, DataError
from ganaug.cli import main
from ganaug.outputs import check_destination
from ganaug.testing import make_tiny_data
from tests.conftest import write_image_folder


def _invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _errors(result) -> str:
    return result.stderr if result.stderr_bytes is not None else result.output


def _train(data: Path, model: str, out: Path) -> Path:
    config = out.parent / "quiet.toml"
    config.write_text("progress = false\n")
    result = _invoke("train", data, "--model", model, "--steps", "2", "--batch-size", "8", "--device", "cpu",
                     "--out", out, "--config", config)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> SimpleNamespace:
    d = tmp_path_factory.mktemp("overwrite")
    store = make_tiny_data(num_classes=3, per_class=4)
    np.savez(d / "tiny.npz", x=store.images[:, 0].numpy(), y=store.labels.numpy())
    return SimpleNamespace(dir=d, npz=d / "tiny.npz", run=_train(d / "tiny.npz", "test_cdcgan", d / "run"),
                           i2i=_train(d / "tiny.npz", "test_img2img", d / "i2i"))


def _user_folder(root: Path, size=(8, 8), mode="L") -> Path:
    """A folder of the user's own images, named like the tiny data's classes."""
    return write_image_folder(root, classes=("0", "1", "2"), per_class=2, size=size, mode=mode)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- sample -------------------------------------------------------------------------------------


def test_sample_into_a_folder_of_the_users_images_refuses_and_keeps_them(runs, tmp_path):
    images = _user_folder(tmp_path / "userimgs")
    before = _snapshot(images)
    result = _invoke("sample", runs.run, "--per-class", 2, "--out", images)
    assert result.exit_code == 1
    assert "already holds files" in _errors(result) and "--overwrite" in _errors(result)
    assert _snapshot(images) == before


def test_sample_with_overwrite_writes_into_a_non_empty_folder(runs, tmp_path):
    out = tmp_path / "samples"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = _invoke("sample", runs.run, "--per-class", 2, "--out", out, "--overwrite")
    assert result.exit_code == 0, result.output
    assert (out / "notes.txt").read_text() == "mine" and len(list(out.rglob("*.png"))) == 6


def test_sample_over_an_existing_npz_refuses_unless_overwrite(runs, tmp_path):
    precious = tmp_path / "precious.npz"
    precious.write_bytes(b"irreplaceable")
    result = _invoke("sample", runs.run, "--per-class", 2, "--out", precious)
    assert result.exit_code == 1 and "precious.npz exists" in _errors(result)
    assert precious.read_bytes() == b"irreplaceable"
    assert _invoke("sample", runs.run, "--per-class", 2, "--out", precious, "--overwrite").exit_code == 0
    with np.load(precious) as archive:
        assert archive["x"].shape == (6, 1, 8, 8)


def test_sample_to_a_png_name_refuses_instead_of_making_a_folder(runs, tmp_path):
    result = _invoke("sample", runs.run, "--out", tmp_path / "s" / "out.png")
    assert result.exit_code == 1 and "ends in .png" in _errors(result) and ".npz" in _errors(result)
    assert not (tmp_path / "s").exists()


def test_sample_sources_on_a_noise_family_refuses(runs, tmp_path):
    result = _invoke("sample", runs.run, "--sources", runs.npz, "--out", tmp_path / "out")
    assert result.exit_code == 1 and "--sources" in _errors(result) and "draws images from noise" in _errors(result)
    assert not (tmp_path / "out").exists()


def test_sample_into_its_sources_refuses(runs, tmp_path):
    sources = _user_folder(tmp_path / "sources")
    result = _invoke("sample", runs.i2i, "--sources", sources, "--out", sources / "0", "--overwrite")
    assert result.exit_code == 1 and "inside the input" in _errors(result)


# -- restore ------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["same", "inside"])
def test_restore_into_its_input_refuses_even_with_overwrite(runs, tmp_path, where):
    images = _user_folder(tmp_path / "imgs")
    before = _snapshot(images)
    out = images if where == "same" else images / "restored"
    result = _invoke("restore", runs.i2i, images, "--masks", "random", "--out", out, "--overwrite")
    assert result.exit_code == 1 and "never writes into what it reads" in _errors(result), _errors(result)
    assert _snapshot(images) == before


def test_restore_into_a_non_empty_folder_refuses(runs, tmp_path):
    images = _user_folder(tmp_path / "imgs")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.png").write_bytes(b"mine")
    result = _invoke("restore", runs.i2i, images, "--masks", "random", "--out", out)
    assert result.exit_code == 1 and "already holds files" in _errors(result)
    assert (out / "keep.png").read_bytes() == b"mine"


@pytest.mark.parametrize("size,mode,described", [((16, 16), "L", "16x16 grey"), ((8, 8), "RGB", "8x8 RGB")])
def test_restore_of_another_size_or_colour_refuses_unless_resize(runs, tmp_path, size, mode, described):
    images = _user_folder(tmp_path / "imgs", size=size, mode=mode)
    result = _invoke("restore", runs.i2i, images, "--masks", "random", "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert described in _errors(result) and "8x8 grey" in _errors(result) and "--resize" in _errors(result)
    result = _invoke("restore", runs.i2i, images, "--masks", "random", "--out", tmp_path / "out", "--resize")
    assert result.exit_code == 0, result.output
    restored = Image.open(next((tmp_path / "out").rglob("*.png")))
    assert restored.size == (8, 8) and restored.mode == "L"


def test_a_mask_folder_of_another_size_refuses_unless_resize(runs, tmp_path):
    images = _user_folder(tmp_path / "imgs")
    masks = tmp_path / "masks"
    for path in images.rglob("*.png"):
        target = masks / path.relative_to(images)
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((5, 5), 255, np.uint8)).save(target)
    result = _invoke("restore", runs.i2i, images, "--masks", masks, "--out", tmp_path / "out")
    assert result.exit_code == 1 and "is 5x5, the images 8x8" in _errors(result), _errors(result)
    assert _invoke("restore", runs.i2i, images, "--masks", masks, "--out", tmp_path / "out2",
                   "--resize").exit_code == 0


def _restore(generator, masks):
    images = torch.zeros(3, 1, 8, 8, dtype=torch.uint8)
    return generator.restore(images, [0, 1, 2], masks=masks)


def test_grey_masks_refuse(runs):
    generator = ganaug.load(runs.i2i)
    with pytest.raises(DataError, match="mask 0 is grey on 100% of its pixels"):
        _restore(generator, torch.full((3, 8, 8), 0.5))


def test_masks_that_mark_nothing_refuse(runs):
    generator = ganaug.load(runs.i2i)
    with pytest.raises(DataError, match="no mask marks a pixel missing"):
        _restore(generator, torch.zeros(3, 8, 8))


def test_some_empty_masks_warn_and_the_rest_are_restored(runs):
    generator = ganaug.load(runs.i2i)
    masks = torch.zeros(3, 8, 8)
    masks[1:, 2:6, 2:6] = 255
    with pytest.warns(UserWarning, match="1 of 3 masks mark no pixel missing .first: image 0"):
        restored = _restore(generator, masks)
    assert restored.shape == (3, 1, 8, 8) and torch.equal(restored[0], torch.zeros(1, 8, 8, dtype=torch.uint8))


def test_a_compressed_masks_grey_edge_is_rounded(runs):
    generator = ganaug.load(runs.i2i)
    masks = torch.zeros(3, 8, 8)
    masks[:, 2:6, 2:6] = 1.0
    masks[:, 2, 2:6] = 0.6  # a grey edge: 4 of 64 pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _restore(generator, masks).shape == (3, 1, 8, 8)


# -- gain and plan ------------------------------------------------------------------------------


def test_gain_into_a_non_empty_folder_refuses_before_any_work(runs, tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "thesis.tex").write_text("mine")
    result = _invoke("gain", runs.npz, "--generator", runs.run, "--out", out, "--steps", 2, "--seeds", 1)
    assert result.exit_code == 1 and "already holds files (e.g. thesis.tex)" in _errors(result)
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]
    with pytest.raises(ConfigError, match="already holds files"):
        ganaug.evaluate_gain(runs.npz, generator=runs.run, out=out, steps=2, seeds=1, progress=False)


def test_gain_into_its_data_refuses(runs, tmp_path):
    images = _user_folder(tmp_path / "imgs")
    result = _invoke("gain", images, "--generator", runs.run, "--out", images / "gain", "--steps", 2)
    assert result.exit_code == 1 and "inside the input" in _errors(result)


def test_plan_into_its_data_refuses(runs, tmp_path):
    images = _user_folder(tmp_path / "imgs")
    result = _invoke("plan", images, "--generator", runs.run, "--out", images / "0" / "recipe.json")
    assert result.exit_code == 1 and "inside the input" in _errors(result)
    assert not (images / "0" / "recipe.json").exists()


# -- the rule itself ----------------------------------------------------------------------------


def test_check_destination_accepts_new_and_empty_places(tmp_path):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "new", tmp_path / "empty", tmp_path / "new.npz", tmp_path / "a.b.c"):
        assert check_destination(out) == out


def test_check_destination_refuses_a_folder_named_npz_and_a_file_as_a_folder(tmp_path):
    (tmp_path / "x.npz").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a folder, not an .npz file"):
        check_destination(tmp_path / "x.npz")
    with pytest.raises(ConfigError, match="is a file"):
        check_destination(tmp_path / "file", overwrite=True)
    with pytest.raises(ConfigError, match="would be written as a folder; pass a folder$"):
        check_destination(tmp_path / "out.png", allow_array=False)


# -- train --------------------------------------------------------------------------------------


def test_train_into_a_folder_of_the_users_files_refuses_before_reading_data(runs, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    result = _invoke("train", runs.npz, "--model", "test_cdcgan", "--steps", 2, "--out", mine)
    assert result.exit_code == 1 and "holds files that are not a ganaug run's (notes.txt)" in _errors(result)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_a_new_run_over_a_finished_run_without_checkpoints_refuses_to_replace_its_generator(runs, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(runs.run, run)
    shutil.rmtree(run / "checkpoints")
    before = _snapshot(run / "generator")
    result = _invoke("train", runs.npz, "--model", "test_cdcgan", "--steps", 2, "--out", run)
    assert result.exit_code == 1 and "holds the trained generator of an earlier run" in _errors(result)
    assert _snapshot(run / "generator") == before


# -- every --out of every command ---------------------------------------------------------------

EVERY_OUT = {
    "train": "train {npz} --model test_cdcgan --steps 2 --out {out}",
    "sample": "sample {run} --out {out}",
    "restore": "restore {i2i} {npz} --masks random --out {out}",
    "gain": "gain {npz} --generator {run} --steps 2 --seeds 1 --out {out}",
    "demo": "demo --steps 2 --out {out}",
}


@pytest.mark.parametrize("command", sorted(EVERY_OUT))
def test_no_command_writes_into_a_folder_of_the_users_files(runs, tmp_path, command):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    args = EVERY_OUT[command].format(npz=runs.npz, run=runs.run, i2i=runs.i2i, out=out).split()
    result = _invoke(*args)
    assert result.exit_code == 1, result.output
    assert str(out) in _errors(result), _errors(result)
    assert [p.name for p in out.iterdir()] == ["precious.txt"] and (out / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize("command", ["plan", "sample", "restore"])
def test_no_command_replaces_an_existing_file(runs, tmp_path, command):
    target = tmp_path / ("recipe.json" if command == "plan" else "precious.npz")
    target.write_bytes(b"irreplaceable")
    args = {"plan": f"plan {runs.npz} --generator {runs.run} --out {target}",
            "sample": f"sample {runs.run} --out {target}",
            "restore": f"restore {runs.i2i} {runs.npz} --masks random --out {target}"}[command].split()
    result = _invoke(*args)
    assert result.exit_code == 1 and "exists" in _errors(result), _errors(result)
    assert target.read_bytes() == b"irreplaceable"


def test_new_plugin_never_replaces_an_existing_package(tmp_path):
    (tmp_path / "ganaug-mine").mkdir()
    (tmp_path / "ganaug-mine" / "precious.py").write_text("keep me")
    result = _invoke("new-plugin", "mine", "--out", tmp_path)
    assert result.exit_code == 1 and "already exists" in _errors(result)
    assert [p.name for p in (tmp_path / "ganaug-mine").iterdir()] == ["precious.py"]


def test_an_out_name_too_long_for_the_file_system_is_a_clear_error():
    with pytest.raises(ConfigError, match="not a usable folder .File name too long"):
        ganaug.fit("no-such-data", "test_cdcgan", steps=2, out="1" * 400, progress=False)


def test_check_destination_turns_a_name_too_long_into_a_clear_error():
    with pytest.raises(ConfigError, match="not a usable path .File name too long"):
        check_destination("1" * 400)
