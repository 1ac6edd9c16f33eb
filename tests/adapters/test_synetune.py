"""synetune:<Scheduler> driven directly by the simulator (skipped without Syne Tune)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("syne_tune", reason="Syne Tune adapter needs syne-tune (see the synetune extra in pyproject)")

from harness.algorithms import resolve  # noqa: E402
from harness.runner import Cell, run_cell  # noqa: E402
from tests.conftest import make_curveset  # noqa: E402


@pytest.fixture(scope="module")
def pool():
    return make_curveset(n=80, t=27, seed=2)


@pytest.mark.parametrize("name,extra", [("ASHA", {}), ("ASHA", {"space": "hp"}), ("BOHB", {})])
def test_schedulers_replay_deterministically(pool, name, extra):
    params = {"R": 27, "eta": 3, **extra}
    a = run_cell(Cell("pool", f"synetune:{name}", params, seed=5), curves=pool)
    b = run_cell(Cell("pool", f"synetune:{name}", params, seed=5), curves=pool)
    assert json.dumps(a.to_json()) == json.dumps(b.to_json())
    assert a.extra["trials_started"] > 1 and a.returned_config_id is not None
    if extra.get("space") == "hp":
        assert len(a.extra["nearest_distances"]) == a.extra["trials_started"]


def test_asha_stops_trials_and_respects_the_budget(pool):
    from harness.hb import hyperband_epochs

    r = run_cell(Cell("pool", "synetune:ASHA", {"R": 27, "eta": 3}, seed=0), curves=pool)
    assert r.extra["stopped"] > 0
    assert hyperband_epochs(27, 3) <= r.epochs <= hyperband_epochs(27, 3) + 27
    w = run_cell(Cell("pool", "synetune:ASHA", {"R": 27, "eta": 3}, seed=0, workers=4), curves=pool)
    assert w.makespan < r.makespan


def test_bad_names_and_settings():
    with pytest.raises(ValueError, match="syne_tune.optimizer.baselines has no scheduler 'HyperBand'; valid: "):
        resolve("synetune:HyperBand")
    with pytest.raises(ValueError, match="synetune:ASHA has no setting 'nope'"):
        resolve("synetune:ASHA").Config.from_dict({"nope": 1})


def test_keep_rules_measured_on_both_libraries():
    """results/adapters.md states the libraries' keep rules with what they decide on losses 1, 2, 1.5 at a rung."""
    pytest.importorskip("optuna")
    from harness.reporting.adapters import keep_rules, keep_rules_section

    got = keep_rules(3)
    assert got["synetune:ASHA"] == [True, False, True]  # 1.5: one of three strictly better, 1/3 <= 1/eta
    assert got["optuna:SuccessiveHalvingPruner"] == [True, False, False]  # only the best max(1, n // 3)
    text = "\n".join(keep_rules_section(3))
    assert "1.5 continues" in text and "1.5 stops" in text
