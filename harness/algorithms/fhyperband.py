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
from typing import Any

import numpy as np
from scipy.stats import norm

from ..hb import Bracket, check_params
from ..predictors import make_predictor
from ..predictors.features import FeatureBuilder, parse_sets
from ..predictors.srm import SRM
from ..runner import register
from ..sim import Batch, Decision, Job, Scheduler, SynchronousScheduler, stable_top
from ..store import CurveSet
from .hyperband import Hyperband, Results


class _SRMMixin:
    """Shared SRM construction: features from the curve prefix of u = -loss (+ dataset HP/AP columns)."""

    predictor: str
    features: str
    budget: str | int
    error: str
    bias_correction: bool
    target: str = "final"

    def _set_target(self, target: str) -> None:
        """nu-SVR/OLS/BLR/RF regression target (``final`` | ``delta`` | ``auto``, see predictors.zoo.TARGETS);
        checked here so a bad combination fails before the run, not at the first rung."""
        if target != "final":
            make_predictor(self.predictor, tau=2, budget=self.budget, target=target)
            if "TS" not in parse_sets(self.features):
                raise ValueError(f"target {target!r} needs the TS feature set (features are {self.features!r})")
        self.target = target

    def _target_param(self) -> dict[str, Any]:
        return {} if self.target == "final" else {"target": self.target}

    def start(self, oracle: Any, rng: np.random.Generator) -> None:
        self.fb = FeatureBuilder(oracle.curves, self.features, values=-oracle.curves.loss())
        super().start(oracle, rng)  # type: ignore[misc]

    def _new_srm(self, seed: int) -> SRM:
        return SRM(lambda tau: make_predictor(self.predictor, tau=tau, budget=self.budget, seed=seed,
                                              target=self.target),
                   error=self.error, bias_correction=self.bias_correction, seed=seed)


class FHyperband(_SRMMixin, Hyperband):
    name = "fhyperband"

    def __init__(self, *, R: int, eta: int = 4, Delta: float = 0.95, delta: float = 0.0, d: int = 100,
                 kappa: float = 0.5, predictor: str = "nusvr", features: str = "TS", n_runs: int = 1,
                 budget: str | int = "tiny", error: str = "kfold", bias_correction: bool = True, tau_stride: int = 1,
                 reset_between_runs: bool = False, target: str = "final"):
        super().__init__(R=R, eta=eta, n_runs=n_runs, reset_between_runs=reset_between_runs)
        if not 0 < Delta < 1:
            raise ValueError(f"Delta is {Delta}, but must be in (0, 1)")
        if not 0 < kappa <= 1:
            raise ValueError(f"kappa is {kappa}, but must be in (0, 1]")
        if d < 3:
            raise ValueError(f"d is {d}, but must be >= 3")
        self.Delta, self.delta, self.d, self.kappa = Delta, delta, d, kappa
        self.predictor, self.features, self.budget = predictor, features, budget
        self.error, self.bias_correction, self.tau_stride = error, bias_correction, tau_stride
        self._set_target(target)
        self.data: dict[int, list[int]] = {}  # D[r]: trials fully trained to r (their curves are in the oracle)
        self.srms: dict[int, SRM] = {}  # M[r]
        self.n_stopped = 0

    def reset_state(self) -> None:
        self.data.clear()
        self.srms.clear()

    def params(self) -> dict[str, Any]:
        return {**super().params(), "Delta": self.Delta, "delta": self.delta, "d": self.d, "kappa": self.kappa,
                "predictor": self.predictor, **self._target_param()}

    def _train(self, r: int) -> None:
        trials = self.data[r]
        rows = np.array([self.oracle.config(t) for t in trials])
        u_r = -np.array([self.oracle.value(t, r) for t in trials])
        srm = self._new_srm(int(self.rng.integers(2**31)))
        for tau in range(1, r, self.tau_stride):
            srm.fit(tau, self.fb(rows, tau), u_r)
        self.srms[r] = srm

    def run_rung(self, run: int, b: Bracket, i: int, trials: list[int]) -> Generator[Batch, Results, list[int]]:
        rung = b.rungs[i]
        r = rung.r_i
        n_next = rung.n_i // self.eta if i != b.s else 1
        k = max(1, math.ceil(self.kappa * n_next))
        values: dict[int, float] = {}  # u (observed or predicted), in processing order
        srm = self.srms.get(r)

        def on_checkpoint(t: int, tau: int, loss: float) -> Decision:
            if srm is None or tau not in srm:
                return Decision.CONTINUE
            m, sd = srm.predict(tau, self.fb(np.array([self.oracle.config(t)]), tau))
            u = sorted(values.values(), reverse=True)
            thr = u[k - 1] - self.delta if len(u) >= k else -math.inf
            if norm.cdf((thr - m[0]) / sd[0]) >= self.Delta:
                values[t] = float(m[0])
                self.n_stopped += 1
                return Decision.PAUSE
            return Decision.CONTINUE

        for t in trials:  # sequential (Algorithm 2 processes T in order); the barrier is per trial
            res = yield Batch([Job(t, r, every_epoch=srm is not None)], on_checkpoint)
            if res[t][0] >= r:
                values[t] = -res[t][1]
                table = self.data.setdefault(r, [])
                if len(table) < self.d:
                    table.append(t)
                    if len(table) == self.d and r not in self.srms and r > 1:
                        self._train(r)
        self.rounds.append({"run": run, "s": b.s, "i": i, "n_trained": len(trials), "r_i": r,
                            "stopped": sum(1 for t in trials if t in values and self.oracle.trained[t] < r),
                            "epochs": self.oracle.epochs_used})

        return stable_top(trials, [-values[t] for t in trials], rung.keep)

    def extra_record(self) -> dict[str, Any]:
        return {"stopped": self.n_stopped, "srm_rungs": sorted(self.srms)}


class EarlyStopSim(_SRMMixin, SynchronousScheduler):
    """Baker 4.1: train configs in a random order; the first ``n_burnin`` fully, then stop each config
    as soon as the rule says so. ``nth`` compares with the n-th best fully trained value."""

    name = "earlystop"

    def __init__(self, *, T: int, Delta: float = 0.99, delta: float = 0.0, nth: int = 1, n_burnin: int = 100,
                 predictor: str = "nusvr", features: str = "TS", budget: str | int = "tiny", error: str = "kfold",
                 bias_correction: bool = True, refit_every: int = 0, n_configs: int | None = None,
                 target: str = "final"):
        check_params(T, 2)
        self.T, self.max_epoch = T, T
        self.Delta, self.delta, self.nth, self.n_burnin = Delta, delta, nth, n_burnin
        self.predictor, self.features, self.budget = predictor, features, budget
        self.error, self.bias_correction, self.refit_every = error, bias_correction, refit_every
        self._set_target(target)
        self.n_configs = n_configs
        self.n_stopped = 0

    def params(self) -> dict[str, Any]:
        return {"T": self.T, "Delta": self.Delta, "delta": self.delta, "nth": self.nth, "n_burnin": self.n_burnin,
                "predictor": self.predictor, **self._target_param()}

    def _fit(self, full: list[int]) -> SRM:
        rows = np.array([self.oracle.config(t) for t in full])
        u_T = -np.array([self.oracle.value(t, self.T) for t in full])
        srm = self._new_srm(int(self.rng.integers(2**31)))
        for tau in range(1, self.T):
            srm.fit(tau, self.fb(rows, tau), u_T)
        return srm

    def program(self) -> Generator[Batch, Results, None]:
        n = self.n_configs or self.oracle.n_configs
        order = self.oracle.rng.permutation(self.oracle.n_configs)[:n]
        trials = [self.oracle.new_trial(c) for c in order]
        burn = trials[: self.n_burnin]
        yield Batch([Job(t, self.T) for t in burn])
        full = list(burn)
        finals = sorted((-self.oracle.value(t, self.T) for t in full), reverse=True)
        srm = self._fit(full)
        since = 0

        def on_checkpoint(t: int, tau: int, loss: float) -> Decision:
            if len(finals) < self.nth:
                return Decision.CONTINUE
            ref = finals[self.nth - 1]
            m, sd = srm.predict(tau, self.fb(np.array([self.oracle.config(t)]), tau))
            if norm.cdf((ref - self.delta - m[0]) / sd[0]) >= self.Delta:
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
        return {"stopped": self.n_stopped}


def _fhb(cs: CurveSet, p: dict[str, Any]) -> Scheduler:
    p = dict(p)
    return FHyperband(R=p.pop("R", cs.n_epochs), eta=p.pop("eta", 4), **p)


def _es(cs: CurveSet, p: dict[str, Any]) -> Scheduler:
    p = dict(p)
    p.pop("eta", None)
    return EarlyStopSim(T=p.pop("R", cs.n_epochs), **p)


register("fhyperband", _fhb)
register("earlystop", _es)
