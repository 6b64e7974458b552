"""Hugging Face datasets: fit, load_data, SyntheticMix and the CLI take a ``datasets.Dataset`` as users have it."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

import ganaug
from ganaug.testing import make_tiny_data

datasets = pytest.importorskip("datasets", reason="pip install 'ganaug[hf]' (make test installs it)")

NAMES = ["cat", "dog", "owl", "yak"]


def _hf_dataset(image_key="image", label_key="label", per_class=6):
    store = make_tiny_data(num_classes=4, per_class=per_class)
    features = datasets.Features({image_key: datasets.Image(), label_key: datasets.ClassLabel(names=NAMES)})
    images = [Image.fromarray(image[0].numpy()) for image in store.images]
    return datasets.Dataset.from_dict({image_key: images, label_key: store.labels.tolist()}, features=features)


@pytest.fixture(scope="module")
def hf_generator():
    return ganaug.fit(_hf_dataset(), "test_cdcgan", steps=2, batch_size=8, progress=False)


def test_load_data_reads_images_labels_and_class_label_names():
    store = ganaug.load_data(_hf_dataset())
    assert store.classes == NAMES and store.image_shape == (1, 8, 8)
    assert store.class_counts() == [6, 6, 6, 6]
    assert "24 images" in repr(store) and "tensor(" not in repr(store)


def test_fit_keeps_the_class_names(hf_generator):
    assert hf_generator.classes == NAMES


@pytest.mark.parametrize("form", ["plain", "torch", "numpy", "transform"])
def test_synthetic_items_come_back_in_the_datasets_own_form(hf_generator, form):
    train = _hf_dataset()
    if form in ("torch", "numpy"):
        train = train.with_format(form)
    elif form == "transform":
        def to_tensors(batch):
            return {"pixel_values": [torch.from_numpy(np.asarray(im, dtype=np.float32))[None] / 255
                                     for im in batch["image"]], "label": batch["label"]}
        train = train.with_transform(to_tensors)
    mix = ganaug.SyntheticMix(train, hf_generator, ratio=0.5, fidelity=None)
    real, synthetic = mix[0], mix[len(mix) - 1]
    assert mix.n_synthetic == 24 and set(real) == set(synthetic)
    for key in real:
        if isinstance(real[key], Image.Image):
            assert isinstance(synthetic[key], Image.Image) and synthetic[key].mode == real[key].mode
            assert synthetic[key].size == real[key].size
        else:
            assert type(real[key]) is type(synthetic[key]), key
        if hasattr(real[key], "dtype"):
            assert real[key].dtype == synthetic[key].dtype and real[key].shape == synthetic[key].shape, key
    if form != "plain":  # PIL images need a collate function of the user's; the others batch as they are
        batch = next(iter(DataLoader(mix, batch_size=48, shuffle=False)))
        assert len(batch["label"]) == 48


def test_labels_come_from_the_column_without_decoding_every_image(hf_generator):
    calls = []

    def counted(batch):
        calls.append(len(batch["image"]))
        return batch

    train = _hf_dataset(per_class=30).with_transform(counted)
    mix = ganaug.SyntheticMix(train, hf_generator, ratio=0.5, fidelity=None)
    assert mix.real_labels == _hf_dataset(per_class=30)["label"][:]
    assert sum(calls) < 40, "labels must come from the label column (plus a check of the first items)"


def test_a_transform_that_changes_labels_is_read_item_by_item(hf_generator):
    def reversed_labels(batch):
        return {"image": batch["image"], "label": [3 - label for label in batch["label"]]}

    train = _hf_dataset().with_transform(reversed_labels)
    mix = ganaug.SyntheticMix(train, hf_generator, ratio=0.5, fidelity=None)
    assert mix.real_labels == [3 - label for label in _hf_dataset()["label"]]


def test_other_key_names_are_given_with_item_keys(hf_generator):
    train = _hf_dataset(image_key="photo", label_key="diagnosis")
    with pytest.raises(ganaug.DataError, match="item_keys"):
        ganaug.load_data(train)
    assert ganaug.load_data(train, item_keys=("photo", "diagnosis")).classes == NAMES
    mix = ganaug.SyntheticMix(train, hf_generator, ratio=0.5, fidelity=None, item_keys=("photo", "diagnosis"))
    assert set(mix[len(mix) - 1]) == {"photo", "diagnosis"}


def test_a_dataset_dict_or_a_streaming_dataset_is_refused_with_the_fix(hf_generator):
    splits = datasets.DatasetDict({"train": _hf_dataset(), "test": _hf_dataset()})
    with pytest.raises(ganaug.DataError, match=r"DatasetDict \(splits: 'train', 'test'\); pass one split"):
        ganaug.load_data(splits)
    with pytest.raises(ganaug.DataError, match="DatasetDict"):
        ganaug.SyntheticMix(splits, hf_generator)
    with pytest.raises(ganaug.DataError, match="streaming Hugging Face IterableDataset"):
        ganaug.fit(_hf_dataset().to_iterable_dataset(), "test_cdcgan", steps=1, progress=False)


def test_the_cli_trains_on_a_function_returning_a_hugging_face_dataset(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ganaug.cli import main

    (tmp_path / "hf_data.py").write_text(
        "from tests.integrations.test_huggingface import _hf_dataset\n"
        "def train():\n    return _hf_dataset()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "hf_data", raising=False)
    result = CliRunner().invoke(main, ["train", "hf_data:train", "--model", "test_cdcgan", "--steps", "2",
                                       "--batch-size", "8", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert ganaug.load(tmp_path / "run").classes == NAMES
