"""Deep Power Laws (Kadra et al., NeurIPS 2023): freeze-thaw BO with an ensemble of power-law networks.

As the authors' code does it (releaunifreiburg/DPL, ``surrogate_models/power_law_surrogate.py``):

* the pool's hyperparameters (log-scaled ones as logs) min-max scaled to [0, 1] are the model's input, the values
  min-max scaled over those seen so far its target (``scale_targets``; the DPL code feeds TaskSet losses and
  LCBench accuracies / 100 as they are, both near [0, 1]: here a dataset's loss may be 450);
* the run starts with one configuration drawn at random, trained for one epoch;
* after every observation the ensemble (5 members, 2 x 128 LeakyReLU, :mod:`harness.freezethaw.power_law`) is
  trained on every (configuration, epoch, value) seen so far: from scratch for 250 epochs at the first 10
  observations and after ``patience`` observations without a new best value (default ``int(1.2 R)``, the DPL
  code's ``no_improvement_threshold``), otherwise refined for 20 epochs with the newest point in every batch;
* every configuration not yet trained to R is predicted at R; the one with the highest expected improvement of the
  ensemble's mean and standard deviation over the best value seen so far (at any epoch) trains one more epoch
  (``fantasize_step`` 1), a new one from epoch 1; trials pause between steps and resume where they stopped,
  so only the extra epoch is charged;
* a configuration whose curve turns non-finite is left out (the DPL code's ``diverged_configs``).

The loop is :class:`harness.algorithms.freezethaw.FreezeThaw`'s. Where this differs: the run ends at
``epochs_budget`` epochs (default 20 x R: DPL's 1000 epochs on a 50-epoch
benchmark) or when every configuration is trained to R; with several simulated workers each free worker gets the
best configuration not already running. The incumbent, as for every algorithm here, is the best configuration
trained to R (the DPL paper's plots use the best value seen at any epoch). The ensemble's members draw their
initialisations and data orders from one generator seeded by the run, so a seed reproduces its run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..config import setting
from .freezethaw import FreezeThaw, FreezeThawConfig, expected_improvement


class DPL(FreezeThaw):
    name = "dpl"
    summary = "Deep Power Laws (Kadra et al. 2023): freeze-thaw BO, a power-law ensemble, one epoch at a time"

    @dataclass(frozen=True)
    class Config(FreezeThawConfig):
        algorithm: ClassVar[str] = "dpl"
        members: int = setting(5, help="power-law networks in the ensemble", range=(2, None))
        units: int = setting(128, help="units of each hidden layer", range=(1, None))
        layers: int = setting(2, help="hidden layers", range=(1, None))
        batch_size: int = setting(64, help="training batch size", range=(2, None))

    def _make_model(self) -> None:
        from ..freezethaw.power_law import PowerLawEnsemble

        c = self.config
        self.model = PowerLawEnsemble(self.X.shape[1], members=c.members, units=c.units, layers=c.layers, lr=c.lr,
                                      batch_size=c.batch_size, seed=self.seed)
        self.model.reset()  # weights before any training (a run whose first points diverge predicts with them)

    def _data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        rows, ys, bs, newest = [], [], [], 0
        for r, curve in self.curves.items():
            for e, v in enumerate(curve, 1):
                if r == self.pending and e == len(curve):
                    newest = len(ys)
                rows.append(r)
                ys.append(v)
                bs.append(e / self.R)
        lo, span = self._scale()
        return self.X[rows], (np.array(ys) - lo) / span, np.array(bs), newest

    def _train(self) -> None:
        """DPL's ``observe``: from scratch (250 epochs) while its training counter is <= 10 and after ``patience``
        observations without a new best, else refined (20 epochs, the newest point in every batch)."""
        X, y, b, newest = self._data()
        c = self.config
        if self.scratch:
            self.model.fit(X, y, b, c.epochs_scratch)
            self.n_scratch += 1
            self.trainings += 1
            self.scratch = self.trainings <= c.scratch_steps
        else:
            self.model.refine(X, y, b, c.epochs_refine, newest)
            self.n_refine += 1
            self.trainings += 1

    def _choose(self, cand: np.ndarray) -> tuple[int, float, float, int]:
        """EI of the ensemble's prediction at R over the best value seen at any epoch."""
        lo, span = self._scale()
        pred = self.model.predict(self.X[cand], 1.0) * span + lo  # back in loss units
        mean, std = pred.mean(axis=0), pred.std(axis=0)
        k = int(np.argmax(expected_improvement(self.best, mean, std)))
        return k, float(mean[k]), float(std[k]), self.R
