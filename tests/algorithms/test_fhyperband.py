"""f-Hyperband and Baker's early-stopping simulation (SPEC 2.5-2.7)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.runner import Cell, make_scheduler, run_cell
from tests.conftest import make_curveset

FAST = {"fhyperband": {"d": 10, "budget": "tiny"}, "earlystop": {"n_burnin": 20}, "swift": {"d": 5},
        "swift_asha": {"d": 5}}


@pytest.fixture(scope="module")
def pool():
    return make_curveset(n=80, t=20, seed=3)


def test_fhyperband_speeds_up_and_recovers_optimum(mlpf):
    for acc in ("resume", "scratch"):
        h = run_cell(Cell("mlpf", "hyperband", {"R": 100, "eta": 2}, seed=0, accounting=acc), curves=mlpf)
        f = run_cell(Cell("mlpf", "fhyperband", {"R": 100, "eta": 2, "d": 20}, seed=0, accounting=acc), curves=mlpf)
        assert f.epochs < h.epochs
        assert f.returned_optimum and h.returned_optimum
        assert f.extra["stopped"] > 0


def test_earlystop_simulation_on_real_curves(shared_curves):
    from harness.datasets import load_dataset

    cs = load_dataset("swifthb_mnist_cnn").subset(np.arange(0, 2100, 3))
    r = run_cell(Cell("mnist", "earlystop", {"Delta": 0.99}, seed=0), curves=cs)
    full = cs.n_configs * cs.n_epochs
    assert r.epochs < full  # speed-up N*T / epochs > 1
    assert r.extra["stopped"] > 0
    assert r.in_final_set  # the global best was trained to T


@pytest.mark.parametrize("algo", ["fhyperband", "earlystop"])
def test_srm_algorithms_take_a_regression_target(pool, algo):
    params = {"R": 20, "eta": 3, **FAST[algo]} if algo == "fhyperband" else dict(FAST[algo])
    final = run_cell(Cell("pool", algo, params, seed=2), curves=pool)
    delta = run_cell(Cell("pool", algo, {**params, "target": "delta"}, seed=2), curves=pool)
    assert final.params["target"] == "final" and delta.params["target"] == "delta"
    assert make_scheduler(pool, algo, {**params, "target": "delta"})._new_srm(0).factory(3).target == "delta"
    assert delta.epochs > 0 and np.isfinite(delta.returned_final)
    assert json.dumps(delta.to_json()) == json.dumps(
        run_cell(Cell("pool", algo, {**params, "target": "delta"}, seed=2), curves=pool).to_json())
    with pytest.raises(ValueError, match="needs the TS feature set"):
        make_scheduler(pool, algo, {**params, "target": "delta", "features": "HP"})
    with pytest.raises(ValueError, match="predicts y_T directly"):
        make_scheduler(pool, algo, {**params, "target": "auto", "predictor": "lastseen"})


def test_a_perfect_predictor_stops_exactly_the_trials_below_the_threshold():
    """predictor="oracle" (the reachable bound of results/fhyperband_study.md): at every check the prediction is
    the recorded value at the rung, and a trial stops iff that value is below the rung's threshold."""
    from harness.runner import Cell, run_cell
    from tests.conftest import make_curveset

    cs = make_curveset(n=120, t=16, seed=7)
    r = run_cell(Cell("pool", "fhyperband", {"R": 16, "eta": 2, "d": 5, "n_runs": 3, "predictor": "oracle",
                                             "trace": True}), cs)
    loss = cs.loss()
    trace = r.extra["trace"]
    assert trace and r.extra["stopped"] > 0
    for d in trace:
        truth = -loss[d["config"], d["target"] - 1]  # u = -loss at the rung epoch
        assert d["mean"] == truth and d["std"] == 1e-12
        assert (d["decision"] == "stop") == (truth < d["threshold"])
    base = run_cell(Cell("pool", "hyperband", {"R": 16, "eta": 2, "n_runs": 3}), cs)
    assert r.epochs < base.epochs and r.regret <= base.regret


def test_swift_with_a_perfect_predictor_promotes_exactly_the_trials_below_the_threshold():
    from harness.runner import Cell, run_cell
    from tests.conftest import make_curveset

    cs = make_curveset(n=120, t=16, seed=8)
    r = run_cell(Cell("pool", "swift", {"R": 16, "eta": 2, "d": 4, "n_runs": 3, "predictor": "oracle",
                                        "trace": True}), cs)
    trace = r.extra["trace"]
    assert trace
    loss = cs.loss()
    from harness.runner import make_scheduler
    from harness.sim import simulate  # noqa: F401  (the trace names trials; their rows come from a replay)

    sched = make_scheduler(cs, "swift", {"R": 16, "eta": 2, "d": 4, "n_runs": 3, "predictor": "oracle", "trace": True})
    oracle, _ = simulate(cs, sched, seed=0)
    for d in sched.decisions:
        assert d["mean"] == loss[oracle.config(d["trial"]), d["target"] - 1]
        if d["mean"] < d["threshold"]:
            assert d["decision"] == "promote"
