"""Image folders: parallel decoding, the decoded cache and its checks, the resize rules."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganaug.data.decode as decode
import ganaug.data.folders as folders
from ganaug import DataError, load_data
from ganaug.data.folder_cache import IMAGES_FILE, META_FILE, cache_root
from ganaug.errors import ConfigError
from ganaug.train.config import TrainConfig
from tests.conftest import write_image_folder


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    """A cache of this test's own, so that what it finds there is what the test wrote."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("GANAUG_CACHE_DIR", str(folder))
    return folder / "folders"


def mixed_folder(root: Path) -> Path:
    """Files of several modes and sizes, non-square ones among them."""
    rng = np.random.default_rng(3)
    for k, name in enumerate(("a", "b", "c")):
        (root / name).mkdir(parents=True)
        for i in range(7):
            shape = (10 + i, 6 + 2 * k)
            rgb = Image.fromarray(rng.integers(0, 256, (*shape, 3), dtype=np.uint8))
            image = [rgb, rgb.convert("L"), rgb.convert("P"), rgb.convert("RGBA")][(i + k) % 4]
            image.save(root / name / f"{i}.png")
    return root


def decoded_calls(monkeypatch) -> list[str]:
    """The names of the threads that decode files, one per file decoded from now on."""
    calls: list[str] = []
    real = decode.decode_file

    def spy(*args, **kwargs):
        calls.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(decode, "decode_file", spy)
    return calls


def test_parallel_decoding_gives_the_serial_result(tmp_path, monkeypatch, cache_dir):
    root = mixed_folder(tmp_path / "mixed")
    (root / "b" / "3.png").write_bytes(b"not a png")  # an unreadable file in the middle, skipped in both
    calls = decoded_calls(monkeypatch)
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        serial = load_data(root, image_size=(8, 6), channels=3, skip_bad=True, workers=1, cache=False)
    assert set(calls) == {threading.current_thread().name}
    monkeypatch.setattr(decode, "PARALLEL_FROM", 1)
    calls.clear()
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        parallel = load_data(root, image_size=(8, 6), channels=3, skip_bad=True, workers=3, cache=False)
    assert any(name.startswith("ganaug-decode") for name in calls)
    assert torch.equal(serial.images, parallel.images) and torch.equal(serial.labels, parallel.labels)
    assert serial.images.shape == (20, 3, 8, 6) and serial.class_counts() == [7, 6, 7]


def test_parallel_decoding_names_the_first_bad_file(tmp_path, monkeypatch, cache_dir):
    root = write_image_folder(tmp_path / "images", per_class=20)
    for name in ("dog/15.png", "cat/4.png"):
        (root / name).write_bytes(b"")
    monkeypatch.setattr(decode, "PARALLEL_FROM", 1)
    with pytest.raises(DataError, match=r"cat/4.png: unreadable or corrupt image \(empty file\).*skip_bad"):
        load_data(root, workers=4)


def test_plain_folder_matches_a_plain_pil_loop(tmp_path, cache_dir):
    root = write_image_folder(tmp_path / "images", per_class=4, size=(12, 12), mode="RGB")
    store = load_data(root, image_size=5, cache=False)
    files = sorted(root.glob("*/*.png"))
    expected = [np.asarray(Image.open(f).convert("RGB").resize((5, 5), Image.BILINEAR)) for f in files]
    assert np.array_equal(store.images.numpy(), np.stack(expected).transpose(0, 3, 1, 2))


def test_second_load_is_a_cache_hit_with_the_same_store(image_folder, monkeypatch, cache_dir):
    first = load_data(image_folder, image_size=4)
    assert len(list(cache_dir.glob(f"*/{IMAGES_FILE}"))) == 1
    calls = decoded_calls(monkeypatch)
    second = load_data(image_folder, image_size=4)
    assert calls == []
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)
    assert second.classes == first.classes == ["cat", "dog"]
    load_data(image_folder, image_size=5)  # another size is another cache, not a false hit
    assert len(calls) == 6 and len(list(cache_dir.glob(f"*/{IMAGES_FILE}"))) == 2


def _changes(root: Path):
    path = root / "cat" / "1.png"
    stat = path.stat()
    yield "touched", lambda: os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    yield "rewritten", lambda: (Image.new("L", (8, 8), 7).save(path),
                                os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2 * 10**9)))
    yield "added", lambda: Image.new("L", (8, 8), 200).save(root / "dog" / "new.png")
    yield "removed", lambda: (root / "dog" / "0.png").unlink()
    yield "class renamed", lambda: (root / "dog").rename(root / "wolf")


def test_cache_is_rebuilt_when_files_change(image_folder, monkeypatch, cache_dir):
    load_data(image_folder)
    calls = decoded_calls(monkeypatch)
    for what, change in _changes(image_folder):
        change()
        calls.clear()
        cached = load_data(image_folder)
        assert calls, f"{what}: the stale cache was used"
        fresh = load_data(image_folder, cache=False)
        assert torch.equal(cached.images, fresh.images) and cached.classes == fresh.classes, what
        calls.clear()
        assert torch.equal(load_data(image_folder).images, fresh.images) and calls == [], what  # and cached again
    assert int(load_data(image_folder).images[1].max()) == 7  # the rewritten cat/1.png


@pytest.mark.parametrize("damage", ["truncated images", "garbage meta", "edited meta", "missing images"])
def test_damaged_cache_is_ignored_and_rebuilt(image_folder, monkeypatch, cache_dir, damage):
    expected = load_data(image_folder)
    (folder,) = cache_dir.iterdir()
    images, meta = folder / IMAGES_FILE, folder / META_FILE
    if damage == "truncated images":
        images.write_bytes(images.read_bytes()[:50])
    elif damage == "garbage meta":
        meta.write_text("{not json")
    elif damage == "edited meta":
        meta.write_text(meta.read_text().replace('"cat"', '"lion"'))
    else:
        images.unlink()
    calls = decoded_calls(monkeypatch)
    store = load_data(image_folder)
    assert calls and torch.equal(store.images, expected.images) and store.classes == ["cat", "dog"]
    calls.clear()
    load_data(image_folder)
    assert calls == []  # rebuilt, and used


def test_unwritable_cache_warns_and_still_loads(image_folder, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("GANAUG_CACHE_DIR", str(blocker))
    with pytest.warns(UserWarning, match=r"could not write the decoded cache .*cache=False"):
        store = load_data(image_folder)
    assert store.class_counts() == [3, 3]


def test_cache_inside_the_data_folder_is_never_written(image_folder, monkeypatch):
    monkeypatch.setenv("GANAUG_CACHE_DIR", str(image_folder / ".cache"))
    with pytest.warns(UserWarning, match="would be inside the data folder"):
        load_data(image_folder)
    assert not (image_folder / ".cache").exists()


def test_cache_false_writes_nothing(image_folder, cache_dir):
    load_data(image_folder, cache=False)
    load_data(image_folder, image_size=4, cache=False)
    assert not cache_dir.parent.exists()


def test_skip_bad_caches_what_was_loaded_and_still_refuses_without_it(image_folder, monkeypatch, cache_dir):
    (image_folder / "dog" / "bad.png").write_bytes(b"not a png")
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        first = load_data(image_folder, skip_bad=True)
    calls = decoded_calls(monkeypatch)
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable image file\(s\), first: .*dog/bad.png"):
        second = load_data(image_folder, skip_bad=True)
    assert calls == [] and torch.equal(first.images, second.images) and len(second) == 6
    with pytest.raises(DataError, match=r"dog/bad.png: unreadable or corrupt image.*skip_bad=True"):
        load_data(image_folder)
    (image_folder / "dog" / "bad.png").unlink()
    assert len(load_data(image_folder)) == 6


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.setenv("GANAUG_CACHE_DIR", str(tmp_path / "own"))
    assert cache_root() == tmp_path / "own" / "folders"
    monkeypatch.delenv("GANAUG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "ganaug" / "folders"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "ganaug" / "folders"


def stripes(height: int, width: int) -> np.ndarray:
    """An RGB image: red in the left quarter, blue in the right quarter, green between."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 4, 0] = 255
    image[:, width // 4: width - width // 4, 1] = 255
    image[:, width - width // 4:, 2] = 255
    return image


@pytest.mark.parametrize("source", ["folder", "arrays"])
def test_resize_rules_on_a_wide_image(tmp_path, cache_dir, source):
    wide = stripes(16, 32)
    if source == "folder":
        for name in ("a", "b"):
            (tmp_path / "wide" / name).mkdir(parents=True)
            Image.fromarray(wide).save(tmp_path / "wide" / name / "0.png")
        data = tmp_path / "wide"
    else:
        data = (np.stack([wide, wide]), [0, 1])
    with pytest.warns(UserWarning, match="fewer than 2 images"):
        crop, squash, pad = (load_data(data, image_size=8, resize=rule).images[0].int()
                             for rule in ("crop", "squash", "pad"))
    assert crop.shape == squash.shape == pad.shape == (3, 8, 8)
    red, green, blue = (crop[c] > 128 for c in range(3))
    assert green.all() and not red.any() and not blue.any()  # the centre half survives, both sides are cut off
    assert (squash[0, :, :2] > 128).all() and (squash[2, :, -2:] > 128).all()  # every stripe, squeezed
    assert (squash[1, :, 3:5] > 128).all()
    assert (pad[:, :2] == 0).all() and (pad[:, -2:] == 0).all()  # black bands above and below
    assert (pad[0, 2:6, 0] > 128).all() and (pad[2, 2:6, -1] > 128).all()  # the whole width, scaled


def test_square_images_are_the_same_under_every_rule(tmp_path, cache_dir):
    root = write_image_folder(tmp_path / "square", per_class=2, size=(12, 12), mode="RGB")
    results = [load_data(root, image_size=5, resize=rule).images for rule in ("crop", "squash", "pad")]
    assert torch.equal(results[0], results[1]) and torch.equal(results[0], results[2])


def test_bad_resize_and_workers_are_refused(image_folder):
    with pytest.raises(DataError, match="resize='zoom' is not a resize rule; use one of crop, squash, pad"):
        load_data(image_folder, resize="zoom")
    with pytest.raises(DataError, match="workers=0 must be a positive int"):
        load_data(image_folder, workers=0)
    with pytest.raises(ConfigError, match="resize"):
        TrainConfig(resize="zoom")
    assert TrainConfig().resize == "crop" and TrainConfig().cache_data is True


def test_train_flags_turn_the_cache_off(tmp_path, monkeypatch, cache_dir):
    from click.testing import CliRunner

    from ganaug.cli import main

    result = CliRunner().invoke(main, ["train", "--help"], terminal_width=200)
    assert "--cache-data / --no-cache-data" in result.output and "--resize [crop|squash|pad]" in result.output
    seen = {}

    def stop_here(data, **options):
        seen.update(options)
        raise DataError("stopped by the test")

    monkeypatch.setattr("ganaug.train.trainer.load_data", stop_here)
    result = CliRunner().invoke(main, ["train", "digits", "--no-cache-data", "--resize", "pad",
                                       "--out", str(tmp_path / "r")])
    assert "stopped by the test" in result.output
    assert seen["cache"] is False and seen["resize"] == "pad"


def test_folder_scan_records_what_the_fingerprint_needs(image_folder):
    scan = folders.FolderScan()
    folders.find_image_files(image_folder / "cat", 0, scan)
    assert [size for size, _ in scan.stats] == [path.stat().st_size for path, _ in scan.files]


@pytest.mark.parametrize("rule", ["crop", "squash", "pad"])
def test_files_and_arrays_follow_one_geometry(tmp_path, cache_dir, rule):
    images = np.random.default_rng(5).integers(0, 256, (2, 20, 13, 3), dtype=np.uint8)
    for label, image in enumerate(images):
        (tmp_path / "f" / str(label)).mkdir(parents=True)
        Image.fromarray(image).save(tmp_path / "f" / str(label) / "0.png")
    with pytest.warns(UserWarning, match="fewer than 2 images"):
        from_files = load_data(tmp_path / "f", image_size=(9, 11), resize=rule).images.int()
    with pytest.warns(UserWarning, match="fewer than 2 images"):
        from_arrays = load_data((images, [0, 1]), image_size=(9, 11), resize=rule).images.int()
    assert (from_files - from_arrays).abs().max() <= 1  # PIL's and torch's antialiased bilinear: rounding apart
