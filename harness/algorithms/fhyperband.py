"""f-Hyperband and the MetaQNN-style early-stopping simulation of Baker et al. 2018 (SPEC 2.5-2.7).

Both use sequential regression models (one per observed length tau) with the LOOCV Gaussian error
model and the early-stopping rule: with higher-is-better ``u = -loss``, terminate a config at tau iff
``Phi((u_ref - delta - m) / sd) >= Delta`` where ``(m, sd)`` is the SRM's predictive distribution of
the target and ``u_ref`` the reference value (k-th best in the rung for f-Hyperband; best or n-th best
fully trained value for the architecture-search simulation).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..config import setting
from ..hb import Bracket, check_params, stable_top
from ..scheduler import Batch, Decision, Job, Results, SynchronousScheduler, TrialView
from .hyperband import BudgetConfig, Hyperband, learning_advice, resolve_R
from .swift import ORACLE, PredictorSettings


def _norm_cdf(x: float) -> float:
    from scipy.special import ndtr  # what scipy.stats.norm.cdf evaluates

    return float(ndtr(x))


@dataclass(frozen=True)
class SRMSettings(PredictorSettings):
    """Baker's SRMs and the early-stopping rule (shared by f-Hyperband and the early-stopping simulation)."""

    predictor: str = setting("nusvr", help="SRM regressor (harness.predictors.PREDICTORS) or module:Class")
    Delta: float = setting(0.95, help="stop when P(final below the reference - delta) >= Delta", range=(0, 1),
                           lo_open=True, hi_open=True)
    delta: float = setting(0.0, help="offset below the reference value (relaxed rule)", range=(0, None))
    features: str = setting("TS", help="'+'-joined subset of TS, AP, HP")
    error: str = setting("kfold", help="SRM error model: loo (SPEC), kfold (10-fold, cheap) or none",
                         choices=("loo", "kfold", "none"))
    bias_correction: bool = setting(True, help="add the mean held-out error to predictions (SPEC 2.4)")
    target: str = setting("final", help="what the searched SRMs regress: final, delta (y_T - y_tau) or auto",
                          choices=("final", "delta", "auto"))

    def check(self) -> None:
        from ..predictors.features import parse_sets

        try:
            sets = parse_sets(self.features)
        except ValueError as e:
            self.fail(f"features: {e}")
        if self.target != "final" and "TS" not in sets:
            self.fail(f"target is {self.target!r}: it needs the TS feature set (features are {self.features!r})")
        super().check()


class _SRMMixin:
    """Shared SRM construction: features from the paid curve prefix of u = -loss (+ dataset HP/AP columns)."""

    config: SRMSettings
    view: TrialView

    def _init_srm(self) -> None:
        c = self.config
        self.Delta, self.delta = c.Delta, c.delta
        self.predictor, self.features, self.budget = c.predictor, c.features, c.budget
        self.error, self.bias_correction, self.target = c.error, c.bias_correction, c.target

    def _target_param(self) -> dict[str, Any]:
        return {} if self.target == "final" else {"target": self.target}

    def start(self, view: TrialView, rng: np.random.Generator) -> None:
        from ..predictors.features import FeatureBuilder

        self.fb = FeatureBuilder.for_view(view, self.features)
        self.decisions: list[dict[str, Any]] = []
        super().start(view, rng)  # type: ignore[misc]

    def _u(self, trials: list[int], tau: int) -> np.ndarray:
        """Paid prefixes u[1..tau] = -loss of ``trials`` (every one trained to at least tau)."""
        return -self.view.prefixes(trials, tau)

    def _features(self, trials: list[int], tau: int, prefix: np.ndarray | None = None) -> np.ndarray:
        rows = np.array([self.view.config(t) for t in trials])
        return self.fb(rows, tau, prefix=self._u(trials, tau) if prefix is None else prefix)

    def _new_srm(self, seed: int) -> Any:
        from ..predictors.srm import SRM

        return SRM(lambda tau: self.config.make(tau=tau, seed=seed), error=self.error,
                   bias_correction=self.bias_correction, seed=seed)

    def _record(self, **d: Any) -> None:
        self.decisions.append(d)

    def predictions(self) -> list[dict[str, Any]]:
        """Predictions are of u = -loss; the record states them (and thresholds) as losses like every other
        algorithm."""
        return [{**d, "mean": -d["mean"], "threshold": -d["threshold"], "predictor": self.predictor}
                for d in self.decisions]


class FHyperband(_SRMMixin, Hyperband):
    name = "fhyperband"
    summary = "f-Hyperband (Baker et al. 2018): Hyperband whose SRMs stop a trial once it is unlikely to beat the rung's threshold"

    @dataclass(frozen=True)
    class Config(SRMSettings, BudgetConfig):
        algorithm: ClassVar[str] = "fhyperband"
        d: int = setting(100, help="full curves a rung needs before its SRMs are trained", range=(3, None))
        kappa: float = setting(0.5, help="the reference is the ceil(kappa * n_next)-th best value of the rung",
                               range=(0, 1), lo_open=True)
        tau_stride: int = setting(1, help="train SRMs at tau = 1, 1 + stride, ...", range=(1, None))
        reset_between_runs: bool = setting(False, help="forget curves and SRMs between Hyperband runs")

    def __init__(self, config: Any = None, /, **settings: Any):
        super().__init__(config, **settings)
        self._init_srm()
        self.d, self.kappa, self.tau_stride = self.config.d, self.config.kappa, self.config.tau_stride

    def advice(self, n_epochs: int) -> list[str]:
        c = self.config
        return learning_advice(self.name, c.d, c.R or n_epochs, c.eta, c.n_runs, c.reset_between_runs, "SRM")

    def start(self, view: TrialView, rng: np.random.Generator) -> None:
        self.data: dict[int, list[int]] = {}  # D[r]: trials fully trained to r
        self.srms: dict[int, Any] = {}  # M[r]
        self.n_stopped = 0
        super().start(view, rng)

    def reset_state(self) -> None:
        self.data.clear()
        self.srms.clear()

    def _train(self, r: int) -> None:
        trials = self.data[r]
        u = self._u(trials, r)  # paid prefixes: every trial of D[r] was trained to r
        u_r = u[:, r - 1]
        if self.predictor == ORACLE:  # the same warm-up (d full curves), then the recorded truth at every check
            self.srms[r] = set(range(1, r, self.tau_stride))
            return
        srm = self._new_srm(int(self.rng.integers(2**31)))
        for tau in range(1, r, self.tau_stride):
            srm.fit(tau, self._features(trials, tau, prefix=u), u_r)
        self.srms[r] = srm

    def run_rung(self, run: int, b: Bracket, i: int, trials: list[int]) -> Generator[Batch, Results, list[int]]:
        rung = b.rungs[i]
        r = rung.r_i
        n_next = rung.n_i // self.eta if i != b.s else 1
        k = max(1, math.ceil(self.kappa * n_next))
        values: dict[int, float] = {}  # u (observed or predicted), in processing order

        def on_checkpoint(t: int, tau: int, loss: float) -> Decision:
            srm = self.srms.get(r)  # Algorithm 2: M[r] is used from the trial after the one that completed D[r]
            if srm is None or tau not in srm:
                return Decision.CONTINUE
            if isinstance(srm, set):  # predictor "oracle": the trial's recorded value at r, with certainty
                m, sd = np.array([-self.view.hindsight(t, r)]), np.array([1e-12])
            else:
                m, sd = srm.predict(tau, self._features([t], tau))
            u = sorted(values.values(), reverse=True)
            thr = u[k - 1] - self.delta if len(u) >= k else -math.inf
            p_worse = _norm_cdf((thr - m[0]) / sd[0])
            stop = p_worse >= self.Delta
            self._record(trial=t, config=self.view.config(t), epoch=tau, target=r, mean=float(m[0]),
                         std=float(sd[0]), threshold=thr,
                         p_worse=p_worse, decision="stop" if stop else "continue", run=run, s=b.s, i=i,
                         k=k, n_values=len(u))
            if stop:
                values[t] = float(m[0])
                self.n_stopped += 1
                return Decision.PAUSE
            return Decision.CONTINUE

        for t in trials:  # sequential (Algorithm 2 processes T in order); the barrier is per trial
            res = yield Batch([Job(t, r, every_epoch=r in self.srms)], on_checkpoint)
            if res[t][0] >= r:
                values[t] = -res[t][1]
                table = self.data.setdefault(r, [])
                if len(table) < self.d:
                    table.append(t)
                    if len(table) == self.d and r not in self.srms and r > 1:
                        self._train(r)
        kept = stable_top(trials, [-values[t] for t in trials], rung.keep)
        self.rounds.append({"run": run, "s": b.s, "i": i, "n_trained": len(trials), "r_i": r, "keep": rung.keep,
                            "stopped": sum(1 for t in trials if t in values and self.view.trained(t) < r),
                            "kept_cut": -min(values[t] for t in kept), "epochs": self.view.epochs_used})
        return kept

    def extra_record(self) -> dict[str, Any]:
        out = {"stopped": self.n_stopped, "srm_rungs": sorted(self.srms)}
        if self.config.trace:
            out["trace"] = self.decisions
        return out


class EarlyStopSim(_SRMMixin, SynchronousScheduler):
    """Baker 4.1: train configs in a random order; the first ``n_burnin`` fully, then stop each config
    as soon as the rule says so. ``nth`` compares with the n-th best fully trained value."""

    name = "earlystop"
    summary = "Baker et al.'s MetaQNN early stopping: after n_burnin full curves, stop each config whose predicted final value is unlikely to beat the best"

    @dataclass(frozen=True)
    class Config(SRMSettings):
        algorithm: ClassVar[str] = "earlystop"
        R: int | None = setting(None, help="epochs of a full training, T (default: the dataset's T)",
                                range=(2, None))
        Delta: float = setting(0.99, help="stop when P(final below the reference - delta) >= Delta", range=(0, 1),
                               lo_open=True, hi_open=True)
        nth: int = setting(1, help="compare with the n-th best fully trained value", range=(1, None))
        n_burnin: int = setting(100, help="configs trained fully before the SRMs are fitted", range=(2, None))
        refit_every: int = setting(0, help="refit the SRMs after every K further full curves (0: never, SPEC)",
                                   range=(0, None))
        n_configs: int | None = setting(None, help="configs in the ordering (default: the whole pool)",
                                        range=(1, None))

    def __init__(self, config: Any = None, /, **settings: Any):
        super().__init__(config, **settings)
        self._init_srm()
        c = self.config
        self.nth, self.n_burnin, self.refit_every, self.n_configs = c.nth, c.n_burnin, c.refit_every, c.n_configs

    def start(self, view: TrialView, rng: np.random.Generator) -> None:
        self.T = self.max_epoch = resolve_R(self.config.R, view, self.name)
        check_params(self.T, 2)
        self.n_stopped = 0
        super().start(view, rng)

    def params(self) -> dict[str, Any]:
        return {**super().params(), "R": self.T}

    def _fit(self, full: list[int]) -> Any:
        if self.predictor == ORACLE:  # the same burn-in, then the recorded final value at every check
            return set(range(1, self.T))
        u = self._u(full, self.T)
        srm = self._new_srm(int(self.rng.integers(2**31)))
        for tau in range(1, self.T):
            srm.fit(tau, self._features(full, tau, prefix=u), u[:, self.T - 1])
        return srm

    def program(self) -> Generator[Batch, Results, None]:
        n = self.n_configs or self.view.n_configs
        order = self.view.permutation()[:n]
        trials = [self.view.new_trial(c) for c in order]
        burn = trials[: self.n_burnin]
        yield Batch.uniform(burn, self.T)
        full = list(burn)
        finals = sorted((-self.view.value(t, self.T) for t in full), reverse=True)
        srm = self._fit(full)
        since = 0

        def on_checkpoint(t: int, tau: int, loss: float) -> Decision:
            if len(finals) < self.nth or tau not in srm:  # no model: too few finite burn-in curves
                return Decision.CONTINUE
            ref = finals[self.nth - 1]
            if isinstance(srm, set):  # predictor "oracle": the trial's recorded final value, with certainty
                m, sd = np.array([-self.view.hindsight(t, self.T)]), np.array([1e-12])
            else:
                m, sd = srm.predict(tau, self._features([t], tau))
            p_worse = _norm_cdf((ref - self.delta - m[0]) / sd[0])
            stop = p_worse >= self.Delta
            self._record(trial=t, epoch=tau, target=self.T, mean=float(m[0]), std=float(sd[0]),
                         threshold=ref - self.delta, p_worse=p_worse, decision="stop" if stop else "continue")
            if stop:
                self.n_stopped += 1
                return Decision.STOP
            return Decision.CONTINUE

        for t in trials[self.n_burnin:]:
            res = yield Batch([Job(t, self.T, every_epoch=True)], on_checkpoint)
            if res[t][0] >= self.T:
                finals.append(-res[t][1])
                finals.sort(reverse=True)
                full.append(t)
                since += 1
                if self.refit_every and since >= self.refit_every:
                    srm, since = self._fit(full), 0

    def extra_record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stopped": self.n_stopped}
        if self.config.trace:
            out["trace"] = self.decisions
        return out
