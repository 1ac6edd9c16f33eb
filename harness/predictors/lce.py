"""Learning-curve extrapolation after Domhan et al. 2015 (SPEC 5.1).

Curves are mapped to an increasing series ``u`` in [0, 1] with bounds from the training pool (SPEC 5.1
for loss-valued curves) and trimmed by ``cut_beginning``. The 11 parametric families are fitted to the
observed prefix by least squares (from the published default parameters plus random restarts);
families whose fit fails, is non-finite, decreases between t=2 and t_max or leaves [0, 1] at t_max are
dropped. Then, by ``fit``:

* ``paper``: Domhan's MCMC: the joint vector (theta_1..theta_K, sigma, w_1..w_K), started in a 1e-6 ball
  around the least-squares fits, is sampled with ``emcee`` (100 walkers or 2 ndim, 2500 steps, burn-in
  500, thin 10) under the flat prior of SPEC 5.1 (w >= 0, 0 < sigma <= 1, every family increasing from
  t=2 to t_max and inside [0, 1] there, f_comb(1) < f_comb(t_max)) and the Gaussian likelihood;
* ``cheap`` (default, SPEC's CPU-cheap mode): the same MCMC with 2 ndim + 2 walkers, 500 steps,
  burn-in 200, thin 5;
* ``bma``: no MCMC; the families are combined by Bayesian model averaging with BIC weights and the
  predictive variance is the weighted residual variance plus the between-family spread (about 100x
  cheaper; an option, documented as such).

The posterior predictive at t_max is the sample average of f_comb(t_max); ``prob_better`` averages
``1 - Phi((u_best - f_comb(t_max)) / sigma)`` over the samples (Domhan's termination quantity).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

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


#: fit -> (walkers as a function of ndim, nsteps, burn-in, thin); bma: no MCMC
LCE_FITS: dict[str, tuple[Callable[[int], int], int, int, int] | None] = {
    "paper": (lambda ndim: max(100, 2 * ndim), 2500, 500, 10),
    "cheap": (lambda ndim: 2 * ndim + 2, 500, 200, 5),
    "bma": None,
}


def cut_beginning(u: np.ndarray, threshold: float = 0.05, look_ahead: int = 5) -> int:
    """Domhan's trimming of an initial flat part: the first index from which the next ``look_ahead``
    values all exceed ``u[0]`` by more than ``threshold`` (0 if none or the curve is too short)."""
    for i in range(len(u) - look_ahead):
        if np.all(u[i:i + look_ahead] - u[0] > threshold):
            return i
    return 0


def _bic_weights(fits: dict[str, tuple[np.ndarray, float]], n: int) -> tuple[np.ndarray, float]:
    """BMA over the families' least-squares fits on ``n`` points: BIC weights (in ``fits``' order) and the weighted
    residual variance."""
    names = list(fits)
    rss = np.array([max(fits[k][1], 1e-12) for k in names])
    k_par = np.array([len(FAMILIES[k]) for k in names])
    bic = n * np.log(rss / n) + k_par * np.log(n)
    w = np.exp(-(bic - bic.min()) / 2)
    w /= w.sum()
    return w, float(w @ (rss / max(n - 1, 1)))


class LCEPred:
    """Extrapolate single curves to epoch ``T``. ``mode``: direction of the recorded metric; ``fit``: one of
    :data:`LCE_FITS` (MCMC ``paper`` / ``cheap``, or the ``bma`` least-squares average)."""

    def __init__(self, *, T: int, mode: str = "max", restarts: int = 1, seed: int = 0, fit: str = "cheap"):
        if mode not in ("min", "max"):
            raise ValueError(f"mode is {mode!r}, but must be 'min' or 'max'")
        if fit not in LCE_FITS:
            raise ValueError(f"LCE fit is {fit!r}, but must be one of {sorted(LCE_FITS)}")
        self.T, self.mode, self.restarts, self.seed, self.fit = T, mode, restarts, seed, fit
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
        return self._fit_u(*self._observed(prefix))

    def _observed(self, prefix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(t, u) of a prefix after the [0, 1] mapping and cut_beginning (epoch indices are kept)."""
        u = self._to_u(np.asarray(prefix, float))
        t = np.arange(1, len(u) + 1, dtype=float)
        k = cut_beginning(u)
        return t[k:], u[k:]

    def _fit_u(self, t: np.ndarray, u: np.ndarray) -> dict[str, tuple[np.ndarray, float]]:
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
            if not np.all(np.isfinite(at)) or at[1] < at[0] - 1e-6 or not 0.0 <= at[1] <= 1.0:
                continue
            fits[name] = best
        return fits

    def _predictive(self, prefix: np.ndarray, epochs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The weighted family combination at ``epochs`` in the [0, 1] ``u`` units: samples (S, E) and their noise
        standard deviations (broadcastable to (S, E)). MCMC (``paper`` / ``cheap``): one row a posterior sample and
        its sigma; ``bma`` (or an MCMC that found no start): one row, the BIC-weighted least-squares fits, whose
        spread joins the noise; fewer than 3 points or no sane family: the last seen value with std 0.25."""
        t, u = self._observed(prefix)
        ep = np.asarray(epochs, float)
        fits = self._fit_u(t, u) if len(u) >= 3 else {}
        if not fits:
            return np.full((1, len(ep)), u[-1]), np.array([[0.25]])
        names = list(fits)
        if self.fit != "bma":
            got = self._mcmc(t, u, names, [fits[k][0] for k in names])
            if got is not None:
                chain, P, offs = got
                wn = chain[:, P + 1:] / chain[:, P + 1:].sum(axis=1, keepdims=True)
                F = np.stack([_f(nm, ep[None, :], chain[:, offs[k]:offs[k + 1]].T[..., None])
                              for k, nm in enumerate(names)], axis=2)  # (S, E, K)
                return np.sum(wn[:, None, :] * F, axis=2), chain[:, P][:, None]
        w, noise = _bic_weights(fits, len(u))
        preds = np.stack([_f(k, ep, fits[k][0]) for k in names])  # (K, E)
        mean_u = w @ preds
        var_u = noise + w @ (preds - mean_u) ** 2
        return mean_u[None, :], np.sqrt(np.maximum(var_u, 1e-12))[None, :]

    def posterior(self, prefix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Samples of (f_comb(t_max), sigma) in the [0, 1] ``u`` units (:meth:`_predictive` at ``T``)."""
        f, sd = self._predictive(prefix, np.array([float(self.T)]))
        return f[:, 0], np.broadcast_to(sd, f.shape)[:, 0]

    def _mcmc(self, t: np.ndarray, u: np.ndarray, names: list[str],
              theta: list[np.ndarray]) -> tuple[np.ndarray, int, np.ndarray] | None:
        """Domhan's posterior sampling of the weighted family combination: the kept samples (parameters of each
        family at ``offs``, sigma at column ``P``, the weights after it), ``P`` and ``offs``; None if the start is
        outside the prior, which the least-squares filter makes rare: the caller falls back to BMA."""
        import emcee

        sizes = [len(p) for p in theta]
        K, P = len(names), sum(sizes)
        ndim = P + 1 + K
        offs = np.cumsum([0] + sizes)
        t_eval = np.concatenate([t, [1.0, 2.0, float(self.T)]])
        n = len(t)

        def log_prob(xi: np.ndarray) -> np.ndarray:
            xi = np.atleast_2d(xi)
            sigma, w = xi[:, P], xi[:, P + 1:]
            F = np.stack([_f(nm, t_eval[None, :], xi[:, offs[k]:offs[k + 1]].T[..., None])
                          for k, nm in enumerate(names)])  # (K, W, n + 3)
            ok = (sigma > 0) & (sigma <= 1) & np.all(w >= 0, axis=1) & (w.sum(axis=1) > 0)
            ok &= np.all(np.isfinite(F), axis=(0, 2))
            ok &= np.all(F[:, :, -2] <= F[:, :, -1], axis=0)  # each family increasing from t=2 to t_max
            ok &= np.all((F[:, :, -1] >= 0) & (F[:, :, -1] <= 1), axis=0)
            with np.errstate(all="ignore"):
                wn = w / w.sum(axis=1, keepdims=True)
                comb = np.einsum("wk,kwt->wt", wn, np.nan_to_num(F))
                ok &= comb[:, -3] < comb[:, -1]  # f_comb(1) < f_comb(t_max)
                s = np.where(sigma > 0, sigma, 1.0)
                ll = -0.5 * np.sum(((u - comb[:, :n]) / s[:, None]) ** 2, axis=1) - n * np.log(s)
            return np.where(ok, ll, -np.inf)

        resid = u - np.mean([_f(nm, t, th) for nm, th in zip(names, theta, strict=True)], axis=0)
        x0 = np.concatenate(theta + [[min(max(float(np.std(resid)), 1e-4), 1.0)], np.full(K, 1.0 / K)])
        if not np.isfinite(log_prob(x0)[0]):
            return None
        walkers, steps, burn, thin = LCE_FITS[self.fit]  # type: ignore[misc]
        nw = walkers(ndim)
        rs = np.random.RandomState(self.seed)
        p0 = x0 + 1e-6 * rs.standard_normal((nw, ndim))
        p0[:, P] = np.abs(p0[:, P])
        p0[:, P + 1:] = np.abs(p0[:, P + 1:])
        sampler = emcee.EnsembleSampler(nw, ndim, log_prob, vectorize=True)
        sampler.random_state = rs.get_state()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sampler.run_mcmc(p0, steps, skip_initial_state_check=True)
        chain = sampler.get_chain(discard=burn, thin=thin, flat=True)
        keep = np.isfinite(sampler.get_log_prob(discard=burn, thin=thin, flat=True))
        chain = chain[keep]
        if len(chain) == 0:
            return None
        return chain, P, offs

    def predict_dist_epochs(self, prefix: np.ndarray, epochs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of the curve at every epoch of ``epochs`` in the metric's units: the posterior predictive of
        the weighted family combination evaluated there (:meth:`_predictive`), for ifBO's extrapolation test."""
        f, sd = self._predictive(prefix, epochs)
        var_u = np.mean(np.broadcast_to(sd, f.shape) ** 2, axis=0) + f.var(axis=0)
        mean = np.asarray(self._from_u(f.mean(axis=0)), float)
        return mean, np.sqrt(np.maximum(var_u, 1e-12)) * (self.hi - self.lo)

    def predict_dist_curve(self, prefix: np.ndarray) -> tuple[float, float]:
        """(mean, std) of the value at ``T`` in the metric's units (posterior predictive)."""
        f, sigma = self.posterior(prefix)
        mean_u = float(np.mean(f))
        var_u = float(np.mean(sigma**2) + np.var(f))
        return float(self._from_u(mean_u)), math.sqrt(max(var_u, 1e-12)) * (self.hi - self.lo)

    def predict_curves(self, prefixes: np.ndarray) -> np.ndarray:
        return np.array([self.predict_dist_curve(p)[0] for p in np.atleast_2d(prefixes)])

    def prob_better(self, prefix: np.ndarray, y_best: float) -> float:
        """P(y_T better than y_best), averaged over the posterior samples (Domhan's termination quantity)."""
        f, sigma = self.posterior(prefix)
        u_best = float(self._to_u(np.array([y_best]))[0])
        return float(np.mean(1.0 - norm.cdf((u_best - f) / np.maximum(sigma, 1e-12))))
