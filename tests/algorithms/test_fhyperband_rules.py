"""Baker's Algorithm 2 (SPEC 2.7), one rule per test, on small constructed tables worked out by hand.

The SRM predictor here is ``LastSeen``: it predicts the final value u_r as the last seen value u_tau with its
own standard deviation 0.01, so the stopping rule Phi((thr - m) / 0.01) >= Delta (Delta = 0.95) reads
"stop iff thr - u_tau >= 0.0164". Losses are chosen so that every decision is far from that margin.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import pandas as pd
import pytest

from harness.algorithms import FHyperband
from harness.hb import Bracket, Rung
from harness.predictors.srm import error_model
from harness.predictors.zoo import MeanPred
from harness.scheduler import Batch
from harness.sim import simulate
from harness.store import CurveSet

SRM = "tests.algorithms.test_fhyperband_rules:LastSeen"


class LastSeen:
    """u_r predicted as the last seen u_tau (column tau - 1 of Baker's TS features), std 0.01."""

    def __init__(self, *, col: int = -1):
        self.col = col

    def fit(self, X, y):
        self.fitted_on_ = len(y)
        return self

    def predict(self, X):
        return np.asarray(X, float)[:, self.col]

    def predict_dist(self, X):
        m = self.predict(X)
        return m, np.full_like(m, 0.01)

    def refit_fixed(self, X, y):
        return self


def table(final_losses: list[float], T: int = 4, early: dict[int, float] | None = None) -> CurveSet:
    """Loss curves flat at their final value, except ``early[c]``: config c's loss before epoch T."""
    loss = np.repeat(np.asarray(final_losses, float)[:, None], T, axis=1)
    for c, v in (early or {}).items():
        loss[c, :-1] = v
    cfg = pd.DataFrame({"config_id": [f"c{i}" for i in range(len(final_losses))]})
    return CurveSet(name="hand", configs=cfg, curves=loss[:, :, None], metrics={"loss": "min"}, objective="loss")


class OneRung(FHyperband):
    """f-Hyperband's RUN_RUNG once, on the pool's configs in pool order, rung epoch r = R, n_next given."""

    def __init__(self, n_next: int, **kw):
        super().__init__(**kw)
        self.n_next = n_next

    def program(self) -> Generator[Batch, dict, None]:
        trials = [self.view.new_trial(c) for c in range(self.view.n_configs)]
        n_i = self.n_next * self.eta
        rung = Rung(i=0, n_i=n_i, r_i=self.R, n_trained=len(trials), keep=max(n_i // self.eta, 1))
        self.kept = yield from self.run_rung(0, Bracket(s=1, n=len(trials), r=self.R, rungs=(rung, rung)), 0, trials)


def run(cs: CurveSet, n_next: int = 2, accounting: str = "resume", **kw) -> OneRung:
    sched = OneRung(n_next, R=cs.n_epochs, eta=2, predictor=SRM, error="none", **kw)
    simulate(cs, sched, seed=0, accounting=accounting)
    return sched


def stops(s: OneRung) -> list[tuple[int, int]]:
    return [(d["trial"], d["epoch"]) for d in s.decisions if d["decision"] == "stop"]


def test_models_are_trained_once_on_the_first_d_full_curves_and_used_from_the_next_trial():
    # d = 3: trials 0-2 train fully (no model yet); M[4] is trained on exactly them, right after trial 2, and
    # trial 3 (u = -0.9, far below the 1st best -0.1) is stopped at tau = 1 of the same rung (the fix of #13:
    # before, the model waited for the next rung call)
    s = run(table([0.1, 0.2, 0.3, 0.9, 0.105]), n_next=1, d=3)
    assert s.srms[4].models[1].model.fitted_on_ == 3 and s.data[4] == [0, 1, 2]
    assert stops(s) == [(3, 1)]
    assert s.view.trained(3) == 1 and s.view.trained(4) == 4  # 4 (u=-0.105) is within the 0.0164 margin
    assert len(s.data[4]) == 3  # D[r] holds d curves and is never extended (trained once)


def test_threshold_is_the_kth_largest_observed_or_predicted_value():
    # n_next = 4, kappa = 0.5 -> k = 2: the threshold is the 2nd best value of the rung so far
    finals = [0.1, 0.2, 0.3, 0.25, 0.15, 0.18]
    s = run(table(finals), n_next=4, d=3, kappa=0.5)
    # after 0-2 (u = -0.1, -0.2, -0.3) the 2nd best is -0.2: trial 3 (-0.25) stops; trial 4 (-0.15) is better
    # and finishes, so the 2nd best becomes -0.15 and trial 5 (-0.18) stops against it
    assert stops(s) == [(3, 1), (5, 1)]
    assert [d["threshold"] for d in s.decisions if d["decision"] == "stop"] == pytest.approx([-0.2, -0.15])
    # stopped trials enter the ranking with their predictions (L holds observed or predicted values): keep 4
    assert s.kept == [0, 4, 5, 1]


def test_fewer_than_k_values_never_stop():
    # k = ceil(1.0 * 4) = 4 values are needed; only 3 exist when the model arrives, so trial 3 runs fully
    s = run(table([0.1, 0.2, 0.3, 0.9, 0.95]), n_next=4, d=3, kappa=1.0)
    assert stops(s) == [(4, 1)]  # by trial 4, U has 4 values: the 4th best is -0.9; -0.95 is below it


def test_delta_relaxes_the_threshold():
    cs = table([0.1, 0.2, 0.3, 0.12, 0.9])
    assert stops(run(cs, n_next=1, d=3)) == [(3, 1), (4, 1)]  # -0.12 < -0.1 - 0.0164
    assert stops(run(cs, n_next=1, d=3, delta=0.05)) == [(4, 1)]  # threshold -0.15: trial 3 finishes


def test_trials_are_processed_in_order():
    # the same configs in another order: with the bad config first it trains fully (no model yet)
    s = run(table([0.9, 0.1, 0.2, 0.3, 0.95]), n_next=1, d=3)
    assert s.data[4] == [0, 1, 2] and stops(s) == [(3, 1), (4, 1)]


def test_prediction_uses_the_prefix_at_tau_and_accounting_charges_only_paid_epochs():
    # config 3 looks good until epoch 3 (loss 0.05) and ends at 0.9: it is only stopped when its prefix
    # says so, i.e. never before epoch 4 -> it trains fully; config 4 is bad throughout and stops at tau 1
    cs = table([0.1, 0.2, 0.3, 0.9, 0.8], early={3: 0.05})
    s = run(cs, n_next=1, d=3)
    assert stops(s) == [(4, 1)] and s.view.trained(3) == 4
    assert s.view.epochs_used == 4 * 4 + 1
    scratch = run(cs, n_next=1, d=3, accounting="scratch")
    assert scratch.view.epochs_used == 4 * 4 + 1


def test_loocv_error_model_by_hand():
    """SPEC 2.4: e_j = y_j - mean(y without j); mu_e = mean(e), sigma = std(e, ddof=1)."""
    y = np.array([1.0, 2.0, 4.0, 7.0])
    X = np.zeros((4, 1))
    e = np.array([y[j] - np.delete(y, j).mean() for j in range(4)])
    mu, sigma = error_model(MeanPred().fit(X, y), X, y, mode="loo")
    assert mu == pytest.approx(e.mean()) and sigma == pytest.approx(e.std(ddof=1))
    assert sigma == pytest.approx(np.std(y, ddof=1) * 4 / 3)  # leave-one-out inflates the residuals by n/(n-1)
