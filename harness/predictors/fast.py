"""scikit-learn's NuSVR and BayesianRidge without their per-call overhead, giving the same numbers.

A searched model (:mod:`harness.predictors.zoo`) fits hundreds of small models on data it has already checked
(float64, C-ordered, finite). At the size of the early-stopping models (13 x 30) one scikit-learn
``NuSVR().fit().predict()`` spends about 950 us, of which libsvm takes about 51 us: the rest is input and
parameter validation, ``clone`` and ``get_params`` (issue #26). These classes call what scikit-learn calls, with
the arguments it passes, in the same order:

* :class:`FastNuSVR`: ``sklearn.svm._libsvm.fit`` / ``predict`` exactly as ``BaseLibSVM._dense_fit`` /
  ``_dense_predict`` call them for ``NuSVR`` (``gamma="scale"`` computed as scikit-learn does; the libsvm seed
  drawn from numpy's global generator as ``check_random_state(None)`` does, so global random state advances as
  before; the same ConvergenceWarning when libsvm stops at ``max_iter``).
* :class:`FastBayesianRidge`: ``BayesianRidge.fit`` / ``predict`` step by step (centering, one SVD, the
  evidence iterations, the posterior covariance), with the centering and the SVD of a training matrix computed
  once (:class:`BayesPrep`) and shared by every candidate of a random search fitted to the same fold: in a
  search of 100 draws on 3 folds, 3 SVDs instead of 300.

tests/predictors/test_fast.py checks that fitted attributes and predictions equal scikit-learn's bit for bit on
random and real data, for both kernels, unconverged fits, wide and tall matrices.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

#: scikit-learn's LIBSVM_IMPL.index("nu_svr")
_NU_SVR = 4
_MAX_SEED = np.iinfo("i").max


def _libsvm() -> Any:
    from sklearn.svm import _libsvm

    return _libsvm


class FastNuSVR:
    """``sklearn.svm.NuSVR`` for dense float64 data (see the module docstring)."""

    __slots__ = ("kernel", "C", "nu", "gamma", "max_iter", "_fit", "_gamma")

    def __init__(self, *, kernel: str = "rbf", C: float = 1.0, nu: float = 0.5, gamma: Any = "scale",
                 max_iter: int = -1):
        self.kernel, self.C, self.nu, self.gamma, self.max_iter = kernel, C, nu, gamma, max_iter
        self._fit: tuple[Any, ...] | None = None

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """What ``NuSVR(...).get_params()`` returns for the same settings."""
        return {"C": self.C, "cache_size": 200, "coef0": 0.0, "degree": 3, "gamma": self.gamma,
                "kernel": self.kernel, "max_iter": self.max_iter, "nu": self.nu, "shrinking": True, "tol": 0.001,
                "verbose": False}

    def fresh(self) -> FastNuSVR:
        """An unfitted copy (what ``sklearn.base.clone`` gives)."""
        return FastNuSVR(kernel=self.kernel, C=self.C, nu=self.nu, gamma=self.gamma, max_iter=self.max_iter)

    def fit(self, X: np.ndarray, y: np.ndarray, prep: Any = None) -> FastNuSVR:
        X = np.ascontiguousarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        seed = np.random.mtrand._rand.randint(_MAX_SEED)  # check_random_state(None).randint, as NuSVR.fit draws it
        if isinstance(self.gamma, str):
            if self.gamma == "scale":
                X_var = X.var()
                g = 1.0 / (X.shape[1] * X_var) if X_var != 0 else 1.0
            else:
                g = 1.0 / X.shape[1]
        else:
            g = self.gamma
        self._gamma = g
        lib = _libsvm()
        lib.set_verbosity_wrap(0)  # as BaseLibSVM._dense_fit sets it (verbose=False) before every fit
        out = lib.fit(X, y, svm_type=_NU_SVR, sample_weight=np.asarray([], dtype=np.float64),
                            class_weight=np.empty(0), kernel=self.kernel, C=self.C, nu=self.nu, probability=False,
                            degree=3, shrinking=True, tol=1e-3, cache_size=200, coef0=0.0, gamma=g, epsilon=0.0,
                            max_iter=self.max_iter, random_seed=seed)
        support, sv, n_support, dual_coef, intercept, probA, probB, status, _ = out
        if status == 1:
            from sklearn.exceptions import ConvergenceWarning

            warnings.warn(f"Solver terminated early (max_iter={self.max_iter:d}).  Consider pre-processing your data "
                          "with StandardScaler or MinMaxScaler.", ConvergenceWarning, stacklevel=2)
        self._fit = (support, sv, n_support, dual_coef, intercept.copy(), probA, probB)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        support, sv, n_support, dual_coef, intercept, probA, probB = self._fit  # type: ignore[misc]
        X = np.ascontiguousarray(X, dtype=np.float64)
        return _libsvm().predict(X, support, sv, n_support, dual_coef, intercept, probA, probB, svm_type=_NU_SVR,
                                 kernel=self.kernel, degree=3, coef0=0.0, gamma=self._gamma, cache_size=200)


class BayesPrep:
    """What ``BayesianRidge.fit`` computes from the data alone: the centered matrix, offsets, ``X.T y`` and the
    SVD. Built once per (training matrix, target) and shared by the candidates of a search."""

    __slots__ = ("X", "y", "X_offset", "y_offset", "y_var", "XT_y", "U", "Vh", "Vh_full", "eigen_vals",
                 "eigen_vals_full", "n_samples", "n_features")

    def __init__(self, X: np.ndarray, y: np.ndarray):
        from scipy import linalg

        X = np.array(X, dtype=np.float64, order="K", copy=True)  # validate_data, then _preprocess_data's copy
        y = np.array(y, dtype=np.float64, copy=True).reshape(-1)
        n_samples, n_features = X.shape
        self.y_var = y.var()
        X_offset = np.asarray(np.average(X, axis=0)).astype(X.dtype, copy=False)
        X -= X_offset
        y_offset = np.asarray(np.average(y, axis=0))
        y -= y_offset
        self.X, self.y, self.X_offset, self.y_offset = X, y, X_offset, y_offset
        self.n_samples, self.n_features = n_samples, n_features
        self.XT_y = np.dot(X.T, y)
        U, S, Vh_full = linalg.svd(X, full_matrices=(n_samples < n_features))
        K = len(S)
        self.eigen_vals = S**2
        self.eigen_vals_full = np.zeros(n_features, dtype=X.dtype)
        self.eigen_vals_full[0:K] = self.eigen_vals
        self.U, self.Vh_full, self.Vh = U, Vh_full, Vh_full[0:K, :]


class FastBayesianRidge:
    """``sklearn.linear_model.BayesianRidge`` (fit_intercept, no sample weights, no scores; see the module
    docstring). ``fit(X, y, prep)`` reuses a :class:`BayesPrep` of the same data."""

    __slots__ = ("alpha_1", "alpha_2", "lambda_1", "lambda_2", "max_iter", "tol", "coef_", "intercept_", "alpha_",
                 "lambda_", "X_offset_", "n_iter_", "_prep", "_sigma")

    def __init__(self, *, alpha_1: float = 1e-6, alpha_2: float = 1e-6, lambda_1: float = 1e-6,
                 lambda_2: float = 1e-6, max_iter: int = 300, tol: float = 1e-3):
        self.alpha_1, self.alpha_2, self.lambda_1, self.lambda_2 = alpha_1, alpha_2, lambda_1, lambda_2
        self.max_iter, self.tol = max_iter, tol

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """What ``BayesianRidge(...).get_params()`` returns for the same settings."""
        return {"alpha_1": self.alpha_1, "alpha_2": self.alpha_2, "alpha_init": None, "compute_score": False,
                "copy_X": True, "fit_intercept": True, "lambda_1": self.lambda_1, "lambda_2": self.lambda_2,
                "lambda_init": None, "max_iter": self.max_iter, "tol": self.tol, "verbose": False}

    def fresh(self) -> FastBayesianRidge:
        return FastBayesianRidge(alpha_1=self.alpha_1, alpha_2=self.alpha_2, lambda_1=self.lambda_1,
                                 lambda_2=self.lambda_2, max_iter=self.max_iter, tol=self.tol)

    @staticmethod
    def _update_coef(p: BayesPrep, alpha_: Any, lambda_: Any) -> tuple[np.ndarray, Any]:
        if p.n_samples > p.n_features:
            coef_ = np.linalg.multi_dot([p.Vh.T, p.Vh / (p.eigen_vals + lambda_ / alpha_)[:, np.newaxis], p.XT_y])
        else:
            coef_ = np.linalg.multi_dot([p.X.T, p.U / (p.eigen_vals + lambda_ / alpha_)[None, :], p.U.T, p.y])
        sse_ = np.sum((p.y - np.dot(p.X, coef_)) ** 2)
        return coef_, sse_

    def fit(self, X: np.ndarray, y: np.ndarray, prep: BayesPrep | None = None) -> FastBayesianRidge:
        p = prep if prep is not None else BayesPrep(X, y)
        dtype = p.X.dtype
        eps = np.finfo(np.float64).eps
        alpha_ = np.asarray(1.0 / (p.y_var + eps), dtype=dtype)
        lambda_ = np.asarray(1.0, dtype=dtype)
        lambda_1, lambda_2, alpha_1, alpha_2 = self.lambda_1, self.lambda_2, self.alpha_1, self.alpha_2
        coef_old_ = None
        sw_sum = p.n_samples
        for iter_ in range(self.max_iter):  # noqa: B007 (n_iter_ reads it after the loop, as scikit-learn does)
            coef_, sse_ = self._update_coef(p, alpha_, lambda_)
            gamma_ = np.sum((alpha_ * p.eigen_vals) / (lambda_ + alpha_ * p.eigen_vals))
            lambda_ = (gamma_ + 2 * lambda_1) / (np.sum(coef_**2) + 2 * lambda_2)
            alpha_ = (sw_sum - gamma_ + 2 * alpha_1) / (sse_ + 2 * alpha_2)
            if iter_ != 0 and np.sum(np.abs(coef_old_ - coef_)) < self.tol:
                break
            coef_old_ = np.copy(coef_)
        self.n_iter_ = iter_ + 1
        self.alpha_, self.lambda_ = alpha_, lambda_
        coef_, _ = self._update_coef(p, alpha_, lambda_)
        self._prep, self._sigma = p, None  # sigma_ on first use: only return_std needs it
        self.X_offset_ = p.X_offset
        coef_ = coef_.astype(p.X_offset.dtype, copy=False)
        coef_ = np.divide(coef_, np.ones(p.n_features, dtype=dtype))  # _set_intercept's division by X_scale_
        self.coef_ = coef_
        self.intercept_ = p.y_offset - p.X_offset @ coef_
        return self

    @property
    def sigma_(self) -> np.ndarray:
        """The posterior covariance, as ``BayesianRidge.fit`` computes it, made when first read: an
        n_features^2 x n_features product that a search's candidates (scored by their mean only) never need,
        and for a 350-epoch curve the costliest step of a fit."""
        if self._sigma is None:
            p = self._prep
            self._sigma = np.dot(p.Vh_full.T, p.Vh_full / (self.alpha_ * p.eigen_vals_full + self.lambda_)[:, np.newaxis])
        return self._sigma

    def predict(self, X: np.ndarray, return_std: bool = False) -> Any:
        X = np.asarray(X, dtype=np.float64)
        y_mean = X @ self.coef_ + self.intercept_
        if not return_std:
            return y_mean
        Xc = X - self.X_offset_
        sigmas_squared_data = (np.dot(Xc, self.sigma_) * Xc).sum(axis=1)
        return y_mean, np.sqrt(sigmas_squared_data + (1.0 / self.alpha_))


class FastForest:
    """``sklearn.ensemble.RandomForestRegressor(n_estimators, max_features, random_state, n_jobs=1)`` (other
    settings at their defaults) on dense finite data: each tree is the ``DecisionTreeRegressor`` the forest would
    make, with the seed the forest would draw for it and its bootstrap sample, fitted with ``check_input=False``;
    predictions are summed over the trees in order and divided by their number, as the forest does on one
    thread. Skipped: the forest's per-tree ``clone``, ``set_params``, ``get_params(deep=True)`` and joblib
    dispatch (about half of a 100 x 30 forest's fit)."""

    __slots__ = ("n_estimators", "max_features", "random_state", "trees_")

    def __init__(self, *, n_estimators: int = 100, max_features: float = 1.0, random_state: int = 0):
        self.n_estimators, self.max_features, self.random_state = n_estimators, max_features, random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """What ``RandomForestRegressor(...).get_params()`` returns for the same settings."""
        return {"bootstrap": True, "ccp_alpha": 0.0, "criterion": "squared_error", "max_depth": None,
                "max_features": self.max_features, "max_leaf_nodes": None, "max_samples": None,
                "min_impurity_decrease": 0.0, "min_samples_leaf": 1, "min_samples_split": 2,
                "min_weight_fraction_leaf": 0.0, "monotonic_cst": None, "n_estimators": self.n_estimators,
                "n_jobs": 1, "oob_score": False, "random_state": self.random_state, "verbose": 0, "warm_start": False}

    def fresh(self) -> FastForest:
        return FastForest(n_estimators=self.n_estimators, max_features=self.max_features,
                          random_state=self.random_state)

    def fit(self, X: np.ndarray, y: np.ndarray, prep: Any = None) -> FastForest:
        from sklearn.tree import DecisionTreeRegressor

        X = np.asarray(X, dtype=np.float32)
        if not (X.flags.c_contiguous or X.flags.f_contiguous):
            X = np.ascontiguousarray(X)
        y = np.ascontiguousarray(np.reshape(np.asarray(y, dtype=np.float64), (-1, 1)), dtype=np.float64)
        n = X.shape[0]
        mask = DecisionTreeRegressor(criterion="squared_error")._compute_missing_values_in_feature_mask(
            X, estimator_name="RandomForestRegressor")
        rs = np.random.RandomState(self.random_state)
        seeds = [rs.randint(np.iinfo(np.int32).max) for _ in range(self.n_estimators)]
        trees = []
        for s in seeds:
            tree = DecisionTreeRegressor(max_features=self.max_features, random_state=s)
            idx = np.random.RandomState(s).randint(0, n, n).astype(np.int32)
            tree._fit(X, y, sample_weight=np.bincount(idx, minlength=n), check_input=False,
                      missing_values_in_feature_mask=mask)
            trees.append(tree)
        self.trees_ = trees
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        y_hat = np.zeros(X.shape[0], dtype=np.float64)
        for tree in self.trees_:
            y_hat += tree.predict(X, check_input=False)
        y_hat /= len(self.trees_)
        return y_hat
