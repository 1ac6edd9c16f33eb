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

import bisect
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..config import AlgorithmConfig, setting
from ..hb import asha_rungs, hyperband_epochs, quantile
from ..predictors.finite import fit_finite, predict_finite
from ..scheduler import Decision, Job, Scheduler, TrialView
from .hyperband import BudgetConfig, resolve_R
from .swift import ORACLE, PredictorSettings

__all__ = ["ASHA", "SwiftASHA", "asha_rungs"]

_new_job = tuple.__new__


class ASHA(Scheduler):
    name = "asha"
    summary = "asynchronous successive halving (Li et al. 2020): promote a trial as soon as it is in the top 1/eta of its rung"

    @dataclass(frozen=True)
    class Config(BudgetConfig):
        algorithm: ClassVar[str] = "asha"
        r_min: int = setting(1, help="epochs of the first rung", range=(1, None))
        epochs_budget: int | None = setting(None, help="epochs the run may commit (default: n_runs Hyperband "
                                                       "iterations at the same R and eta)", range=(1, None))

    def __init__(self, config: AlgorithmConfig | None = None, /, **settings: Any):
        super().__init__(config, **settings)
        self.eta, self.r_min = self.config.eta, self.config.r_min

    def params(self) -> dict[str, Any]:
        return {**super().params(), "R": self.R, "epochs_budget": self.budget}

    def start(self, view: TrialView, rng: np.random.Generator) -> None:
        c = self.config
        self.R = self.max_epoch = resolve_R(c.R, view, self.name)
        self.rungs = asha_rungs(self.R, self.eta, self.r_min)
        self.budget = c.n_runs * hyperband_epochs(self.R, self.eta) if c.epochs_budget is None else c.epochs_budget
        if self.budget < self.rungs[0]:
            raise ValueError(f"{self.name} setting epochs_budget is {self.budget}, less than the first rung "
                             f"({self.rungs[0]} epochs)")
        super().start(view, rng)
        self.results: list[dict[int, float]] = [{} for _ in self.rungs]  # rung -> {trial: loss}, insertion order
        self.promoted: list[set[int]] = [set() for _ in self.rungs]
        # per rung, sorted by (loss, arrival): the trials not yet promoted, and the keys of the promoted ones;
        # a promotion is a walk from the best unpromoted trial while its rank among all is in the top 1/eta
        self._open: list[list[tuple[float, int, int]]] = [[] for _ in self.rungs]
        self._closed: list[list[tuple[float, int]]] = [[] for _ in self.rungs]
        # a rung whose candidates cannot be promoted stays so until it gets a new result: bit k of _dirty is set
        # while rung k may have a promotable trial (examined from the highest such rung down)
        self._dirty = 0
        self.running: dict[int, tuple[int, int]] = {}  # trial -> (rung index of the target, start epoch)
        self.committed = 0
        self.n_new = 0
        self._max_trials = 10 * view.n_configs  # a pool drawn ten times over ends the run

    def _job(self, trial: int, k: int) -> Job:
        return _new_job(Job, (trial, self.rungs[k], (), False))  # Job(trial, self.rungs[k]), without its __new__

    def suggest(self) -> Job | None:
        if self.committed >= self.budget:
            return None
        dirty = self._dirty
        while dirty:
            k = dirty.bit_length() - 1  # the highest rung that may have a promotable trial
            dirty ^= 1 << k
            n_top = len(self.results[k]) // self.eta
            if n_top == 0:
                continue
            opened, closed = self._open[k], self._closed[k]
            for j, (loss, seq, t) in enumerate(opened):
                if bisect.bisect_left(closed, (loss, seq)) + j >= n_top:
                    break  # this and every later trial rank below the top 1/eta
                if t not in self.running:
                    del opened[j]
                    bisect.insort(closed, (loss, seq))
                    self._dirty = dirty | (1 << k)  # another candidate may follow
                    self.promoted[k].add(t)
                    start = self.rungs[k]
                    self.running[t] = (k + 1, start)
                    self.committed += self.rungs[k + 1] - start
                    return self._job(t, k + 1)
        self._dirty = 0
        if self.n_new >= self._max_trials:  # every trial is a new one drawn here: n_new is the view's n_trials
            return None
        t = self.view.draw()
        self.n_new += 1
        self.running[t] = (0, 0)
        self.committed += self.rungs[0]
        return self._job(t, 0)

    def on_result(self, trial: int, epoch: int, loss: float) -> Decision:
        k, _ = self.running[trial]
        if epoch >= self.rungs[k]:
            del self.running[trial]
            if k < len(self.rungs) - 1:
                bisect.insort(self._open[k], (loss, len(self.results[k]), trial))
                self._dirty |= 1 << k
            self.results[k][trial] = loss
            if epoch >= self.R:
                self.reached.append((trial, loss))
        return Decision.CONTINUE

    @property
    def finished(self) -> bool:
        return not self.running and (self.committed >= self.budget or self.n_new >= self._max_trials)

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
    summary = "ASHA with a Swift decision point: a predictor promotes or stops trials between rungs"

    @dataclass(frozen=True)
    class Config(PredictorSettings, ASHA.Config):
        algorithm: ClassVar[str] = "swift_asha"
        d: int = setting(15, help="trials a rung needs before its predictor is trained", range=(2, None))
        rho: float = setting(0.5, help="decision point p = r_prev + ceil((r_next - r_prev) * rho)", range=(0, 1))
        q: float = setting(0.25, help="pause a trial predicted at or above this quantile of the rung's losses",
                           range=(0, 1))

    def __init__(self, config: AlgorithmConfig | None = None, /, **settings: Any):
        super().__init__(config, **settings)
        self.d, self.rho, self.q, self.predictor = self.config.d, self.config.rho, self.config.q, self.config.predictor

    def start(self, view: TrialView, rng: np.random.Generator) -> None:
        super().start(view, rng)
        self.models: dict[tuple[int, int], Any] = {}
        self.n_paused = 0
        self.decisions: list[dict[str, Any]] = []

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
            if key not in self.models and len(done) >= self.d and self.predictor == ORACLE:
                self.models[key] = ORACLE  # the same warm-up as a real predictor, then the recorded truth
            elif key not in self.models and len(done) >= self.d:
                ts = list(done)
                X = self.view.prefixes(ts, epoch)
                y = np.array([self.view.value(t, r_next) for t in ts])
                model = fit_finite(self.config.make(tau=epoch, seed=int(self.rng.integers(2**31))), X, y)
                if model is not None:  # None: too few curves that did not diverge
                    self.models[key] = model
            if key in self.models:
                thr = quantile(done.values(), self.q)
                model = self.models[key]
                pred = self.view.hindsight(trial, r_next) if model is ORACLE else \
                    float(predict_finite(model, self.view.prefixes([trial], epoch), math.inf)[0])
                self.decisions.append({"trial": trial, "epoch": epoch, "target": r_next, "mean": pred,
                                       "threshold": thr, "decision": "pause" if pred >= thr else "continue"})
                if pred >= thr:
                    del self.running[trial]
                    self.committed -= r_next - epoch  # the unused part of the job returns to the budget
                    self.n_paused += 1
                    return Decision.PAUSE
            return Decision.CONTINUE
        return super().on_result(trial, epoch, loss)

    def extra_record(self) -> dict[str, Any]:
        out = {**super().extra_record(), "paused": self.n_paused, "models": len(self.models)}
        if self.config.trace:
            out["trace"] = self.decisions
        return out

    def predictions(self) -> list[dict[str, Any]]:
        return [{**d, "predictor": self.predictor} for d in self.decisions]
