"""Predictors and diverged curves: a curve with a non-finite loss (kept by ``nan_policy=keep``) has non-finite
prefix features or target, from which no model can learn. The algorithms that fit predictors (Swift, Swift-ASHA,
and through :class:`harness.predictors.srm.SRM` f-Hyperband and early stopping) train on the finite rows and
rank a diverged query last. numpy only: the algorithms import it at start-up."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def all_finite(a: np.ndarray) -> bool:
    """Whether every value of ``a`` is finite, by one reduction (a sum that overflows reads as non-finite, and
    the caller then checks row by row)."""
    return math.isfinite(a.sum())


def finite_rows(X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Rows of ``X`` (and ``y``) whose values are all finite."""
    ok = np.isfinite(X).all(axis=1)
    return ok if y is None else ok & np.isfinite(y)


def fit_finite(model: Any, X: np.ndarray, y: np.ndarray, min_rows: int = 2) -> Any | None:
    """``model.fit`` on the rows of finite features and target (all rows, the same arrays, when all are
    finite); None when fewer than ``min_rows`` such rows remain, so the caller decides without a model."""
    if all_finite(X) and all_finite(y):
        return model.fit(X, y)
    ok = finite_rows(X, y)
    if ok.all():
        return model.fit(X, y)
    return model.fit(X[ok], y[ok]) if ok.sum() >= min_rows else None


def predict_finite(model: Any, X: np.ndarray, worst: float) -> np.ndarray:
    """``model.predict(X)``, with ``worst`` for each row with a non-finite feature (a diverged prefix), which
    the model never sees."""
    if all_finite(X):
        return np.asarray(model.predict(X), float)
    ok = finite_rows(X)
    out = np.full(len(X), float(worst))
    if ok.any():
        out[ok] = model.predict(X[ok])
    return out
