"""ASHA (Li et al. 2020) and Swift-ASHA: a Swift-style predictor decision point inside asynchronous
successive halving (the extension the Swift-Hyperband paper lists as future work).

ASHA: rungs ``r_k = r_min * eta**k`` (< R) and ``R``. A free worker promotes the best not-yet-promoted
trial in the top ``1/eta`` of the highest possible rung, else starts a new trial at rung 0. The run ends
when the epoch budget (default: one vanilla Hyperband iteration with the same R, eta) is committed.

Swift-ASHA: every job from rung ``r_prev`` to ``r_next`` reports at ``p = r_prev + ceil((r_next - r_prev)
* rho)``; once ``d`` trials have completed ``r_next``, a predictor keyed ``(r_next, p)`` is trained (once)
on their curves, and a trial whose predicted loss at ``r_next`` is not below the ``q``-quantile of the
losses completed at ``r_next`` pauses at ``p`` (never promoted), returning the rest of its budget.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..hb import check_params, hyperband_epochs
from ..runner import register
from ..sim import Decision, Job, Scheduler
from ..store import CurveSet
from .swift import make_curve_predictor


def asha_rungs(R: int, eta: int, r_min: int = 1) -> list[int]:
    check_params(R, eta)
    if not 1 <= r_min <= R:
        raise ValueError(f"r_min is {r_min}, but must be in [1, R={R}]")
    out, r = [], r_min
    while r < R:
        out.append(r)
        r *= eta
    return out + [R]


class ASHA(Scheduler):
    name = "asha"

    def __init__(self, *, R: int, eta: int = 3, r_min: int = 1, budget: int | None = None):
        self.R, self.eta, self.r_min = R, eta, r_min
        self.rungs = asha_rungs(R, eta, r_min)
        self.budget = hyperband_epochs(R, eta) if budget is None else int(budget)
        if self.budget < self.rungs[0]:
            raise ValueError(f"budget is {self.budget} epochs, less than the first rung ({self.rungs[0]})")
        self.max_epoch = R

    def params(self) -> dict[str, Any]:
        return {"R": self.R, "eta": self.eta, "r_min": self.r_min, "budget": self.budget}

    def start(self, oracle: Any, rng: np.random.Generator) -> None:
        super().start(oracle, rng)
        self.results: list[dict[int, float]] = [{} for _ in self.rungs]  # rung -> {trial: loss}, insertion order
        self.promoted: list[set[int]] = [set() for _ in self.rungs]
        self.running: dict[int, tuple[int, int]] = {}  # trial -> (rung index of the target, start epoch)
        self.committed = 0
        self.n_new = 0

    def _job(self, trial: int, k: int) -> Job:
        return Job(trial, self.rungs[k])

    def suggest(self) -> Job | None:
        if self.committed >= self.budget:
            return None
        for k in range(len(self.rungs) - 2, -1, -1):
            done = self.results[k]
            n_top = len(done) // self.eta
            if n_top == 0:
                continue
            items = list(done.items())
            order = np.argsort([v for _, v in items], kind="stable")[:n_top]
            for j in order:
                t = items[j][0]
                if t not in self.promoted[k] and t not in self.running:
                    self.promoted[k].add(t)
                    start = self.rungs[k]
                    self.running[t] = (k + 1, start)
                    self.committed += self.rungs[k + 1] - start
                    return self._job(t, k + 1)
        if self.oracle.n_trials >= 10 * self.oracle.n_configs:
            return None
        t = self.oracle.new_trial(int(self.oracle.rng.integers(self.oracle.n_configs)))
        self.n_new += 1
        self.running[t] = (0, 0)
        self.committed += self.rungs[0]
        return self._job(t, 0)

    def on_result(self, trial: int, epoch: int, loss: float) -> Decision:
        k, _ = self.running[trial]
        if epoch >= self.rungs[k]:
            del self.running[trial]
            self.results[k][trial] = loss
            if epoch >= self.R:
                self.reached.append((trial, loss))
        return Decision.CONTINUE

    @property
    def finished(self) -> bool:
        return self.committed >= self.budget and not self.running or (
            not self.running and self.oracle.n_trials >= 10 * self.oracle.n_configs)

    def incumbent(self) -> int | None:
        """Best trial at R; if no trial reached R within the budget, the best of the highest non-empty rung."""
        if self.reached:
            return super().incumbent()
        for done in reversed(self.results):
            if done:
                items = list(done.items())
                return items[int(np.argmin([v for _, v in items]))][0]
        return None

    def extra_record(self) -> dict[str, Any]:
        top = max((k for k, r in enumerate(self.results) if r), default=-1)
        return {"new_trials": self.n_new, "rung_sizes": [len(r) for r in self.results],
                "incumbent_rung_epoch": self.rungs[top] if top >= 0 else None}


class SwiftASHA(ASHA):
    name = "swift_asha"

    def __init__(self, *, R: int, eta: int = 3, r_min: int = 1, budget: int | None = None, d: int = 15,
                 rho: float = 0.5, q: float = 0.25, predictor: str = "swift_svr"):
        super().__init__(R=R, eta=eta, r_min=r_min, budget=budget)
        self.d, self.rho, self.q, self.predictor = d, rho, q, predictor

    def params(self) -> dict[str, Any]:
        return {**super().params(), "d": self.d, "rho": self.rho, "q": self.q, "predictor": self.predictor}

    def start(self, oracle: Any, rng: np.random.Generator) -> None:
        super().start(oracle, rng)
        self.models: dict[tuple[int, int], Any] = {}
        self.n_paused = 0

    def _point(self, k: int) -> int:
        r_prev = self.rungs[k - 1] if k > 0 else 0
        return r_prev + math.ceil((self.rungs[k] - r_prev) * self.rho)

    def _job(self, trial: int, k: int) -> Job:
        p = self._point(k)
        return Job(trial, self.rungs[k], report_at=(p,)) if p < self.rungs[k] else Job(trial, self.rungs[k])

    def on_result(self, trial: int, epoch: int, loss: float) -> Decision:
        k, _ = self.running[trial]
        r_next = self.rungs[k]
        if epoch < r_next:  # the decision point
            key = (r_next, epoch)
            done = self.results[k]
            if key not in self.models and len(done) >= self.d:
                ts = list(done)
                X = np.array([self.oracle.visible(t)[:epoch] for t in ts])
                y = np.array([self.oracle.value(t, r_next) for t in ts])
                self.models[key] = make_curve_predictor(self.predictor, tau=epoch,
                                                        seed=int(self.rng.integers(2**31))).fit(X, y)
            if key in self.models:
                thr = float(np.quantile(list(done.values()), self.q))
                pred = float(self.models[key].predict(self.oracle.visible(trial)[None, :epoch])[0])
                if pred >= thr:
                    del self.running[trial]
                    self.committed -= r_next - epoch  # the unused part of the job returns to the budget
                    self.n_paused += 1
                    return Decision.PAUSE
            return Decision.CONTINUE
        return super().on_result(trial, epoch, loss)

    def extra_record(self) -> dict[str, Any]:
        return {**super().extra_record(), "paused": self.n_paused, "models": len(self.models)}


def _budgeted(cls: type[ASHA], cs: CurveSet, p: dict[str, Any]) -> Scheduler:
    """``n_runs`` (as for Hyperband) sets the default budget to that many Hyperband iterations."""
    p = dict(p)
    R, eta = p.pop("R", cs.n_epochs), p.pop("eta", 3)
    runs = int(p.pop("n_runs", 1))
    p.setdefault("budget", runs * hyperband_epochs(R, eta))
    return cls(R=R, eta=eta, **p)


def _asha(cs: CurveSet, p: dict[str, Any]) -> Scheduler:
    return _budgeted(ASHA, cs, p)


def _swift_asha(cs: CurveSet, p: dict[str, Any]) -> Scheduler:
    return _budgeted(SwiftASHA, cs, p)


register("asha", _asha)
register("swift_asha", _swift_asha)
