"""ifBO's extrapolation test (Rakotoarison et al., ICML 2024, Table 1), beside Baker's R^2 protocol.

A *context* of partial curves is drawn from a task: configurations in random order, each observed up to a random
epoch in 1..T-1, until the observed points total N (the last one cut to fit). Every model then predicts every
remaining epoch of those curves; scored by the mean squared error and the mean Gaussian log-likelihood of the
truth under the predicted mean and standard deviation, with the fit + predict seconds. Values are min-max
normalised over the task's non-diverged configurations (its divergence rule, :mod:`harness.divergence`; diverged
ones are never drawn), as ifBO normalises its benchmarks to [0, 1]; a maximised metric is turned into a loss first.

Models (:data:`MODELS`):

* ``last_seen``: the last observed value, for every remaining epoch (a point prediction: no log-likelihood);
* ``nusvr``: one nu-SVR (RBF, C=1, nu=0.5: scikit-learn's defaults) that maps (hyperparameters, target epoch / T,
  observed epoch / T, value observed there) to the value at the target epoch, trained on pairs of epochs within
  the context's curves (at most ``max_pairs``, drawn at random): the way a curve-feature regressor predicts a whole
  curve (a point prediction);
* ``dpl``: DPL's power-law ensemble (:mod:`harness.freezethaw.power_law`) trained from scratch on the context's
  (hyperparameters, epoch / T, value) points, mean and standard deviation over its 5 members;
* ``dyhpo``: DyHPO's deep-kernel GP (:mod:`harness.freezethaw.deep_kernel`) trained from scratch on the context's
  points with the curve before each, queried with the observed prefix as the curve;
* ``lce``: Domhan's curve extrapolation (:mod:`harness.predictors.lce`, its ``cheap`` MCMC by default), one curve
  at a time as Domhan's method works (it learns nothing across configurations): each context curve's prefix
  fitted and its posterior predictive evaluated at every remaining epoch (:meth:`LCEPred.predict_dist_epochs`);
  a prefix of fewer than 3 points (after LCE's cut of a flat beginning) gets its last value with std 0.25.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from ..store import CurveSet

MODELS = ("last_seen", "nusvr", "lce", "dpl", "dyhpo")
POINTS = (400, 1000, 1800)

#: ifBO's Table 1 (device cpu): log-likelihood / MSE at 1000 context points, and fit + predict seconds at 400 /
#: 1000 / 1800 points; its LCBench is the raw data (here YAHPO's surrogate), its TaskSet mf-prior-bench's 24 tasks
IFBO_TABLE = {
    "dpl": {"lcbench": (-11.98, 0.007), "taskset": (-20.35, 0.004), "seconds": (17.7, 42.0, 73.4)},
    "dyhpo": {"lcbench": (-0.368, 0.012), "taskset": (-0.381, 0.008), "seconds": (16.9, 59.9, 166.5)},
}


def normalised(cs: CurveSet) -> tuple[np.ndarray, np.ndarray]:
    """The task's curves as losses min-max normalised over its non-diverged configurations, and their rows."""
    from ..divergence import diverged, rule_of

    loss = cs.loss()
    keep = np.flatnonzero(~diverged(loss, rule_of(cs)))
    sub = loss[keep]
    lo, hi = float(np.nanmin(sub)), float(np.nanmax(sub))
    return (sub - lo) / (hi - lo if hi > lo else 1.0), keep


def draw_context(n_configs: int, T: int, N: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rows and observed epochs (1..T-1) of a context of N points (the last curve cut to fit)."""
    rows, cuts, total = [], [], 0
    for r in rng.permutation(n_configs):
        c = int(rng.integers(1, T))
        c = min(c, N - total)
        rows.append(int(r))
        cuts.append(c)
        total += c
        if total >= N:
            break
    if total < N:
        raise ValueError(f"a context of {N} points needs more curves than the task's {n_configs} (at most "
                         f"{n_configs * (T - 1)} points)")
    return np.array(rows), np.array(cuts)


def _features(cs: CurveSet, keep: np.ndarray) -> np.ndarray:
    """The model inputs of the configurations ``keep``, as the freeze-thaw algorithms make theirs."""
    from ..algorithms.freezethaw import scaled_columns
    from .features import static_features

    return scaled_columns(lambda kinds: static_features(cs, kinds), keep)


def evaluate(cs: CurveSet, N: int, model: str, *, seed: int = 0, max_pairs: int = 2000,
             epochs: dict[str, int] | None = None, lce_fit: str = "cheap") -> dict[str, Any]:
    """One model on one context of ``N`` points: ``mse``, ``ll`` (NaN for point predictions), ``seconds``, and the
    counts of context and target points."""
    if model not in MODELS:
        raise ValueError(f"model is {model!r}, but must be one of {', '.join(MODELS)}")
    Y, keep = normalised(cs)
    X = _features(cs, keep)
    n, T = Y.shape
    rng = np.random.default_rng(seed)
    rows, cuts = draw_context(n, T, N, rng)
    targets = [(i, e) for i, c in enumerate(cuts) for e in range(c + 1, T + 1)]
    ti = np.array([i for i, _ in targets])
    te = np.array([e for _, e in targets])
    truth = Y[rows[ti], te - 1]
    epochs = {"dpl": 250, "dyhpo": 1000, **(epochs or {})}
    t0 = time.perf_counter()
    std = None
    if model == "last_seen":
        mean = Y[rows[ti], cuts[ti] - 1]
    elif model == "nusvr":
        from sklearn.svm import NuSVR

        pairs = [(i, a, b) for i, c in enumerate(cuts) for b in range(2, c + 1) for a in range(1, b)]
        if len(pairs) > max_pairs:
            pairs = [pairs[k] for k in rng.choice(len(pairs), max_pairs, replace=False)]
        if not pairs:  # every curve observed for one epoch: nothing to learn from, the last value
            mean = Y[rows[ti], cuts[ti] - 1]
        else:
            P = np.array(pairs)
            F = np.column_stack([X[rows[P[:, 0]]], P[:, 2] / T, P[:, 1] / T, Y[rows[P[:, 0]], P[:, 1] - 1]])
            svr = NuSVR().fit(F, Y[rows[P[:, 0]], P[:, 2] - 1])
            Q = np.column_stack([X[rows[ti]], te / T, cuts[ti] / T, Y[rows[ti], cuts[ti] - 1]])
            mean = svr.predict(Q)
    elif model == "lce":
        from .lce import LCEPred

        means, stds = [], []
        for i, c in enumerate(cuts):
            lce = LCEPred(T=T, mode="min", fit=lce_fit, seed=seed + i).fit_bounds(Y)
            m, s = lce.predict_dist_epochs(Y[rows[i], :c], np.arange(c + 1, T + 1))
            means.append(m)
            stds.append(s)
        mean, std = np.concatenate(means), np.concatenate(stds)
    elif model == "dpl":
        from ..freezethaw.power_law import PowerLawEnsemble

        ctx = [(i, e) for i, c in enumerate(cuts) for e in range(1, c + 1)]
        ci, ce = np.array([i for i, _ in ctx]), np.array([e for _, e in ctx])
        ens = PowerLawEnsemble(X.shape[1], seed=seed)
        ens.fit(X[rows[ci]], Y[rows[ci], ce - 1], ce / T, epochs["dpl"])
        pred = ens.predict(X[rows[ti]], te / T)
        mean, std = pred.mean(axis=0), pred.std(axis=0)
    else:
        from ..freezethaw.deep_kernel import DeepKernelGP

        def curves_before(ii: np.ndarray, ee: np.ndarray) -> np.ndarray:
            width = max(3, int(ee.max()) - 1)
            out = np.zeros((len(ii), width))
            for k, (i, e) in enumerate(zip(ii, ee, strict=True)):
                out[k, : e - 1] = Y[rows[i], : e - 1]
            return out

        ctx = [(i, e) for i, c in enumerate(cuts) for e in range(1, c + 1)]
        ci, ce = np.array([i for i, _ in ctx]), np.array([e for _, e in ctx])
        gp = DeepKernelGP(X.shape[1], seed=seed)
        cb = curves_before(ci, ce)
        gp.fit(X[rows[ci]], ce / T, cb, Y[rows[ci], ce - 1], epochs["dyhpo"])
        qc = curves_before(ti, cuts[ti] + 1)  # the observed prefix, for every remaining epoch
        mean, std = gp.predict(X[rows[ci]], ce / T, cb, X[rows[ti]], te / T, qc, Y[rows[ci], ce - 1])
    seconds = time.perf_counter() - t0
    mse = float(np.mean((mean - truth) ** 2))
    ll = math.nan
    if std is not None:
        s = np.maximum(std, 1e-6)
        ll = float(np.mean(-0.5 * ((truth - mean) / s) ** 2 - np.log(s) - 0.5 * math.log(2 * math.pi)))
    return {"model": model, "points": N, "seed": seed, "mse": mse, "ll": ll, "seconds": seconds,
            "context_curves": len(rows), "targets": len(targets)}


def final_from_prefixes(model: str, cs: CurveSet, tr: np.ndarray, te: np.ndarray, tau: int, *, seed: int = 0,
                        epochs: dict[str, int] | None = None, max_points: int = 1000) -> np.ndarray:
    """Baker's R^2 protocol for a curve model: trained on the full curves of the configurations ``tr`` and the
    first ``tau`` epochs of ``te`` (every observed point, as DPL and DyHPO train on what a run has seen), the final
    value of each of ``te`` predicted (metric units). Values are min-max scaled over what the model sees. DyHPO's
    exact GP is trained on at most ``max_points`` of those points drawn at random (its cost grows with their cube:
    1000 epochs on 2,500 points would take minutes a fit here), always keeping every point of ``te``."""
    if model not in ("dpl", "dyhpo"):
        raise ValueError(f"model is {model!r}, but must be dpl or dyhpo")
    loss = cs.loss()
    T = cs.n_epochs
    Xall = _features(cs, np.arange(cs.n_configs))
    pts = [(r, e) for r in tr for e in range(1, T + 1)] + [(r, e) for r in te for e in range(1, tau + 1)]
    rows = np.array([r for r, _ in pts])
    eps = np.array([e for _, e in pts])
    vals = loss[rows, eps - 1]
    ok = np.isfinite(vals)
    rows, eps, vals = rows[ok], eps[ok], vals[ok]
    lo, hi = float(vals.min()), float(vals.max())
    span = hi - lo if hi > lo else 1.0
    scaled = (vals - lo) / span
    epochs = {"dpl": 250, "dyhpo": 1000, **(epochs or {})}
    sign = -1.0 if cs.mode == "max" else 1.0
    if model == "dpl":
        from ..freezethaw.power_law import PowerLawEnsemble

        ens = PowerLawEnsemble(Xall.shape[1], seed=seed)
        ens.fit(Xall[rows], scaled, eps / T, epochs["dpl"])
        pred = ens.predict(Xall[te], 1.0).mean(axis=0)
    else:
        from ..freezethaw.deep_kernel import DeepKernelGP

        rng = np.random.default_rng(seed)
        in_te = np.isin(rows, te)
        keep = np.flatnonzero(in_te)
        others = np.flatnonzero(~in_te)
        room = max(max_points - len(keep), 0)
        if len(others) > room:
            others = np.sort(rng.choice(others, size=room, replace=False))
        sel = np.sort(np.concatenate([keep, others]))
        r, e, y = rows[sel], eps[sel], scaled[sel]
        width = max(3, T - 1)
        curves = np.zeros((len(r), width))
        row_scaled = {int(q): (loss[q] - lo) / span for q in np.unique(r)}
        for k, (q, ep) in enumerate(zip(r, e, strict=True)):
            curves[k, : ep - 1] = np.nan_to_num(row_scaled[int(q)][: ep - 1])
        qc = np.zeros((len(te), width))
        for k, q in enumerate(te):
            qc[k, :tau] = np.nan_to_num((loss[q, :tau] - lo) / span)
        gp = DeepKernelGP(Xall.shape[1], seed=seed)
        gp.fit(Xall[r], e / T, curves, y, epochs["dyhpo"])
        pred, _ = gp.predict(Xall[r], e / T, curves, Xall[te], np.ones(len(te)), qc, y)
    return sign * (pred * span + lo)
