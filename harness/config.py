"""Typed, self-checking settings of algorithms (frozen dataclasses), built once at the entry point.

Every algorithm declares a ``Config`` subclass of :class:`AlgorithmConfig`. A config checks itself on
construction: each field's type (from its annotation), its ``choices`` and ``range`` (field metadata), a
``predictor`` field against the predictor registry, and any cross-field rule in ``check()``. Every error
is a :class:`ConfigError` (a ``ValueError``) with a one-line message that names the setting, its value
and the rule. Configs come from Python (``Hyperband.Config(R=100)``), from ``--set KEY=VALUE`` strings
(:func:`parse_set`), or from a YAML / hydra mapping (:meth:`AlgorithmConfig.from_dict`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import numbers
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar

#: one Hyperband discard rate for every algorithm and every command
DEFAULT_ETA = 3


class ConfigError(ValueError):
    """A setting is unknown, of the wrong type or out of range (one-line message)."""


def is_int_at_least(value: Any, lo: int) -> bool:
    """Whether ``value`` is an integer (Python or numpy, not a bool) of at least ``lo``: the rule of counts
    such as seeds, repeats, workers or shards outside the algorithm configs."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= lo


def setting(default: Any, *, help: str = "", choices: tuple[Any, ...] | None = None,  # noqa: A002
            range: tuple[float | None, float | None] | None = None, lo_open: bool = False,  # noqa: A002
            hi_open: bool = False) -> Any:
    """A config field with its documentation and checks (``range`` bounds are inclusive unless open)."""
    meta = {"help": help, "choices": choices, "range": range, "lo_open": lo_open, "hi_open": hi_open}
    if isinstance(default, (dict, list)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _type_name(tp: Any) -> str:
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string", dict: "a mapping",
             type(None): "null", tuple: "a list"}
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is tuple:
        return "a list"
    if origin is dict:
        return "a mapping"
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _coerce(tp: Any, v: Any) -> tuple[bool, Any]:
    """(ok, value): ``v`` converted to ``tp`` without loss (JSON/YAML scalars), or not ok."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for a in typing.get_args(tp):
            ok, out = _coerce(a, v)
            if ok:
                return True, out
        return False, v
    if tp is type(None):
        return v is None, v
    if tp is bool:
        return isinstance(v, bool), v
    if tp is int:
        if isinstance(v, bool):
            return False, v
        if isinstance(v, int):
            return True, v
        if isinstance(v, float) and v.is_integer():
            return True, int(v)
        return False, v
    if tp is float:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return True, float(v)
        return False, v
    if tp is str:
        return isinstance(v, str), v
    if origin is tuple or tp is tuple:
        if isinstance(v, (list, tuple)):
            inner = typing.get_args(tp)[:1] or (Any,)
            out = []
            for x in v:
                ok, y = _coerce(inner[0], x) if inner[0] is not Any else (True, x)
                if not ok:
                    return False, v
                out.append(y)
            return True, tuple(out)
        return False, v
    if origin is dict or tp is dict:
        return isinstance(v, Mapping), dict(v) if isinstance(v, Mapping) else v
    if tp is Any:
        return True, v
    return isinstance(v, tp), v


@dataclasses.dataclass(frozen=True)
class AlgorithmConfig:
    """Base of every algorithm's settings. Subclasses are frozen dataclasses with :func:`setting` fields."""

    #: the algorithm's name, used in error messages ("hyperband setting eta is 1, ...")
    algorithm: ClassVar[str] = "algorithm"

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f, exact in _specs(type(self)):
            v = getattr(self, f.name)
            if type(v) in exact:  # a value of exactly a declared type: nothing to convert
                ok, out = True, v
            else:
                ok, out = _coerce(hints[f.name], v)
            if not ok:
                raise ConfigError(f"{self.algorithm} setting {f.name} is {v!r}, but must be "
                                  f"{_type_name(hints[f.name])}")
            if out is not v:
                object.__setattr__(self, f.name, out)
            meta = f.metadata
            if meta.get("choices") is not None and out not in meta["choices"]:
                raise ConfigError(f"{self.algorithm} setting {f.name} is {out!r}, but must be one of "
                                  f"{', '.join(map(str, meta['choices']))}")
            rng = meta.get("range")
            if rng is not None and isinstance(out, (int, float)) and not isinstance(out, bool):
                lo, hi = rng
                bad = ((lo is not None and (out < lo or (meta["lo_open"] and out == lo)))
                       or (hi is not None and (out > hi or (meta["hi_open"] and out == hi)))
                       or (isinstance(out, float) and math.isnan(out)))
                if bad:
                    raise ConfigError(f"{self.algorithm} setting {f.name} is {v!r}, but must be "
                                      f"{_range_text(lo, hi, meta['lo_open'], meta['hi_open'])}")
        self.check()

    def check(self) -> None:
        """Cross-field rules of a subclass (raise :class:`ConfigError`)."""

    def fail(self, message: str) -> None:
        raise ConfigError(f"{self.algorithm} setting {message}")

    # ----------------------------------------------------------------------------------------------
    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any], *, where: str = "") -> AlgorithmConfig:
        """Build from a mapping; an unknown key is a one-line error naming it and the valid ones."""
        valid = cls.names()
        for k in settings:
            if k not in valid:
                hint = f" (in {where})" if where else ""
                raise ConfigError(f"{cls.algorithm} has no setting {k!r}{hint}; valid settings: {', '.join(valid)}")
        return cls(**dict(settings))

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> AlgorithmConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def describe(cls) -> list[tuple[str, str, Any, str]]:
        """(name, type, default, help) of every setting, for ``harness algorithms``."""
        hints = _hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            out.append((f.name, _type_name(hints[f.name]), default, f.metadata.get("help", "")))
        return out


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


_PLAIN = (int, float, bool, str, type(None))


@functools.cache
def _specs(cls: type) -> tuple[tuple[dataclasses.Field, frozenset[type]], ...]:
    """Each field of ``cls`` with the plain types (int, float, bool, str, None) its annotation names: a value
    of exactly one of those types needs no conversion (bool is not taken for int, nor int for float)."""
    hints = _hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        args = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else (tp,)
        out.append((f, frozenset(a for a in args if a in _PLAIN)))
    return tuple(out)


def _range_text(lo: Any, hi: Any, lo_open: bool, hi_open: bool) -> str:
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo}"
    return f"{'<' if hi_open else '<='} {hi}"


def _plain(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def parse_value(text: str) -> Any:
    """A ``--set`` value: JSON where it parses (numbers, true/false, null, lists, objects), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_set(items: list[str] | tuple[str, ...] | None, option: str = "--set") -> dict[str, Any]:
    """``["d=15", "swift.q=0.5"]`` -> ``{"d": 15, "swift.q": 0.5}``; a malformed item is a one-line error."""
    out: dict[str, Any] = {}
    for item in items or ():
        if "=" not in item:
            raise ConfigError(f"{option} {item!r}: expected KEY=VALUE (e.g. {option} d=15 or {option} swift.d=15)")
        k, v = item.split("=", 1)
        if not k.strip():
            raise ConfigError(f"{option} {item!r}: the key before '=' is empty")
        out[k.strip()] = parse_value(v.strip())
    return out
