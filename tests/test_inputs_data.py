"""Bad data inputs that used to pass in silence or with a confusing message ("no silent surprises").

Each case gets one line naming the culprit (file, item, option) and the fix, raised before the work
where possible, or one warning naming what was left out when going on is right:

* integer images above 255 (an int64 ``.npz``, int tensors from a Dataset) are refused; uint16 images
  are 16-bit and divided by 257;
* ``.jfif``/``.jpe`` (JPEG) and ``.avif`` (when Pillow reads it) files are read; files left out for their
  suffix are named in one warning;
* a class folder that is a link to itself, to the data folder or above is skipped with a warning;
* dict items from a ``module:function`` source get a fix that works where the source was given;
* ``(label, image)`` items are called swapped, in one line;
* ``SyntheticMix`` refuses real images of another size than the generator's, naming both.
"""

from __future__ import annotations

import copy
import os
import sys
import textwrap
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from torch.utils.data import Dataset, TensorDataset

import ganaug
from ganaug import DataError, SyntheticMix
from ganaug.cli import main
from ganaug.data import folders
from ganaug.testing import make_tiny_data
from tests.conftest import write_image_folder
from tests.test_bad_inputs import _error_lines

MODULE = "ganaug_inputs_data"
MODULE_SOURCE = textwrap.dedent('''\
    """Data functions for tests/test_inputs_data.py."""
    import torch
    from torch.utils.data import Dataset


    class DictItems(Dataset):
        def __len__(self):
            return 12

        def __getitem__(self, index):
            return {"picture": torch.zeros(8, 8, dtype=torch.uint8), "cls": index % 2}


    def dict_items():
        return DictItems()


    class Swapped(Dataset):
        def __len__(self):
            return 12

        def __getitem__(self, index):
            return index % 2, torch.zeros(8, 8, dtype=torch.uint8).numpy()


    def swapped():
        return Swapped()
''')
TRAIN = ["--model", "test_cdcgan", "--steps", "2", "--device", "cpu"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> SimpleNamespace:
    """The shared inputs, built once: .npz files, the data module, a 2-step 8x8 generator."""
    d = tmp_path_factory.mktemp("inputs")
    store = make_tiny_data(num_classes=3, per_class=10)
    x, y = store.images[:, 0].numpy(), store.labels.numpy()
    wide = x.astype(np.int64) * 996  # up to 254000 (255 * 996 would be 253980), as "raw sensor counts"
    wide[7, 0, 0] = 254000
    np.savez(d / "int64.npz", x=wide, y=y)
    np.savez(d / "uint16.npz", x=x.astype(np.uint16) * 257, y=y)
    (d / f"{MODULE}.py").write_text(MODULE_SOURCE)
    generator = ganaug.fit(make_tiny_data(num_classes=4, per_class=20), "test_cdcgan", steps=2, batch_size=16,
                           progress=False)
    return SimpleNamespace(dir=d, x=x, y=y, wide=wide, generator=generator)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path, corpus):
    monkeypatch.setenv("GANAUG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GANAUG_CRASH_DIR", str(tmp_path / "crashes"))
    monkeypatch.syspath_prepend(str(corpus.dir))
    monkeypatch.chdir(tmp_path)
    yield
    sys.modules.pop(MODULE, None)


def _cli(args: list[str]):
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in output, output
    return result, output


def _one_error(args: list[str]) -> str:
    result, output = _cli(args)
    assert result.exit_code == 1, output
    errors = _error_lines(result)
    assert len(errors) == 1, errors
    return errors[0]


def _warnings_of(call) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = call()
    return value, [str(w.message) for w in caught]


# -- 1. integer images above 255 ----------------------------------------------------------------


def test_an_int64_npz_above_255_is_refused_naming_the_file_value_and_image(corpus, tmp_path):
    line = _one_error(["train", str(corpus.dir / "int64.npz"), *TRAIN, "--out", str(tmp_path / "out")])
    worst = int(np.argmax(corpus.wide.reshape(len(corpus.wide), -1).max(axis=1)))
    assert "int64.npz" in line and f"up to {corpus.wide.max()}" in line and f"image {worst}" in line, line
    assert "0..255" in line and "257" in line, line
    assert not (tmp_path / "out").exists()  # refused before the run folder is made


def test_integer_arrays_and_dataset_tensors_above_255_are_refused():
    x = np.zeros((6, 8, 8), np.int32)
    x[4, 1, 1] = 300
    with pytest.raises(DataError, match=r"up to 300.*image 4.*0\.\.255"):
        ganaug.load_data((x, np.arange(6) % 2))
    images = torch.zeros(6, 8, 8, dtype=torch.int64)
    images[2, 0, 0] = 1000
    with pytest.raises(DataError, match=r"item 2.*up to 1000.*divide by 257"):
        ganaug.load_data(TensorDataset(images, torch.arange(6) % 2))


def test_uint16_images_are_16_bit_divided_by_257(corpus):
    store = ganaug.load_data(corpus.dir / "uint16.npz")
    assert torch.equal(store.images[:, 0], torch.from_numpy(corpus.x))
    images = torch.full((4, 8, 8), 257 * 7, dtype=torch.uint16)
    assert ganaug.load_data(TensorDataset(images, torch.arange(4) % 2)).images.unique().tolist() == [7]


# -- 2. image suffixes --------------------------------------------------------------------------


def _save_as(path: Path, fmt: str) -> None:
    Image.fromarray(np.full((8, 8), 128, np.uint8)).save(path, format=fmt)


def test_jfif_jpe_and_avif_files_are_read_and_other_suffixes_named_in_one_warning(tmp_path):
    root = write_image_folder(tmp_path / "data", per_class=2)
    _save_as(root / "cat" / "a.jfif", "JPEG")
    _save_as(root / "cat" / "b.jpe", "JPEG")
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "dog" / "labels.txt").write_text("not an image")
    (root / "dog" / "raw.xyz").write_text("not an image")
    (root / "dog" / ".DS_Store").write_text("hidden: left out without a word")
    avif = "AVIF" in Image.registered_extensions().values() and ".avif" in folders.image_extensions()
    if avif:
        _save_as(root / "dog" / "c.avif", "AVIF")
    store, messages = _warnings_of(lambda: ganaug.load_data(root, cache=False))
    assert len(store) == 4 + 2 + int(avif)
    suffix = [m for m in messages if "suffix" in m]
    assert len(suffix) == 1, messages
    assert ".txt: 2" in suffix[0] and ".xyz: 1" in suffix[0] and str(root / "dog" / "raw.xyz") in suffix[0], suffix
    assert "DS_Store" not in suffix[0] and "\n" not in suffix[0]


def test_avif_files_this_pillow_cannot_read_are_named_with_the_fix(tmp_path, monkeypatch):
    root = write_image_folder(tmp_path / "data", per_class=2)
    (root / "cat" / "c.avif").write_bytes(b"pretend AVIF")
    registered = {ext: fmt for ext, fmt in Image.registered_extensions().items() if fmt != "AVIF"}
    monkeypatch.setattr(Image, "registered_extensions", lambda: registered)
    store, messages = _warnings_of(lambda: ganaug.load_data(root, cache=False))
    assert len(store) == 4
    suffix = [m for m in messages if ".avif" in m]
    assert len(suffix) == 1 and str(root / "cat" / "c.avif") in suffix[0] and "Pillow" in suffix[0], messages


def test_the_suffix_warning_reaches_the_cli_as_one_line(tmp_path, monkeypatch):
    root = write_image_folder(tmp_path / "data", per_class=4)
    (root / "cat" / "notes.txt").write_text("not an image")

    def printed(message, category, filename, lineno, file=None, line=None):  # as outside pytest's capture
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    monkeypatch.setattr(warnings, "showwarning", printed)
    result, output = _cli(["train", str(root), *TRAIN, "--batch-size", "4", "--out", str(tmp_path / "out"),
                           "--no-cache-data"])
    assert result.exit_code == 0, output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Warning:") and ".txt: 1" in line]
    assert len(lines) == 1 and str(root / "cat" / "notes.txt") in lines[0], output


# -- 3. class folders that link to themselves or above --------------------------------------------


@pytest.mark.parametrize("target", ["loop", ".", "..", "ABSOLUTE"])
def test_a_class_folder_linking_to_itself_or_above_is_skipped_with_a_warning(tmp_path, target):
    root = write_image_folder(tmp_path / "data")
    os.symlink(str(root) if target == "ABSOLUTE" else target, root / "loop")
    store, messages = _warnings_of(lambda: ganaug.load_data(root))  # the decoded cache on, as from the CLI
    assert store.classes == ["cat", "dog"] and len(store) == 6
    named = [m for m in messages if str(root / "loop") in m]
    assert len(named) == 1 and "class folder" in named[0], messages


@pytest.mark.parametrize("target", ["cat", "cat/inner"])
def test_a_class_folder_linking_into_another_class_is_skipped_with_a_warning(tmp_path, target):
    root = write_image_folder(tmp_path / "data")
    (root / "cat" / "inner").mkdir()
    os.symlink(target, root / "kitty")
    store, messages = _warnings_of(lambda: ganaug.load_data(root))
    assert store.classes == ["cat", "dog"] and len(store) == 6
    named = [m for m in messages if str(root / "kitty") in m]
    assert len(named) == 1 and "(into cat)" in named[0] and "another class's folder" in named[0], messages


def test_a_class_folder_linking_outside_the_data_is_a_class(tmp_path):
    root = write_image_folder(tmp_path / "data")
    write_image_folder(tmp_path / "elsewhere", classes=("bird",))
    os.symlink(str(tmp_path / "elsewhere" / "bird"), root / "bird")
    store, _ = _warnings_of(lambda: ganaug.load_data(root))
    assert store.classes == ["bird", "cat", "dog"] and len(store) == 9


def test_a_folder_in_a_class_folder_linking_to_itself_is_skipped_with_a_warning(tmp_path):
    root = write_image_folder(tmp_path / "data")
    os.symlink("sub", root / "cat" / "sub")
    store, messages = _warnings_of(lambda: ganaug.load_data(root, cache=False))
    assert store.classes == ["cat", "dog"] and len(store) == 6
    assert any(str(root / "cat" / "sub") in m and "loops" in m for m in messages), messages


# -- 4. dict items from module:function ---------------------------------------------------------


def test_dict_items_from_a_cli_data_function_get_a_fix_that_works_there(tmp_path):
    line = _one_error(["train", f"{MODULE}:dict_items", *TRAIN, "--out", str(tmp_path / "out")])
    assert f"{MODULE}:dict_items" in line and "'picture'" in line and "return (image, label) pairs" in line, line


def test_item_keys_reach_a_module_function_source():
    store = ganaug.load_data(f"{MODULE}:dict_items", item_keys=("picture", "cls"))
    assert len(store) == 12 and store.num_classes == 2


# -- 5. swapped (label, image) items ------------------------------------------------------------


def test_label_image_pairs_are_called_swapped_in_one_line(tmp_path):
    line = _one_error(["train", f"{MODULE}:swapped", *TRAIN, "--out", str(tmp_path / "out")])
    assert "item 0" in line and "swapped" in line and "return (image, label)" in line, line
    assert "(8, 8)" in line and "int" in line, line
    with pytest.raises(DataError, match="swapped") as caught:
        ganaug.load_data(__import__(MODULE).swapped())
    assert "\n" not in str(caught.value)


# -- 6. SyntheticMix with real images of another size --------------------------------------------


@pytest.mark.parametrize("fidelity", ["auto", None])
def test_synthetic_mix_refuses_real_images_of_another_size_naming_both(corpus, fidelity):
    generator = copy.copy(corpus.generator)
    generator.fidelity = None  # so the mix would measure it on the real images: the PCA error of old
    big = make_tiny_data((1, 16, 16), num_classes=4, per_class=5)
    with pytest.raises(DataError) as caught:
        SyntheticMix(TensorDataset(big.images, big.labels), generator, fidelity=fidelity)
    message = str(caught.value)
    assert "16x16" in message and "8x8" in message and "image_size=8" in message, message
