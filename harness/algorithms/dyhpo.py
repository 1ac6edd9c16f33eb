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

DyHPO's code maximises a score; here losses are minimised (the same rule on the negated values). The loop is
:class:`harness.algorithms.freezethaw.FreezeThaw`'s. Where this differs: the run ends at ``epochs_budget`` (default 20 R); the incumbent, as for every algorithm here, is the
best configuration trained to R; the GP is GPyTorch's exact GP written in plain PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..config import setting
from .freezethaw import FreezeThaw, FreezeThawConfig, expected_improvement

#: DyHPO restarts training when the GP's prior mean misses the targets by more than this (mean squared error)
MSE_RESTART = 0.15


class DyHPO(FreezeThaw):
    name = "dyhpo"
    summary = "DyHPO (Wistuba et al. 2022): freeze-thaw BO with a deep-kernel GP, EI at the next epoch"
    patience_restarts = False

    @dataclass(frozen=True)
    class Config(FreezeThawConfig):
        algorithm: ClassVar[str] = "dyhpo"
        epochs_scratch: int = setting(1000, help="training epochs from scratch", range=(1, None))
        epochs_refine: int = setting(50, help="training epochs of a refinement", range=(1, None))

    def _make_model(self) -> None:
        self.model: Any = None  # built at the first training (DyHPO's code builds it at the first observation)
        self.n_failed = 0

    def _padded(self, curves: list[list[float]]) -> np.ndarray:
        width = max([3, *(len(c) for c in curves)])  # at least the CNN's kernel
        out = np.zeros((len(curves), width))
        for i, c in enumerate(curves):
            out[i, : len(c)] = c
        return out

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
        """DyHPO's ``train_pipeline``: from scratch (1000 epochs) at the first 10 trainings and whenever asked
        (patience, a prior-mean MSE above 0.15, a failed training), else refined (50 epochs)."""
        import copy

        import torch

        from ..freezethaw.deep_kernel import DeepKernelGP

        c = self.config
        if self.model is None or self.scratch:
            self.model = DeepKernelGP(self.X.shape[1], lr=c.lr, seed=self.seed + self.trainings)
            epochs = c.epochs_scratch
            self.n_scratch += 1
        else:
            epochs = c.epochs_refine
            self.n_refine += 1
        self.trainings += 1
        if self.scratch and self.trainings >= c.scratch_steps:
            self.scratch = False
        state = copy.deepcopy(self.model.state_dict())
        X, b, curves, y = self._history()
        try:
            if self.model.fit(X, b, curves, y, epochs) > MSE_RESTART:
                self.scratch = True
        except torch.linalg.LinAlgError:  # DyHPO: restore the state before this training, restart next time
            self.model.load_state_dict(state)
            self.scratch = True
            self.n_failed += 1

    def _best_at(self, epoch: int) -> float:
        """The best value seen at ``epoch``, or the best seen at all when no configuration has reached it."""
        at = [c[epoch - 1] for c in self.curves.values() if len(c) >= epoch]
        return min(at) if at else min(min(c) for c in self.curves.values())

    def _choose(self, cand: np.ndarray) -> tuple[int, float, float, int]:
        """EI of each candidate at its next epoch over the best value seen at that epoch."""
        nxt = np.array([len(self.curves.get(int(r), ())) + 1 for r in cand])
        lo, span = self._scale()
        qc = self._padded([[(v - lo) / span for v in self.curves[int(r)]] if int(r) in self.curves
                           else [0.0, 0.0, 0.0] for r in cand])
        X, b, cs, y = self._history()  # (each set padded to its own longest curve, as DyHPO's code pads them)
        mean, std = self.model.predict(X, b, cs, self.X[cand], nxt / self.R, qc, y)
        mean, std = mean * span + lo, std * span  # back in loss units
        best = np.array([self._best_at(int(e)) for e in nxt])
        k = int(np.argmax(expected_improvement(best, mean, std)))  # each candidate against its epoch's best
        return k, float(mean[k]), float(std[k]), int(nxt[k])

    def extra_record(self) -> dict[str, Any]:
        return {**super().extra_record(), "failed_trainings": self.n_failed}
