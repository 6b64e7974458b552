"""Typed configs, validated on construction, one way for all of them.

A config is a dataclass whose fields are declared with :func:`option` (a default, a help text and
the allowed values). :func:`validate` checks every field against its type annotation and its
limits, and is called from ``__post_init__``: a config that exists is valid, whether it came from
Python keywords, a TOML file or CLI flags, and ``dataclasses.replace`` re-checks it. The CLI builds
its flags, defaults and help from the same fields (:func:`cli_fields`), so nothing is typed twice.

Training and gain configs are frozen. Generator families' configs (:class:`ganaug.GANConfig` and
plugins' subclasses) are validated the same way but stay mutable, since a plugin's plain
``@dataclass`` cannot inherit from a frozen one.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from ganaug.errors import ConfigError

_MISSING = dataclasses.MISSING

MAX_STEPS = 10**9
"""The most steps (and steps between checkpoints, logs...) any option takes: far beyond any run, and a
typo of extra digits is refused instead of planning a run that never ends."""
MAX_BATCH = 65536
"""The largest batch any option takes: far beyond what a GPU holds for images, refused before loading."""


def option(default: Any = _MISSING, help: str = "", *, default_factory: Any = _MISSING, minimum: float | None = None,
           maximum: float | None = None, above: float | None = None, below: float | None = None,
           choices: tuple | None = None, check: Callable[[Any], str | None] | None = None,
           flag: bool = False) -> Any:
    """A config field with its help text and limits.

    Args:
        default: the default value (or ``default_factory`` for mutable ones).
        help: one or two sentences; the CLI shows them.
        minimum, maximum: inclusive bounds for numbers (and for each number in a tuple).
        above, below: exclusive bounds (``above=0`` for a positive learning rate).
        choices: the allowed values.
        check: for values a range or list cannot describe: ``check(value)`` returns what is wrong
            with it and how to fix it (after ``name=value: ``), or None when it is valid.
        flag: the CLI exposes the field as ``--name-with-dashes``; every field is settable from a
            ``--config`` file either way.
    """
    metadata = {"help": help, "minimum": minimum, "maximum": maximum, "above": above, "below": below,
                "choices": choices, "check": check, "flag": flag}
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def validate(config: Any) -> None:
    """Check every field of ``config`` against its annotation and limits; coerce ints to floats and
    lists to tuples where the annotation asks.

    Raises:
        ConfigError: naming every field that is wrong, in one line (``Owner: a=1 must be ...; b=2 ...``),
            so a config with several mistakes is fixed in one go.
    """
    hints = typing.get_type_hints(type(config))
    problems = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        try:
            coerced = _check_type(f"{field.name}={value!r}", value, hints.get(field.name, Any))
            if coerced is not value:
                object.__setattr__(config, field.name, coerced)
            _check_limits(field.name, _limits_of(type(config), field), coerced)
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError(f"{type(config).__name__}: {'; '.join(problems)}")


def _limits_of(cls: type, field: dataclasses.Field) -> Mapping[str, Any]:
    """The field's limits: its own :func:`option` metadata; else, for a plain field that redeclares an
    inherited one (``lr_g: float = 1e-4`` in a family's config), the base class's; plus the class's
    ``limits`` table (``limits: ClassVar[dict] = {"width": {"minimum": 1}}``), the way plugins' plain
    dataclass fields declare theirs."""
    own = dict(field.metadata) if any(field.metadata.get(k) is not None for k in _LIMIT_KEYS) else {}
    if not own:
        for base in cls.__mro__[1:]:
            inherited = getattr(base, "__dataclass_fields__", {}).get(field.name)
            if inherited is not None and any(inherited.metadata.get(k) is not None for k in _LIMIT_KEYS):
                own = dict(inherited.metadata)
                break
    for base in cls.__mro__:
        table = vars(base).get("limits")
        if isinstance(table, Mapping) and field.name in table:
            own = {**own, **table[field.name]}
            break
    return own


_LIMIT_KEYS = ("minimum", "maximum", "above", "below", "choices", "check")


def from_options(cls: type, options: Mapping[str, Any], *, what: str | None = None) -> Any:
    """``cls(**options)``, refusing unknown keys with the closest valid names."""
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = sorted(set(options) - set(names))
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, names, n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(f"{what or cls.__name__} has no option(s) {', '.join(hints)}; valid: {', '.join(sorted(names))}")
    return cls(**options)


def cli_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of ``cls`` that the CLI exposes as flags, in declaration order."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("flag")]


def field_type(cls: type, name: str) -> Any:
    """The resolved annotation of field ``name`` (``int | None`` and the like)."""
    return typing.get_type_hints(cls)[name]


def base_type(hint: Any) -> Any:
    """``int`` for ``int | None``; the hint itself otherwise."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if _is_union(hint) and len(args) == 1:
        return args[0]
    return hint


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _describe(hint: Any) -> str:
    if _is_union(hint):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "None"
    origin = typing.get_origin(hint)
    if origin is tuple:
        return f"a list of {_describe(typing.get_args(hint)[0])}s"
    if origin is dict or hint is dict:
        return "a table (dict)"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(hint, str(hint))


def _check_type(where: str, value: Any, hint: Any) -> Any:
    if hint is Any:
        return value
    if _is_union(hint):
        for option_hint in typing.get_args(hint):
            try:
                return _check_type(where, value, option_hint)
            except ConfigError:
                continue
        raise ConfigError(f"{where} must be {_describe(hint)}")
    if hint is type(None):
        if value is None:
            return value
    elif hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:
                raise ConfigError(f"{where} is too large for a number") from None
    elif hint is str:
        if isinstance(value, str):
            return value
    elif typing.get_origin(hint) is tuple:
        if isinstance(value, (list, tuple)):
            item = typing.get_args(hint)[0]
            return tuple(_check_type(f"{where} (item {i})", v, item) for i, v in enumerate(value))
    elif typing.get_origin(hint) is dict or hint is dict:
        if isinstance(value, dict):
            return value
    else:
        return value  # a type this module does not know: the family checks it
    raise ConfigError(f"{where} must be {_describe(hint)}")


def _check_limits(name: str, meta: Mapping[str, Any], value: Any) -> None:
    if value is None:
        return
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}")
    check = meta.get("check")
    problem = check(value) if check is not None else None
    if problem:
        raise ConfigError(f"{name}={value!r}: {problem}")
    numbers = value if isinstance(value, tuple) else (value,)
    for number in numbers:
        if not isinstance(number, (int, float)) or isinstance(number, bool):
            continue
        if isinstance(number, float) and not math.isfinite(number):
            raise ConfigError(f"{name}={value!r} must be a finite number")
        low, high, above, below = (meta.get(k) for k in ("minimum", "maximum", "above", "below"))
        if (low is not None and number < low) or (high is not None and number > high) or (
                above is not None and number <= above) or (below is not None and number >= below):
            bounds = [f">= {_number(low)}" if low is not None else "", f"> {_number(above)}" if above is not None else "",
                      f"<= {_number(high)}" if high is not None else "",
                      f"< {_number(below)}" if below is not None else ""]
            raise ConfigError(f"{name}={value!r} must be {' and '.join(b for b in bounds if b)}")


def _number(bound: float) -> str:
    """A limit for a message: integers in full (2**63 - 1, not 9.22337e+18), other numbers short."""
    return str(bound) if isinstance(bound, int) else f"{bound:g}"

