"""The broken-plugin corpus: each way a plugin can be broken disables that plugin alone, with a warning that
names it and the fix, and every other family keeps working."""

from __future__ import annotations

import warnings
from importlib import metadata

import pytest
import torch

import ganaug
from ganaug.errors import PluginError
from ganaug.plugins import registry as registry_module
from ganaug.plugins.builtin.cdcgan import CDCGAN
from ganaug.plugins.registry import build_registry


class TypoHook:
    @ganaug.hookimpl
    def register_generator(self, register):
        register("never", CDCGAN)


class WrongArgument:
    @ganaug.hookimpl
    def register_generators(self, registrar):  # the hook's argument is `register`
        registrar("never", CDCGAN)


class RaisesInHook:
    @ganaug.hookimpl
    def register_generators(self, register):
        raise RuntimeError("the plugin's own bug")


class DuplicateName:
    @ganaug.hookimpl
    def register_generators(self, register):
        register("cdcgan", CDCGAN)


class NotAGAN:
    @ganaug.hookimpl
    def register_generators(self, register):
        register("not-a-gan", torch.nn.Linear)


class BadName:
    @ganaug.hookimpl
    def register_generators(self, register):
        register("Bad Name", CDCGAN)


class BadDefaults:
    @ganaug.hookimpl
    def register_generators(self, register):
        register("bad-defaults", CDCGAN, defaults={"z_dim": 0})


CASES = [
    pytest.param(TypoHook(), r"'register_generator' is not a ganaug hook \(did you mean 'register_generators'\?\)",
                 id="misspelled-hook"),
    pytest.param(WrongArgument(), r"registrar", id="hook-argument-misnamed"),
    pytest.param(RaisesInHook(), r"RuntimeError in register_generators: the plugin's own bug", id="raises-in-hook"),
    pytest.param(DuplicateName(), r"'cdcgan' registered by plugin 'broken' is already registered", id="duplicate-name"),
    pytest.param(NotAGAN(), r"must be a subclass of ganaug.GAN", id="not-a-gan-class"),
    pytest.param(BadName(), r"name 'Bad Name' must match", id="bad-name"),
    pytest.param(BadDefaults(), r"z_dim=0 must be >= 1", id="bad-defaults"),
]


@pytest.mark.parametrize(("plugin", "reason"), CASES)
def test_a_broken_plugin_is_disabled_by_name_and_the_rest_works(plugin, reason, monkeypatch, tiny_store):
    monkeypatch.setenv("GANAUG_STRICT_PLUGINS", "0")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        registry = build_registry(entry_points=False, extra_plugins=(("broken", plugin),))
    mine = [w for w in caught if "plugin 'broken'" in str(w.message)]
    messages = [str(w.message) for w in mine]
    assert len(messages) == 1, [str(w.message) for w in caught]
    if type(plugin).__module__ == __name__:  # the plugins written in this file: the warning points here
        assert mine[0].filename == __file__, (mine[0].filename, mine[0].lineno)
    assert "failed and was skipped" in messages[0] and "GANAUG_DISABLE_PLUGINS=broken" in messages[0]
    import re

    assert re.search(reason, messages[0]), messages[0]
    assert [f.name for f in registry.failures] == ["broken"]
    assert "never" not in registry.generators and registry.generators["cdcgan"].owner.startswith("ganaug.")
    ganaug.fit(tiny_store, "test_cdcgan", steps=1, batch_size=8, progress=False, registry=registry)


def test_a_plugin_that_fails_to_import_is_disabled_naming_its_distribution(monkeypatch):
    class Distribution:
        name, version = "ganaug-broken-dist", "0.9"

    class FailingEntryPoint:
        name, group, dist = "broken_ep", "ganaug", Distribution()

        def load(self):
            raise ImportError("No module named 'ganaug_broken'")

    real = metadata.entry_points
    monkeypatch.setattr(registry_module.metadata, "entry_points",
                        lambda group=None, **kw: [FailingEntryPoint()] if group == "ganaug" else real(group=group, **kw))
    monkeypatch.setenv("GANAUG_STRICT_PLUGINS", "0")
    with pytest.warns(UserWarning, match=r"plugin 'broken_ep' \(ganaug-broken-dist 0.9\) failed and was skipped: "
                                         r"ImportError: No module named 'ganaug_broken'.*GANAUG_DISABLE_PLUGINS") as caught:
        registry = build_registry()
    skipped = [w for w in caught if "broken_ep" in str(w.message)]
    assert skipped[0].filename == __file__, "the warning points at the line that failed to import, not at ganaug"
    assert {"cdcgan", "img2img"} <= set(registry.generators)


def test_a_family_with_the_wrong_output_shape_is_refused_when_built(monkeypatch):
    from tests.plugins.test_isolation import (
        FlatPlugin,  # its generator returns (B, C*H*W)
    )

    registry = build_registry(entry_points=False, extra_plugins=(("flat-plugin", FlatPlugin()),))
    with pytest.raises(PluginError, match=r"returns a batch of shape \(2, 64\).*GANAUG_DISABLE_PLUGINS=flat-plugin"):
        registry.generator("flat").build(num_classes=3, image_shape=(1, 8, 8))
