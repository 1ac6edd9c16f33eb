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


def finite_training(X: np.ndarray, y: np.ndarray, min_rows: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The training rows of finite features and target: ``(X, y)`` themselves when all are finite, else their
    finite rows; None when fewer than ``min_rows`` remain (the caller then has no model)."""
    if all_finite(X) and all_finite(y):
        return X, y
    ok = finite_rows(X, y)
    if ok.all():
        return X, y
    return (X[ok], y[ok]) if ok.sum() >= min_rows else None


def fit_finite(model: Any, X: np.ndarray, y: np.ndarray, min_rows: int = 2) -> Any | None:
    """``model.fit`` on :func:`finite_training`'s rows; None when there are too few, so the caller decides
    without a model."""
    data = finite_training(X, y, min_rows)
    return None if data is None else model.fit(*data)


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
