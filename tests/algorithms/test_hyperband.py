"""Hyperband, successive halving and random search (SPEC section 1)."""

from __future__ import annotations

import numpy as np
import pytest

from harness import hb
from harness.algorithms.hyperband import Hyperband, SuccessiveHalving
from harness.runner import Cell, run_cell
from harness.sim import simulate
from tests.conftest import make_curveset


@pytest.fixture(scope="module")
def pool():
    return make_curveset(n=80, t=20, seed=3)


def test_repeated_hyperband_runs_accumulate(pool):
    one = run_cell(Cell("pool", "hyperband", {"R": 20, "eta": 3}, seed=0), curves=pool)
    three = run_cell(Cell("pool", "hyperband", {"R": 20, "eta": 3, "n_runs": 3}, seed=0), curves=pool)
    assert three.epochs == 3 * one.epochs
    assert three.regret <= one.regret


@pytest.mark.parametrize("accounting,expected", [("resume", 3213), ("scratch", 4590)])
def test_mlpf_hyperband_epochs_match_spec(mlpf, accounting, expected):
    for seed in range(3):
        _, trace = simulate(mlpf, Hyperband(R=100, eta=2), seed=seed, accounting=accounting)
        assert trace.epochs_used == expected
        assert trace.n_trials == 163


def test_mlpf_hyperband_r300_on_padded_curves(mlpf):
    _, trace = simulate(mlpf.pad_to(300), Hyperband(R=300, eta=2), seed=0)
    assert trace.epochs_used == 15380 and trace.n_trials == 608


def test_rungs_keep_the_best_observed(fake):
    sched = Hyperband(R=20, eta=3)
    oracle, trace = simulate(fake, sched, seed=1)
    # every bracket's survivors at R are the best at the previous rung among those trained there
    assert {r["r_i"] for r in sched.log_record()} == {2, 7, 20}  # 20/9 -> 2, 20/3 -> 7
    inc = sched.incumbent()
    reached = [t for t, *_ in trace.reached]
    losses = fake.loss()[[oracle.config(t) for t in reached], 19]
    assert oracle.config(inc) == oracle.config(reached[int(np.argmin(losses))])


def test_successive_halving_is_one_bracket(fake):
    _, t = simulate(fake, SuccessiveHalving(R=20, eta=3), seed=0)
    assert t.epochs_used == hb.bracket_epochs(hb.brackets(20, 3)[0])
