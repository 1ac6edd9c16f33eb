"""The model zoo of Baker et al. (SPEC 2.3), each following the scikit-learn contract.

``fit(X, y)`` returns self; ``predict(X)`` returns the mean; ``predict_dist(X)`` returns
``(mean, std)`` where the model has its own uncertainty (BLR), else std is NaN and the SRM supplies
the LOOCV error model. Inputs and targets are z-scored inside each model (constant columns -> 0).
Model hyperparameters are chosen by random search with K-fold CV on the training set only.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import ConvergenceWarning

from ..threads import exact_blas
from .base import PointPredictor
from .budgets import SEARCH_BUDGETS, TARGETS  # noqa: F401  (re-exported)
from .fast import BayesPrep, FastBayesianRidge, FastForest, FastNuSVR
from .features import ts_features


def _sklearn(module: str, name: str) -> Any:
    """A scikit-learn class imported when first needed (``sklearn.ensemble`` alone takes about a second)."""
    import importlib

    return getattr(importlib.import_module(f"sklearn.{module}"), name)


def _clip_bounds(Xs: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = Xs.min(axis=0), Xs.max(axis=0)
    span = hi - lo
    return lo - margin * span, hi + margin * span


def _level_columns(X: np.ndarray, col: int) -> np.ndarray | None:
    """The columns that carry a curve's level besides its last value ``col``: the earlier prefix values
    and the prefix mean, when X starts with Baker's TS block of a ``col + 1`` epoch prefix (checked on the
    rows: the differences, mean and std columns must be those of the prefix). None for any other layout
    (raw prefixes, HP/AP only), which is then winsorized column by column."""
    tau = col + 1
    width = tau + max(tau - 1, 0) + max(tau - 2, 0) + 2
    if tau < 2 or X.shape[1] < width or not np.allclose(ts_features(X[:, :tau]), X[:, :width]):
        return None
    return np.r_[np.arange(tau - 1), width - 2]


class _Winsorizer:
    """Winsorizes z-scored query features to the training range widened by ``margin`` of it (issue #18).

    With ``level_tol`` (and a TS layout, see :func:`_level_columns`), a curve keeps its level: a query whose
    shape, its prefix values and mean minus its last value, lies inside the winsorizing bounds of the training
    shapes widened by a further ``level_tol`` times their span is a known shape at a new level (an MNIST CNN
    that never left chance, a slow learner), so only its shape is winsorized and its last value stays as seen.
    A query whose shape is further out (a loss spike, a divergence) is winsorized column by column, as every
    query is with ``level_tol=None``. Winsorizing the level too made such CNNs look healthy, and a model on
    them lose to the last seen value (results/ablation.md).

    With ``keep_collapsed`` as well, a collapse keeps its level too: a query that was once better than its
    last value by more than any training shape allows, whose last step is a training-like one, and whose last
    value is no better than its first, so it lost all it had learned (an MNIST CNN that learned, then fell to
    chance and stayed there). A spike at the last epoch has no training-like last step, and a curve that
    is still better than its first epoch (an MLPF loss recovering from a spike, a noisy NAS-Bench-NLP loss)
    has not collapsed: both are winsorized column by column. The direction of improvement is the training
    curves' (their prefix mean minus their last value, by its median sign)."""

    def __init__(self, scale: _Scaler, X: np.ndarray, Xs: np.ndarray):
        margin, level = scale.clip, scale.level
        self.lo, self.hi = _clip_bounds(Xs, margin)
        self.level, self.scale = level, scale
        if level is not None:
            cols, col, tol, collapsed = level
            D = X[:, cols] - X[:, [col]]
            dmin, dmax = D.min(axis=0), D.max(axis=0)
            span = dmax - dmin
            self.dlo, self.dhi = dmin - margin * span, dmax + margin * span
            self.shape_lo, self.shape_hi = self.dlo - tol * span, self.dhi + tol * span
            if collapsed:
                n = len(cols) - 1  # D's first tau - 1 columns: the earlier prefix values minus the last one
                self.improve = 1.0 if np.median(D[:, -1]) >= 0 else -1.0  # +1: a loss, -1: an accuracy
                self.fell_lo = self.shape_lo[:n] if self.improve > 0 else -self.shape_hi[:n]  # bound of V below
            self.level_lo, self.level_hi = self.lo.copy(), self.hi.copy()
            self.level_lo[cols], self.level_hi[cols] = -np.inf, np.inf
            self.level_lo[col], self.level_hi[col] = -np.inf, np.inf

    def __call__(self, X: np.ndarray, Xs: np.ndarray) -> np.ndarray:
        out = np.clip(Xs, self.lo, self.hi)
        if self.level is None:
            return out
        cols, col, _, collapsed = self.level
        D = X[:, cols] - X[:, [col]]
        inside = (D >= self.shape_lo) & (D <= self.shape_hi)
        keep = inside.all(axis=1)
        if collapsed:
            keep |= self._collapsed(D, inside)
        if keep.any():
            Xl, Dk = X[keep].copy(), D[keep]
            Dw = np.clip(Dk, self.dlo, self.dhi)
            Xl[:, cols] = np.where(Dw != Dk, Dw + Xl[:, [col]], Xl[:, cols])
            out[keep] = np.clip(self.scale.z(Xl), self.level_lo, self.level_hi)
        return out

    def _collapsed(self, D: np.ndarray, inside: np.ndarray) -> np.ndarray:
        """Rows that collapsed (see the class)."""
        n = len(self.fell_lo)
        V = self.improve * D[:, :n]  # > 0: the curve improved since that epoch
        fell = (V < self.fell_lo).any(axis=1)  # once better than its last value, beyond every training shape
        return fell & inside[:, n - 1] & (V[:, 0] <= 0)


class _Scaler:
    """z-score with the training set's mean and std (constant columns -> 0); with ``clip`` (a margin), a
    query's features are also winsorized (:class:`_Winsorizer`) so that a test prefix far outside every
    training prefix (a loss spike) cannot make a linear model extrapolate (issue #18; results/ablation.md
    measures each step). A margin of 5% keeps MLPF's gains and loses less where extrapolation helps (MNIST
    CNNs at 60% of the curve) than no margin. ``level_tol``, ``keep_collapsed`` and ``col`` keep a query's
    level (:class:`_Winsorizer`)."""

    def __init__(self, X: np.ndarray, clip: float | None = 0.05, level_tol: float | None = None, col: int = -1,
                 keep_collapsed: bool = False):
        self.mu = X.mean(axis=0)
        sd = X.std(axis=0)
        self.sd = np.where(sd > 1e-12, sd, np.inf)
        self.clip = clip
        col = col % X.shape[1] if X.shape[1] else col
        cols = _level_columns(X, col) if level_tol is not None and X.shape[1] else None
        self.level = None if cols is None else (cols, col, float(level_tol), bool(keep_collapsed))
        if clip is not None:
            self.winsorizer = self.fit_winsorizer(X, self.z(X))

    def z(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mu) / self.sd

    def fit_winsorizer(self, X: np.ndarray, Xs: np.ndarray) -> _Winsorizer:
        """A winsorizer fitted on the rows ``X`` (z-scored: ``Xs``) of this scaler's training set."""
        return _Winsorizer(self, X, Xs)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        Xs = self.z(X)
        return self.winsorizer(X, Xs) if self.clip is not None else Xs


def _center_scale(z: np.ndarray) -> tuple[float, float]:
    """Mean and std of a target vector (std 1 for a constant target)."""
    mu, sd = float(z.mean()), float(z.std())
    return mu, sd if sd > 1e-12 else 1.0


def _fresh(est: Any) -> Any:
    """An unfitted copy: the fast models' own (no scikit-learn clone), else ``clone``."""
    fresh = getattr(est, "fresh", None)
    return fresh() if fresh is not None else clone(est)


def _fit_fold(est: Any, X: np.ndarray, y: np.ndarray, cache: dict[Any, Any] | None, key: Any) -> Any:
    """A fresh copy of ``est`` fitted to (X, y); a fast BayesianRidge reuses the fold's centering and SVD."""
    m = _fresh(est)
    if cache is not None and isinstance(m, FastBayesianRidge):
        prep = cache.get(key)
        if prep is None:
            prep = cache[key] = BayesPrep(X, y)
        return m.fit(X, y, prep)
    return m.fit(X, y)


def _cv_r2(est: BaseEstimator, Xs: np.ndarray, y: np.ndarray, base: np.ndarray,
           folds: list[tuple[np.ndarray, np.ndarray]], held_out: list[np.ndarray],
           cache: dict[Any, Any] | None = None) -> float:
    """Mean K-fold R^2 of ``y`` when ``est`` is fitted to the z-scored ``y - base`` (base 0: the final value
    itself; base = last seen value: the delta target). Scores are on the scale of ``y`` whatever the target,
    so targets compete fairly. ``held_out`` holds each fold's held-out features, winsorized by the fold's
    training rows as queries are after the final fit (:func:`_held_out`). ``cache`` (one per target) keeps what
    candidates fitted to the same fold can share."""
    z = y - base
    mu, sd = _center_scale(z)
    zs = (z - mu) / sd
    scores = []
    for i, ((tr, te), Xte) in enumerate(zip(folds, held_out, strict=True)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m = _fit_fold(est, Xs[tr], zs[tr], cache, i)
        pred = m.predict(Xte) * sd + mu + base[te]
        ss = np.sum((y[te] - y[te].mean()) ** 2)
        scores.append(1 - np.sum((y[te] - pred) ** 2) / ss if ss > 0 else -np.sum((y[te] - pred) ** 2))
    return float(np.mean(scores))


def _held_out(scaler: _Scaler, X: np.ndarray, Xs: np.ndarray,
              folds: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """Each fold's held-out rows of the z-scored ``Xs``, winsorized by the fold's training rows (when the
    scaler winsorizes), computed once for all candidates."""
    if scaler.clip is None:
        return [Xs[te] for _, te in folds]
    return [scaler.fit_winsorizer(X[tr], Xs[tr])(X[te], Xs[te]) for tr, te in folds]


def _folds(n: int, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold

    k = max(2, min(k, n))
    return list(KFold(k, shuffle=True, random_state=seed).split(np.zeros(n)))


def _loguniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return 10 ** rng.uniform(np.log10(lo), np.log10(hi), n)


# TARGETS: what a searched model regresses on: ``final`` = y_T (SPEC 2.1, default); ``delta`` = y_T - y_tau,
# the change still to come after the last seen value (column ``col`` of X), added back after prediction;
# ``auto`` = whichever of the two scores better in the same K-fold CV (SPEC is silent; option).


class _Searched(BaseEstimator, RegressorMixin):
    """Base: z-score, random search over ``candidates()`` by CV R^2, refit the best on all data.

    Subclasses list their constructor parameters explicitly (scikit-learn's ``get_params`` reads the
    signature) and pass the shared ones on: ``n_search`` draws, ``cv`` folds, ``seed``, ``target`` (one
    of :data:`TARGETS`), ``col`` (the last-seen-value column of X, used by the delta target),
    ``clip_features`` (winsorize query features to the training range widened by this share of it, None: off;
    see :class:`_Scaler`), ``level_tol`` (a query with a training-like shape keeps its level; the
    choice 1.0 is measured in results/ablation.md, None winsorizes every column; see :class:`_Winsorizer`)
    and ``keep_collapsed`` (with ``level_tol``, a curve that collapsed after learning keeps its level too;
    choice True, False: winsorized column by column; see :class:`_Winsorizer`).
    """

    #: the searched models fit scikit-learn's NuSVR / BayesianRidge through :mod:`harness.predictors.fast` (the same
    #: numbers without scikit-learn's per-call overhead); False fits scikit-learn's own (tests compare the two)
    _fast = True

    def __init__(self, *, n_search: int, cv: int = 3, seed: int = 0, target: str = "final", col: int = -1,
                 clip_features: float | None = 0.05,
                 level_tol: float | None = 1.0, keep_collapsed: bool = True):
        self.n_search = n_search
        self.cv = cv
        self.seed = seed
        self.target = target
        self.col = col
        self.clip_features = clip_features
        self.level_tol = level_tol
        self.keep_collapsed = keep_collapsed

    def _candidates(self, rng: np.random.Generator) -> list[BaseEstimator]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _scaler(self, X: np.ndarray) -> _Scaler:
        return _Scaler(X, self.clip_features, self.level_tol, self.col, self.keep_collapsed)

    def _base(self, X: np.ndarray, target: str) -> np.ndarray:
        return X[:, self.col].copy() if target == "delta" else np.zeros(len(X))

    def fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        X, y = np.asarray(X, float), np.asarray(y, float)
        if self.target not in TARGETS:
            raise ValueError(f"target is {self.target!r}, but must be one of {TARGETS}")
        for name in ("clip_features", "level_tol"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0):
                raise ValueError(f"{name} is {v!r}, but must be None (off) or a number >= 0")
        if not isinstance(self.keep_collapsed, (bool, np.bool_)):
            raise ValueError(f"keep_collapsed is {self.keep_collapsed!r}, but must be True or False")
        if self.target != "final" and not -X.shape[1] <= self.col < X.shape[1]:
            raise ValueError(f"target {self.target!r} reads the last seen value from column {self.col}, "
                             f"but X has {X.shape[1]} columns")
        self.xs_ = self._scaler(X)
        Xs = self.xs_(X)
        rng = np.random.default_rng(self.seed)
        cands = self._candidates(rng)
        targets = ["final", "delta"] if self.target == "auto" else [self.target]
        if len(cands) * len(targets) == 1 or len(y) < 6:
            best, self.target_ = cands[0], targets[0]
            self.cv_score_ = float("nan")
            self.cv_scores_by_target_: dict[str, float] = {}
        else:
            folds = _folds(len(y), self.cv, self.seed)
            held_out = _held_out(self.xs_, X, Xs, folds)  # Xs: training rows are inside every bound
            self.cv_score_, self.cv_scores_by_target_ = -np.inf, {}
            for t in targets:
                base = self._base(X, t)
                cache: dict[Any, Any] = {}
                scores = [_cv_r2(c, Xs, y, base, folds, held_out, cache) for c in cands]
                i = int(np.nanargmax(scores))
                self.cv_scores_by_target_[t] = float(scores[i])
                if scores[i] > self.cv_score_:  # ties keep the first target, i.e. the SPEC default "final"
                    best, self.target_, self.cv_score_ = cands[i], t, float(scores[i])
        self._fit_best(best, X, Xs, y)
        self.best_params_ = self.model_.get_params()
        return self

    def _fit_best(self, est: BaseEstimator, X: np.ndarray, Xs: np.ndarray, y: np.ndarray) -> None:
        z = y - self._base(X, self.target_)
        self.ymu_, self.ysd_ = _center_scale(z)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model_ = _fresh(est).fit(Xs, (z - self.ymu_) / self.ysd_)

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, float)
        return self.model_.predict(self.xs_(X)) * self.ysd_ + self.ymu_ + self._base(X, self.target_)

    def predict_dist(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = self.predict(X)
        return m, np.full_like(m, np.nan)

    def refit_fixed(self, X: np.ndarray, y: np.ndarray) -> Any:
        """Refit with the selected hyperparameters and target (no search): used by LOOCV."""
        X = np.asarray(X, float)
        new = clone(self)
        new.xs_, new.target_ = new._scaler(X), self.target_
        new._fit_best(self.model_, X, new.xs_(X), np.asarray(y, float))
        return new


class NuSVRPred(_Searched):
    """nu-SVR, kernel linear or RBF, C ~ LogU(1e-5, 10), nu ~ U(0.01, 0.99), gamma ~ LogU(1e-5, 10)."""

    def __init__(self, *, kernel: str = "auto", n_search: int = 100, cv: int = 3, seed: int = 0,
                 target: str = "final", col: int = -1, clip_features: float | None = 0.05,
                 level_tol: float | None = 1.0, keep_collapsed: bool = True):
        super().__init__(n_search=n_search, cv=cv, seed=seed, target=target, col=col, clip_features=clip_features,
                         level_tol=level_tol, keep_collapsed=keep_collapsed)
        self.kernel = kernel

    def _candidates(self, rng: np.random.Generator) -> list[BaseEstimator]:
        if self.kernel not in ("auto", "linear", "rbf"):
            raise ValueError(f"kernel is {self.kernel!r}, but must be auto, linear or rbf")
        n = self.n_search
        C, nu, gamma = _loguniform(rng, 1e-5, 10, n), np.clip(rng.uniform(0, 1, n), 0.01, 0.99), _loguniform(
            rng, 1e-5, 10, n)
        kernels = ["linear", "rbf"] if self.kernel == "auto" else [self.kernel]
        out: list[BaseEstimator] = []
        for k in kernels:
            # with both kernels, the budget is split between them
            m = n if len(kernels) == 1 else n // 2
            for i in range(m):
                # libsvm can need ~1e6 iterations for a linear kernel at large C; a capped, unconverged
                # candidate simply scores worse in CV
                model = FastNuSVR if self._fast else _sklearn("svm", "NuSVR")
                out.append(model(kernel=k, C=C[i], nu=nu[i], gamma=gamma[i] if k == "rbf" else "scale",
                                 max_iter=100_000))
        return out


class NuSVRLinear(NuSVRPred):
    """nu-SVR with the linear kernel only."""

    def __init__(self, *, kernel: str = "linear", n_search: int = 100, cv: int = 3, seed: int = 0,
                 target: str = "final", col: int = -1, clip_features: float | None = 0.05,
                 level_tol: float | None = 1.0, keep_collapsed: bool = True):
        super().__init__(kernel=kernel, n_search=n_search, cv=cv, seed=seed, target=target, col=col, clip_features=clip_features,
                         level_tol=level_tol, keep_collapsed=keep_collapsed)


class NuSVRRBF(NuSVRPred):
    """nu-SVR with the RBF kernel only."""

    def __init__(self, *, kernel: str = "rbf", n_search: int = 100, cv: int = 3, seed: int = 0,
                 target: str = "final", col: int = -1, clip_features: float | None = 0.05,
                 level_tol: float | None = 1.0, keep_collapsed: bool = True):
        super().__init__(kernel=kernel, n_search=n_search, cv=cv, seed=seed, target=target, col=col, clip_features=clip_features,
                         level_tol=level_tol, keep_collapsed=keep_collapsed)


class OLSPred(_Searched):
    """Ordinary least squares (linear) or kernel least squares (RBF), chosen by CV."""

    def __init__(self, *, n_search: int = 20, cv: int = 3, seed: int = 0, target: str = "final",
                 col: int = -1, clip_features: float | None = 0.05,
                 level_tol: float | None = 1.0, keep_collapsed: bool = True):
        super().__init__(n_search=n_search, cv=cv, seed=seed, target=target, col=col, clip_features=clip_features,
                         level_tol=level_tol, keep_collapsed=keep_collapsed)

    @classmethod
    def from_context(cls, *, tau: int, seed: int, n_search: int, target: str, options: dict[str, Any]) -> OLSPred:
        """A search budget of N draws gives OLS max(5, N // 10) kernel widths (it has one hyperparameter)."""
        return cls(**{"n_search": max(5, n_search // 10), "seed": seed, "target": target, "col": tau - 1,
                      **options})

    def _candidates(self, rng: np.random.Generator) -> list[BaseEstimator]:
        from sklearn.kernel_ridge import KernelRidge
        from sklearn.linear_model import LinearRegression

        gammas = _loguniform(rng, 1e-5, 10, max(1, self.n_search))
        return [LinearRegression()] + [KernelRidge(kernel="rbf", alpha=1e-6, gamma=g) for g in gammas]

    # LAPACK's least squares and solves round by the BLAS thread count: in a worker, the parent's count
    def fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        with exact_blas():
            return super().fit(X, y)

    def predict(self, X: np.ndarray) -> np.ndarray:
        with exact_blas():
            return super().predict(X)


class _RecencyPrior(BaseEstimator, RegressorMixin):
    """``est`` fitted on the columns of X multiplied by ``weights``: for a ridge-type model such as
    BayesianRidge, a prior on each column's weight whose std is that column's weight (see :class:`BLRPred`)."""

    def __init__(self, est: Any = None, weights: np.ndarray | None = None):
        self.est = est
        self.weights = weights

    def fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        self.model_ = _fresh(self.est).fit(X * self.weights, y)
        return self

    def fresh(self) -> _RecencyPrior:
        return _RecencyPrior(self.est, self.weights)

    def predict(self, X: np.ndarray, return_std: bool = False) -> Any:
        return self.model_.predict(X * self.weights, return_std=return_std)


def _recency_weights(n_features: int, tau: int, halflife: float) -> np.ndarray:
    """Per column of an X that starts with Baker's TS block of a ``tau`` epoch prefix: 0.5 ** (age / halflife)
    for the prefix values and differences (age: epochs before the last seen one), 1 for the prefix mean and
    std and the HP/AP columns."""
    w = np.ones(n_features)
    for start, n in ((0, tau), (tau, tau - 1), (2 * tau - 1, tau - 2)):
        if n > 0:
            w[start:start + n] = 0.5 ** (np.arange(n)[::-1] / halflife)
    return w


class BLRPred(_Searched):
    """Bayesian linear regression; Gamma-prior hyperparameters ~ LogU(1e-7, 1e-5); predictive std.

    ``halflife`` (an option, off by default) gives recent epochs a wider prior: the prior std of the weight of
    a TS prefix value or difference ``k`` epochs before the last seen one is ``0.5 ** (k / halflife)`` of the
    others'. With one shared precision over some 3 tau correlated TS features, a plain BLR spreads its weight
    over the whole prefix, a long average that lags a curve recovering from a spike (MLPF at 90%: weight 0.03
    on the last value). None (choice): Baker's BLR; a number: that half-life; ``(lo, hi)``: searched,
    LogU(lo, hi) per candidate with the first candidate undecayed. Only where X starts with the TS block.
    results/ablation.md measures ``(1, 100)``: it gains on MLPF and on smooth curves late in training, and makes
    BLR follow diverging curves (deepobs_quadratic_deep), which is why it is not the default (issue #18).
    """

    def __init__(self, *, n_search: int = 100, cv: int = 3, seed: int = 0, target: str = "final",
                 col: int = -1, clip_features: float | None = 0.05,
                 level_tol: float | None = 1.0, keep_collapsed: bool = True,
                 halflife: float | tuple[float, float] | None = None):
        super().__init__(n_search=n_search, cv=cv, seed=seed, target=target, col=col, clip_features=clip_features,
                         level_tol=level_tol, keep_collapsed=keep_collapsed)
        self.halflife = halflife

    def fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        h = self.halflife
        ok = h is None or (isinstance(h, (int, float)) and not isinstance(h, bool) and h > 0) or (
            isinstance(h, (tuple, list)) and len(h) == 2 and all(isinstance(v, (int, float)) for v in h)
            and 0 < h[0] <= h[1])
        if not ok:
            raise ValueError(f"halflife is {h!r}, but must be None (no decay), a number > 0 or a range (lo, hi) "
                             f"with 0 < lo <= hi")
        X = np.asarray(X, float)
        col = self.col % X.shape[1] if X.shape[1] else 0
        # the prefix length when X starts with the TS block (the only layout with recency weights), else None
        self.ts_tau_ = col + 1 if X.shape[1] and _level_columns(X, col) is not None else None
        return super().fit(X, y)

    def _candidates(self, rng: np.random.Generator) -> list[BaseEstimator]:
        p = _loguniform(rng, 1e-7, 1e-5, (4 * self.n_search))
        model = FastBayesianRidge if self._fast else _sklearn("linear_model", "BayesianRidge")
        cands: list[BaseEstimator] = [
            model(alpha_1=p[4 * i], alpha_2=p[4 * i + 1], lambda_1=p[4 * i + 2], lambda_2=p[4 * i + 3])
            for i in range(self.n_search)]
        h = self.halflife
        if h is None or self.ts_tau_ is None:  # no prior, or not the TS layout (the rng is not used after this)
            return cands
        lives = ([float(h)] * len(cands) if isinstance(h, (int, float)) else
                 [np.inf, *_loguniform(rng, h[0], h[1], len(cands) - 1)])
        n_features = self.xs_.mu.shape[0]
        out: list[BaseEstimator] = []
        for c, life in zip(cands, lives, strict=True):
            out.append(c if not np.isfinite(life) else
                       _RecencyPrior(c, _recency_weights(n_features, self.ts_tau_, life)))
        return out

    def predict_dist(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, float)
        m, s = self.model_.predict(self.xs_(X), return_std=True)
        return m * self.ysd_ + self.ymu_ + self._base(X, self.target_), s * self.ysd_


class RFPred(_Searched):
    """Random forest, n_estimators ~ U{10..max_trees}, max_features ~ U(0.1, 0.5)."""

    def __init__(self, *, n_search: int = 10, max_trees: int = 800, cv: int = 3, seed: int = 0,
                 target: str = "final", col: int = -1, clip_features: float | None = 0.05,
                 level_tol: float | None = 1.0, keep_collapsed: bool = True):
        super().__init__(n_search=n_search, cv=cv, seed=seed, target=target, col=col, clip_features=clip_features,
                         level_tol=level_tol, keep_collapsed=keep_collapsed)
        self.max_trees = max_trees

    @classmethod
    def from_context(cls, *, tau: int, seed: int, n_search: int, target: str, options: dict[str, Any]) -> RFPred:
        """A search budget of N draws gives the forest max(3, N // 10) draws, up to 800 trees at the paper budget."""
        return cls(**{"n_search": max(3, n_search // 10), "max_trees": 800 if n_search >= 1000 else 200,
                      "seed": seed, "target": target, "col": tau - 1, **options})

    def _candidates(self, rng: np.random.Generator) -> list[BaseEstimator]:
        out = []
        for _ in range(self.n_search):
            kw = {"n_estimators": int(rng.integers(10, self.max_trees + 1)),
                  "max_features": float(rng.uniform(0.1, 0.5)), "random_state": self.seed}
            out.append(FastForest(**kw) if self._fast else _sklearn("ensemble", "RandomForestRegressor")(**kw, n_jobs=1))
        return out


class LastSeenPred(PointPredictor):
    """Predict the last observed value (column ``col`` of X; Li et al.'s heuristic)."""

    def __init__(self, *, col: int = -1):
        self.col = col

    def fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, float)[:, self.col]


class MeanPred(LastSeenPred):
    """Dummy predictor: the mean training target (Swift's suggested sanity ablation)."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.mean_)


class SwiftSVR(PointPredictor):
    """The Swift-Hyperband reference predictor: ``NuSVR()`` defaults on min-max scaled X and y (SPEC 3.3)."""

    def __init__(self, *, nu: float = 0.5, C: float = 1.0):
        self.nu = nu
        self.C = C

    def fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        X, y = np.asarray(X, float), np.asarray(y, float)
        self.xmin_, xr = X.min(axis=0), X.max(axis=0) - X.min(axis=0)
        self.xr_ = np.where(xr > 0, xr, 1.0)
        self.ymin_, yr = float(y.min()), float(y.max() - y.min())
        self.yr_ = yr if yr > 0 else 1.0
        self.model_ = FastNuSVR(nu=self.nu, C=self.C).fit((X - self.xmin_) / self.xr_, (y - self.ymin_) / self.yr_)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict((np.asarray(X, float) - self.xmin_) / self.xr_) * self.yr_ + self.ymin_


def r2(y_true: np.ndarray, y_pred: np.ndarray, swapped: bool = False) -> float:
    """SPEC 6.1; ``swapped`` reproduces the ACAT notebooks' r2_score(y_pred, y_true)."""
    from sklearn.metrics import r2_score

    return float(r2_score(y_pred, y_true) if swapped else r2_score(y_true, y_pred))


class Wrapped(PointPredictor):
    """Adapter for a user's scikit-learn-style regressor: adds ``predict_dist`` and ``refit_fixed``. A regressor
    without ``get_params`` (any object with fit and predict) is copied instead of cloned; ``fit`` need not return
    self; ``predict`` must give one value per row (a column vector is flattened)."""

    def __init__(self, *, estimator: Any):
        self.estimator = estimator

    def fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        import copy

        est = self.estimator
        model = clone(est) if hasattr(est, "get_params") else copy.deepcopy(est)
        model.fit(X, y)
        self.model_ = model
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        from .finite import checked

        return checked(self.estimator, self.model_.predict(X), len(X))

    def predict_dist(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if hasattr(self.model_, "predict_dist"):
            m, s = self.model_.predict_dist(X)
            return np.asarray(m, float), np.asarray(s, float)
        return super().predict_dist(X)
