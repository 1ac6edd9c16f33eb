"""One contract test over every registered scheduler."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from harness.algorithms import ALGORITHMS
from harness.runner import Cell, run_cell
from harness.store import apply_nan_policy
from tests.conftest import make_curveset

FAST = {"fhyperband": {"d": 10, "budget": "tiny"}, "earlystop": {"n_burnin": 20}, "swift": {"d": 5},
        "swift_asha": {"d": 5}, "dpl": {"epochs_budget": 60, "epochs_scratch": 20, "epochs_refine": 3, "units": 16},
        "dyhpo": {"epochs_budget": 120, "epochs_scratch": 30, "epochs_refine": 3, "lr": 0.05}}
#: algorithms without Hyperband's discard rate
NO_ETA = ("earlystop", "dpl", "dyhpo")


@pytest.fixture(scope="module")
def pool():
    return make_curveset(n=80, t=20, seed=3)


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_scheduler_contract(pool, algo):
    params = {"R": 20, **({} if algo in NO_ETA else {"eta": 3}), **FAST.get(algo, {})}
    a = run_cell(Cell("pool", algo, params, seed=1), curves=pool)
    b = run_cell(Cell("pool", algo, params, seed=1), curves=pool)
    assert json.dumps(a.to_json()) == json.dumps(b.to_json()), "same seed must give the same run"
    assert a.epochs > 0 and a.n_trials > 0
    assert a.returned_config_id is not None
    assert a.regret >= 0 and np.isfinite(a.returned_final)
    assert a.makespan == a.epochs  # one worker, unit epoch cost
    epochs = [x[0] for x in a.anytime]
    assert epochs == sorted(epochs) and all(e <= a.epochs for e in epochs)
    w4 = run_cell(Cell("pool", algo, params, seed=1, workers=4), curves=pool)
    assert w4.makespan <= a.makespan


@pytest.fixture(scope="module")
def diverged_pool():
    """A pool where 12 of 80 runs diverge (NaN or inf from some epoch on), kept as they are (nan_policy keep)."""
    cs = make_curveset(n=80, t=20, seed=3)
    y = cs.curves.copy()
    for k, row in enumerate(range(0, 80, 7)):
        y[row, 1 + k % 6:, 0] = np.nan if k % 2 else np.inf
    return apply_nan_policy(replace(cs, curves=y), "keep")


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_scheduler_survives_diverged_curves(diverged_pool, algo):
    """Every scheduler runs over diverged curves (the predictors train on the finite ones and rank a diverged
    prefix last) and never returns a diverged config."""
    bad = set(diverged_pool.info["non_finite_ids"])
    assert len(bad) == 12
    params = {"R": 20, **({} if algo in NO_ETA else {"eta": 3}), **FAST.get(algo, {})}
    for seed in range(4):
        a = run_cell(Cell("pool", algo, params, seed=seed), curves=diverged_pool)
        assert a.returned_config_id not in bad and np.isfinite(a.returned_final), seed
        b = run_cell(Cell("pool", algo, params, seed=seed), curves=diverged_pool)
        assert json.dumps(a.to_json()) == json.dumps(b.to_json())
