"""Generators come from pluggy hooks; lookups fail with helpful errors; duplicates are refused."""

from __future__ import annotations

import pytest

import ganaug
from ganaug import UnknownGeneratorError, create_generator, list_generators
from ganaug.plugins.builtin.cdcgan import CDCGAN
from ganaug.plugins.registry import build_registry


def test_builtins_are_registered_through_the_hook():
    registry = build_registry(entry_points=False)
    assert {"dcgan", "cdcgan", "test_cdcgan"} <= set(registry.generators)
    assert registry.generators["cdcgan"].owner == "ganaug.plugins.builtin.cdcgan"
    assert list_generators("*dcgan*")[:3] == ["cdcgan", "dcgan", "test_cdcgan"]


def test_create_generator_applies_defaults_and_overrides():
    gan = create_generator("test_cdcgan", num_classes=3, image_shape=(1, 8, 8), z_dim=5)
    assert gan.config.z_dim == 5 and gan.config.g_channels == 8
    with pytest.raises(ganaug.ConfigError, match="unknown option.*bogus"):
        create_generator("cdcgan", num_classes=3, image_shape=(1, 8, 8), bogus=1)


def test_unknown_generator_names_close_matches():
    with pytest.raises(UnknownGeneratorError, match=r"unknown generator 'cdgan'. Did you mean 'cdcgan'") as info:
        create_generator("cdgan", num_classes=2, image_shape=(1, 8, 8))
    assert isinstance(info.value, KeyError)


def test_duplicate_names_are_refused_naming_both_plugins():
    class Extra:
        @ganaug.hookimpl
        def register_generators(self, register):
            register("cdcgan", CDCGAN)

    message = r"'cdcgan' registered by plugin 'extra' is already registered by plugin 'ganaug.plugins.builtin.cdcgan'"
    with pytest.raises(ValueError, match=message):  # the suite runs with GANAUG_STRICT_PLUGINS=1
        build_registry(entry_points=False, extra_plugins=(("extra", Extra()),))


def test_broken_plugin_hook_is_skipped_with_a_warning_when_not_strict(monkeypatch):
    class Broken:
        @ganaug.hookimpl
        def register_generators(self, register):
            raise RuntimeError("boom")

    monkeypatch.setenv("GANAUG_STRICT_PLUGINS", "0")
    with pytest.warns(UserWarning, match=r"plugin 'broken' .* failed and was skipped: RuntimeError in register_generators: boom"):
        registry = build_registry(entry_points=False, extra_plugins=(("broken", Broken()),))
    assert "cdcgan" in registry.generators
    assert registry.failures[0].name == "broken"


def test_cdcgan_rejects_sizes_it_cannot_make():
    with pytest.raises(ValueError, match="sizes 8 to 64"):
        create_generator("cdcgan", num_classes=2, image_shape=(1, 4, 4))
    with pytest.raises(ValueError, match="1 or 3 channels"):
        create_generator("cdcgan", num_classes=2, image_shape=(2, 8, 8))


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 28, 28), (1, 12, 20), (3, 64, 64)])
def test_cdcgan_output_shapes(shape):
    import torch

    gan = create_generator("test_cdcgan", num_classes=3, image_shape=shape)
    z = gan.sample_noise(4)
    labels = torch.tensor([0, 1, 2, 0])
    out = gan.generator(z, labels)
    assert out.shape == (4, *shape)
    assert gan.discriminator(out, labels).shape == (4,)


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 8, 8), (3, 10, 14)])
def test_dcgan_output_shapes(shape):
    import torch

    gan = create_generator("dcgan", num_classes=2, image_shape=shape)
    out = gan.generator(gan.sample_noise(3), torch.tensor([0, 1, 1]))
    assert out.shape == (3, *shape)
    assert gan.discriminator(out, torch.tensor([0, 1, 1])).shape == (3,)
