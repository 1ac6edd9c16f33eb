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

Where this differs: the run ends at ``epochs_budget`` epochs (default 20 x R: DPL's 1000 epochs on a 50-epoch
benchmark) or when every configuration is trained to R; with several simulated workers each free worker gets the
best configuration not already running. The incumbent, as for every algorithm here, is the best configuration
trained to R (the DPL paper's plots use the best value seen at any epoch). The ensemble's members draw their
initialisations and data orders from one generator seeded by the run, so a seed reproduces its run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..config import AlgorithmConfig, setting
from ..scheduler import Decision, Job, Scheduler, TrialView
from .hyperband import resolve_R


def expected_improvement(best: float, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """EI of a minimised value below ``best`` (DPL's ``acq``: 0 where the ensemble agrees exactly)."""
    from scipy.stats import norm

    diff = best - mean
    z = np.divide(diff, std, out=np.zeros_like(diff), where=std > 0)
    return diff * norm.cdf(z) + std * norm.pdf(z)


def value_range(curves: dict[int, list[float]]) -> tuple[float, float]:
    """(offset, scale) that maps every value seen so far into [0, 1] (scale 1 when they are all equal)."""
    seen = np.concatenate([np.asarray(c, float) for c in curves.values()]) if curves else np.zeros(1)
    lo, hi = float(seen.min()), float(seen.max())
    return lo, (hi - lo if hi > lo else 1.0)


def scaled_features(view: TrialView, algorithm: str) -> np.ndarray:
    """The pool's hp columns (log-scaled ones as logs) min-max scaled to [0, 1] (architecture columns where a
    dataset has no hp ones)."""
    X, _ = view.static_features(("hp",))
    if X.shape[1] == 0:
        X, _ = view.static_features(("ap",))
    if X.shape[1] == 0:
        raise ValueError(f"{algorithm}: the dataset has no hp or ap feature columns for its model")
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return (X - lo) / span


class DPL(Scheduler):
    name = "dpl"
    summary = "Deep Power Laws (Kadra et al. 2023): freeze-thaw BO, a power-law ensemble, one epoch at a time"

    @dataclass(frozen=True)
    class Config(AlgorithmConfig):
        algorithm: ClassVar[str] = "dpl"
        R: int | None = setting(None, help="max epochs per config (default: the dataset's T)", range=(1, None))
        epochs_budget: int | None = setting(None, help="epochs the run may spend (default: 20 x R, DPL's 1000 "
                                                       "epochs at R = 50)", range=(1, None))
        members: int = setting(5, help="power-law networks in the ensemble", range=(2, None))
        units: int = setting(128, help="units of each hidden layer", range=(1, None))
        layers: int = setting(2, help="hidden layers", range=(1, None))
        lr: float = setting(1e-3, help="Adam's learning rate", range=(0, None), lo_open=True)
        batch_size: int = setting(64, help="training batch size", range=(2, None))
        epochs_scratch: int = setting(250, help="training epochs from scratch", range=(1, None))
        epochs_refine: int = setting(20, help="training epochs of a refinement", range=(1, None))
        scratch_steps: int = setting(10, help="observations after which the ensemble is trained from scratch "
                                              "(then refined)", range=(1, None))
        patience: int | None = setting(None, help="observations without a new best value before training from "
                                                  "scratch again (default: int(1.2 R))", range=(1, None))
        scale_targets: bool = setting(True, help="train on the values min-max scaled over those seen so far (DPL's "
                                                 "benchmarks come in [0, 1]; here a loss may be 450)")

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
        from ..freezethaw.power_law import PowerLawEnsemble

        torch.set_num_threads(1)  # one run, one core (runs fan out over processes)
        self.X = scaled_features(view, self.name)
        self.model = PowerLawEnsemble(self.X.shape[1], members=c.members, units=c.units, layers=c.layers, lr=c.lr,
                                      batch_size=c.batch_size, seed=int(rng.integers(2**31)))
        self.model.reset()  # weights before any training (a run whose first points diverge predicts with them)
        self.trial_of: dict[int, int] = {}  # pool row -> its trial
        self.curves: dict[int, list[float]] = {}  # pool row -> values at epochs 1.. (paid for)
        self.diverged: set[int] = set()
        self.running: set[int] = set()  # rows with a job out
        self.best = np.inf
        self.since_best = 0
        self.trainings = 0  # times the ensemble was trained (DPL's iterations_counter)
        self.scratch = True  # the next training is from scratch
        self.pending: int | None = None  # row whose newest point the next training weighs
        self.first = int(rng.integers(view.n_configs))
        self.n_steps = self.n_scratch = self.n_refine = 0
        self.n_closed = 0  # rows trained to R or diverged
        self._predictions: list[dict[str, Any]] = []

    # --- the model -------------------------------------------------------------------------------------------
    def _scale(self) -> tuple[float, float]:
        return value_range(self.curves) if self.config.scale_targets else (0.0, 1.0)

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
        """DPL's ``observe``: train from scratch or refine on everything seen, once per observation."""
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
        self.pending = None

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
            if self.pending is not None:
                self._train()
            cand = np.array([r for r in range(self.view.n_configs) if r not in self.running
                             and r not in self.diverged and len(self.curves.get(r, ())) < self.R])
            if not len(cand):
                return None
            lo, span = self._scale()
            pred = self.model.predict(self.X[cand], 1.0) * span + lo  # back in loss units
            mean, std = pred.mean(axis=0), pred.std(axis=0)
            k = int(np.argmax(expected_improvement(self.best, mean, std)))
            row = int(cand[k])
            self._predictions.append({"row": row, "epoch": len(self.curves.get(row, ())), "target": self.R,
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
            self.n_closed += 1
            return Decision.STOP
        self.curves.setdefault(row, []).append(float(loss))
        if loss < self.best:
            self.best, self.since_best = float(loss), 0
        else:
            self.since_best += 1
            if self.since_best == self.patience:
                self.scratch, self.since_best = True, 0
        self.pending = row
        if epoch >= self.R:
            self.reached.append((trial, loss))
            self.n_closed += 1
            return Decision.CONTINUE
        return Decision.PAUSE

    @property
    def finished(self) -> bool:
        if self.running:
            return False
        if self.view.epochs_used >= self.budget:
            return True
        return self.n_closed >= self.view.n_configs

    def predictions(self) -> list[dict[str, Any]]:
        return [{**{k: v for k, v in p.items() if k != "row"}, "trial": self.trial_of[p["row"]], "predictor": "dpl"}
                for p in self._predictions]

    def extra_record(self) -> dict[str, Any]:
        return {"steps": self.n_steps, "trainings_from_scratch": self.n_scratch, "refinements": self.n_refine,
                "configs_tried": len(self.curves), "diverged": len(self.diverged)}
