"""Every data adapter, and a clear error for every bad input of the core issue."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from ganaug import DataError, ImageStore, load_data
from tests.conftest import write_image_folder


class ListDataset(torch.utils.data.Dataset):
    def __init__(self, items, classes=None):
        self.items = items
        if classes is not None:
            self.classes = classes

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        return self.items[index]


def test_digits_is_bundled_and_scaled():
    store = load_data("digits")
    assert store.images.shape == (1797, 1, 8, 8)
    assert store.images.dtype == torch.uint8
    assert int(store.images.max()) == 255
    assert store.classes == [str(d) for d in range(10)]


@pytest.mark.parametrize("form", ["pil", "hw_array", "hwc_array", "chw_tensor", "float01_tensor", "float_pm1_array"])
def test_dataset_image_forms_agree(form):
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (6, 5, 7), dtype=np.uint8)  # 6 images of 5x7
    converted = {
        "pil": lambda a: Image.fromarray(a),
        "hw_array": lambda a: a,
        "hwc_array": lambda a: a[..., None],
        "chw_tensor": lambda a: torch.from_numpy(a)[None],
        "float01_tensor": lambda a: torch.from_numpy(a / 255.0).float()[None],
        "float_pm1_array": lambda a: (a / 127.5 - 1.0).astype(np.float32),
    }[form]
    dataset = ListDataset([(converted(img), i % 2) for i, img in enumerate(base)])
    store = load_data(dataset)
    assert store.images.shape == (6, 1, 5, 7)
    assert torch.allclose(store.images[:, 0].int(), torch.from_numpy(base).int(), atol=1)
    assert store.labels.tolist() == [0, 1, 0, 1, 0, 1]


def test_dataset_rgb_pil_and_classes_attribute():
    items = [(Image.new("RGB", (4, 4), (i * 10, 0, 0)), i % 3) for i in range(6)]
    store = load_data(ListDataset(items, classes=["x", "y", "z"]))
    assert store.image_shape == (3, 4, 4)
    assert store.classes == ["x", "y", "z"]
    assert int(store.images[1, 0, 0, 0]) == 10


def test_image_folder(image_folder):
    store = load_data(image_folder)
    assert store.classes == ["cat", "dog"]
    assert store.class_counts() == [3, 3]
    assert store.image_shape == (1, 8, 8)


def test_npz_keys_and_tuple(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (10, 6, 6), dtype=np.uint8)
    y = np.arange(10) % 2
    np.savez(tmp_path / "a.npz", x=x, y=y)
    np.savez(tmp_path / "b.npz", x_train=x, y_train=y, x_test=x[:2], y_test=y[:2])
    for store in (load_data(tmp_path / "a.npz"), load_data(str(tmp_path / "b.npz")), load_data((x, y))):
        assert store.images.shape == (10, 1, 6, 6)
        assert torch.equal(store.images[:, 0], torch.from_numpy(x))


def test_nhwc_rgb_arrays():
    x = np.zeros((4, 5, 5, 3), dtype=np.uint8)
    x[..., 1] = 200
    store = load_data((x, [0, 1, 0, 1]))
    assert store.image_shape == (3, 5, 5)
    assert int(store.images[0, 1, 0, 0]) == 200


def test_module_function_source(tmp_path, monkeypatch):
    (tmp_path / "userdata.py").write_text(
        "import torch\n"
        "def make():\n"
        "    return torch.utils.data.TensorDataset(torch.zeros(4, 1, 6, 6), torch.tensor([0, 1, 0, 1]))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_data("userdata:make").images.shape == (4, 1, 6, 6)


def test_image_size_resizes_mixed_sizes():
    items = [(np.zeros((8, 8), np.uint8), 0), (np.full((12, 10), 255, np.uint8), 1)]
    with pytest.raises(DataError, match=r"item 1 .*mixed sizes.*image_size="):
        load_data(ListDataset(items))
    with pytest.warns(UserWarning, match="fewer than 2 images"):
        store = load_data(ListDataset(items), image_size=6)
    assert store.images.shape == (2, 1, 6, 6)
    assert int(store.images[1].min()) == 255


def test_channels_converts_mixed_channels(tmp_path):
    root = write_image_folder(tmp_path / "mixed", classes=("a",), per_class=2)
    write_image_folder(root, classes=("b",), per_class=2, mode="RGB")
    with pytest.raises(DataError, match=r"b/0.png.*mixed channel counts.*channels="):
        load_data(root)
    assert load_data(root, channels=3).image_shape == (3, 8, 8)
    assert load_data(root, channels=1).image_shape == (1, 8, 8)


@pytest.mark.parametrize(
    ("items", "pattern"),
    [
        ([], "empty"),
        ([(np.zeros((4, 4), np.uint8), 0)] * 3, "single class"),
        ([(np.zeros((4, 4), np.uint8), "cat"), (np.zeros((4, 4), np.uint8), 1)], r"label of item 0 is 'cat'"),
        ([(np.zeros((4, 4), np.uint8), 0), (np.zeros((4, 4), np.uint8), -1)], r"item 1 is -1, negative"),
        ([(np.zeros((4, 4), np.uint8), 0.5), (np.zeros((4, 4), np.uint8), 1)], "not an integer"),
        ([(np.full((4, 4), np.nan, np.float32), 0), (np.zeros((4, 4), np.uint8), 1)], r"item 0: .*NaN or inf"),
        ([(np.zeros((4, 4), np.float32), 0), (np.full((4, 4), np.inf, np.float32), 1)], r"item 1: .*NaN or inf"),
        ([(np.zeros((4, 4), np.uint8), 0), (np.zeros((5, 4, 7), np.uint8), 1)], r"item 1: .*channel axis"),
    ],
    ids=["empty", "single-class", "string-label", "negative", "float-label", "nan", "inf", "bad-shape"],
)
def test_bad_dataset_inputs(items, pattern):
    with pytest.raises(DataError, match=pattern):
        load_data(ListDataset(items))


def test_label_outside_declared_classes():
    items = [(np.zeros((4, 4), np.uint8), k) for k in (0, 1, 2)]
    with pytest.raises(DataError, match=r"label 2 at index 2 is outside 0..1"):
        load_data(ListDataset(items, classes=["a", "b"]))


def test_class_with_one_image_warns():
    items = [(np.zeros((4, 4), np.uint8), 0)] * 3 + [(np.zeros((4, 4), np.uint8), 1)]
    with pytest.warns(UserWarning, match=r"fewer than 2 images: '1' \(1\)"):
        load_data(ListDataset(items))


def test_corrupt_file_named_and_skippable(image_folder):
    bad = image_folder / "dog" / "broken.png"
    bad.write_bytes(b"this is not a png")
    (image_folder / "cat" / "empty.png").write_bytes(b"")
    with pytest.raises(DataError, match=r"cat/empty.png: unreadable or corrupt image \(empty file\).*skip_bad=True"):
        load_data(image_folder)
    with pytest.warns(UserWarning, match="skipped 2 unreadable"):
        store = load_data(image_folder, skip_bad=True)
    assert len(store) == 6


def test_truncated_png(image_folder):
    path = image_folder / "cat" / "0.png"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cat/0.png: unreadable or corrupt"):
        load_data(image_folder)


def test_folder_errors(tmp_path):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(DataError, match="no class folders"):
        load_data(tmp_path / "nothing")
    with pytest.raises(DataError, match="does not exist"):
        load_data(tmp_path / "missing")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DataError, match="not a folder or an .npz"):
        load_data(tmp_path / "x.txt")


def test_symlink_loop_does_not_hang(image_folder):
    os.symlink(image_folder / "cat", image_folder / "cat" / "loop")
    assert load_data(image_folder).class_counts() == [3, 3]


def test_npz_wrong_keys_and_object_arrays(tmp_path):
    np.savez(tmp_path / "bad.npz", images=np.zeros((2, 4, 4)), labels=[0, 1])
    with pytest.raises(DataError, match=r"needs keys 'x' and 'y'.*found \['images', 'labels'\]"):
        load_data(tmp_path / "bad.npz")
    np.savez(tmp_path / "strlabels.npz", x=np.zeros((2, 4, 4), np.uint8), y=np.array(["a", "b"]))
    with pytest.raises(DataError, match="labels must be integers"):
        load_data(tmp_path / "strlabels.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(DataError, match="not a readable .npz"):
        load_data(tmp_path / "junk.npz")


def test_image_store_subset_and_counts(tiny_store):
    sub = tiny_store.subset([0, 1, 20])
    assert isinstance(sub, ImageStore)
    assert sub.class_counts() == [2, 1, 0, 0]
