"""Swift-Hyperband (Wulff et al. 2023) with the semantics of the authors' code (SPEC section 3).

Per round: every trial trains to a decision point ``p``; while fewer than ``d`` full curves exist for
the rung (or fewer than ``ceil(k * n_next)`` trials were sent on), a trial continues to ``r_i``
(FULL); the rest pause at ``p`` (PART). A predictor keyed by ``(r_i, p)`` and trained once on the
rung's full curves predicts PART's loss at ``r_i``; those predicted below the ``q``-quantile of FULL's
losses are promoted (at least ``n_next - |FULL|`` of them).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..config import AlgorithmConfig, setting
from ..hb import Bracket, quantile, stable_top
from ..predictors.finite import fit_finite, predict_finite
from ..scheduler import Batch, Decision, Job, Results, UniformResults
from .hyperband import BudgetConfig, Hyperband, learning_advice

#: the predictor name of a perfect predictor: it answers with the recorded value (``view.hindsight``), which no
#: real predictor can know; it bounds what a predictor-driven algorithm could save (results/fhyperband_study.md)
ORACLE = "oracle"


@dataclass(frozen=True)
class PredictorSettings(AlgorithmConfig):
    """How a predictor-driven algorithm builds its predictors (checked against the predictor registry)."""

    predictor: str = setting("swift_svr", help="predictor name (harness.predictors.PREDICTORS) or module:Class; "
                                                "'oracle': a perfect predictor (the recorded truth; a bound for studies, "
                                                "not an algorithm)")
    predictor_options: dict = setting({}, help="keyword arguments for the predictor's constructor, "
                                               "e.g. {\"num_sweeps\": 100} for qsvr")
    budget: str | int = setting("tiny", help="hyperparameter-search draws of searched predictors: paper (1000), "
                                             "cheap (100), tiny (20) or a number")
    trace: bool = setting(False, help="write every prediction-based decision into the run record")

    def check(self) -> None:
        from .. import predictors

        try:
            predictors.budget_size(self.budget)
            if self.predictor != ORACLE:
                predictors.check(self.predictor, self.predictor_options, getattr(self, "target", "final"))
        except ValueError as e:
            self.fail(f"predictor: {e}")

    def make(self, *, tau: int, seed: int) -> Any:
        from ..predictors import make_predictor

        return make_predictor(self.predictor, tau=tau, budget=self.budget, seed=seed,
                              target=getattr(self, "target", "final"), options=self.predictor_options)


def _reached(results: Results, epoch: int) -> dict[int, float]:
    """``{trial: loss}`` of the jobs of a batch that reached ``epoch``."""
    if isinstance(results, UniformResults):
        return dict(zip(results.trials, results.losses)) if results.epoch >= epoch else {}  # noqa: B905
    return {t: v for t, (e, v) in results.items() if e >= epoch}


class SwiftHyperband(Hyperband):
    name = "swift"
    summary = "Swift-Hyperband (Wulff et al. 2023): a predictor trained on a rung's full curves promotes or pauses the rest early"

    @dataclass(frozen=True)
    class Config(PredictorSettings, BudgetConfig):
        algorithm: ClassVar[str] = "swift"
        d: int = setting(15, help="full curves a rung needs before its predictor is trained", range=(2, None))
        k: float = setting(0.5, help="share of n_next that always trains fully", range=(0, 1))
        rho: float = setting(0.5, help="decision point p = r_prev + ceil((r_i - r_prev) * rho)", range=(0, 1))
        q: float = setting(0.25, help="promote PART trials predicted below this quantile of FULL's losses",
                           range=(0, 1))
        features: str = setting("raw", help="raw prefix (the authors' code) or baker TS features",
                                choices=("raw", "baker"))
        incumbent: str = setting("reached", help="reached: best at R; reference: the authors' rule (last observed "
                                                 "value of every final survivor)", choices=("reached", "reference"))
        reset_between_runs: bool = setting(False, help="forget curves and predictors between Hyperband runs")

    def __init__(self, config: AlgorithmConfig | None = None, /, **settings: Any):
        super().__init__(config, **settings)
        c = self.config
        self.incumbent_rule = c.incumbent
        self.d, self.k, self.rho, self.q = c.d, c.k, c.rho, c.q
        self.predictor, self.features, self.budget = c.predictor, c.features, c.budget

    def advice(self, n_epochs: int) -> list[str]:
        c = self.config
        return learning_advice(self.name, c.d, c.R or n_epochs, c.eta, c.n_runs, c.reset_between_runs, "predictor")

    def start(self, view: Any, rng: Any) -> None:
        self.survivors: list[int] = []
        self.curves: dict[int, list[np.ndarray]] = {}  # CURVES[r_i]: full loss curves y[1..r_i]
        self.models: dict[tuple[int, int], Any] = {}  # MODELS[(r_i, p)]
        self.n_predicted = 0
        self.n_promoted = 0
        self.decisions: list[dict[str, Any]] = []
        super().start(view, rng)

    def reset_state(self) -> None:
        self.curves.clear()
        self.models.clear()

    def incumbent(self) -> int | None:
        """"reached" (choice): best loss at R among trials that reached R. "reference": the authors' code,
        which compares the last observed value of every final survivor, even one paused at p < R."""
        if self.incumbent_rule == "reached" or not self.survivors:
            return super().incumbent()
        last = [float(self.view.observed(t)[-1]) for t in self.survivors]
        return self.survivors[int(np.argmin(last))]

    def _x(self, prefixes: np.ndarray) -> np.ndarray:
        if self.features == "raw":
            return prefixes
        from ..predictors.features import ts_features

        return ts_features(prefixes)

    def run_rung(self, run: int, b: Bracket, i: int, trials: list[int]) -> Generator[Batch, Results, list[int]]:
        rung = b.rungs[i]
        r_prev = b.rungs[i - 1].r_i if i > 0 else 0
        r_i = rung.r_i
        n_next = rung.n_i // self.eta if i != b.s else 1
        p = r_prev + math.ceil((r_i - r_prev) * self.rho)
        table = self.curves.setdefault(r_i, [])
        full: list[int] = []
        part: list[int] = []
        state = {"sent": 0, "completed": 0}

        def on_checkpoint(t: int, epoch: int, loss: float) -> Decision:
            if epoch != p:
                return Decision.CONTINUE
            if state["sent"] < self.k * n_next or (state["sent"] - state["completed"]) < self.d - len(table):
                state["sent"] += 1
                full.append(t)
                return Decision.CONTINUE
            part.append(t)
            return Decision.PAUSE

        res = yield Batch.checkpointed(trials, r_i, p, on_checkpoint) if p < r_i else Batch.uniform(trials, r_i)
        if p >= r_i:  # decision point at the rung end: every trial is observed at r_i (all FULL)
            full = list(trials)
        at_r = _reached(res, r_i)  # loss at r_i of each trial trained to r_i in this rung
        table.extend(self.view.prefixes([t for t in full if t in at_r], r_i))
        key = (r_i, p)
        if key not in self.models and len(table) >= self.d and p < r_i:
            X = self._x(np.array([c[:p] for c in table]))
            y = np.array([c[r_i - 1] for c in table])
            if self.predictor == ORACLE:  # the same warm-up as a real predictor, then the recorded truth
                self.models[key] = ORACLE
            else:
                model = fit_finite(self.config.make(tau=p, seed=int(self.rng.integers(2**31))), X, y)
                if model is not None:  # None: too few curves that did not diverge
                    self.models[key] = model
        if part:
            if not full:  # guard (SPEC 3.2): only possible when n_next == 0
                at_r.update(_reached((yield Batch([Job(part[0], r_i)])), r_i))
                full.append(part.pop(0))
                table.append(self.view.observed(full[-1])[:r_i])
            if key in self.models:
                thr = quantile([at_r[t] if t in at_r else self.view.value(t, r_i) for t in full], self.q)
                if self.models[key] is ORACLE:
                    pred = np.array([self.view.hindsight(t, r_i) for t in part])
                else:
                    pred = predict_finite(self.models[key], self._x(self.view.prefixes(part, p)), math.inf)
                self.n_predicted += len(part)
                sel = [t for t, m in zip(part, pred, strict=True) if m < thr]
                if len(sel) + len(full) < n_next:
                    order = np.argsort(pred, kind="stable")
                    sel = [part[j] for j in order[: n_next - len(full)]]
                chosen = set(sel)
                self.decisions.extend(
                    {"trial": t, "epoch": p, "target": r_i, "mean": float(m), "threshold": thr,
                     "decision": "promote" if t in chosen else "pause", "run": run, "s": b.s, "i": i}
                    for t, m in zip(part, pred, strict=True))
            else:  # with parallel workers the table can still be short: promote all (Hyperband)
                sel = list(part)
            self.n_promoted += len(sel)
            if sel:
                at_r.update(_reached((yield Batch.uniform(sel, r_i)), r_i))
        losses = [at_r.get(t, math.inf) for t in trials]
        self.rounds.append({"run": run, "s": b.s, "i": i, "n_trained": len(trials), "r_i": r_i, "p": p,
                            "full": len(full), "part": len(part), "n_next": n_next, "epochs": self.view.epochs_used})

        kept = stable_top(trials, losses, rung.keep)
        if i == b.s:
            self.survivors.extend(kept)
        return kept

    def extra_record(self) -> dict[str, Any]:
        backends = sorted({getattr(m, "backend_used_", "classical") for m in self.models.values()})
        out = {"predictions": self.n_predicted, "promoted": self.n_promoted, "models": len(self.models),
               "predictor_backends": backends}
        if self.config.trace:
            out["trace"] = self.decisions
        return out

    def predictions(self) -> list[dict[str, Any]]:
        return [{**d, "predictor": self.predictor} for d in self.decisions]
