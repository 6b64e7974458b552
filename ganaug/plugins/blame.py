"""Where a plugin went wrong, as a file and line, so the warning that disables it points at the plugin's
code (the misspelled hook, the failing import, the line that raised) instead of at ganaug's own lines."""

from __future__ import annotations

import inspect
import os
import re
import traceback
from pathlib import Path

import pluggy

Location = tuple[str, int]

_NOT_THE_PLUGINS = tuple(str(Path(module.__file__).resolve().parent) + os.sep for module in (pluggy,)) + (
    str(Path(__file__).resolve().parents[1]) + os.sep,  # ganaug itself
)


def _package_folder(plugin: object) -> str | None:
    module = inspect.getmodule(plugin if inspect.ismodule(plugin) else type(plugin))
    path = getattr(module, "__file__", None)
    return str(Path(path).resolve().parent) + os.sep if path else None


def location_of_exception(exc: BaseException, plugin: object | None = None) -> Location | None:
    """The innermost traceback line in ``plugin``'s package, else the innermost outside ganaug, pluggy and
    the import machinery; None when every line is ours."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if not frame.filename.startswith("<") and "importlib" not in Path(frame.filename).parts]
    own = _package_folder(plugin) if plugin is not None else None
    for wanted in ([own] if own else []) + [None]:
        for frame in reversed(frames):
            path = str(Path(frame.filename).resolve())
            inside = path.startswith(wanted) if wanted else not path.startswith(_NOT_THE_PLUGINS)
            if inside and frame.lineno:
                return frame.filename, frame.lineno
    return None


def location_of_function(function: object) -> Location | None:
    """Where ``function`` (a hook implementation) is defined."""
    function = inspect.unwrap(getattr(function, "__func__", function))  # type: ignore[arg-type]
    try:
        return inspect.getsourcefile(function) or "", inspect.getsourcelines(function)[1]  # type: ignore[arg-type]
    except (OSError, TypeError):
        return None


def location_of_validation_error(exc: BaseException) -> Location | None:
    """Where the hook implementation that pluggy refused (``PluginValidationError``) is defined."""
    match = re.search(r"for hook '(\w+)'", str(exc))
    function = getattr(getattr(exc, "plugin", None), match.group(1), None) if match else None
    return location_of_function(function) if function is not None else None
