"""The plugin manager and the generator registry built from it.

Order (as in tox): hook specifications, then the ``ganaug`` entry points one at a time (a broken
one is reported and skipped), then the built-in plugins, then ``check_pending()``. Nothing runs at
``import ganaug``: the default registry is built on first use. Tests build fresh ones with
:func:`build_registry`.

Environment:
    GANAUG_LOAD_PLUGINS: comma list of entry-point names to load (empty: none); unset loads all.
    GANAUG_DISABLE_PLUGINS: comma list of entry-point names not to load.
    GANAUG_STRICT_PLUGINS=1: re-raise plugin failures instead of warning.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import importlib
import os
import re
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from ganaug import hookspecs
from ganaug.default_plugins import DEFAULT_PLUGINS
from ganaug.errors import ConfigError, UnknownGeneratorError
from ganaug.gan import GAN

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


@dataclass(frozen=True)
class GeneratorEntry:
    """One registered generator family."""

    name: str
    gan_class: type[GAN]
    owner: str
    description: str = ""
    aliases: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)

    def make_config(self, **overrides: Any) -> Any:
        """The family's config with the entry's defaults, then ``overrides``, applied."""
        cls = self.gan_class.config_class
        valid = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - valid)
        if unknown:
            raise ConfigError(
                f"generator {self.name!r} has no option(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}"
            )
        return cls(**{**self.defaults, **overrides})


@dataclass
class PluginFailure:
    """A plugin that could not be loaded or whose hook raised."""

    name: str
    distribution: str
    version: str
    error: str


@dataclass
class Registry:
    """Everything the plugins registered, with who registered it."""

    plugin_manager: pluggy.PluginManager
    generators: dict[str, GeneratorEntry] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)

    def generator(self, name: str) -> GeneratorEntry:
        key = self.aliases.get(name, name)
        if key not in self.generators:
            raise UnknownGeneratorError(name, list(self.generators) + list(self.aliases))
        return self.generators[key]

    def _register_generator(self, owner: str, name: str, gan_class: type[GAN], *, aliases: tuple[str, ...] = (),
                            description: str = "", defaults: dict | None = None) -> None:
        for candidate in (name, *aliases):
            if not isinstance(candidate, str) or not NAME_PATTERN.match(candidate):
                raise ValueError(f"plugin {owner!r}: generator name {candidate!r} must match {NAME_PATTERN.pattern}")
            taken_by = self._owner_of(candidate)
            if taken_by is not None:
                raise ValueError(
                    f"generator name {candidate!r} registered by plugin {owner!r} is already registered "
                    f"by plugin {taken_by!r}; rename one of them"
                )
        if not (isinstance(gan_class, type) and issubclass(gan_class, GAN)):
            raise ValueError(f"plugin {owner!r}: generator {name!r} must be a subclass of ganaug.GAN, got {gan_class!r}")
        entry = GeneratorEntry(name, gan_class, owner, description, tuple(aliases), dict(defaults or {}))
        entry.make_config()  # validate the defaults now, naming the plugin, not at first use
        self.generators[name] = entry
        for alias in aliases:
            self.aliases[alias] = name

    def _owner_of(self, name: str) -> str | None:
        if name in self.generators:
            return self.generators[name].owner
        if name in self.aliases:
            return self.generators[self.aliases[name]].owner
        return None


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def strict_plugins() -> bool:
    return os.environ.get("GANAUG_STRICT_PLUGINS", "") not in ("", "0", "false", "False")


def make_plugin_manager(*, entry_points: bool = True,
                        extra_plugins: tuple[tuple[str, object], ...] = ()) -> tuple[pluggy.PluginManager, list[PluginFailure]]:
    """A plugin manager with ganaug's hooks, the installed plugins and the built-ins registered.

    ``extra_plugins`` are ``(name, plugin)`` pairs registered like entry points (tests use it).
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    failures: list[PluginFailure] = []
    if entry_points:
        selected, disabled = _env_list("GANAUG_LOAD_PLUGINS"), set(_env_list("GANAUG_DISABLE_PLUGINS") or [])
        for ep in sorted(metadata.entry_points(group=hookspecs.PROJECT_NAME), key=lambda e: e.name):
            if (selected is not None and ep.name not in selected) or ep.name in disabled:
                continue
            if pm.has_plugin(ep.name):
                continue
            try:
                pm.register(ep.load(), name=ep.name)
            except Exception as exc:  # a broken plugin must not take ganaug down
                dist = ep.dist.name if ep.dist else "?"
                version = ep.dist.version if ep.dist else "?"
                _report(failures, PluginFailure(ep.name, dist, version, f"{type(exc).__name__}: {exc}"), exc)
    for name, plugin in extra_plugins:
        pm.register(plugin, name=name)
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    pm.check_pending()
    return pm, failures


def _report(failures: list[PluginFailure], failure: PluginFailure, exc: BaseException) -> None:
    if strict_plugins():
        raise exc
    failures.append(failure)
    warnings.warn(
        f"ganaug plugin {failure.name!r} ({failure.distribution} {failure.version}) failed and was skipped: "
        f"{failure.error}. Set GANAUG_DISABLE_PLUGINS={failure.name} to silence this",
        stacklevel=3,
    )


def build_registry(*, entry_points: bool = True, extra_plugins: tuple[tuple[str, object], ...] = ()) -> Registry:
    """A fresh registry: load the plugins and call each one's ``register_generators`` separately."""
    pm, failures = make_plugin_manager(entry_points=entry_points, extra_plugins=extra_plugins)
    registry = Registry(pm, failures=failures)
    # Built-ins first, so a third-party plugin reusing a built-in name is the one reported.
    impls = sorted(pm.hook.register_generators.get_hookimpls(), key=lambda i: i.plugin_name not in DEFAULT_PLUGINS)
    for impl in impls:
        owner = impl.plugin_name
        try:
            impl.function(register=functools.partial(registry._register_generator, owner))
        except Exception as exc:
            if owner in DEFAULT_PLUGINS:  # a bug of ours, not a plugin's: fail loudly
                raise
            info = _distribution_of(pm, owner)
            _report(registry.failures, PluginFailure(owner, *info, f"{type(exc).__name__}: {exc}"), exc)
    return registry


def _distribution_of(pm: pluggy.PluginManager, plugin_name: str) -> tuple[str, str]:
    for plugin, dist in pm.list_plugin_distinfo():
        if pm.get_name(plugin) == plugin_name:
            return dist.project_name, dist.version
    return "ganaug" if plugin_name in DEFAULT_PLUGINS else "?", "?"


@functools.lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The registry used by :func:`create_generator` and friends, built on first use."""
    return build_registry()


def create_generator(name: str = "cdcgan", *, num_classes: int, image_shape: tuple[int, int, int],
                     registry: Registry | None = None, **overrides: Any) -> GAN:
    """Build an untrained GAN of a registered family.

    Args:
        name: a registered name or alias (see :func:`list_generators`).
        num_classes: number of classes K.
        image_shape: (C, H, W) of the images.
        registry: where to look; the default registry when omitted.
        **overrides: fields of the family's config (e.g. ``z_dim=32``).

    Returns:
        The GAN (generator and discriminator), on the CPU.
    """
    entry = (registry or default_registry()).generator(name)
    return entry.gan_class(entry.make_config(**overrides), num_classes, tuple(image_shape))


def list_generators(pattern: str | None = None, *, registry: Registry | None = None) -> list[str]:
    """Registered generator names, sorted, optionally filtered by a glob pattern like ``"*dcgan*"``."""
    names = sorted((registry or default_registry()).generators)
    return [n for n in names if pattern is None or fnmatch.fnmatchcase(n, pattern)]
