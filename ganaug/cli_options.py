"""Click options derived from a config dataclass: one flag per field marked ``flag=True``.

The flag's name, type, choices and help (with the default) come from the field, so the CLI never
retypes them. Every flag defaults to None ("not given"), so a ``--config`` file can supply the value
and the dataclass its default; :func:`given` keeps the flags the user typed, converted to the
field's type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click

from ganaug.configs import base_type, cli_fields, field_type
from ganaug.errors import ConfigError


def config_flags(cls: type, *, shown_defaults: dict[str, str] | None = None) -> Callable[[Callable], Callable]:
    """Decorate a click command with a flag for every CLI field of ``cls``.

    Args:
        cls: the config dataclass.
        shown_defaults: the default to show in the help where the command's differs from the field's.
    """

    def decorate(command: Callable) -> Callable:
        for field in reversed(cli_fields(cls)):
            command = click.option(_flag_name(cls, field), field.name, default=None,
                                   **_click_kwargs(cls, field, (shown_defaults or {}).get(field.name)))(command)
        return command

    return decorate


def given(cls: type, flags: dict[str, Any]) -> dict[str, Any]:
    """The flags of ``cls`` the user gave (not None), converted to the fields' types."""
    names = {f.name for f in cli_fields(cls)}
    out = {}
    for name, value in flags.items():
        if name not in names or value is None:
            continue
        hint = base_type(field_type(cls, name))
        if getattr(hint, "__origin__", None) is tuple:
            value = _number_list(name, value)
        elif hint is int and isinstance(value, str):
            value = int(value)
        out[name] = value
    return out


def _flag_name(cls: type, field: dataclasses.Field) -> str:
    """``--name``, or ``--name/--no-name`` for a bool field that defaults to True (else it could not be turned off)."""
    name = field.name.replace("_", "-")
    if base_type(field_type(cls, field.name)) is bool and field.default is True:
        return f"--{name}/--no-{name}"
    return f"--{name}"


def _click_kwargs(cls: type, field: dataclasses.Field, shown_default: str | None) -> dict[str, Any]:
    hint = base_type(field_type(cls, field.name))
    default = field.default if field.default is not dataclasses.MISSING else field.default_factory()  # type: ignore[misc]
    shown = ",".join(f"{v:g}" for v in default) if isinstance(default, tuple) else default
    text = field.metadata.get("help", "")
    if shown_default is not None or (default is not None and default is not False):
        text += f" [default: {shown_default or shown}]"
    kwargs: dict[str, Any] = {"help": text}
    choices = field.metadata.get("choices")
    if hint is bool:
        if default is not True:  # a --x/--no-x pair is a flag by its name
            kwargs["is_flag"] = True
    elif choices:
        kwargs["type"] = click.Choice([str(c) for c in choices])
    elif hint in (int, float):
        kwargs["type"] = hint
    elif getattr(hint, "__origin__", None) is tuple:
        kwargs["metavar"] = "X,Y,..."
    return kwargs


def _number_list(name: str, text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        flag = "--" + name.replace("_", "-")
        raise ConfigError(f"{flag} {text!r}: use a comma list of numbers, e.g. 0.25,0.5") from None
