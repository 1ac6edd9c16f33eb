"""A bit-for-bit faster stand-in for the one scipy call that dominates Syne Tune's BOHB (issue #35's speed).

Syne Tune 0.16's KDE searcher (``syne_tune/optimizer/schedulers/searchers/kde/kde_searcher.py``) draws every
continuous coordinate of its 64 candidates a suggestion with ``scipy.stats.truncnorm.rvs(a, b, loc, scale,
random_state=...)``, one scalar at a time: about 120 us a call in scipy 1.17, most of it argument handling and
the array-API ``logsumexp`` over two numbers, and 60-80% of a BOHB cell (py-spy on the leaderboard's TaskSet
cells). :class:`ScalarTruncnorm` computes the same draw the way scipy does (one uniform from the same generator,
the inverse CDF of ``truncnorm._ppf`` with its per-(a, b) terms cached and the two-term log-sum-exp in scipy's own
order of operations) in about 9 us. It is used only after it agrees bit for bit with scipy on a fixed set of
draws in this process (:func:`install_kde_truncnorm`); anything else (arrays, other generators, infinite or
degenerate arguments) goes to scipy itself. tests/adapters/test_fast_scipy.py checks 20,000 draws and BOHB's
records with and without it; ``benchmarks/synetune_kde.py`` measures the saving.
"""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np

KDE_MODULE = "syne_tune.optimizer.schedulers.searchers.kde.kde_searcher"


class ScalarTruncnorm:
    """``scipy.stats.truncnorm`` with a faster ``rvs`` for one scalar draw from a ``RandomState``."""

    def __init__(self, max_cached: int = 8192):
        import scipy.special as sc
        import scipy.stats as sps
        from scipy.stats import _continuous_distns as cd

        self._sps, self._cd, self._ndtri_exp = sps, cd, sc.ndtri_exp
        self._terms: dict[tuple[float, float], tuple[bool, np.ndarray, np.ndarray]] = {}
        self.max_cached = max_cached

    def __getattr__(self, name: str) -> Any:  # everything but rvs is scipy's truncnorm
        return getattr(self._sps.truncnorm, name)

    def _log_sum(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """``scipy.special.logsumexp([p, q], axis=0)`` for two finite one-element arrays, as scipy 1.17 computes
        it: the larger term taken out, ``log1p(sum of exp(others - max) / m) + log(m) + max``, m the number of
        maxima."""
        p0, q0 = p[0], q[0]
        if not (math.isfinite(p0) and math.isfinite(q0)):
            return self._cd._log_sum(p, q)
        if p0 == q0:
            return np.log1p(np.zeros(1)) + np.log(np.full(1, 2.0)) + p
        hi, lo = (p, q) if p0 > q0 else (q, p)
        return np.log1p(np.exp(lo - hi)) + np.log(np.ones(1)) + hi

    def rvs(self, *args: Any, **kw: Any) -> Any:
        a, b = (args + (None, None))[:2]
        loc, scale = kw.get("loc", 0.0), kw.get("scale", 1.0)
        rs = kw.get("random_state")
        plain = (len(args) == 2 and set(kw) <= {"loc", "scale", "random_state"} and isinstance(rs, np.random.RandomState)
                 and all(isinstance(x, (float, int, np.floating)) and math.isfinite(x) for x in (a, b, loc, scale))
                 and a < b and scale > 0)
        if not plain:
            return self._sps.truncnorm.rvs(*args, **kw)
        key = (float(a), float(b))
        terms = self._terms.get(key)
        if terms is None:
            cd = self._cd
            A, B = np.array([a], float), np.array([b], float)
            left = bool(a < 0)
            terms = (left, cd._norm_logcdf(A) if left else cd._norm_logcdf(-B), cd._log_gauss_mass(A, B))
            if len(self._terms) >= self.max_cached:
                self._terms.clear()
            self._terms[key] = terms
        left, log_cdf, log_mass = terms
        q = rs.uniform(size=()).reshape(1)  # rv_generic._rvs: one uniform, then the inverse CDF
        if left:
            y = self._ndtri_exp(self._log_sum(log_cdf, np.log(q) + log_mass))
        else:
            y = -self._ndtri_exp(self._log_sum(log_cdf, np.log1p(-q) + log_mass))
        out = np.empty(())
        out[()] = y[0]
        return out * np.asarray(scale, float) + np.asarray(loc, float)

    def agrees(self, n: int = 400, seed: int = 0) -> bool:
        """Bit-for-bit equal to scipy's rvs on ``n`` draws shaped like the KDE searcher's (and the generator left
        in the same state)."""
        rng = np.random.default_rng(seed)
        ours, theirs = np.random.RandomState(seed), np.random.RandomState(seed)
        for _ in range(n):
            m, bw = float(rng.random()), float(rng.uniform(1e-3, 2.0))
            a, b = -m / bw, (1 - m) / bw
            x = self.rvs(a, b, loc=m, scale=bw, random_state=ours)
            y = self._sps.truncnorm.rvs(a, b, loc=m, scale=bw, random_state=theirs)
            if not (x == y and type(x) is type(y)):
                return False
        return ours.get_state()[2] == theirs.get_state()[2]


class _Stats:
    """``scipy.stats`` for the KDE searcher's module, with :class:`ScalarTruncnorm` as its ``truncnorm``."""

    def __init__(self, truncnorm: ScalarTruncnorm):
        self.truncnorm = truncnorm

    def __getattr__(self, name: str) -> Any:
        import scipy.stats

        return getattr(scipy.stats, name)


def install_kde_truncnorm() -> bool:
    """Give Syne Tune's KDE searcher :class:`ScalarTruncnorm` (its module's ``sps``), if it agrees with scipy
    here; True when in place. Only that module's name changes: scipy itself and every other user are untouched."""
    try:
        mod = importlib.import_module(KDE_MODULE)
    except ImportError:
        return False
    if isinstance(getattr(mod, "sps", None), _Stats):
        return True
    tn = ScalarTruncnorm()
    if not tn.agrees():
        return False
    mod.sps = _Stats(tn)
    return True


def uninstall_kde_truncnorm() -> None:
    """scipy.stats back in the KDE searcher's module (for comparisons)."""
    import scipy.stats

    mod = importlib.import_module(KDE_MODULE)
    mod.sps = scipy.stats
