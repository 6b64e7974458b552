"""Sampling, saving and loading a trained generator; nothing unsafe is ever loaded."""

from __future__ import annotations

import pickle

import pytest
import torch

import ganaug
from ganaug import CheckpointError, fit, load


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from ganaug.testing import make_tiny_data

    store = make_tiny_data(num_classes=4, per_class=20)
    out = tmp_path_factory.mktemp("run")
    generator = fit(store, "test_cdcgan", steps=4, batch_size=16, out=out, progress=False)
    return generator, out


def test_sample_shapes_labels_and_range(trained):
    generator, _ = trained
    images, labels = generator.sample(per_class=3, return_labels=True)
    assert images.shape == (12, 1, 8, 8) and images.dtype == torch.uint8
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert generator.sample().shape == (4, 1, 8, 8)
    assert generator.sample(labels=["class1", 3]).shape == (2, 1, 8, 8)
    with pytest.raises(ValueError, match="unknown class 'zebra'"):
        generator.sample(labels=["zebra"])
    with pytest.raises(ValueError, match="not both"):
        generator.sample(labels=[0], per_class=2)


def test_sample_is_seeded_and_batch_size_independent(trained):
    generator, _ = trained
    a = generator.sample(per_class=5, seed=4, batch_size=3)
    b = generator.sample(per_class=5, seed=4, batch_size=1000)
    c = generator.sample(per_class=5, seed=5)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_save_load_round_trip(trained, tmp_path):
    generator, run = trained
    expected = generator.sample(per_class=2, seed=1)
    generator.save(tmp_path / "saved")
    for source in (tmp_path / "saved", run, run / "generator", sorted((run / "checkpoints").iterdir())[-1]):
        loaded = load(source)
        assert loaded.classes == generator.classes and loaded.image_shape == generator.image_shape
        assert torch.equal(loaded.sample(per_class=2, seed=1), expected), source


def test_damaged_newest_checkpoint_falls_back(tiny_store, tmp_path):
    fit(tiny_store, "test_cdcgan", steps=4, batch_size=16, out=tmp_path, checkpoint_every=2, progress=False)
    older, newest = tmp_path / "checkpoints" / "step_00000002", tmp_path / "checkpoints" / "step_00000004"
    expected = load(older).sample(per_class=2, seed=3)
    intact = load(newest).sample(per_class=2, seed=3)
    assert not torch.equal(expected, intact)  # else falling back would go unnoticed

    weights = newest / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.warns(UserWarning, match="checksum mismatch") as caught:
        loaded = ganaug.load(tmp_path)
    damaged = [str(w.message) for w in caught if "checksum mismatch" in str(w.message)]
    assert len(damaged) == 1 and str(newest) in damaged[0] and "step_00000002" not in damaged[0]
    assert torch.equal(loaded.sample(per_class=2, seed=3), expected)


def test_pickles_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    planted = tmp_path / "run" / "checkpoints" / "step_00000010"
    planted.mkdir(parents=True)
    (planted / "model.pt").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(CheckpointError, match="no .* valid checkpoint"):
        with pytest.warns(UserWarning, match=r"model.pt, which may be pickles"):
            load(tmp_path / "run")
    with pytest.raises(CheckpointError, match="not single files.*pickle"):
        load(planted / "model.pt")
    assert not marker.exists()


def test_load_missing_and_foreign_folders(tmp_path):
    with pytest.raises(CheckpointError, match="no such folder"):
        load(tmp_path / "nope")
    with pytest.raises(CheckpointError, match="no generator.json, no checkpoint"):
        load(tmp_path)
