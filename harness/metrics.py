"""Run records and metrics (SPEC section 6): epochs, regret, recovered optimum, aggregation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .scheduler import Scheduler
from .sim import Oracle, Trace
from .store import CurveSet

#: "near the optimum": regret within this share of the pool's range of final values
NEAR_OPTIMUM = 0.01


@dataclass
class RunRecord:
    """One (dataset, algorithm, params, seed) replay, JSON-serialisable (SPEC section 8)."""

    dataset: str
    dataset_hash: str
    algorithm: str
    params: dict[str, Any]
    seed: int
    accounting: str
    workers: int
    epochs: int
    makespan: float
    n_trials: int
    returned_config_id: str | None
    returned_final: float  # true final value (metric units) of the returned config, at T
    returned_at_R: float  # its true value at R
    optimum_final: float  # pool optimum at T, metric units
    regret: float  # loss units at T (>= 0)
    normalized_regret: float
    regret_at_R: float
    returned_optimum: bool
    in_final_set: bool
    optimum_sampled: bool
    time_to_best: float  # simulated time at which the returned config first reached R
    epochs_to_best: int
    anytime: list[tuple[int, float, float]] = field(default_factory=list)  # (epochs, time, best true final)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    #: predictor -> in-run accuracy of the predictions the algorithm acted on (see score_predictions)
    predictor_scores: dict[str, dict[str, float]] = field(default_factory=dict)
    #: the epoch budget the run was given (equal-budget protocol), None when the algorithm ended the run itself
    budget: int | None = None
    #: one entry per trial (see :func:`trial_ledger`), when asked for
    ledger: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in OPTIONAL_FIELDS:  # records made without them read as before
            if d[k] is None:
                del d[k]
        return d


#: record fields left out of its JSON when they are None
OPTIONAL_FIELDS = ("budget", "ledger")


def trial_ledger(oracle: Oracle, trace: Trace, max_epoch: int) -> dict[str, Any]:
    """One entry per trial, in the order the trials started, as compact columns: ``row`` (pool row; a row
    ``>= pool`` is a configuration proposed in surrogate mode), ``epochs`` (epochs of it trained: its furthest
    paid-for epoch), ``end`` (one letter a trial: ``f`` trained to the full budget R, ``s`` stopped by the
    algorithm, ``p`` paused and never resumed to R, or left running when the run's budget ended it, ``u`` started
    but never trained, e.g. drawn ahead by an algorithm whose run ended first), ``restarted``
    (trials that started a configuration an earlier trial had already trained, from epoch 1), and the totals a
    reader checks claims with: trials, distinct configurations, restarted trials and the epochs they trained.
    ``observed``: [epochs charged, loss] each time the best value reported to the algorithm at any epoch improved
    (the incumbent freeze-thaw papers plot: DPL's and DyHPO's "best value seen so far"), in loss units."""
    rows, trained = list(oracle.trial_config), list(oracle.trained)
    seen: set[int] = set()
    restarted: list[int] = []
    end = []
    for t, (r, e) in enumerate(zip(rows, trained, strict=True)):
        if e > 0 and r in seen:
            restarted.append(t)
        if e > 0:
            seen.add(r)
        end.append("f" if e >= max_epoch else "s" if t in trace.stopped else "p" if e > 0 else "u")
    restart_epochs = int(sum(trained[t] for t in restarted))
    total = int(sum(trained))
    return {"pool": oracle.n_configs, "row": rows, "epochs": trained, "end": "".join(end), "restarted": restarted,
            "n_trials": len(rows), "distinct": len(seen), "n_restarted": len(restarted),
            "restart_epochs": restart_epochs, "trained_epochs": total,
            "observed": [[int(e), float(v)] for e, v in trace.observed]}


def _to_metric(cs: CurveSet, loss: float) -> float:
    return -loss if cs.mode == "max" else loss


def make_record(cs: CurveSet, oracle: Oracle, trace: Trace, sched: Scheduler, *, seed: int, accounting: str,
                workers: int, extra: dict[str, Any] | None = None, algorithm: str | None = None,
                ledger: bool = False) -> RunRecord:
    R = sched.max_epoch
    rows = np.arange(oracle.n_configs)
    final_T, final_R = oracle.losses(rows, oracle.n_epochs), oracle.losses(rows, R)
    opt = float(final_T.min())
    worst = float(final_T[np.isfinite(final_T)].max())
    optimal = set(np.flatnonzero(final_T == opt).tolist())
    sampled = set(trace.trial_config)
    reached_cfg = {oracle.config(t) for t, *_ in trace.reached}
    inc = sched.incumbent()
    if inc is None and trace.budget_hit and trace.reached:
        # the budget ended the run before the algorithm named one (e.g. random search's single batch, cut at the
        # budget): the best trained to R, the rule the anytime readings use
        inc = min(trace.reached, key=lambda x: x[3])[0]
    n_pool, T = len(final_T), oracle.n_epochs

    def final(c: int, at: int = T) -> float:  # a pool row, or a configuration proposed in surrogate mode
        return float((final_T if at == T else final_R)[c]) if c < n_pool else oracle.loss_of(c, at)

    anytime, best_obs, best_true = [], math.inf, math.inf
    for t, ep, tm, obs in trace.reached:
        if obs < best_obs:
            best_obs, best_true = obs, final(oracle.config(t))
        anytime.append((ep, tm, _to_metric(cs, best_true)))
    if inc is None:
        cid, ret_T, ret_R, reg, reg_R = None, math.nan, math.nan, math.nan, math.nan
        t_best, e_best = math.nan, -1
    else:
        c = oracle.config(inc)
        cid = oracle.config_id(c)
        ret_T, ret_R = final(c), final(c, R)
        reg, reg_R = ret_T - opt, ret_R - float(final_R.min())
        hit = next((x for x in trace.reached if x[0] == inc), None)  # None: returned before reaching R
        t_best, e_best = (hit[2], hit[1]) if hit else (math.nan, -1)
    return RunRecord(
        dataset=cs.name,
        dataset_hash=cs.content_hash(),
        algorithm=algorithm or sched.name,
        params=sched.params(),
        seed=seed,
        accounting=accounting,
        workers=workers,
        epochs=trace.epochs_used,
        makespan=trace.makespan,
        n_trials=trace.n_trials,
        returned_config_id=cid,
        returned_final=_to_metric(cs, ret_T),
        returned_at_R=_to_metric(cs, ret_R),
        optimum_final=_to_metric(cs, opt),
        regret=reg,
        normalized_regret=reg / (worst - opt) if worst > opt else 0.0,
        regret_at_R=reg_R,
        returned_optimum=bool(inc is not None and oracle.config(inc) in optimal),
        in_final_set=bool(reached_cfg & optimal),
        optimum_sampled=bool(sampled & optimal),
        time_to_best=t_best,
        epochs_to_best=e_best,
        anytime=anytime,
        rounds=sched.log_record(),
        extra={**(extra or {}), **oracle.record_extra(), **pool_notes(cs)},
        predictor_scores=score_predictions(sched.predictions(), oracle),
        budget=trace.budget,
        ledger=trial_ledger(oracle, trace, R) if ledger else None,
    )


def pool_notes(cs: CurveSet) -> dict[str, Any]:
    """What the record says of its pool when configurations were left out of it at load time: how many the nan
    policy dropped (with the policy's name) and how many a divergence rule dropped (``:diverged=drop``). Nothing
    when none were (records of such pools read as before)."""
    info = cs.info or {}
    out: dict[str, Any] = {}
    if info.get("dropped_ids"):
        out["pool_dropped"] = {"configs": len(info["dropped_ids"]), "nan_policy": info.get("nan_policy", "drop")}
    if info.get("diverged_ids"):
        out["pool_diverged_dropped"] = {"configs": len(info["diverged_ids"]),
                                        "rule": (cs.provenance or {}).get("divergence", "?")}
    return out


def score_predictions(predictions: list[dict[str, Any]], oracle: Oracle) -> dict[str, dict[str, float]]:
    """Score what an algorithm predicted against the recorded table (the algorithm never sees the truth).

    Each prediction names its ``trial``, the ``target`` epoch, the predicted loss ``mean`` (and ``std`` where
    the predictor has one), the ``decision`` taken and the loss ``threshold`` it was compared with. Per
    predictor: ``n``, ``r2`` (pooled over every target epoch and every check), ``spearman``, ``mae``, ``coverage``
    (share of truths inside mean ± 1.96 std), ``stops`` / ``wrong_stops``: stop or pause decisions, and those whose
    true value beat the threshold; ``r2_by_rung`` / ``n_by_rung``: R^2 and count per target epoch (the rung a
    prediction aims at).
    """
    by: dict[str, list[dict[str, Any]]] = {}
    for p in predictions:
        by.setdefault(str(p.get("predictor", "?")), []).append(p)
    out: dict[str, dict[str, float]] = {}
    for name, ps in by.items():
        truth = np.array([oracle.loss_of(oracle.config(p["trial"]), p["target"]) for p in ps], float)
        mean = np.array([p["mean"] for p in ps], float)
        ok = np.isfinite(truth) & np.isfinite(mean)
        t, m = truth[ok], mean[ok]
        ss = float(np.sum((t - t.mean()) ** 2)) if len(t) else 0.0
        r2 = 1 - float(np.sum((t - m) ** 2)) / ss if len(t) >= 2 and ss > 0 else math.nan
        rho = math.nan
        if len(t) >= 3 and np.ptp(t) > 0 and np.ptp(m) > 0:
            from scipy.stats import spearmanr

            rho = float(spearmanr(t, m).statistic)
        std = np.array([p.get("std", math.nan) for p in ps], float)
        has_std = ok & np.isfinite(std)
        coverage = float(np.mean(np.abs(truth[has_std] - mean[has_std]) <= 1.96 * std[has_std])) \
            if has_std.any() else math.nan
        stops = [i for i, p in enumerate(ps) if p.get("decision") in ("stop", "pause")]
        wrong = sum(1 for i in stops if np.isfinite(truth[i]) and truth[i] < ps[i].get("threshold", -math.inf))
        targets = np.array([p["target"] for p in ps], int)
        by_rung = {}
        for r in sorted(set(targets[ok].tolist())):
            sel = ok & (targets == r)
            by_rung[str(r)] = _r2(truth[sel], mean[sel])
        out[name] = {"n": float(len(ps)), "r2": r2, "spearman": rho,
                     "mae": float(np.mean(np.abs(t - m))) if len(t) else math.nan, "coverage": coverage,
                     "stops": float(len(stops)), "wrong_stops": float(wrong), "r2_by_rung": by_rung,
                     "n_by_rung": {str(r): float(np.sum(targets == r)) for r in sorted(set(targets.tolist()))}}
    return out


def _r2(t: np.ndarray, m: np.ndarray) -> float:
    """R^2 of ``m`` against ``t`` (NaN with fewer than 2 values or a constant truth)."""
    if len(t) < 2:
        return math.nan
    ss = float(np.sum((t - t.mean()) ** 2))
    return 1 - float(np.sum((t - m) ** 2)) / ss if ss > 0 else math.nan


# ---------------------------------------------------------------------------------------------
# aggregation (SPEC 6.5)


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    std: float
    se: float
    ci_low: float
    ci_high: float

    def fmt(self, digits: int = 3) -> str:
        if self.n <= 1:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.se:.{digits}f}"


#: Student's t 97.5% quantiles by degrees of freedom (1..9), as ``scipy.stats.t.ppf(0.975, df)`` gives them (a
#: test compares): a replay's summary then needs no scipy
T975 = {1: 12.706204736174694, 2: 4.302652729749462, 3: 3.1824463052837078, 4: 2.7764451051977934,
        5: 2.5705818356363146, 6: 2.4469118511449786, 7: 2.364624251592784, 8: 2.306004135204166,
        9: 2.262157162798205}


def summarize(values: Any) -> Summary:
    """Mean, std (ddof=1), standard error and 95% CI (t-quantile for n <= 10, else 1.96)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return Summary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Summary(1, mean, math.nan, math.nan, mean, mean)
    std = float(x.std(ddof=1))
    se = std / math.sqrt(n)
    if n <= 10:
        q = T975[n - 1]
    else:
        q = 1.96
    return Summary(n, mean, std, se, mean - q * se, mean + q * se)


def bootstrap_ci(values: Any, *, n_boot: int = 10_000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


#: the fewest pairs with which a two-sided Wilcoxon signed-rank test can reach p < 0.05 (n = 5: p >= 2 / 2^5)
WILCOXON_MIN_PAIRS = 6


def min_wilcoxon_p(n_pairs: int, n_tests: int = 1) -> float:
    """The smallest two-sided p-value an exact Wilcoxon signed-rank test can give with ``n_pairs`` pairs (every
    difference of one sign), Holm-corrected over ``n_tests`` comparisons (the smallest p is multiplied by it)."""
    if n_pairs < 1:
        return 1.0
    return min(1.0, 2.0 / 2.0**n_pairs * max(n_tests, 1))


def paired_test(a: Any, b: Any) -> dict[str, float]:
    """Paired comparison of per-seed values: Wilcoxon signed-rank (exact for small n) and paired t."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired test needs equal lengths, got {a.shape} and {b.shape}")
    d = a - b
    out: dict[str, float] = {"n": float(len(d)), "mean_diff": float(d.mean()) if len(d) else math.nan}
    if len(d) >= 2 and np.any(d != 0):
        from scipy import stats

        out["wilcoxon_p"] = float(stats.wilcoxon(a, b, zero_method="zsplit").pvalue)
        out["ttest_p"] = float(stats.ttest_rel(a, b).pvalue) if np.std(d) > 0 else 0.0
    else:
        out["wilcoxon_p"] = 1.0
        out["ttest_p"] = 1.0
    return out
