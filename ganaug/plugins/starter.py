"""``ganaug new-plugin NAME``: a plugin package that installs, registers a generator family and passes
the contract test as it is written, for authors to change step by step (docs/writing-a-plugin.md)."""

from __future__ import annotations

from pathlib import Path

from ganaug.errors import ConfigError
from ganaug.plugins.registry import NAME_PATTERN

PYPROJECT = '''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "ganaug-{name}"
version = "0.1.0"
description = "The {name} generator family for ganaug"
requires-python = ">=3.10"
dependencies = ["ganaug", "torch>=2.4"]

[project.entry-points.ganaug]
{module} = "{package}"

[tool.setuptools]
packages = ["{package}"]
'''

PACKAGE = '''"""The {name} generator family for ganaug (started from `ganaug new-plugin`).

A conditional MLP GAN with the non-saturating loss: change the networks, the losses and the config to
make it yours; `pytest tests/` runs ganaug's contract checks on it. See docs/writing-a-plugin.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

import ganaug


@dataclass
class {cls}Config(ganaug.GANConfig):
    """Hyper-parameters of {name}; every field is an option (`ganaug.fit(..., hidden=64)`, `[model]` in TOML)."""

    z_dim: int = 32
    hidden: int = 256
    """Width of the hidden layers of both networks."""

    limits: ClassVar[dict] = {{"hidden": {{"minimum": 1, "maximum": 8192}}}}


class {cls}Generator(nn.Module):
    def __init__(self, cfg: {cls}Config, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.image_shape = image_shape
        self.embed = nn.Embedding(num_classes, cfg.z_dim)
        self.net = nn.Sequential(
            nn.Linear(2 * cfg.z_dim, cfg.hidden), nn.LeakyReLU(0.2),
            nn.Linear(cfg.hidden, cfg.hidden), nn.LeakyReLU(0.2),
            nn.Linear(cfg.hidden, math.prod(image_shape)), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, self.embed(labels)], dim=1)).view(-1, *self.image_shape)


class {cls}Discriminator(nn.Module):
    def __init__(self, cfg: {cls}Config, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, math.prod(image_shape))
        self.net = nn.Sequential(
            nn.Linear(2 * math.prod(image_shape), cfg.hidden), nn.LeakyReLU(0.2),
            nn.Linear(cfg.hidden, cfg.hidden), nn.LeakyReLU(0.2),
            nn.Linear(cfg.hidden, 1),
        )

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x.flatten(1), self.embed(labels)], dim=1)).squeeze(1)


class {cls}(ganaug.GAN):
    """The {name} family: G and D, their two losses, and an EMA of G for sampling."""

    config_class = {cls}Config

    def __init__(self, config: {cls}Config, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__(config, num_classes, image_shape)
        self.generator = {cls}Generator(config, num_classes, self.image_shape)
        self.discriminator = {cls}Discriminator(config, num_classes, self.image_shape)
        self.init_ema()

    def discriminator_loss(self, real, fake, labels, fake_labels):
        return (F.softplus(-self.discriminator(real, labels)).mean()
                + F.softplus(self.discriminator(fake, fake_labels)).mean())

    def generator_loss(self, fake, z, fake_labels):
        return F.softplus(-self.discriminator(fake, fake_labels)).mean()


@ganaug.hookimpl
def register_generators(register):
    register("{name}", {cls}, description="{name}: a conditional MLP GAN (from ganaug new-plugin)")
'''

CONTRACT = '''from ganaug.testing import GeneratorContract


class Test{cls}(GeneratorContract):
    generator_name = "{name}"
    overrides = {{"hidden": 16, "z_dim": 4}}
'''

README = '''# ganaug-{name}

A generator family for [ganaug](https://pypi.org/project/ganaug/), started from `ganaug new-plugin {name}`.

```bash
pip install -e .            # registers the family through the `ganaug` entry point
ganaug plugins              # lists {module} and the generator {name}
pytest -q tests/            # ganaug's contract checks on your family
ganaug train digits --model {name} --steps 500 --out runs/{name}
```

Change `{package}/__init__.py` (networks, losses, config) and keep the contract test passing.
'''


def write_starter(name: str, parent: str | Path = ".") -> Path:
    """Write the package ``ganaug-<name>/`` under ``parent``; refuse a bad name or an existing folder."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ConfigError(f"plugin name {name!r} must match {NAME_PATTERN.pattern} (lowercase letters, digits, - and "
                          "_), e.g. my-gan")
    module = name.replace("-", "_")
    package = f"ganaug_{module}"
    cls = "".join(part.capitalize() for part in module.split("_") if part) or "Plugin"
    if not cls[0].isalpha():
        cls = "Gan" + cls
    root = Path(parent) / f"ganaug-{name}"
    if root.exists():
        raise ConfigError(f"{root} already exists; choose another name or --out, or move it away")
    values = {"name": name, "module": module, "package": package, "cls": cls}
    (root / package).mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT.format(**values))
    (root / package / "__init__.py").write_text(PACKAGE.format(**values))
    (root / "tests" / f"test_{module}_contract.py").write_text(CONTRACT.format(**values))
    (root / "README.md").write_text(README.format(**values))
    return root
