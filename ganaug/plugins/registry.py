"""The plugin manager and the registry of everything plugins provide.

Order (as in tox): hook specifications, then the ``ganaug`` entry points one at a time (a broken
one is reported and skipped), then the built-in plugins, then ``check_pending()``. Each plugin's
hook implementations are then called one plugin at a time, built-ins first, so a plugin that
raises is reported and skipped and a third-party name clash names the newcomer. Nothing runs at
``import ganaug``: the default registry is built on first use. Tests build fresh ones with
:func:`build_registry`.

Environment:
    GANAUG_LOAD_PLUGINS: comma list of entry-point names to load (empty: none); unset loads all.
    GANAUG_DISABLE_PLUGINS: comma list of entry-point names not to load.
    GANAUG_STRICT_PLUGINS=1: re-raise plugin failures instead of warning (the test suite sets it).
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import functools
import importlib
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from ganaug._version import __version__
from ganaug.errors import (
    ConfigError,
    GanaugError,
    PluginError,
    UnknownGeneratorError,
    UnknownNameError,
)
from ganaug.gan import GAN, GANConfig
from ganaug.plugins import hookspecs
from ganaug.plugins.blame import (
    Location,
    location_of_exception,
    location_of_function,
    location_of_validation_error,
)
from ganaug.plugins.builtin import DEFAULT_PLUGINS
from ganaug.plugins.probe import probe_family

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
REGISTER_HOOKS = ("register_generators", "register_classifiers", "register_datasets")


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
            from ganaug.train.config import (
                TRAIN_FIELDS,  # the other options a user may have meant
            )

            hints = []
            for key in unknown:
                close = difflib.get_close_matches(key, [*valid, *TRAIN_FIELDS], n=1, cutoff=0.7)
                hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise ConfigError(
                f"unknown option(s) {', '.join(hints)}: not a training option, nor an option of generator {self.name!r} "
                f"({', '.join(sorted(valid))}); see `ganaug train --help`"
            )
        return cls(**{**self.defaults, **overrides})

    def build(self, *, num_classes: int, image_shape: tuple[int, int, int], **overrides: Any) -> GAN:
        """An untrained GAN of this family for ``num_classes`` classes of ``image_shape`` images."""
        config = self.make_config(**overrides)
        self.check_size(config, num_classes, tuple(image_shape))
        try:
            return self.gan_class(config, num_classes, tuple(image_shape))
        except GanaugError:
            raise
        except (ValueError, TypeError) as exc:  # a plugin's own check of the shape or options
            raise ConfigError(f"generator {self.name!r} (plugin {self.owner!r}) cannot be built for {num_classes} "
                              f"classes of {tuple(image_shape)} images: {exc}") from exc


    def check_size(self, config: GANConfig, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        """Before allocating anything, refuse a GAN too large for the memory or whose generator's output is not
        (B, C, H, W) images of ``image_shape`` (see :mod:`ganaug.plugins.probe`)."""
        probe_family(self.name, self.owner, self.gan_class, config, num_classes, image_shape)


@dataclass(frozen=True)
class FactoryEntry:
    """A registered classifier factory or dataset loader."""

    name: str
    factory: Callable[..., Any]
    owner: str
    description: str = ""


@dataclass
class PluginInfo:
    """What ``ganaug plugins`` shows about one plugin."""

    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)


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
    classifiers: dict[str, FactoryEntry] = field(default_factory=dict)
    datasets: dict[str, FactoryEntry] = field(default_factory=dict)
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    disabled: list[PluginFailure] = field(default_factory=list)
    """Installed plugins left out on purpose (GANAUG_DISABLE_PLUGINS, or not in GANAUG_LOAD_PLUGINS), with why."""

    # -- lookups ------------------------------------------------------------------------------

    def generator(self, name: str) -> GeneratorEntry:
        key = self.aliases.get(name, name)
        if key not in self.generators:
            raise UnknownGeneratorError(name, list(self.generators) + list(self.aliases))
        return self.generators[key]

    def classifier(self, name: str) -> FactoryEntry:
        return self._lookup(self.classifiers, "classifier", name)

    def dataset(self, name: str) -> FactoryEntry:
        return self._lookup(self.datasets, "dataset", name)

    @staticmethod
    def _lookup(table: dict[str, FactoryEntry], kind: str, name: str) -> FactoryEntry:
        if name not in table:
            raise UnknownNameError(f"unknown {kind} {name!r}; registered: {', '.join(sorted(table)) or 'none'}")
        return table[name]

    # -- the register callbacks handed to plugins ---------------------------------------------

    def _claim(self, kind: str, owner: str, names: tuple[str, ...]) -> None:
        for candidate in names:
            if not isinstance(candidate, str) or not NAME_PATTERN.match(candidate):
                raise PluginError(f"plugin {owner!r}: {kind} name {candidate!r} must match {NAME_PATTERN.pattern}")
            taken_by = self._owner_of(kind, candidate)
            if taken_by is not None:
                raise PluginError(
                    f"{kind} name {candidate!r} registered by plugin {owner!r} is already registered "
                    f"by plugin {taken_by!r}; rename one of them"
                )

    def _owner_of(self, kind: str, name: str) -> str | None:
        if kind == "generator":
            key = self.aliases.get(name, name)
            return self.generators[key].owner if key in self.generators else None
        table = self.classifiers if kind == "classifier" else self.datasets
        return table[name].owner if name in table else None

    def _note(self, owner: str, kind: str, name: str) -> None:
        if owner in self.plugins:
            self.plugins[owner].registered.setdefault(kind + "s", []).append(name)

    def _register_generator(self, owner: str, name: str, gan_class: type[GAN], *, aliases: tuple[str, ...] = (),
                            description: str = "", defaults: dict | None = None) -> None:
        self._claim("generator", owner, (name, *aliases))
        if not (isinstance(gan_class, type) and issubclass(gan_class, GAN)):
            raise PluginError(f"plugin {owner!r}: generator {name!r} must be a subclass of ganaug.GAN, got {gan_class!r}")
        entry = GeneratorEntry(name, gan_class, owner, description, tuple(aliases), dict(defaults or {}))
        entry.make_config()  # validate the defaults now, naming the plugin, not at first use
        self.generators[name] = entry
        for alias in aliases:
            self.aliases[alias] = name
        self._note(owner, "generator", name)

    def _register_factory(self, kind: str, owner: str, name: str, factory: Callable[..., Any], *,
                          description: str = "") -> None:
        self._claim(kind, owner, (name,))
        if not callable(factory):
            raise PluginError(f"plugin {owner!r}: {kind} {name!r} must be callable, got {factory!r}")
        table = self.classifiers if kind == "classifier" else self.datasets
        table[name] = FactoryEntry(name, factory, owner, description)
        self._note(owner, kind, name)

    def _register_callback(self, hook: str, owner: str) -> Callable[..., None]:
        if hook == "register_generators":
            return functools.partial(self._register_generator, owner)
        kind = "classifier" if hook == "register_classifiers" else "dataset"
        return functools.partial(self._register_factory, kind, owner)

    # -- calling hooks one plugin at a time ---------------------------------------------------

    def call_each(self, hook: str, argument: str, make_value: Callable[[str], Any],
                  after: Callable[[str], None] | None = None) -> None:
        """Call every implementation of ``hook`` separately, built-ins first; report failures."""
        impls = sorted(getattr(self.plugin_manager.hook, hook).get_hookimpls(),
                       key=lambda i: i.plugin_name not in DEFAULT_PLUGINS)
        for impl in impls:
            owner = impl.plugin_name
            others = [p for p in self.plugin_manager.get_plugins() if p is not impl.plugin]
            caller = self.plugin_manager.subset_hook_caller(hook, remove_plugins=others)
            try:
                caller(**{argument: make_value(owner)})
                if after is not None:
                    after(owner)
            except Exception as exc:
                if owner in DEFAULT_PLUGINS:  # a bug of ours, not a plugin's: fail loudly
                    raise
                info = self.plugins.get(owner)
                failure = PluginFailure(owner, info.distribution if info else "?", info.version if info else "?",
                                        f"{type(exc).__name__} in {hook}: {exc}")
                _report(self.failures, failure, exc, location_of_exception(exc, impl.plugin))

    def add_commands(self, cli: Any) -> None:
        """Let plugins add click subcommands to ``cli`` (``register_commands``), noting who added what."""
        seen = set(cli.commands)

        def attribute(owner: str) -> None:
            added = sorted(set(cli.commands) - seen)
            seen.update(added)
            if owner in self.plugins and added:
                self.plugins[owner].registered.setdefault("commands", []).extend(added)

        self.call_each("register_commands", "cli", lambda owner: cli, after=attribute)


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def strict_plugins() -> bool:
    return os.environ.get("GANAUG_STRICT_PLUGINS", "") not in ("", "0", "false", "False")


def _report(failures: list[PluginFailure], failure: PluginFailure, exc: BaseException,
            where: Location | None = None) -> None:
    """Disable a plugin with a warning attributed to ``where`` (the plugin's file and line) when known."""
    if strict_plugins():
        raise exc
    failures.append(failure)
    message = (f"ganaug plugin {failure.name!r} ({failure.distribution} {failure.version}) failed and was skipped: "
               f"{failure.error}. Set GANAUG_DISABLE_PLUGINS={failure.name} to silence this")
    if where is None:
        warnings.warn(message, stacklevel=3)
    else:
        warnings.warn_explicit(message, UserWarning, where[0], where[1])


def _hooks_of(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    return sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])


def _add_plugin(registry: Registry, name: str, load: Callable[[], object], dist: str, version: str) -> None:
    """Load and register one plugin; one that fails to import or to validate is skipped and reported."""
    pm = registry.plugin_manager
    try:
        plugin = load()
        pm.register(plugin, name=name)
    except Exception as exc:  # a broken plugin must not take ganaug down
        _report(registry.failures, PluginFailure(name, dist, version, f"{type(exc).__name__}: {exc}"), exc,
                location_of_validation_error(exc) or location_of_exception(exc))
        return
    problem, where = _unknown_hooks(pm, plugin)
    if problem:
        pm.unregister(plugin, name=name)
        _report(registry.failures, PluginFailure(name, dist, version, problem),
                pluggy.PluginValidationError(plugin, problem), where)
        return
    registry.plugins[name] = PluginInfo(name, dist, version, _hooks_of(pm, plugin))


def _unknown_hooks(pm: pluggy.PluginManager, plugin: object) -> tuple[str, Location | None]:
    """What pluggy's ``check_pending`` would refuse in ``plugin`` (hook implementations no ganaug hook matches),
    and where the first of them is defined; ``("", None)`` when nothing."""
    known = sorted(caller.name for caller in pm.hook.__dict__.values()
                   if isinstance(caller, pluggy.HookCaller) and caller.has_spec())
    problems, functions = [], []
    for caller in pm.get_hookcallers(plugin) or []:
        mine = [impl for impl in caller.get_hookimpls() if impl.plugin is plugin]
        if caller.has_spec() or all(impl.optionalhook for impl in mine):
            continue
        close = difflib.get_close_matches(caller.name, known, n=1, cutoff=0.6)
        problems.append(f"{caller.name!r} is not a ganaug hook" + (f" (did you mean {close[0]!r}?)" if close else ""))
        functions += [impl.function for impl in mine]
    if not problems:
        return "", None
    return (f"{'; '.join(problems)}. Rename the function marked @ganaug.hookimpl to one of: {', '.join(known)} "
            "(see docs/plugins.md)"), location_of_function(functions[0]) if functions else None


def build_registry(*, entry_points: bool = True, extra_plugins: tuple[tuple[str, object], ...] = ()) -> Registry:
    """A fresh registry: hookspecs, entry points one at a time, extras, built-ins, then the hooks.

    Args:
        entry_points: load installed plugins from the ``ganaug`` entry-point group.
        extra_plugins: ``(name, plugin)`` pairs registered like entry points (tests use it).
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    registry = Registry(pm)
    if entry_points:
        selected, disabled = _env_list("GANAUG_LOAD_PLUGINS"), set(_env_list("GANAUG_DISABLE_PLUGINS") or [])
        for ep in sorted(metadata.entry_points(group=hookspecs.PROJECT_NAME), key=lambda e: e.name):
            if pm.has_plugin(ep.name):
                continue
            dist = ep.dist.name if ep.dist else "?"
            version = ep.dist.version if ep.dist else "?"
            if ep.name in disabled or (selected is not None and ep.name not in selected):
                why = "in GANAUG_DISABLE_PLUGINS" if ep.name in disabled else "not in GANAUG_LOAD_PLUGINS"
                registry.disabled.append(PluginFailure(ep.name, dist, version, why))
                continue
            _add_plugin(registry, ep.name, ep.load, dist, version)
    for name, plugin in extra_plugins:
        _add_plugin(registry, name, lambda plugin=plugin: plugin, "?", "?")
    for module_name in DEFAULT_PLUGINS:
        plugin = importlib.import_module(module_name)
        pm.register(plugin, name=module_name)
        registry.plugins[module_name] = PluginInfo(module_name, "ganaug", __version__, _hooks_of(pm, plugin))
    pm.check_pending()
    for hook in REGISTER_HOOKS:
        registry.call_each(hook, "register", functools.partial(registry._register_callback, hook))
    return registry


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
    return (registry or default_registry()).generator(name).build(num_classes=num_classes, image_shape=image_shape,
                                                                  **overrides)


def list_generators(pattern: str | None = None, *, registry: Registry | None = None) -> list[str]:
    """Registered generator names, sorted, optionally filtered by a glob pattern like ``"*dcgan*"``."""
    names = sorted((registry or default_registry()).generators)
    return [n for n in names if pattern is None or fnmatch.fnmatchcase(n, pattern)]
