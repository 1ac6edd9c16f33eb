"""What the freeze-thaw algorithms (DPL, DyHPO) share: one epoch at a time, a model refit after every observation.

:class:`FreezeThaw` runs the loop both authors' codes run: the first configuration drawn at random and trained for
one epoch; after every observation the model is trained on everything seen (from scratch at first and whenever
``patience`` observations bring no new best value, else refined); the candidate the acquisition ranks first trains
one more epoch (a new configuration from epoch 1); trials pause between steps and resume where they stopped, so only
the extra epoch is charged; a configuration whose curve turns non-finite is left out. A subclass says how to train
(``_train``) and how to rank the candidates (``_choose``). The run ends at ``epochs_budget`` or when every
configuration is trained to R (or diverged).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import AlgorithmConfig, setting
from ..scheduler import Decision, Job, Scheduler, TrialView
from .hyperband import resolve_R


def expected_improvement(best: float | np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """EI of a minimised value below ``best`` (0 where the model is certain), as DPL's and DyHPO's ``acq``."""
    from scipy.stats import norm

    diff = best - mean
    z = np.divide(diff, std, out=np.zeros_like(diff), where=std > 0)
    return diff * norm.cdf(z) + std * norm.pdf(z)


def value_range(curves: dict[int, list[float]]) -> tuple[float, float]:
    """(offset, scale) that maps every value seen so far into [0, 1] (scale 1 when they are all equal)."""
    seen = np.concatenate([np.asarray(c, float) for c in curves.values()]) if curves else np.zeros(1)
    lo, hi = float(seen.min()), float(seen.max())
    return lo, (hi - lo if hi > lo else 1.0)


def scaled_columns(static: Callable[[tuple[str, ...]], tuple[np.ndarray, list[str]]],
                   rows: np.ndarray | None = None) -> np.ndarray:
    """The hp columns (log-scaled ones as logs; architecture columns where there are no hp ones) of ``rows`` (all
    by default), min-max scaled to [0, 1] over them. ``static`` gives a kind's columns, as
    ``TrialView.static_features`` does."""
    X, _ = static(("hp",))
    if X.shape[1] == 0:
        X, _ = static(("ap",))
    if rows is not None:
        X = X[rows]
    lo, hi = X.min(axis=0), X.max(axis=0)
    return (X - lo) / np.where(hi > lo, hi - lo, 1.0)


def scaled_features(view: TrialView, algorithm: str) -> np.ndarray:
    """The pool's columns for a model (:func:`scaled_columns`); a dataset without any is an error."""
    X = scaled_columns(view.static_features)
    if X.shape[1] == 0:
        raise ValueError(f"{algorithm}: the dataset has no hp or ap feature columns for its model")
    return X


@dataclass(frozen=True)
class FreezeThawConfig(AlgorithmConfig):
    """Settings every freeze-thaw algorithm has (a subclass sets its own defaults and adds its model's)."""

    R: int | None = setting(None, help="max epochs per config (default: the dataset's T)", range=(1, None))
    epochs_budget: int | None = setting(None, help="epochs the run may spend (default: 20 x R: DPL's 1000 epochs "
                                                   "at R = 50)", range=(1, None))
    lr: float = setting(1e-3, help="Adam's learning rate", range=(0, None), lo_open=True)
    epochs_scratch: int = setting(250, help="training epochs from scratch", range=(1, None))
    epochs_refine: int = setting(20, help="training epochs of a refinement", range=(1, None))
    scratch_steps: int = setting(10, help="trainings from scratch before the model is refined", range=(1, None))
    patience: int | None = setting(None, help="observations without a new best value before training from "
                                              "scratch again (default: int(1.2 R))", range=(1, None))
    scale_targets: bool = setting(True, help="train on the values min-max scaled over those seen so far (the "
                                             "authors' benchmarks come near [0, 1]; here a loss may be 450)")


class FreezeThaw(Scheduler):
    """The loop (module docstring); subclasses implement :meth:`_make_model`, :meth:`_train` and :meth:`_choose`."""

    #: the no-improvement counter starts again after it triggers a training from scratch (DPL's does; DyHPO's
    #: keeps counting, so it triggers once a streak)
    patience_restarts: bool = True

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
        torch.set_num_threads(1)  # one run, one core (runs fan out over processes)
        self.X = scaled_features(view, self.name)
        self.seed = int(rng.integers(2**31))
        self._make_model()
        self.trial_of: dict[int, int] = {}  # pool row -> its trial
        self.curves: dict[int, list[float]] = {}  # pool row -> values at epochs 1.. (paid for)
        self.diverged: set[int] = set()
        self.running: set[int] = set()  # rows with a job out
        self.best = np.inf
        self.since_best = 0
        self.trainings = 0  # times the model was trained (the authors' iterations counter)
        self.scratch = True  # the next training is from scratch
        self.pending: int | None = None  # the row of the newest observation, until the model has seen it
        self.first = int(rng.integers(view.n_configs))
        self.n_steps = self.n_scratch = self.n_refine = self.n_closed = 0
        self._predictions: list[dict[str, Any]] = []

    # --- what a subclass provides ------------------------------------------------------------------------------
    def _make_model(self) -> None:
        """Build ``self.model`` (once per run, before any observation)."""
        raise NotImplementedError

    def _train(self) -> None:
        """Train the model on everything seen (``self.scratch``: from scratch); count it."""
        raise NotImplementedError

    def _choose(self, cand: np.ndarray) -> tuple[int, float, float, int]:
        """Index into ``cand`` of the candidate to train, its predicted mean and std (loss units) and the epoch the
        prediction is for."""
        raise NotImplementedError

    # --- shared --------------------------------------------------------------------------------------------
    def _scale(self) -> tuple[float, float]:
        return value_range(self.curves) if self.config.scale_targets else (0.0, 1.0)

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
                self.pending = None
            cand = np.array([r for r in range(self.view.n_configs) if r not in self.running
                             and r not in self.diverged and len(self.curves.get(r, ())) < self.R])
            if not len(cand):
                return None
            k, mean, std, target = self._choose(cand)
            row = int(cand[k])
            self._predictions.append({"row": row, "epoch": len(self.curves.get(row, ())), "target": target,
                                      "mean": mean, "std": std, "decision": "train"})
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
                self.scratch = True
                if self.patience_restarts:
                    self.since_best = 0
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
        return self.view.epochs_used >= self.budget or self.n_closed >= self.view.n_configs

    def predictions(self) -> list[dict[str, Any]]:
        return [{**{k: v for k, v in p.items() if k != "row"}, "trial": self.trial_of[p["row"]],
                 "predictor": self.name} for p in self._predictions]

    def extra_record(self) -> dict[str, Any]:
        return {"steps": self.n_steps, "trainings_from_scratch": self.n_scratch, "refinements": self.n_refine,
                "configs_tried": len(self.curves) + len(self.diverged - set(self.curves)),
                "diverged": len(self.diverged)}
