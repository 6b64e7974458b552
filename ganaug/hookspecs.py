"""The hooks ganaug plugins implement; each docstring is the reference for its hook.

A plugin is a module or object with functions decorated by :data:`ganaug.hookimpl` whose names
match the specifications below. Built-in generator families (``ganaug/default_plugins/``) use the
very same hooks as third-party packages, which expose theirs through the ``ganaug`` entry-point
group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
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
