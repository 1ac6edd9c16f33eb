"""ASHA and Swift-ASHA."""

from __future__ import annotations

import pytest

from harness import hb
from harness.hb import asha_rungs
from harness.runner import Cell, run_cell
from tests.conftest import make_curveset


@pytest.fixture(scope="module")
def pool():
    return make_curveset(n=80, t=20, seed=3)


def test_asha_respects_budget_and_rungs(pool):
    assert asha_rungs(20, 3) == [1, 3, 9, 20]
    budget = hb.hyperband_epochs(20, 3)
    r = run_cell(Cell("pool", "asha", {"R": 20, "eta": 3}, seed=0), curves=pool)
    assert budget <= r.epochs <= budget + 20
    sa = run_cell(Cell("pool", "swift_asha", {"R": 20, "eta": 3, "d": 5}, seed=0), curves=pool)
    assert sa.extra["paused"] > 0  # the predictor stopped some promotions at their decision point
