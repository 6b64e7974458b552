"""Classic presets: one per kind of image, chosen by name, refused by name when unknown."""

import numpy as np
import pytest

from ganaug.errors import ConfigError
from ganaug.gain import GainConfig
from ganaug.gain.augment import PRESETS, classic_preset


@pytest.mark.parametrize("kind", PRESETS)
@pytest.mark.parametrize("channels", [1, 3])
def test_every_preset_keeps_the_shape_and_dtype(kind, channels):
    image = np.random.default_rng(0).integers(0, 256, (16, 16, channels), dtype=np.uint8)
    out = classic_preset((channels, 16, 16), seed=0, kind=kind)(image=image)["image"]
    assert out.shape == image.shape and out.dtype == np.uint8


def test_microscopy_turns_and_flips_but_digits_never_turns_a_quarter():
    image = np.zeros((16, 16, 3), dtype=np.uint8)
    image[:, :4] = 255  # a bar on the left: a quarter turn or a flip moves it to another side
    moved = [classic_preset((3, 16, 16), seed=s, kind="microscopy")(image=image)["image"] for s in range(20)]
    sides = {int(np.argmax([m[:, :4].mean(), m[:, -4:].mean(), m[:4].mean(), m[-4:].mean()])) for m in moved}
    assert len(sides) >= 3
    kept = [classic_preset((1, 16, 16), seed=s, kind="digits")(image=image[..., :1])["image"] for s in range(20)]
    assert all(k[:, :4].mean() > k[:, -4:].mean() for k in kept)


def test_unknown_preset_is_refused_by_name():
    with pytest.raises(ConfigError, match="microscope.*microscopy"):
        classic_preset((3, 8, 8), kind="microscope")
    with pytest.raises(ConfigError, match="classic_preset"):
        GainConfig(classic_preset="microscope")


def test_gain_resizes_folders_with_image_size(tmp_path):
    from ganaug.gain.protocol import _stores
    from ganaug.plugins.registry import default_registry
    from tests.conftest import write_image_folder

    train = write_image_folder(tmp_path / "train", per_class=4, size=(20, 30), mode="RGB")
    test = write_image_folder(tmp_path / "test", per_class=2, size=(20, 30), mode="RGB")
    train_store, test_store = _stores(train, test, GainConfig(image_size=16), default_registry())
    assert train_store.image_shape == test_store.image_shape == (3, 16, 16)
