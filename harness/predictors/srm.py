"""Sequential regression models with the LOOCV Gaussian error model (SPEC 2.2, 2.4).

One independent regressor per observed length tau, trained on the features at tau of fully observed
training curves with target y_T (or y_r for a rung r). The predictive distribution of the true value
is N(y_hat + mu_e, sigma^2) with mu_e, sigma the mean and std (ddof=1) of the leave-one-out errors
(or K-fold errors in the cheap mode); a model with its own predictive std (BLR) uses that instead.

Rows with a non-finite value (a diverged curve, kept by ``nan_policy=keep``) are left out of training; a
query with a non-finite feature is predicted at ``worst`` with certainty (std 1e-12, every std's floor).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import KFold

from .finite import all_finite, checked, finite_rows, finite_training

ERROR_MODES = ("loo", "kfold", "none")


@dataclass
class FittedTau:
    model: Any
    mu_e: float
    sigma: float
    own_std: bool

    def predict(self, X: np.ndarray, bias_correction: bool = True) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self.model.predict_dist(X)
        mean = checked(self.model, mean, len(X), "predict_dist")
        std = np.asarray(std, dtype=float)
        if std.shape != mean.shape:
            std = np.broadcast_to(std, mean.shape) if std.size in (1, len(mean)) else checked(
                self.model, std, len(X), "predict_dist (its std)")
        if self.own_std and np.all(np.isfinite(std)):
            return mean, np.maximum(std, 1e-12)
        shift = self.mu_e if bias_correction else 0.0
        return mean + shift, np.full_like(mean, max(self.sigma, 1e-12))


def error_model(model: Any, X: np.ndarray, y: np.ndarray, mode: str = "loo", folds: int = 10,
                seed: int = 0) -> tuple[float, float]:
    """Mean and std of held-out errors e_j = y_j - y_hat_{-j}, hyperparameters fixed (no re-search)."""
    if mode not in ERROR_MODES:
        raise ValueError(f"error mode is {mode!r}, but must be one of {ERROR_MODES}")
    n = len(y)
    if mode == "none" or n < 3:
        return 0.0, float(np.std(y)) if n > 1 else 1.0
    if mode == "loo":
        splits = [(np.delete(np.arange(n), j), np.array([j])) for j in range(n)]
    else:
        splits = list(KFold(min(folds, n), shuffle=True, random_state=seed).split(X))
    err = np.empty(n)
    for tr, te in splits:
        err[te] = y[te] - model.refit_fixed(X[tr], y[tr]).predict(X[te])
    return float(err.mean()), float(err.std(ddof=1))


#: fitted models by (model class, its parameters, data digest, error mode, seed), within one process: the same fit
#: recurs (an SRM refitted with no new curve, experiments sharing cells), and a fit is deterministic in these
_FITS: OrderedDict[tuple[Any, ...], FittedTau] = OrderedDict()
FIT_CACHE_SIZE = 2048
FIT_CACHE_STATS = {"hits": 0, "misses": 0}


def _fit_key(model: Any, X: np.ndarray, y: np.ndarray, error: str, seed: int) -> tuple[Any, ...] | None:
    """A key for a deterministic fit of one of the built-in models, None for anything else (a user's predictor
    may hold state or randomness the key cannot see)."""
    cls = type(model)
    if not cls.__module__.startswith("harness.predictors.") or not hasattr(model, "get_params"):
        return None
    try:
        params = repr(sorted(model.get_params(deep=False).items()))
    except Exception:  # noqa: BLE001 (a parameter that does not print: do not cache)
        return None
    return (cls.__module__, cls.__qualname__, params, data_digest(X, y), error, seed)


def data_digest(*arrays: np.ndarray) -> str:
    """sha256 of arrays as float64 with their shapes: the data part of a fit cache's key."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a, dtype=np.float64)
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def fit_tau(factory: Callable[[], Any], X: np.ndarray, y: np.ndarray, *, error: str = "loo",
            seed: int = 0) -> FittedTau:
    model = factory()
    key = _fit_key(model, X, y, error, seed)
    if key is not None and key in _FITS:
        FIT_CACHE_STATS["hits"] += 1
        _FITS.move_to_end(key)
        return _FITS[key]
    model = model.fit(X, y)
    _, std = model.predict_dist(X[:1])
    own = bool(np.all(np.isfinite(std)))
    mu, sigma = (0.0, 0.0) if own else error_model(model, X, y, error, seed=seed)
    fitted = FittedTau(model, mu, sigma, own)
    if key is not None:
        FIT_CACHE_STATS["misses"] += 1
        _FITS[key] = fitted
        if len(_FITS) > FIT_CACHE_SIZE:
            _FITS.popitem(last=False)
    return fitted


class SRM:
    """Per-tau models over a feature builder. ``predict(tau, X) -> (mean, std)``.

    ``worst`` is the prediction for a query with a non-finite feature: f-Hyperband's and early stopping's
    SRMs model u = -loss, where a diverged curve is -inf. A tau with fewer than ``min_rows`` finite training
    rows gets no model (``tau in srm`` is False)."""

    def __init__(self, factory: Callable[[int], Any], *, error: str = "loo", bias_correction: bool = True,
                 seed: int = 0, worst: float = -np.inf, min_rows: int = 3):
        self.factory = factory
        self.error = error
        self.bias_correction = bias_correction
        self.seed = seed
        self.worst = worst
        self.min_rows = min_rows
        self.models: dict[int, FittedTau] = {}

    def fit(self, tau: int, X: np.ndarray, y: np.ndarray) -> FittedTau | None:
        data = finite_training(X, y, self.min_rows)
        if data is None:
            self.models.pop(tau, None)
            return None
        X, y = data
        fitted = fit_tau(lambda: self.factory(tau), X, y, error=self.error, seed=self.seed)
        self.models[tau] = fitted
        return fitted

    def __contains__(self, tau: int) -> bool:
        return tau in self.models

    def predict(self, tau: int, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.atleast_2d(X)
        if all_finite(X):
            return self.models[tau].predict(X, self.bias_correction)
        ok = finite_rows(X)
        mean, std = np.full(len(X), float(self.worst)), np.full(len(X), 1e-12)
        if ok.any():
            mean[ok], std[ok] = self.models[tau].predict(X[ok], self.bias_correction)
        return mean, std
