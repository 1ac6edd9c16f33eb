"""Learning-curve extrapolation after Domhan et al. 2015 (SPEC 5.1), cheap documented variant.

The 11 parametric families are fitted to the observed prefix by least squares (from the published
default parameters plus random restarts); families whose fit fails, is non-finite or decreases between
t=2 and t_max are dropped. Instead of MCMC over the weighted combination (Domhan: emcee, 100 walkers,
2500 steps), the survivors are combined by Bayesian model averaging with BIC weights; the predictive
variance is the weighted residual variance plus the between-family spread. Curves are mapped to an
increasing series in [0, 1] with bounds from the training pool (SPEC 5.1 for loss-valued curves).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import norm


def _f(name: str, t: np.ndarray, p: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        if name == "vap":
            return np.exp(p[0] + p[1] / t + p[2] * np.log(t))
        if name == "pow3":
            return p[0] - p[1] * t ** (-p[2])
        if name == "loglog_linear":
            return np.log(p[0] * np.log(t) + p[1])
        if name == "hill3":
            return p[0] * t ** p[1] / (p[2] ** p[1] + t ** p[1])
        if name == "log_power":
            return p[0] / (1 + (t / np.exp(p[1])) ** p[2])
        if name == "pow4":
            return p[0] - (p[1] * t + p[2]) ** (-p[3])
        if name == "mmf":
            return p[0] - (p[0] - p[1]) / (1 + (p[2] * t) ** p[3])
        if name == "exp4":
            return p[0] - np.exp(-p[1] * t ** p[3] + p[2])
        if name == "janoschek":
            return p[0] - (p[0] - p[1]) * np.exp(-p[2] * t ** p[3])
        if name == "weibull":
            return p[0] - (p[0] - p[1]) * np.exp(-((p[2] * t) ** p[3]))
        if name == "ilog2":
            return p[0] - p[1] / np.log(t + 1)
    raise KeyError(name)


#: family -> default starting parameters (pylearningcurvepredictor defaults)
FAMILIES: dict[str, tuple[float, ...]] = {
    "vap": (-0.622, -0.470, 0.042),
    "pow3": (0.84, 0.52, 0.01),
    "loglog_linear": (0.5, 1.0),
    "hill3": (0.9, 0.5, 2.0),
    "log_power": (0.77, 2.98, -0.51),
    "pow4": (1.0, 200.0, 0.0, 0.1),
    "mmf": (0.7, 0.1, 0.01, 5.0),
    "exp4": (0.7, 0.8, -0.8, 0.3),
    "janoschek": (0.73, 0.07, 0.355, 0.46),
    "weibull": (0.7, 0.1, 0.01, 1.0),
    "ilog2": (0.78, 0.43),
}


class LCEPred:
    """Extrapolate single curves to epoch ``T``. ``mode``: direction of the recorded metric."""

    def __init__(self, *, T: int, mode: str = "max", restarts: int = 1, seed: int = 0):
        if mode not in ("min", "max"):
            raise ValueError(f"mode is {mode!r}, but must be 'min' or 'max'")
        self.T, self.mode, self.restarts, self.seed = T, mode, restarts, seed
        self.lo, self.hi = 0.0, 1.0

    def fit_bounds(self, curves: np.ndarray) -> LCEPred:
        """Bounds of the [0,1] mapping from the training pool's curves."""
        self.lo, self.hi = float(np.nanmin(curves)), float(np.nanmax(curves))
        if self.hi <= self.lo:
            self.hi = self.lo + 1.0
        return self

    def _to_u(self, y: np.ndarray) -> np.ndarray:
        u = (y - self.lo) / (self.hi - self.lo)
        return u if self.mode == "max" else 1.0 - u

    def _from_u(self, u: np.ndarray | float) -> np.ndarray | float:
        v = u if self.mode == "max" else 1.0 - u
        return v * (self.hi - self.lo) + self.lo

    def fit_curve(self, prefix: np.ndarray) -> dict[str, tuple[np.ndarray, float]]:
        """Least-squares fits of every family on one prefix: name -> (params, rss)."""
        u = self._to_u(np.asarray(prefix, float))
        t = np.arange(1, len(u) + 1, dtype=float)
        rng = np.random.default_rng(self.seed)
        fits: dict[str, tuple[np.ndarray, float]] = {}
        for name, p0 in FAMILIES.items():
            if len(u) < len(p0):
                continue
            best: tuple[np.ndarray, float] | None = None
            starts = [np.array(p0)] + [np.array(p0) * rng.uniform(0.5, 1.5, len(p0)) for _ in range(self.restarts)]
            for start in starts:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        r = least_squares(lambda p, n=name: np.nan_to_num(_f(n, t, p) - u, nan=1e3, posinf=1e3,
                                                                          neginf=-1e3), start, max_nfev=200)
                    except (ValueError, FloatingPointError):
                        continue
                rss = float(np.sum(r.fun**2))
                if best is None or rss < best[1]:
                    best = (r.x, rss)
            if best is None:
                continue
            at = _f(name, np.array([2.0, float(self.T)]), best[0])
            if not np.all(np.isfinite(at)) or at[1] < at[0] - 1e-6 or not -0.5 <= at[1] <= 1.5:
                continue
            fits[name] = best
        return fits

    def predict_dist_curve(self, prefix: np.ndarray) -> tuple[float, float]:
        """(mean, std) of the value at ``T`` in the metric's units."""
        prefix = np.asarray(prefix, float)
        n = len(prefix)
        fits = self.fit_curve(prefix) if n >= 3 else {}
        if not fits:  # too short or nothing sane: last seen value, wide
            return float(prefix[-1]), float(0.25 * (self.hi - self.lo))
        names = list(fits)
        rss = np.array([max(fits[k][1], 1e-12) for k in names])
        k_par = np.array([len(FAMILIES[k]) for k in names])
        bic = n * np.log(rss / n) + k_par * np.log(n)
        w = np.exp(-(bic - bic.min()) / 2)
        w /= w.sum()
        preds = np.array([float(_f(k, np.array([float(self.T)]), fits[k][0])[0]) for k in names])
        mean_u = float(w @ preds)
        var_u = float(w @ (rss / max(n - 1, 1))) + float(w @ (preds - mean_u) ** 2)
        return float(self._from_u(mean_u)), math.sqrt(max(var_u, 1e-12)) * (self.hi - self.lo)

    def predict_curves(self, prefixes: np.ndarray) -> np.ndarray:
        return np.array([self.predict_dist_curve(p)[0] for p in np.atleast_2d(prefixes)])

    def prob_better(self, prefix: np.ndarray, y_best: float) -> float:
        """P(y_T better than y_best) (Domhan's termination quantity)."""
        m, s = self.predict_dist_curve(prefix)
        z = (m - y_best) / s
        return float(norm.cdf(z) if self.mode == "max" else norm.cdf(-z))
