"""Shared fixtures: tiny data, a CPU device, strict plugins, fake image folders in tmp_path."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganaug.testing import make_tiny_data

os.environ.setdefault("GANAUG_STRICT_PLUGINS", "1")
# the decoded cache of image folders goes to a folder of this session, never to the real home (and the
# subprocesses that tests start inherit it)
if "GANAUG_CACHE_DIR" not in os.environ:
    os.environ["GANAUG_CACHE_DIR"] = tempfile.mkdtemp(prefix="ganaug-test-cache-")
    atexit.register(shutil.rmtree, os.environ["GANAUG_CACHE_DIR"], ignore_errors=True)
if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one worker per core: one thread each, in the subprocesses the tests start too,
    # since two multi-threaded torch processes on the same cores slow each other several-fold
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
else:
    torch.set_num_threads(min(2, os.cpu_count() or 1))

MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist.npz"


def pytest_runtest_setup(item):
    if "needs_cuda" in item.keywords and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")


@pytest.fixture
def device() -> str:
    """Tests run on the CPU unless GANAUG_TEST_DEVICE says otherwise."""
    return os.environ.get("GANAUG_TEST_DEVICE", "cpu")


@pytest.fixture
def tiny_store():
    """80 8x8 grayscale images of 4 classes (class0..class3, 20 each, a bright stripe per class)."""
    return make_tiny_data(num_classes=4, per_class=20)


def write_image_folder(root: Path, classes=("cat", "dog"), per_class=3, size=(8, 8), mode="L") -> Path:
    """An ImageFolder-layout folder of small PNG files."""
    rng = np.random.default_rng(0)
    for name in classes:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            shape = (*size, 3) if mode == "RGB" else size
            Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8), mode=mode).save(folder / f"{i}.png")
    return root


@pytest.fixture
def image_folder(tmp_path) -> Path:
    return write_image_folder(tmp_path / "images")


@pytest.fixture(scope="session")
def npz(tmp_path_factory) -> Path:
    """The tiny store as an .npz file, for CLI and subprocess runs."""
    store = make_tiny_data(num_classes=4, per_class=20)
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    np.savez(path, x=store.images[:, 0].numpy(), y=store.labels.numpy())
    return path


@pytest.fixture(scope="session")
def tiny_generator():
    """A 2-step test_cdcgan on the ``tiny_store`` data, shared by the tests that only sample from it."""
    import ganaug

    store = make_tiny_data(num_classes=4, per_class=20)
    return ganaug.fit(store, "test_cdcgan", steps=2, batch_size=16, progress=False)


@contextlib.contextmanager
def time_limit(seconds: int):
    """Raise TimeoutError instead of hanging when the block runs longer than ``seconds`` (main thread, POSIX)."""

    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

