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
from typing import Any

import numpy as np

from ..hb import Bracket
from ..predictors import make_predictor
from ..predictors.features import ts_features
from ..runner import register
from ..sim import Batch, Decision, Job, stable_top
from ..store import CurveSet
from .hyperband import Hyperband, Results


def make_curve_predictor(name: str, *, tau: int, seed: int, budget: str | int = "tiny",
                         qsvr: dict[str, Any] | None = None) -> Any:
    if name == "qsvr":
        from ..predictors.qsvr import QSVRPred

        return QSVRPred(seed=seed, **(qsvr or {}))
    return make_predictor(name, tau=tau, budget=budget, seed=seed)


class SwiftHyperband(Hyperband):
    name = "swift"

    def __init__(self, *, R: int, eta: int = 2, d: int = 15, k: float = 0.5, rho: float = 0.5, q: float = 0.25,
                 predictor: str = "swift_svr", features: str = "raw", n_runs: int = 1, budget: str | int = "tiny",
                 qsvr_reads: int = 1000, qsvr_sweeps: int = 1000, incumbent: str = "reached",
                 reset_between_runs: bool = False):
        super().__init__(R=R, eta=eta, n_runs=n_runs, reset_between_runs=reset_between_runs)
        if incumbent not in ("reached", "reference"):
            raise ValueError(f"incumbent is {incumbent!r}, but must be 'reached' or 'reference'")
        self.incumbent_rule = incumbent
        self.survivors: list[int] = []
        for nm, v, lo, hi in (("k", k, 0, 1), ("rho", rho, 0, 1), ("q", q, 0, 1)):
            if not lo <= v <= hi:
                raise ValueError(f"{nm} is {v}, but must be in [{lo}, {hi}]")
        if d < 2:
            raise ValueError(f"d is {d}, but must be >= 2")
        if features not in ("raw", "baker"):
            raise ValueError(f"features is {features!r}, but must be 'raw' (reference) or 'baker' (TS features)")
        self.d, self.k, self.rho, self.q = d, k, rho, q
        self.predictor, self.features, self.budget = predictor, features, budget
        self.qsvr = {"num_reads": qsvr_reads, "num_sweeps": qsvr_sweeps}
        self.curves: dict[int, list[np.ndarray]] = {}  # CURVES[r_i]: full loss curves y[1..r_i]
        self.models: dict[tuple[int, int], Any] = {}  # MODELS[(r_i, p)]
        self.n_predicted = 0
        self.n_promoted = 0

    def params(self) -> dict[str, Any]:
        return {**super().params(), "d": self.d, "k": self.k, "rho": self.rho, "q": self.q,
                "predictor": self.predictor, "features": self.features, "incumbent": self.incumbent_rule,
                "reset_between_runs": self.reset_between_runs}

    def reset_state(self) -> None:
        self.curves.clear()
        self.models.clear()

    def incumbent(self) -> int | None:
        """"reached" (choice): best loss at R among trials that reached R. "reference": the authors' code,
        which compares the last observed value of every final survivor, even one paused at p < R."""
        if self.incumbent_rule == "reached" or not self.survivors:
            return super().incumbent()
        last = [float(self.oracle.visible(t)[-1]) for t in self.survivors]
        return self.survivors[int(np.argmin(last))]

    def _x(self, prefixes: np.ndarray) -> np.ndarray:
        return prefixes if self.features == "raw" else ts_features(prefixes)

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

        jobs = [Job(t, r_i, report_at=(p,)) for t in trials] if p < r_i else [Job(t, r_i) for t in trials]
        res = yield Batch(jobs, on_checkpoint if p < r_i else None)
        if p >= r_i:  # decision point at the rung end: every trial is observed at r_i (all FULL)
            full = list(trials)
        for t in full:
            if res[t][0] >= r_i:
                table.append(self.oracle.visible(t)[:r_i].copy())
        key = (r_i, p)
        if key not in self.models and len(table) >= self.d and p < r_i:
            X = self._x(np.array([c[:p] for c in table]))
            y = np.array([c[r_i - 1] for c in table])
            model = make_curve_predictor(self.predictor, tau=p, seed=int(self.rng.integers(2**31)),
                                         budget=self.budget, qsvr=self.qsvr)
            self.models[key] = model.fit(X, y)
        if part:
            if not full:  # guard (SPEC 3.2): only possible when n_next == 0
                yield Batch([Job(part[0], r_i)])
                full.append(part.pop(0))
                table.append(self.oracle.visible(full[-1])[:r_i].copy())
            if key in self.models:
                thr = float(np.quantile([self.oracle.value(t, r_i) for t in full], self.q))
                pred = self.models[key].predict(self._x(np.array([self.oracle.visible(t)[:p] for t in part])))
                self.n_predicted += len(part)
                sel = [t for t, m in zip(part, pred, strict=True) if m < thr]
                if len(sel) + len(full) < n_next:
                    order = np.argsort(pred, kind="stable")
                    sel = [part[j] for j in order[: n_next - len(full)]]
            else:  # with parallel workers the table can still be short: promote all (Hyperband)
                sel = list(part)
            self.n_promoted += len(sel)
            if sel:
                yield Batch([Job(t, r_i) for t in sel])
        losses = [self.oracle.value(t, r_i) if self.oracle.trained[t] >= r_i else math.inf for t in trials]
        self.rounds.append({"run": run, "s": b.s, "i": i, "n_trained": len(trials), "r_i": r_i, "p": p,
                            "full": len(full), "part": len(part), "n_next": n_next, "epochs": self.oracle.epochs_used})

        kept = stable_top(trials, losses, rung.keep)
        if i == b.s:
            self.survivors.extend(kept)
        return kept

    def extra_record(self) -> dict[str, Any]:
        backends = sorted({getattr(m, "backend_used_", "classical") for m in self.models.values()})
        return {"predictions": self.n_predicted, "promoted": self.n_promoted, "models": len(self.models),
                "predictor_backends": backends}


def _swift(cs: CurveSet, p: dict[str, Any]) -> SwiftHyperband:
    p = dict(p)
    return SwiftHyperband(R=p.pop("R", cs.n_epochs), eta=p.pop("eta", 2), **p)


register("swift", _swift)
