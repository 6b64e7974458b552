"""model="auto": the family follows the images' shape, and the run records the family it trained."""

import pytest
import torch

import ganaug
from ganaug.data import ImageStore
from ganaug.train.config import default_family


@pytest.mark.parametrize(("shape", "family"), [
    ((1, 8, 8), "cdcgan"), ((1, 28, 28), "cdcgan"), ((1, 64, 64), "cdcgan"), ((3, 16, 16), "cdcgan"),
    ((3, 32, 32), "biggan"), ((3, 64, 64), "biggan"), ((1, 128, 128), "biggan"), ((3, 32, 100), "biggan"),
    ((3, 256, 256), "biggan"),
])
def test_default_family_by_shape(shape, family):
    assert default_family(shape) == family


def test_fit_auto_trains_and_records_the_family(tmp_path):
    images = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    store = ImageStore(images, torch.arange(8) % 2, ["a", "b"])
    generator = ganaug.fit(store, steps=1, batch_size=4, device="cpu", progress=False, out=tmp_path / "run",
                           g_channels=4, d_channels=4, z_dim=4, shared_dim=4, fidelity_samples=2,
                           diversity_samples=2, grid_per_class=1)
    assert generator.model == "biggan"
    assert ganaug.load(tmp_path / "run").model == "biggan"


def test_a_family_option_the_chosen_family_lacks_is_refused():
    store = ganaug.testing.make_tiny_data((1, 8, 8), 2)
    with pytest.raises(ganaug.ConfigError, match="shared_dim"):
        ganaug.fit(store, steps=1, device="cpu", progress=False, shared_dim=4)  # a biggan option; cdcgan is chosen
