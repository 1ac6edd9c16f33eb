"""What counts as a user's bad input (one line, exit 2) and what as a plug-in's bug (its traceback, then one line
naming the plug-in and the call): shared by the CLI and the other entry points (``python -m harness.bench``,
``python -m generate``), below all of them."""

from __future__ import annotations

import traceback
from pathlib import Path
from types import TracebackType


class UserError(Exception):
    """Bad input reported as ``error: ...`` (one line, exit 2)."""


class PluginError(Exception):
    """A user's own algorithm or predictor (an import path, ``module:Class``) raised inside one of its methods. The
    message names the plug-in and the call; ``__cause__`` holds the user's exception with its traceback."""


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that are bad input, reported as one line and exit 2."""
    from .store import DatasetError
    from .write import OutputLocked

    return (UserError, DatasetError, ValueError, FileNotFoundError, IsADirectoryError, NotADirectoryError,
            PermissionError, OutputLocked)


HARNESS_ROOT = Path(__file__).resolve().parent


def user_frame(tb: TracebackType | None) -> traceback.FrameSummary | None:
    """The innermost frame of ``tb`` in a user's file (outside the harness package and outside site-packages and
    the standard library), or None when the exception did not pass through user code."""
    found = None
    for fs in traceback.extract_tb(tb):
        p = Path(fs.filename)
        if HARNESS_ROOT in p.resolve().parents or "site-packages" in p.parts or "lib/python" in fs.filename \
                or fs.filename.startswith("<"):
            continue
        found = fs
    return found


def plugin_error(exc: BaseException, kind: str, name: str) -> PluginError | None:
    """A :class:`PluginError` for ``exc`` raised by plug-in ``name`` (an ``algorithm`` or ``predictor`` given by
    import path), naming the method and the place; None when the exception did not come from the plug-in's code."""
    if ":" not in name:
        return None
    fs = user_frame(exc.__traceback__)
    if fs is None:
        return None
    return PluginError(f"{kind} {name} raised {type(exc).__name__}: {exc} in its {fs.name}() "
                       f"({Path(fs.filename).name}:{fs.lineno}); its traceback is above")
