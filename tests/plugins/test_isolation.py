"""A broken plugin is disabled with a message that names it and the fix; everything else keeps working."""

from __future__ import annotations

import pluggy
import pytest
import torch

import ganaug
from ganaug.errors import PluginError
from ganaug.plugins.builtin.cdcgan import CDCGAN
from ganaug.plugins.registry import build_registry


class TypoHook:
    @ganaug.hookimpl
    def register_generator(self, register):  # the hook is register_generators
        register("never", CDCGAN)


def test_a_misspelled_hook_disables_only_its_plugin(monkeypatch):
    monkeypatch.setenv("GANAUG_STRICT_PLUGINS", "0")
    with pytest.warns(UserWarning, match=r"plugin 'typo' .* skipped: 'register_generator' is not a ganaug hook "
                                         r"\(did you mean 'register_generators'\?\).*GANAUG_DISABLE_PLUGINS=typo") as caught:
        registry = build_registry(entry_points=False, extra_plugins=(("typo", TypoHook()),))
    typo = next(w for w in caught if "'typo'" in str(w.message))
    assert (typo.filename, typo.lineno) == (__file__, TypoHook.register_generator.__code__.co_firstlineno)
    assert "typo" not in registry.plugins and registry.failures[0].name == "typo"
    assert {"cdcgan", "img2img"} <= set(registry.generators)
    registry.generator("test_cdcgan").build(num_classes=2, image_shape=(1, 8, 8))  # the rest works


def test_a_misspelled_hook_raises_in_strict_mode():
    with pytest.raises(pluggy.PluginValidationError, match="not a ganaug hook"):
        build_registry(entry_points=False, extra_plugins=(("typo", TypoHook()),))


class FlatImages(CDCGAN):
    """A family whose generator returns (B, C*H*W) instead of (B, C, H, W)."""

    def __init__(self, config, num_classes, image_shape):
        super().__init__(config, num_classes, image_shape)
        self.generator = _Flatten(self.generator)


class _Flatten(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, z, labels):
        return self.inner(z, labels).flatten(1)


class FlatPlugin:
    @ganaug.hookimpl
    def register_generators(self, register):
        register("flat", FlatImages, defaults={"g_channels": 8, "d_channels": 8, "z_dim": 8})


def test_a_generator_with_the_wrong_output_shape_is_refused_before_training(tiny_store, tmp_path):
    registry = build_registry(entry_points=False, extra_plugins=(("flat-plugin", FlatPlugin()),))
    with pytest.raises(PluginError, match=r"generator 'flat' \(plugin 'flat-plugin'\) returns a batch of shape "
                                          r"\(2, 64\) for 2 images of \(1, 8, 8\).*\(2, 1, 8, 8\)"):
        ganaug.fit(tiny_store, "flat", steps=2, out=tmp_path, registry=registry, progress=False, batch_size=8)
    assert not (tmp_path / "checkpoints").exists()


class AliasPlugin:
    @ganaug.hookimpl
    def register_generators(self, register):
        register("tiny", CDCGAN, aliases=("tiny-alias",), description="a tiny cdcgan",
                 defaults={"g_channels": 8, "d_channels": 8, "z_dim": 8})


def test_a_run_trained_under_an_alias_stores_the_canonical_name(tiny_store, tmp_path):
    import json

    registry = build_registry(entry_points=False, extra_plugins=(("alias-plugin", AliasPlugin()),))
    generator = ganaug.fit(tiny_store, "tiny-alias", steps=2, out=tmp_path, registry=registry, progress=False,
                           batch_size=8)
    assert generator.model == "tiny"
    assert json.loads((tmp_path / "config.json").read_text())["train"]["model"] == "tiny"
    assert json.loads((tmp_path / "generator" / "generator.json").read_text())["model"] == "tiny"


def test_ganaug_plugins_shows_descriptions_aliases_and_disabled_plugins():
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "GANAUG_DISABLE_PLUGINS": "mlp_gan"}
    text = subprocess.run([sys.executable, "-m", "ganaug", "plugins"], capture_output=True, text=True, env=env,
                          timeout=120).stdout
    assert "generator cdcgan: data-efficient conditional GAN" in text
    listing = json.loads(subprocess.run([sys.executable, "-m", "ganaug", "plugins", "--json"], capture_output=True,
                                        text=True, env=env, timeout=120).stdout)
    assert listing["generators"]["cdcgan"]["description"].startswith("data-efficient")
    installed = {info["name"] for info in listing["plugins"]} | {info["name"] for info in listing["disabled"]}
    if "mlp_gan" not in installed:
        pytest.skip("the ganaug-mlp-gan example plugin is not installed (make test installs it)")
    assert "DISABLED mlp_gan" in text and "in GANAUG_DISABLE_PLUGINS" in text
    assert any(info["name"] == "mlp_gan" for info in listing["disabled"])
    if "wgan-gp" in listing["generators"]:
        assert "generator wgan-gp (aliases: wgangp)" in text


def test_the_contract_kit_names_a_wrong_output_shape_first_and_a_missing_family():
    from ganaug.testing import GeneratorContract

    class TestFlat(GeneratorContract):
        generator_name = "flat"

    registry = build_registry(entry_points=False, extra_plugins=(("flat-plugin", FlatPlugin()),))
    with pytest.raises(pytest.fail.Exception, match=r"building 'flat' failed: .* returns a batch of shape \(2, 64\) "
                                                    r"for 2 images of \(1, 8, 8\)"):
        TestFlat().test_a_output_shape_dtype_and_range(registry)

    class TestMissing(GeneratorContract):
        generator_name = "not-installed"

    with pytest.raises(pytest.fail.Exception, match=r"'not-installed' is not registered \(is your plugin installed"):
        TestMissing().test_builds_from_the_registry(registry)


class ConstantPlugin:
    @ganaug.hookimpl
    def register_generators(self, register):
        register("ignores-class", IgnoresTheClass, defaults={"g_channels": 8, "d_channels": 8, "z_dim": 8})


class IgnoresTheClass(CDCGAN):
    def __init__(self, config, num_classes, image_shape):
        super().__init__(config, num_classes, image_shape)
        inner = self.generator

        class SameForEveryClass(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = inner

            def forward(self, z, labels):
                return self.inner(z, torch.zeros_like(labels))

        self.generator = SameForEveryClass()


def test_the_contract_kit_catches_a_generator_that_ignores_the_class():
    from ganaug.testing import GeneratorContract

    class TestIgnores(GeneratorContract):
        generator_name = "ignores-class"

    registry = build_registry(entry_points=False, extra_plugins=(("constant", ConstantPlugin()),))
    with pytest.raises(AssertionError, match="the class is ignored"):
        TestIgnores().test_the_class_conditions_the_output(registry)


def test_new_plugin_writes_a_package_that_installs_and_passes_the_contract(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from click.testing import CliRunner

    from ganaug.cli import main

    result = CliRunner().invoke(main, ["new-plugin", "tiny-gan", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    root = tmp_path / "ganaug-tiny-gan"
    again = CliRunner().invoke(main, ["new-plugin", "tiny-gan", "--out", str(tmp_path)])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = CliRunner().invoke(main, ["new-plugin", "Bad Name", "--out", str(tmp_path)])
    assert bad.exit_code == 1 and "plugin name 'Bad Name' must match" in bad.output

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(root)], check=True)
    env = {**os.environ, "PYTHONPATH": str(site)}
    listing = json.loads(subprocess.run([sys.executable, "-m", "ganaug", "plugins", "--json"], capture_output=True,
                                        text=True, env=env, check=True).stdout)
    assert listing["generators"]["tiny-gan"]["owner"] == "tiny_gan"
    contract = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert contract.returncode == 0 and "9 passed" in contract.stdout, contract.stdout + contract.stderr
