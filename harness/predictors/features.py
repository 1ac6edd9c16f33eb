"""Baker et al. features for predicting the final value from the first tau epochs (SPEC 2.1).

TS: y[1..tau], first differences, second differences, mean, std (ddof=0).
AP / HP: the dataset's declared feature columns; log-scaled columns as log10, categoricals one-hot,
missing values imputed with the column mean (plus a missing-indicator column).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..store import CurveSet

#: TS = Baker's time-series block; PREFIX = the raw observed values only (no differences, mean or std)
FEATURE_SETS = ("TS", "AP", "HP", "PREFIX")


def parse_sets(spec: str | Iterable[str]) -> tuple[str, ...]:
    """"TS+AP+HP" -> ("TS", "AP", "HP")."""
    parts = spec.replace(",", "+").split("+") if isinstance(spec, str) else list(spec)
    out = tuple(p.strip().upper() for p in parts if p.strip())
    bad = [p for p in out if p not in FEATURE_SETS]
    if bad or not out:
        raise ValueError(f"feature set {spec!r} is invalid: use a '+'-joined subset of {FEATURE_SETS}")
    if "TS" in out and "PREFIX" in out:
        raise ValueError(f"feature set {spec!r} is invalid: TS already holds the raw prefix (use one of TS, PREFIX)")
    return out


def ts_features(prefix: np.ndarray) -> np.ndarray:
    """(n, tau) curve prefixes -> (n, 3 tau - 1) TS features (diff blocks absent when too short). A diverged
    (non-finite) prefix gives non-finite features, silently: the predictors leave such rows out
    (:mod:`harness.predictors.finite`)."""
    prefix = np.atleast_2d(np.asarray(prefix, dtype=float))
    parts = [prefix]
    with np.errstate(invalid="ignore"):
        if prefix.shape[1] >= 2:
            d1 = np.diff(prefix, axis=1)
            parts.append(d1)
            if prefix.shape[1] >= 3:
                parts.append(np.diff(d1, axis=1))
        parts += [prefix.mean(axis=1, keepdims=True), prefix.std(axis=1, keepdims=True)]
    return np.concatenate(parts, axis=1)


def static_features(cs: CurveSet, kinds: Iterable[str]) -> tuple[np.ndarray, list[str]]:
    """Numeric matrix of the dataset's HP and/or AP columns (one row per config)."""
    kinds = {k.lower() for k in kinds}
    cols: list[np.ndarray] = []
    names: list[str] = []
    for f in cs.features:
        if f.kind not in kinds:
            continue
        s = cs.configs[f.name]
        if f.type == "categorical":
            dummies = pd.get_dummies(s.astype(str), prefix=f.name, dtype=float)
            if dummies.shape[1] > 1:
                cols += [dummies[c].to_numpy() for c in dummies.columns]
                names += list(dummies.columns)
            continue
        v = s.to_numpy(dtype=float)
        if f.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)
        miss = ~np.isfinite(v)
        if miss.all():
            continue
        if miss.any():
            cols.append(miss.astype(float))
            names.append(f"{f.name}_missing")
            v = np.where(miss, np.nanmean(np.where(miss, np.nan, v)), v)
        cols.append(v)
        names.append(f"log10_{f.name}" if f.log else f.name)
    if not cols:
        return np.zeros((cs.n_configs, 0)), []
    return np.column_stack(cols), names


class FeatureBuilder:
    """Builds feature matrices for any subset of configs at any tau.

    ``values`` is the (N, T) matrix the features are computed from (default: the objective curve). Built
    with :meth:`for_view` (inside an algorithm) it holds no curves: the TS block comes from the paid
    prefixes passed as ``prefix``.
    """

    def __init__(self, cs: CurveSet | None, sets: str | Iterable[str] = "TS", values: np.ndarray | None = None):
        self.sets = parse_sets(sets)
        kinds = [s for s in self.sets if s in ("AP", "HP")]
        if cs is None:
            self.values = None
            self.static, self.static_names = np.zeros((0, 0)), []
            return
        self.values = cs.curve() if values is None else np.asarray(values, dtype=float)
        self.static, self.static_names = static_features(cs, kinds)

    @classmethod
    def for_view(cls, view: Any, sets: str | Iterable[str] = "TS") -> FeatureBuilder:
        """Features inside an algorithm: HP/AP columns from the view, TS from the prefixes it is given."""
        fb = cls(None, sets)
        kinds = tuple(s for s in fb.sets if s in ("AP", "HP"))
        if kinds:
            fb.static, fb.static_names = view.static_features(kinds)
        else:
            fb.static, fb.static_names = np.zeros((view.n_configs, 0)), []
        return fb

    def __call__(self, rows: np.ndarray, tau: int, prefix: np.ndarray | None = None) -> np.ndarray:
        rows = np.asarray(rows, dtype=int)
        parts = []
        if "TS" in self.sets or "PREFIX" in self.sets:
            if prefix is None and self.values is None:
                raise ValueError("this feature builder holds no curves: pass the observed prefixes")
            p = self.values[rows, :tau] if prefix is None else np.atleast_2d(prefix)[:, :tau]
            parts.append(ts_features(p) if "TS" in self.sets else np.asarray(p, dtype=float))
        if self.static.shape[1]:
            parts.append(self.static[rows])
        if not parts:
            raise ValueError(f"feature sets {self.sets} produce no columns for this dataset")
        return np.concatenate(parts, axis=1)

    def last_value_column(self, tau: int) -> int:
        if "TS" not in self.sets and "PREFIX" not in self.sets:
            raise ValueError("last-seen-value needs the TS or PREFIX feature set")
        return tau - 1
