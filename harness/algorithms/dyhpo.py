"""DyHPO (Wistuba, Kadra and Grabocka, NeurIPS 2022): multi-fidelity BO with a deep-kernel GP, one epoch at a time.

As the authors' code does it (releaunifreiburg/DyHPO, ``hpo_method.py`` and ``surrogate_models/dyhpo.py``):

* the pool's hyperparameters (log-scaled ones as logs) min-max scaled to [0, 1]; the values min-max scaled over
  those seen so far (``scale_targets``: DyHPO's benchmarks come near [0, 1], here a loss may be 450);
* one configuration drawn at random, trained for one epoch; then after every observation the surrogate
  (:mod:`harness.freezethaw.deep_kernel`) is trained on every (configuration, epoch, value, curve before that
  epoch) seen so far: from scratch for 1000 epochs at the first 10 trainings, after ``patience`` observations
  without a new best value (default ``int(1.2 R)``), after a training whose prior-mean squared error exceeds 0.15,
  or after one that failed (a kernel matrix that is not positive definite: the state before it is restored);
  otherwise refined for 50 epochs;
* every configuration is a candidate at its next epoch (``fantasize_step`` 1; a new one at epoch 1 with the curve
  [0, 0, 0]); the one with the highest expected improvement over the best value seen at that epoch (or, when no
  configuration has reached it, the best value seen at all) trains one more epoch; trials pause and resume;
* a configuration whose curve turns non-finite is left out.

DyHPO's code maximises a score; here losses are minimised (the same rule on the negated values). Where this
differs: the run ends at ``epochs_budget`` (default 20 R); the incumbent, as for every algorithm here, is the
best configuration trained to R; the GP is GPyTorch's exact GP written in plain PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..config import AlgorithmConfig, setting
from ..scheduler import Decision, Job, Scheduler, TrialView
from .dpl import expected_improvement, scaled_features, value_range
from .hyperband import resolve_R

#: DyHPO restarts training when the GP's prior mean misses the targets by more than this (mean squared error)
MSE_RESTART = 0.15


class DyHPO(Scheduler):
    name = "dyhpo"
    summary = "DyHPO (Wistuba et al. 2022): freeze-thaw BO with a deep-kernel GP, EI at the next epoch"

    @dataclass(frozen=True)
    class Config(AlgorithmConfig):
        algorithm: ClassVar[str] = "dyhpo"
        R: int | None = setting(None, help="max epochs per config (default: the dataset's T)", range=(1, None))
        epochs_budget: int | None = setting(None, help="epochs the run may spend (default: 20 x R)", range=(1, None))
        lr: float = setting(1e-3, help="Adam's learning rate", range=(0, None), lo_open=True)
        epochs_scratch: int = setting(1000, help="training epochs from scratch", range=(1, None))
        epochs_refine: int = setting(50, help="training epochs of a refinement", range=(1, None))
        scratch_steps: int = setting(10, help="trainings from scratch before refining", range=(1, None))
        patience: int | None = setting(None, help="observations without a new best value before training from "
                                                  "scratch again (default: int(1.2 R))", range=(1, None))
        scale_targets: bool = setting(True, help="train on the values min-max scaled over those seen so far "
                                                 "(DyHPO's benchmarks come in [0, 1]; here a loss may be 450)")

    def params(self) -> dict[str, Any]:
        return {**super().params(), "R": self.R, "epochs_budget": self.budget}

    def start(self, view: TrialView, rng: np.random.Generator) -> None:
        c = self.config
        self.R = self.max_epoch = resolve_R(c.R, view, self.name)
        self.budget = c.epochs_budget if c.epochs_budget is not None else 20 * self.R
        self.patience = c.patience if c.patience is not None else int(self.R + 0.2 * self.R)
        super().start(view, rng)
        try:
            import torch
        except ImportError:
            raise ValueError(f"{self.name} needs PyTorch for its model (pip install torch==2.13.0, or the "
                             "'generate' extra)") from None
        torch.set_num_threads(1)
        self.X = scaled_features(view, self.name)
        self.seed = int(rng.integers(2**31))
        self.model: Any = None
        self.trainings = 0
        self.restart = True
        self.trial_of: dict[int, int] = {}
        self.curves: dict[int, list[float]] = {}
        self.diverged: set[int] = set()
        self.running: set[int] = set()
        self.best = np.inf
        self.since_best = 0
        self.pending = False
        self.first = int(rng.integers(view.n_configs))
        self.n_steps = self.n_scratch = self.n_refine = self.n_failed = 0
        self.n_closed = 0
        self._predictions: list[dict[str, Any]] = []

    # --- the model -------------------------------------------------------------------------------------------
    def _padded(self, curves: list[list[float]]) -> np.ndarray:
        width = max([self.model.kernel, *(len(c) for c in curves)])
        out = np.zeros((len(curves), width))
        for i, c in enumerate(curves):
            out[i, : len(c)] = c
        return out

    def _scale(self) -> tuple[float, float]:
        return value_range(self.curves) if self.config.scale_targets else (0.0, 1.0)

    def _history(self) -> tuple[np.ndarray, ...]:
        """Training data, values (and the curves the model reads) scaled by :meth:`_scale`."""
        lo, span = self._scale()
        rows, bs, ys, cs = [], [], [], []
        for r, curve in self.curves.items():
            scaled = [(v - lo) / span for v in curve]
            for e, v in enumerate(scaled, 1):
                rows.append(r)
                bs.append(e / self.R)
                ys.append(v)
                cs.append(scaled[: e - 1] if e > 1 else [0.0])
        return self.X[rows], np.array(bs), self._padded(cs), np.array(ys)

    def _train(self) -> None:
        import copy

        import torch

        from ..freezethaw.deep_kernel import DeepKernelGP

        c = self.config
        if self.model is None or self.restart:
            self.model = DeepKernelGP(self.X.shape[1], lr=c.lr, seed=self.seed + self.trainings)
            epochs = c.epochs_scratch
            self.n_scratch += 1
        else:
            epochs = c.epochs_refine
            self.n_refine += 1
        self.trainings += 1
        if self.restart and self.trainings >= c.scratch_steps:
            self.restart = False
        state = copy.deepcopy(self.model.state_dict())
        X, b, curves, y = self._history()
        try:
            mse = self.model.fit(X, b, curves, y, epochs)
            if mse > MSE_RESTART:
                self.restart = True
        except torch.linalg.LinAlgError:  # DyHPO: restore the state before this training, restart next time
            self.model.load_state_dict(state)
            self.restart = True
            self.n_failed += 1
        self.pending = False

    def _best_at(self, epoch: int) -> float:
        """The best value seen at ``epoch``, or the best seen at all when no configuration has reached it."""
        at = [c[epoch - 1] for c in self.curves.values() if len(c) >= epoch]
        return min(at) if at else min(min(c) for c in self.curves.values())

    # --- the contract ----------------------------------------------------------------------------------------
    def suggest(self) -> Job | None:
        if self.view.epochs_used >= self.budget:
            return None
        if self.n_steps == 0:
            row = self.first
        elif not self.curves:  # every configuration so far diverged: nothing to model, another one at random
            free = [r for r in range(self.view.n_configs) if r not in self.diverged and r not in self.running]
            if not free:
                return None
            row = free[int(self.rng.integers(len(free)))]
        else:
            if self.pending:
                self._train()
            cand = [r for r in range(self.view.n_configs) if r not in self.running and r not in self.diverged
                    and len(self.curves.get(r, ())) < self.R]
            if not cand:
                return None
            nxt = np.array([len(self.curves.get(r, ())) + 1 for r in cand])
            lo, span = self._scale()
            qc = self._padded([[(v - lo) / span for v in self.curves[r]] if r in self.curves else [0.0, 0.0, 0.0]
                               for r in cand])
            X, b, cs, y = self._history()
            mean, std = self.model.predict(X, b, cs, self.X[cand], nxt / self.R, qc, y)
            mean, std = mean * span + lo, std * span  # back in loss units
            best = np.array([self._best_at(int(e)) for e in nxt])
            k = int(np.argmax(expected_improvement(best, mean, std)))  # each candidate against its epoch's best
            row = int(cand[k])
            self._predictions.append({"row": row, "epoch": int(nxt[k]) - 1, "target": int(nxt[k]),
                                      "mean": float(mean[k]), "std": float(std[k]), "decision": "train"})
        t = self.trial_of.get(row)
        if t is None:
            t = self.trial_of[row] = self.view.new_trial(row)
        self.running.add(row)
        self.n_steps += 1
        return Job(t, self.view.trained(t) + 1)

    def on_result(self, trial: int, epoch: int, loss: float) -> Decision:
        row = self.view.config(trial)
        self.running.discard(row)
        if not np.isfinite(loss):
            self.diverged.add(row)
            self.curves.pop(row, None)
            self.n_closed += 1
            return Decision.STOP
        self.curves.setdefault(row, []).append(float(loss))
        if loss < self.best:
            self.best, self.since_best = float(loss), 0
        else:
            self.since_best += 1
            if self.since_best == self.patience:
                self.restart = True
        self.pending = True
        if epoch >= self.R:
            self.reached.append((trial, loss))
            self.n_closed += 1
            return Decision.CONTINUE
        return Decision.PAUSE

    @property
    def finished(self) -> bool:
        if self.running:
            return False
        return self.view.epochs_used >= self.budget or self.n_closed >= self.view.n_configs

    def predictions(self) -> list[dict[str, Any]]:
        return [{**{k: v for k, v in p.items() if k != "row"}, "trial": self.trial_of[p["row"]],
                 "predictor": "dyhpo"} for p in self._predictions]

    def extra_record(self) -> dict[str, Any]:
        return {"steps": self.n_steps, "trainings_from_scratch": self.n_scratch, "refinements": self.n_refine,
                "failed_trainings": self.n_failed, "configs_tried": len(self.curves) + len(self.diverged),
                "diverged": len(self.diverged)}

