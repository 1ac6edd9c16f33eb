"""A configuration space (names, types, ranges, log scale, choices), as YAHPO Gym and ConfigSpace describe one,
without their dependencies: sampled with a seed, and checked value by value.

Surrogate benchmarks (:mod:`harness.families.lcbench`) describe their space with it; a scheduler on a surrogate
benchmark reads it from ``view.space`` and may start a trial at any configuration of it
(``view.new_trial_at(config)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

PARAM_TYPES = ("float", "int", "categorical")


@dataclass(frozen=True)
class Param:
    """One hyperparameter. Numbers are sampled uniformly on [lower, upper] (on the log scale when ``log``);
    integers are rounded to the nearest integer after the draw, as YAHPO Gym's ``trafo`` does."""

    name: str
    type: str  # float | int | categorical
    lower: float | None = None
    upper: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"parameter {self.name}: type is {self.type!r}, but must be one of {PARAM_TYPES}")
        if self.type == "categorical":
            if not self.choices:
                raise ValueError(f"parameter {self.name}: a categorical parameter needs choices")
        elif self.lower is None or self.upper is None or not self.lower <= self.upper:
            raise ValueError(f"parameter {self.name}: needs lower <= upper, got [{self.lower}, {self.upper}]")
        elif self.log and self.lower <= 0:
            raise ValueError(f"parameter {self.name}: a log-scaled range must be positive, got lower={self.lower}")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.type == "categorical":
            return np.asarray(self.choices, dtype=object)[rng.integers(len(self.choices), size=n)]
        lo, hi = float(self.lower), float(self.upper)  # type: ignore[arg-type]
        x = np.exp(rng.uniform(math.log(lo), math.log(hi), size=n)) if self.log else rng.uniform(lo, hi, size=n)
        if self.type == "int":
            x = np.clip(np.round(x), lo, hi)
        return x

    def check(self, value: Any, where: str) -> Any:
        """``value`` converted to this parameter's type; out of range or of the wrong type is a one-line error."""
        if self.type == "categorical":
            if value not in self.choices:
                raise ValueError(f"{where}: {self.name} is {value!r}, but must be one of {list(self.choices)}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{where}: {self.name} is {value!r}, but must be a number")
        v = float(value)
        if not (self.lower <= v <= self.upper):  # type: ignore[operator]
            raise ValueError(f"{where}: {self.name} is {value!r}, but must be in [{self.lower:g}, {self.upper:g}]")
        if self.type == "int" and v != round(v):
            raise ValueError(f"{where}: {self.name} is {value!r}, but must be an integer")
        return int(round(v)) if self.type == "int" else v

    def to_json(self) -> dict[str, Any]:
        if self.type == "categorical":
            return {"name": self.name, "type": self.type, "choices": list(self.choices)}
        return {"name": self.name, "type": self.type, "lower": self.lower, "upper": self.upper, "log": self.log}


@dataclass(frozen=True)
class SearchSpace:
    params: tuple[Param, ...]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def __getitem__(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def sample(self, n: int, seed: int | Sequence[int]) -> dict[str, np.ndarray]:
        """``n`` configurations drawn with ``seed``: one column per parameter, drawn in the space's order."""
        rng = np.random.default_rng(seed)
        return {p.name: p.sample(rng, n) for p in self.params}

    def check(self, config: Mapping[str, Any], where: str = "configuration") -> dict[str, Any]:
        """Every parameter present, in range and of its type; no unknown key. Returns the converted values."""
        unknown = [k for k in config if k not in self.names]
        if unknown:
            raise ValueError(f"{where}: unknown parameter {unknown[0]!r}; the space has {', '.join(self.names)}")
        missing = [n for n in self.names if n not in config]
        if missing:
            raise ValueError(f"{where}: parameter {missing[0]!r} is missing; the space has {', '.join(self.names)}")
        return {p.name: p.check(config[p.name], where) for p in self.params}

    def clip(self, config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """``config`` with every number moved into its parameter's range (integers rounded), and the names of
        those that were outside it (for libraries that propose outside the space they were given)."""
        out, moved = dict(config), []
        for p in self.params:
            v = out.get(p.name)
            if p.type == "categorical" or isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                continue
            x = min(max(float(v), float(p.lower)), float(p.upper))  # type: ignore[arg-type]
            if p.type == "int":
                x = int(round(x))
            if x != v:
                moved.append(p.name)
                out[p.name] = x
        return out, moved

    def to_json(self) -> list[dict[str, Any]]:
        return [p.to_json() for p in self.params]
