"""Plugin discovery, isolation, selection, the `ganaug plugins` command, real installs, and hook docs."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import ganaug
from ganaug.plugins import hookspecs
from ganaug.plugins.registry import build_registry

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(name for name, value in vars(hookspecs).items() if hasattr(value, "ganaug_spec"))


def write_distribution(folder: Path, name: str, module_source: str) -> Path:
    """A minimal installed distribution on ``folder``: a module and a dist-info with a ganaug entry point."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(module_source)
    info = folder / f"{name}-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text(f"[ganaug]\n{name} = {name}\n")
    return folder


GOOD_PLUGIN = '''
import ganaug, click
from ganaug.plugins.builtin.cdcgan import CDCGAN

@ganaug.hookimpl
def register_generators(register):
    register("goodgan", CDCGAN, defaults={"z_dim": 4, "g_channels": 4, "d_channels": 4})

@ganaug.hookimpl
def register_datasets(register):
    from ganaug.data import load_digits
    register("small-digits", lambda: load_digits().subset(range(40)))

@ganaug.hookimpl
def register_classifiers(register):
    register("pixels-logreg", lambda num_classes, image_shape, seed: None, description="placeholder for tests")

@ganaug.hookimpl
def register_commands(cli):
    @cli.command("hello")
    def hello():
        """Say hello."""
        click.echo("hello from goodplugin")
'''


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """Put a good and a broken plugin distribution on sys.path."""
    write_distribution(tmp_path, "goodplugin", GOOD_PLUGIN)
    write_distribution(tmp_path, "brokenplugin", "raise ImportError('missing dependency: frobnicate')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_broken_plugin_is_reported_and_skipped(installed, monkeypatch):
    monkeypatch.setenv("GANAUG_STRICT_PLUGINS", "0")
    with pytest.warns(UserWarning, match=r"plugin 'brokenplugin' \(brokenplugin 0.3\) failed and was skipped: "
                                         r"ImportError: missing dependency: frobnicate"):
        registry = build_registry()
    assert [f.name for f in registry.failures] == ["brokenplugin"]
    assert {"goodgan", "cdcgan", "dcgan"} <= set(registry.generators)
    info = registry.plugins["goodplugin"]
    assert (info.distribution, info.version) == ("goodplugin", "0.3")
    assert info.hooks == ["register_classifiers", "register_commands", "register_datasets", "register_generators"]
    assert info.registered == {"generators": ["goodgan"], "datasets": ["small-digits"],
                               "classifiers": ["pixels-logreg"]}


def test_strict_mode_reraises(installed, monkeypatch):
    monkeypatch.setenv("GANAUG_STRICT_PLUGINS", "1")
    with pytest.raises(ImportError, match="frobnicate"):
        build_registry()


def test_load_and_disable_select_plugins(installed, monkeypatch):
    monkeypatch.setenv("GANAUG_LOAD_PLUGINS", "goodplugin")
    assert "goodgan" in build_registry().generators
    monkeypatch.setenv("GANAUG_LOAD_PLUGINS", "")
    registry = build_registry()
    assert "goodgan" not in registry.generators and "cdcgan" in registry.generators
    monkeypatch.delenv("GANAUG_LOAD_PLUGINS")
    monkeypatch.setenv("GANAUG_DISABLE_PLUGINS", "brokenplugin, goodplugin")
    registry = build_registry()
    assert "goodgan" not in registry.generators and not registry.failures


def test_plugins_are_not_loaded_at_import():
    code = ("import sys, ganaug; "
            "print(any(m.startswith('ganaug.plugins.builtin.') for m in sys.modules), "
            "ganaug.plugins.registry.default_registry.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "0"]


def test_hook_register_generators(installed, monkeypatch):
    monkeypatch.setenv("GANAUG_DISABLE_PLUGINS", "brokenplugin")
    registry = build_registry()
    gan = ganaug.create_generator("goodgan", num_classes=2, image_shape=(1, 8, 8), registry=registry)
    assert gan.config.z_dim == 4


def test_hook_register_datasets(installed, monkeypatch):
    monkeypatch.setenv("GANAUG_DISABLE_PLUGINS", "brokenplugin")
    monkeypatch.setattr(ganaug.plugins.registry, "default_registry", lambda: build_registry())
    assert len(ganaug.load_data("small-digits")) == 40
    with pytest.raises(ganaug.DataError, match=r"a registered dataset \('digits', 'small-digits'\)"):
        ganaug.load_data("no-such-data")


def test_hook_register_classifiers(installed, monkeypatch):
    monkeypatch.setenv("GANAUG_DISABLE_PLUGINS", "brokenplugin")
    registry = build_registry()
    assert registry.classifier("pixels-logreg").owner == "goodplugin"
    with pytest.raises(KeyError, match="unknown classifier 'nope'"):
        registry.classifier("nope")


def test_hook_register_commands(installed, monkeypatch):
    monkeypatch.setenv("GANAUG_DISABLE_PLUGINS", "brokenplugin")
    registry = build_registry()
    group = click.Group("ganaug")
    registry.add_commands(group)
    assert "hello" in group.commands
    assert registry.plugins["goodplugin"].registered["commands"] == ["hello"]
    assert CliRunner().invoke(group, ["hello"]).output == "hello from goodplugin\n"


def test_plugins_command_lists_everything(installed, monkeypatch):
    monkeypatch.setenv("GANAUG_STRICT_PLUGINS", "0")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), os.environ.get("PYTHONPATH", "")]),
           "GANAUG_STRICT_PLUGINS": "0"}
    result = subprocess.run([sys.executable, "-m", "ganaug", "plugins", "--json"], capture_output=True, text=True,
                            env=env, check=True)
    listing = json.loads(result.stdout)
    good = next(p for p in listing["plugins"] if p["name"] == "goodplugin")
    assert good["registered"]["commands"] == ["hello"] and good["registered"]["generators"] == ["goodgan"]
    assert listing["failed"][0]["name"] == "brokenplugin" and "frobnicate" in listing["failed"][0]["error"]
    assert "failed and was skipped" in result.stderr
    text = subprocess.run([sys.executable, "-m", "ganaug", "plugins"], capture_output=True, text=True, env=env,
                          check=True).stdout
    assert "goodplugin  (goodplugin 0.3)" in text and "FAILED brokenplugin" in text
    hello = subprocess.run([sys.executable, "-m", "ganaug", "hello"], capture_output=True, text=True, env=env)
    assert hello.stdout == "hello from goodplugin\n"


def test_pip_installed_plugin_is_discovered_and_trains(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(ROOT / "plugins" / "ganaug-mlp-gan")], check=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    listing = json.loads(subprocess.run([sys.executable, "-m", "ganaug", "plugins", "--json"], capture_output=True,
                                        text=True, env=env, check=True).stdout)
    plugin = next(p for p in listing["plugins"] if p["name"] == "mlp_gan")
    assert plugin["distribution"] == "ganaug-mlp-gan" and plugin["registered"]["generators"] == ["mlp-gan"]
    code = ("import ganaug, ganaug_mlp_gan; print(ganaug_mlp_gan.__file__); "
            "g = ganaug.fit('digits', 'mlp-gan', steps=3, batch_size=16, progress=False, hidden=16); "
            "print(tuple(g.sample(per_class=1).shape))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    module_file, shape = out.splitlines()
    assert module_file.startswith(str(target))
    assert shape == "(10, 1, 8, 8)"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature_and_tested(hook):
    docs = (ROOT / "docs" / "plugins.md").read_text()
    spec = inspect.signature(getattr(hookspecs, hook))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in spec.parameters.values())
    signature = f"def {hook}({params}) -> {spec.return_annotation}"
    assert f"## `{hook}`" in docs, f"docs/plugins.md lacks a section for {hook}"
    assert signature in docs, f"docs/plugins.md lacks the exact signature {signature}"
    tests = Path(__file__).read_text()
    assert re.search(rf"def test_hook_{hook}\(", tests), f"no test_hook_{hook} in {Path(__file__).name}"


def test_plugin_docs_examples_run(tmp_path, monkeypatch):
    """Every Python example in docs/plugins.md runs as written."""
    monkeypatch.chdir(tmp_path)
    docs = (ROOT / "docs" / "plugins.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", docs, re.S)
    examples = [b for b in blocks if not b.lstrip().startswith("def register_")]  # skip bare signatures
    assert len(examples) >= 5
    for code in examples:
        exec(compile(code, "docs/plugins.md", "exec"), {"__name__": "docs_example"})


@pytest.mark.parametrize("cls_path", ["ganaug.gan.GAN", "ganaug.image_gan.ImageGAN"])
def test_every_public_member_of_the_gan_contract_is_in_the_reference(cls_path):
    import importlib

    module_name, _, class_name = cls_path.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    page = (ROOT / "docs" / "gan-reference.md").read_text()
    for name in vars(cls):
        if name.startswith("_") and name != "__init__":
            continue
        assert f"### `{name}" in page, f"{class_name}.{name} is missing from docs/gan-reference.md"
