"""biggan: depth follows the resolution, attention where asked, LeCam's averages saved and resumed."""

import pytest
import torch

import ganaug
from ganaug.errors import ConfigError

TINY = {"g_channels": 4, "d_channels": 4, "z_dim": 4, "shared_dim": 4}


@pytest.mark.parametrize("size", [32, 64, 128, 256])
def test_every_size_up_to_256_draws_its_shape(size):
    gan = ganaug.create_generator("biggan", num_classes=2, image_shape=(3, size, size), **TINY)
    assert len(gan.generator.blocks) == (size // 4).bit_length() - 1  # 4 px doubled up to the image
    with torch.no_grad():
        out = gan.generator(gan.sample_noise(2), torch.tensor([0, 1]))
        scores = gan.discriminator(out, torch.tensor([0, 1]))
    assert out.shape == (2, 3, size, size) and scores.shape == (2,)


def test_larger_than_256_is_refused_with_the_fix():
    with pytest.raises(ConfigError, match=r"sizes 8 to 256.*image_size"):
        ganaug.create_generator("biggan", num_classes=2, image_shape=(3, 512, 512), **TINY)


def test_attention_sits_at_the_resolution_asked():
    gan = ganaug.create_generator("biggan", num_classes=2, image_shape=(3, 64, 64), attention=32, **TINY)
    assert gan.generator.attention is not None and gan.discriminator.attention is not None
    assert gan.generator.attention_after == 2  # blocks reach 8, 16, 32: attention after the third
    with pytest.raises(ConfigError, match="attention=24"):
        ganaug.create_generator("biggan", num_classes=2, image_shape=(3, 32, 32), attention=24, **TINY)
    with pytest.raises(ConfigError, match="larger than the images"):
        ganaug.create_generator("biggan", num_classes=2, image_shape=(3, 32, 32), attention=64, **TINY)


def test_lecam_pulls_toward_moving_averages_and_they_are_saved():
    torch.manual_seed(0)
    gan = ganaug.create_generator("biggan", num_classes=2, image_shape=(3, 16, 16), **TINY)
    real, labels = torch.rand(4, 3, 16, 16) * 2 - 1, torch.tensor([0, 1, 0, 1])
    fake = gan.generator(gan.sample_noise(4), labels).detach()
    assert torch.isnan(gan.lecam_real)
    with_lecam = gan.discriminator_loss(real, fake, labels, labels)
    assert torch.isfinite(gan.lecam_real) and torch.isfinite(gan.lecam_fake)
    assert {"lecam_real", "lecam_fake"} <= set(gan.state_dict())
    gan.config.lecam = 0.0
    torch.manual_seed(1)
    without = gan.discriminator_loss(real, fake, labels, labels)
    torch.manual_seed(1)
    gan.config.lecam = 0.3
    again = gan.discriminator_loss(real, fake, labels, labels)
    assert again > without  # the regulariser is non-negative and not zero on random scores
    assert torch.isfinite(with_lecam)


def test_resumed_run_equals_an_uninterrupted_one(tmp_path):
    data = ganaug.testing.make_tiny_data((3, 16, 16), 2)
    common = dict(batch_size=8, device="cpu", progress=False, checkpoint_every=2, sample_every=100, **TINY)
    straight = ganaug.fit(data, "biggan", steps=4, seed=3, out=tmp_path / "a", **common)
    ganaug.fit(data, "biggan", steps=2, seed=3, out=tmp_path / "b", **common)
    resumed = ganaug.fit(data, "biggan", steps=4, seed=3, out=tmp_path / "b", resume=True, **common)
    assert (straight.sample(per_class=2, seed=0) == resumed.sample(per_class=2, seed=0)).all()
