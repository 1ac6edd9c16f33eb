"""smac:<Intensifier> in the simulator: SMAC's own ask/tell loop fed the same rows makes the same asks."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("smac", reason="the SMAC adapter needs SMAC3 (pip install '.[smac]')")

from harness.cli import main  # noqa: E402
from harness.runner import Cell, make_scheduler, run_cell  # noqa: E402
from harness.sim import simulate  # noqa: E402
from tests.conftest import make_curveset  # noqa: E402


@pytest.fixture(scope="module")
def pool():
    return make_curveset(n=80, t=27, seed=5)


def _smac_own_loop(curves, name, R, eta, budget, seed):
    """SMAC's documented ask/tell loop over the same pool rows (an integer 'row' hyperparameter) and the same
    seed, each ask answered with the recorded loss at its budget; resume accounting for the epochs charged."""
    import tempfile

    from ConfigSpace import ConfigurationSpace, Integer
    from smac import HyperbandFacade, MultiFidelityFacade, Scenario, intensifier
    from smac.runhistory.dataclasses import TrialValue

    from harness.adapters.smac import CLASSES

    facade = {"HyperbandFacade": HyperbandFacade, "MultiFidelityFacade": MultiFidelityFacade}[CLASSES[name][0]]
    space = ConfigurationSpace(seed=seed)
    space.add(Integer("row", (0, curves.n_configs - 1)))
    sc = Scenario(space, deterministic=True, n_trials=10**9, min_budget=1, max_budget=R, seed=seed,
                  output_directory=tempfile.mkdtemp())
    inten = getattr(intensifier, CLASSES[name][1])(sc, eta=eta, seed=seed)
    smac = facade(sc, target_function=lambda config, budget, seed: 0.0, intensifier=inten, overwrite=True,
                  logging_level=False)
    from smac.main.exceptions import ConfigurationSpaceExhaustedException

    loss, trained, used, asks = curves.loss(), {}, 0, []
    while used < budget:
        try:
            info = smac.ask()
        except ConfigurationSpaceExhaustedException:  # every row evaluated: SMAC has nothing new to ask
            break
        row, e = int(info.config["row"]), min(max(1, int(round(info.budget))), R)
        asks.append((row, e))
        used += max(0, e - trained.get(row, 0))
        trained[row] = max(trained.get(row, 0), e)
        smac.tell(info, TrialValue(cost=float(loss[row, e - 1])), save=False)
    return asks


@pytest.mark.parametrize("name", ["Hyperband", "SuccessiveHalving", "MultiFidelityFacade"])
def test_same_asks_as_smacs_own_loop(pool, name):
    from harness.hb import hyperband_epochs

    for seed in (0, 1):
        sched = make_scheduler(pool, f"smac:{name}", {"R": 27, "eta": 3})
        oracle, _ = simulate(pool, sched, seed=seed)
        mine = [(oracle.config(t), e) for t, e in sched.budgets]
        # the scheduler's SMAC seed is the first draw of the run's algorithm stream (SPEC 0.3)
        smac_seed = int(np.random.default_rng([seed, 1]).integers(2**31))
        theirs = _smac_own_loop(pool, name, 27, 3, hyperband_epochs(27, 3), smac_seed)
        assert mine == theirs and len(mine) > 20


def test_deterministic_and_on_workers(pool):
    a = run_cell(Cell("pool", "smac:Hyperband", {"R": 27, "eta": 3}, seed=4), curves=pool)
    b = run_cell(Cell("pool", "smac:Hyperband", {"R": 27, "eta": 3}, seed=4), curves=pool)
    assert json.dumps(a.to_json()) == json.dumps(b.to_json()) and a.returned_config_id is not None
    w = run_cell(Cell("pool", "smac:Hyperband", {"R": 27, "eta": 3}, seed=4, workers=4), curves=pool)
    assert w.makespan < w.epochs and w.extra["asks"] > 10


def test_bad_names_and_settings_are_one_line(capsys):
    assert main(["replay", "-d", "digits_cnn", "-a", "smac:Nope", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "no SMAC optimiser 'Nope'; valid: smac:Hyperband, smac:SuccessiveHalving" in err
    assert main(["replay", "-d", "digits_cnn", "-a", "smac:Hyperband", "--set", "smac:Hyperband.max_incumbent=3",
                 "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "has no setting 'max_incumbent'" in err and "max_incumbents" in err and "\n" not in err


def test_a_budget_too_small_for_R_says_so(pool, caplog):
    with caplog.at_level("WARNING"):
        r = run_cell(Cell("pool", "smac:Hyperband", {"R": 27, "eta": 3, "epochs_budget": 20}, seed=0), curves=pool)
    assert "no configuration reached R=27 within the budget of 20 epochs" in caplog.text
    assert r.returned_config_id is None


def test_surrogate_mode(yahpo_root):
    from harness.datasets import load_dataset

    cs = load_dataset("lcbench_3945:n=50")
    r = run_cell(Cell("lcbench_3945:n=50", "smac:Hyperband", {"R": 27, "eta": 3, "space": "hp"}, seed=0), cs)
    assert r.extra["mode"] == "surrogate" and r.extra["proposed"] > 0
