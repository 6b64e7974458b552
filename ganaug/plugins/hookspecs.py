"""The hooks ganaug plugins implement; each docstring is the reference for its hook.

A plugin is a module or object with functions decorated by :data:`ganaug.hookimpl` whose names
match the specifications below. Built-in generator families (``ganaug/plugins/builtin/``) use the
very same hooks as third-party packages, which expose theirs through the ``ganaug`` entry-point
group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import click

    from ganaug.gan import GAN

PROJECT_NAME = "ganaug"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marker for functions that implement a ganaug hook (``@ganaug.hookimpl``)."""


class RegisterGenerator(Protocol):
    """The ``register`` callback handed to :func:`register_generators`."""

    def __call__(
        self,
        name: str,
        gan_class: type[GAN],
        *,
        aliases: tuple[str, ...] = (),
        description: str = "",
        defaults: dict | None = None,
    ) -> None: ...


@hookspec
def register_generators(register: RegisterGenerator) -> None:
    """Register generator (GAN) families.

    Call ``register(name, gan_class, aliases=(), description="", defaults=None)`` once per family.

    Args:
        register: callback taking
            ``name`` (lowercase letters, digits, ``_`` and ``-``; unique across all plugins),
            ``gan_class`` (a subclass of :class:`ganaug.GAN` whose ``config_class`` is a dataclass
            of its hyper-parameters),
            ``aliases`` (other names that resolve to the same entry),
            ``description`` (one line shown by ``ganaug plugins`` and ``list_generators``),
            ``defaults`` (overrides of ``config_class`` defaults, so one class can back several
            entries, e.g. a tiny test variant).

    Returns:
        Nothing; a name registered twice raises ``ValueError`` naming both owners.

    Who implements it: any plugin that provides a generator family; ganaug's own ``dcgan``,
    ``cdcgan`` and ``test_cdcgan`` are registered here too.
    """


class RegisterFactory(Protocol):
    """The ``register`` callback handed to :func:`register_classifiers` and :func:`register_datasets`."""

    def __call__(self, name: str, factory: Callable[..., Any], *, description: str = "") -> None: ...


@hookspec
def register_classifiers(register: RegisterFactory) -> None:
    """Register downstream classifiers that the gain measurement can train.

    Call ``register(name, factory, description="")`` once per classifier.

    Args:
        register: callback taking
            ``name`` (same rules as generator names; unique across plugins),
            ``factory`` (called as ``factory(num_classes=K, image_shape=(C, H, W), seed=S)``; returns a
            ``torch.nn.Module`` mapping float images in [0, 1] of shape (B, C, H, W) to logits
            (B, K), or a scikit-learn estimator with ``fit``/``predict`` on flattened pixels),
            ``description`` (one line).

    Returns:
        Nothing; a duplicate name raises ``ValueError`` naming both owners.

    Who implements it: plugins that bring a classifier to compare augmentation with.
    """


@hookspec
def register_datasets(register: RegisterFactory) -> None:
    """Register named data sources, usable as the CLI's DATA argument and by ``ganaug.load_data``.

    Call ``register(name, loader, description="")`` once per data source.

    Args:
        register: callback taking
            ``name`` (same rules as generator names; an existing path of that name wins over it),
            ``loader`` (called with no arguments; returns anything ``ganaug.load_data`` accepts: an
            ``ImageStore``, a torch ``Dataset`` of ``(image, label)``, a tuple ``(x, y)``...),
            ``description`` (one line).

    Returns:
        Nothing; a duplicate name raises ``ValueError`` naming both owners.

    Who implements it: plugins that ship or generate data; ganaug's own ``digits`` is registered here.
    Loaders must not download anything.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``ganaug`` command line.

    Args:
        cli: the ``ganaug`` click group; decorate functions with ``@cli.command()``.

    Returns:
        Nothing. Commands are added when the CLI starts (not at ``import ganaug``); a plugin that
        raises here is reported and skipped.

    Who implements it: plugins with a workflow of their own (export, reports...).
    """
