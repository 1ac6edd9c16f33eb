"""The R^2 protocol of Baker et al. Table 1, Table 2, Figure 3 and Table 8 (SPEC 2.8).

For each repeat: sample ``n_train`` configs (seed = repeat) as the training set, test on all others;
fit the method on the features at ``tau = max(1, round_half_up(x/100 * T))``; score R^2 on the test set.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..config import is_int_at_least
from ..store import CurveSet
from . import TARGETED, budget_size, make_predictor
from .features import FeatureBuilder, parse_sets
from .zoo import r2


def tau_for(fraction: float, T: int) -> int:
    """SPEC 2.2: tau = max(1, round_half_up(x/100 * T)), capped at T-1."""
    return int(min(max(1, math.floor(fraction / 100 * T + 0.5)), max(T - 1, 1)))


@dataclass(frozen=True)
class Task:
    """One cell of a protocol. ``target`` (``final`` | ``delta`` | ``auto``) applies to the searched models
    (nusvr, ols, blr, rf) on feature sets with TS; elsewhere the model predicts y_T as SPEC 2.1 says."""

    method: str
    features: str
    fraction: float
    target: str = "final"
    options: tuple[tuple[str, Any], ...] = ()  # predictor constructor options, e.g. (("clip_features", False),)

    def effective_target(self) -> str:
        sets = parse_sets(self.features)
        ok = self.method in TARGETED and ("TS" in sets or "PREFIX" in sets)
        return self.target if ok else "final"

    @property
    def label(self) -> str:
        """Method name in tables: ``nusvr`` for the SPEC target, ``nusvr/delta`` or ``nusvr/auto`` otherwise,
        with any options as ``[key=value]``."""
        t = self.effective_target()
        name = self.method if t == "final" else f"{self.method}/{t}"
        return name + ("[" + ",".join(f"{k}={v}" for k, v in self.options) + "]" if self.options else "")


CLIP_MODES = ("observed", "none")


def clip_to_observed(pred: np.ndarray, train_curves: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """Clip predictions to the range of every value seen in the training curves, widened by ``margin``
    of that range. A linear model extrapolating from an outlying test prefix can otherwise predict an
    impossible value (an accuracy of -4 on MNIST) that alone decides R^2. (SPEC is silent; choice.)"""
    lo, hi = float(np.nanmin(train_curves)), float(np.nanmax(train_curves))
    m = margin * (hi - lo)
    return np.clip(pred, lo - m, hi + m)


def run_protocol(cs: CurveSet, tasks: Sequence[Task], *, n_train: int = 100, repeats: int = 10,
                 budget: str | int = "cheap", seed: int = 0, swapped: bool = False, lce_test: int = 40,
                 train_side: np.ndarray | None = None, test_side: np.ndarray | None = None,
                 progress: bool = True, desc: str = "predict", clip: str = "observed",
                 lce_budget: str = "cheap", n_jobs: int = 1,
                 repeat_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """One row per (task, repeat); ``repeat_ids`` computes only those repeats of the ``repeats`` (their rows are
    the same as in the full run: every repeat has its own seeds). ``train_side``/``test_side`` restrict the pools (Table 8 OOD);
    ``clip="observed"`` applies :func:`clip_to_observed` to every SRM prediction ("none": raw);
    ``lce_budget`` is the LCE fit (``paper`` / ``cheap`` MCMC or ``bma``, see :mod:`.lce`); ``n_jobs`` runs the
    repeats in that many joblib processes (the same rows; -1: every core)."""
    if clip not in CLIP_MODES:
        raise ValueError(f"clip is {clip!r}, but must be one of {CLIP_MODES}")
    for name, v, lo in (("repeats", repeats, 1), ("n_train", n_train, 2), ("seed", seed, 0)):
        if not is_int_at_least(v, lo):
            raise ValueError(f"{name} is {v!r}, but must be an integer >= {lo}")
    bad = [t.fraction for t in tasks if not 0 < t.fraction < 100]
    if bad:
        raise ValueError(f"fraction is {bad[0]:g}, but must be a percentage of the curve strictly between 0 and 100")
    budget_size(budget)
    pool_tr = np.arange(cs.n_configs) if train_side is None else np.asarray(train_side)
    pool_te = np.arange(cs.n_configs) if test_side is None else np.asarray(test_side)
    if n_train >= len(pool_tr):
        raise ValueError(f"n_train is {n_train}, but the training pool has only {len(pool_tr)} configs")
    if test_side is None and cs.n_configs - n_train < 2:
        raise ValueError(f"n_train is {n_train}, which leaves {cs.n_configs - n_train} test config(s) of "
                         f"{cs.name}'s {cs.n_configs}; R^2 needs at least 2 (n_train at most {cs.n_configs - 2})")
    reps = list(range(repeats)) if repeat_ids is None else [int(r) for r in repeat_ids]
    if any(not 0 <= r < repeats for r in reps):
        raise ValueError(f"repeat_ids are {reps}, but must lie in 0..{repeats - 1}")
    args = (cs, tasks, pool_tr, pool_te, n_train, budget, seed, swapped, lce_test, clip, lce_budget)
    bar = tqdm(total=len(tasks) * len(reps), desc=f"{desc} {cs.name}", disable=not progress)
    rows: list[dict[str, Any]] = []
    if n_jobs == 1 or len(reps) == 1:
        builders: dict[str, FeatureBuilder] = {}
        for rep in reps:
            rows += _one_repeat(*args, rep, builders, bar)
    else:
        from joblib import Parallel, delayed

        from ..threads import blas_threads

        par = Parallel(n_jobs=n_jobs, return_as="generator", batch_size=1)
        blas = blas_threads()
        for got in par(delayed(_repeat_in_worker)(blas, *args, rep) for rep in reps):
            rows += got
            bar.update(len(got))
    bar.close()
    return pd.DataFrame(rows)


#: scores of computed cells by everything that decides them (model, settings, seed, the exact training and test
#: data), within one process: experiments sharing a split and a task's seed share the cell (the nu-SVR row of
#: ``targets`` is ``table1``'s) and it is fitted once. Values: (r2, n_test, seconds the fit took).
_CELLS: dict[tuple[Any, ...], tuple[float, int, float]] = {}
CELL_CACHE_SIZE = 100_000


def _cell_key(task: Task, tau: int, budget: str | int, seed: int, clip: str, swapped: bool,
              *arrays: np.ndarray) -> tuple[Any, ...]:
    from .srm import data_digest

    return (task.method, task.features, tau, task.effective_target(), task.options, str(budget), seed, clip,
            swapped, data_digest(*arrays))


def _repeat_in_worker(blas: int | None, *args: Any) -> list[dict[str, Any]]:
    """One repeat in a joblib worker: one BLAS thread (no oversubscription), and the parent's count where the
    count changes the numbers (:mod:`harness.threads`): a repeat gives the same numbers in any process."""
    from ..threads import worker_blas

    with worker_blas(blas):
        return _one_repeat(*args, {}, None)


def _one_repeat(cs: CurveSet, tasks: Sequence[Task], pool_tr: np.ndarray, pool_te: np.ndarray, n_train: int,
                budget: str | int, seed: int, swapped: bool, lce_test: int, clip: str, lce_budget: str, rep: int,
                builders: dict[str, FeatureBuilder], bar: Any) -> list[dict[str, Any]]:
    """The rows of repeat ``rep``: its own training split and predictor seeds (``default_rng([seed, rep])``), so
    repeats run in any order or process with the same numbers."""
    y = cs.curve()
    T = cs.n_epochs
    target = y[:, -1]
    rows = []
    rng = np.random.default_rng([seed, rep])
    tr = np.sort(rng.choice(pool_tr, size=n_train, replace=False))
    te = np.setdiff1d(pool_te, tr)
    if len(te) < 2:  # R^2 needs two test values; one would make every cell NaN
        raise ValueError(f"the test side of {cs.name} has {len(te)} config(s) outside the training set; R^2 "
                         f"needs at least 2")
    for task in tasks:
        tau = tau_for(task.fraction, T)
        t0 = time.perf_counter()
        if task.method in ("dpl", "dyhpo"):  # curve models, trained on every observed point (extrapolation.py)
            from .extrapolation import final_from_prefixes

            pred = final_from_prefixes(task.method, cs, tr, te, tau, seed=int(rng.integers(2**31)))
            if clip == "observed":
                pred = clip_to_observed(pred, y[tr])
            score, n_test, secs = r2(target[te], pred, swapped), len(te), time.perf_counter() - t0
            score_trim = math.nan
        elif task.method == "lce":
            from .lce import LCEPred

            sub = te if len(te) <= lce_test else np.sort(rng.choice(te, size=lce_test, replace=False))
            lce = LCEPred(T=T, mode=cs.mode, seed=int(rng.integers(2**31)), fit=lce_budget)
            lce.fit_bounds(y[tr])
            pred = lce.predict_curves(y[sub, :tau])
            score, score_trim = r2(target[sub], pred, swapped), _trimmed_r2(target[sub], pred, target[tr])
            n_test = len(sub)
            secs = time.perf_counter() - t0
        else:
            if task.features not in builders:
                builders[task.features] = FeatureBuilder(cs, task.features)
            fb = builders[task.features]
            seed_i = int(rng.integers(2**31))
            X_tr, X_te = fb(tr, tau), fb(te, tau)
            key = _cell_key(task, tau, budget, seed_i, clip, swapped, X_tr, target[tr], X_te, target[te],
                            y[tr] if clip == "observed" else np.empty(0))
            if key in _CELLS:
                score, n_test, secs = _CELLS[key]
            else:
                est = make_predictor(task.method, tau=tau, budget=budget, seed=seed_i,
                                     target=task.effective_target(), options=dict(task.options))
                est.fit(X_tr, target[tr])
                pred = est.predict(X_te)
                if clip == "observed":
                    pred = clip_to_observed(pred, y[tr])
                score, n_test, secs = r2(target[te], pred, swapped), len(te), time.perf_counter() - t0
                if len(_CELLS) >= CELL_CACHE_SIZE:
                    _CELLS.clear()
                _CELLS[key] = (score, n_test, secs)
            score_trim = math.nan
        rows.append({"dataset": cs.name, "method": task.label, "features": task.features,
                     "fraction": task.fraction, "tau": tau, "repeat": rep, "r2": score, "r2_trimmed": score_trim,
                     "n_train": n_train, "n_test": n_test, "seconds": secs})
        if bar is not None:
            bar.update(1)
    return rows


def _trimmed_r2(y: np.ndarray, pred: np.ndarray, y_train: np.ndarray) -> float:
    """SPEC 5.1: R^2 after dropping predictions outside [min - range, max + range] of the training targets."""
    lo, hi = float(y_train.min()), float(y_train.max())
    rng = hi - lo
    keep = (pred >= lo - rng) & (pred <= hi + rng)
    return r2(y[keep], pred[keep]) if keep.sum() >= 2 else math.nan


def aggregate(df: pd.DataFrame, by: Iterable[str] = ("dataset", "method", "features", "fraction")) -> pd.DataFrame:
    """100 * mean R^2 and standard error over repeats."""
    by = list(by)
    g = df.groupby(by, sort=False)["r2"]
    out = g.agg(["mean", "std", "count"]).reset_index()
    out["r2x100"] = 100 * out["mean"]
    out["se_x100"] = 100 * out["std"] / np.sqrt(out["count"])
    out["cell"] = [f"{m:.2f} ± {s:.2f}" for m, s in zip(out["r2x100"], out["se_x100"], strict=True)]
    return out


def regression_check(current: pd.DataFrame, baseline: pd.DataFrame, tolerance: float,
                     tolerance_se: float = 0.0) -> list[str]:
    """Cells (by dataset/method/features/fraction) whose mean R^2 fell by more than their tolerance (R^2 units):
    ``max(tolerance, tolerance_se x the baseline cell's standard error)``. Only datasets present in ``current``
    are compared; a cell of such a dataset missing in ``current`` fails."""
    key = ["dataset", "method", "features", "fraction"]
    baseline = baseline[baseline["dataset"].isin(set(current["dataset"]))]
    cur = aggregate(current).set_index(key)["mean"]
    agg = aggregate(baseline).set_index(key)
    failures = []
    for k, b in agg["mean"].items():
        se = agg["se_x100"][k] / 100
        tol = max(tolerance, tolerance_se * se) if np.isfinite(se) else tolerance
        if k not in cur.index:
            failures.append(f"{'/'.join(map(str, k))}: missing in the current run (baseline R^2 {b:.4f})")
        elif cur[k] < b - tol:
            failures.append(f"{'/'.join(map(str, k))}: R^2 {cur[k]:.4f} < baseline {b:.4f} - {tol:.4f}")
    return failures
