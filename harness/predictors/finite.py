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


def checked(model: Any, values: Any, n: int, method: str = "predict") -> np.ndarray:
    """``values`` as one float per row of the ``n`` queried, or a one-line error naming the predictor: a wrong
    number of values (which numpy would broadcast or reject far from here) or NaN (which would silently rank the
    trial as no model would, making the algorithm act like plain Hyperband)."""
    out = np.asarray(values, dtype=float)
    if out.shape != (n,):
        if out.size != n:
            raise ValueError(f"predictor {_name(model)}: {method}() gave {out.size} value(s) (shape {out.shape}) for "
                             f"{n} row(s), but must give one value per row")
        out = out.reshape(n)
    if np.isnan(out).any():
        raise ValueError(f"predictor {_name(model)}: {method}() gave NaN for {int(np.isnan(out).sum())} of {n} "
                         "row(s) with finite features; a prediction must be a number")
    return out


def _name(model: Any) -> str:
    est = getattr(model, "estimator", None)  # a wrapped user regressor: name the user's class
    cls = type(est if est is not None and not isinstance(est, (str, int, float)) else model)
    return cls.__qualname__ if cls.__module__ == "__main__" else f"{cls.__module__}:{cls.__qualname__}"


def predict_finite(model: Any, X: np.ndarray, worst: float) -> np.ndarray:
    """``model.predict(X)``, with ``worst`` for each row with a non-finite feature (a diverged prefix), which
    the model never sees. A predictor that gives a wrong number of values or NaN is a one-line error."""
    if all_finite(X):
        return checked(model, model.predict(X), len(X))
    ok = finite_rows(X)
    out = np.full(len(X), float(worst))
    if ok.any():
        out[ok] = checked(model, model.predict(X[ok]), int(ok.sum()))
    return out
