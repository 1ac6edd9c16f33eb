"""Run records: in-run scoring of the predictions an algorithm acted on, against a hand-made table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from harness import Decision, Scheduler
from harness.config import AlgorithmConfig
from harness.metrics import score_predictions
from harness.runner import Cell, run_cell
from harness.scheduler import Job
from harness.sim import Oracle
from harness.store import CurveSet


def _table() -> CurveSet:
    """Four configs x 4 epochs; the loss at epoch 4 is 1, 2, 3, 4."""
    loss = np.array([[5, 4, 2, 1], [5, 4, 3, 2], [6, 5, 4, 3], [7, 6, 5, 4]], float)
    cfg = pd.DataFrame({"config_id": ["a", "b", "c", "d"]})
    return CurveSet(name="hand", configs=cfg, curves=loss[:, :, None], metrics={"loss": "min"}, objective="loss")


def test_scores_by_hand():
    oracle = Oracle(_table(), "resume", rng=np.random.default_rng(0))
    for c in range(4):
        oracle.new_trial(c)  # trial i is config i
    preds = [  # predicted loss at epoch 4 for trials 0..3: truths 1, 2, 3, 4
        {"trial": 0, "target": 4, "mean": 1.0, "std": 0.1, "decision": "continue", "threshold": 2.5, "predictor": "p"},
        {"trial": 1, "target": 4, "mean": 3.0, "std": 0.1, "decision": "stop", "threshold": 2.5, "predictor": "p"},
        {"trial": 2, "target": 4, "mean": 3.0, "std": 1.0, "decision": "stop", "threshold": 2.5, "predictor": "p"},
        {"trial": 3, "target": 4, "mean": 4.0, "std": 0.1, "decision": "pause", "threshold": 2.5, "predictor": "p"},
        {"trial": 0, "target": 3, "mean": 2.0, "predictor": "q"},  # truth 2 at epoch 3; one point
    ]
    s = score_predictions(preds, oracle)
    # p: residuals 0, -1, 0, 0; SS_res = 1; truths 1..4, SS_tot = 5 -> R^2 = 0.8
    assert s["p"]["n"] == 4 and s["p"]["r2"] == pytest.approx(0.8)
    assert s["p"]["mae"] == pytest.approx(0.25)
    assert s["p"]["spearman"] == pytest.approx(np.corrcoef([1, 2, 3, 4], [1, 2.5, 2.5, 4])[0, 1])
    # within mean ± 1.96 std: trial 0 (0 <= 0.196), 1 (1 > 0.196: out), 2 (0), 3 (0) -> 3 of 4
    assert s["p"]["coverage"] == pytest.approx(0.75)
    # stops/pauses: trials 1 (truth 2 < threshold 2.5: wrong), 2 (3: right), 3 (4: right)
    assert s["p"]["stops"] == 3 and s["p"]["wrong_stops"] == 1
    assert s["q"]["n"] == 1 and np.isnan(s["q"]["r2"]) and np.isnan(s["q"]["coverage"]) and s["q"]["mae"] == 0.0


class Oracular(Scheduler):
    """Trains every config to 2, 'predicts' its loss at 4 as (loss at 2) - 3, and stops it."""

    name = "oracular"

    @dataclass(frozen=True)
    class Config(AlgorithmConfig):
        algorithm: ClassVar[str] = "oracular"

    def start(self, view, rng):
        super().start(view, rng)
        self.max_epoch = 4
        self.todo = [view.new_trial(c) for c in range(view.n_configs)]
        self.made: list[dict] = []
        self.n_running = 0

    def suggest(self):
        if not self.todo:
            return None
        self.n_running += 1
        return Job(self.todo.pop(0), 2)

    def on_result(self, trial, epoch, loss):
        self.made.append({"trial": trial, "target": 4, "mean": loss - 3, "decision": "stop", "threshold": 0.0,
                          "predictor": "minus3"})
        self.n_running -= 1
        return Decision.STOP

    @property
    def finished(self):
        return not self.todo and not self.n_running

    def incumbent(self):
        return 0

    def predictions(self):
        return self.made


def test_engine_scores_outside_the_algorithm():
    """The algorithm saw epochs 1-2 only; the record compares its predictions with epoch 4 of the table."""
    r = run_cell(Cell("hand", "tests.test_metrics:Oracular", {}, seed=0), curves=_table())
    sc = r.predictor_scores["minus3"]
    # predictions 1, 1, 2, 3 vs truths 1, 2, 3, 4: residuals 0, 1, 1, 1 -> R^2 = 1 - 3/5
    assert sc["n"] == 4 and sc["r2"] == pytest.approx(0.4) and sc["mae"] == pytest.approx(0.75)
    assert sc["stops"] == 4 and sc["wrong_stops"] == 0  # threshold 0: no truth beats it
    assert r.epochs == 8


def test_inrun_r2_per_rung_against_a_hand_computed_case():
    """Predictions aimed at two rungs: pooled R^2 mixes them; per rung each is its own R^2."""
    from harness.metrics import score_predictions

    class FakeOracle:
        truth = {(0, 2): 1.0, (1, 2): 2.0, (2, 2): 3.0, (0, 4): 0.0, (1, 4): 10.0}

        def config(self, t):
            return t

        def loss_of(self, c, e):
            return self.truth[(c, e)]

    preds = [{"trial": 0, "target": 2, "mean": 1.5}, {"trial": 1, "target": 2, "mean": 2.0},
             {"trial": 2, "target": 2, "mean": 2.5}, {"trial": 0, "target": 4, "mean": 5.0},
             {"trial": 1, "target": 4, "mean": 5.0}]
    sc = score_predictions(preds, FakeOracle())["?"]
    # rung 2: truth 1,2,3 (mean 2, SS 2), residuals 0.25+0+0.25 = 0.5 -> 0.75; rung 4: predicting the mean -> 0
    assert sc["r2_by_rung"] == {"2": 0.75, "4": 0.0}
    assert sc["n_by_rung"] == {"2": 3.0, "4": 2.0}
    t = np.array([1.0, 2.0, 3.0, 0.0, 10.0])
    m = np.array([1.5, 2.0, 2.5, 5.0, 5.0])
    assert sc["r2"] == pytest.approx(1 - ((t - m) ** 2).sum() / ((t - t.mean()) ** 2).sum())
