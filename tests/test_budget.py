"""Issue #35: equal budgets, trial ledgers, the divergence rule and the regret scale, reproducible adapters."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from harness.budget import budget_epochs, to_spend
from harness.divergence import diverged, pool_scale
from harness.runner import Cell, build_config, cached_dataset, run_cell
from harness.sim import simulate

BUILTIN = ("hyperband", "successive_halving", "random", "asha", "swift", "swift_asha", "fhyperband", "earlystop")


def _cell(ds: str, algo: str, multiple: float, seed: int = 0, **settings) -> Cell:
    cs = cached_dataset(ds)
    b = budget_epochs(multiple, cs.n_epochs)
    cfg = to_spend(build_config(algo, settings), b, cs.n_epochs, cs.n_configs)
    return Cell(ds, algo, cfg, seed=seed, budget=b, ledger=True)


@pytest.mark.parametrize("algo", BUILTIN)
def test_every_builtin_spends_the_budget_and_no_more_than_one_job_beyond(algo):
    """Recounted from the ledger (an independent count of what each trial trained): a run charges the epochs its
    trials trained (resume accounting), spends its budget unless it ran out of configurations, and crosses it by at
    most one job (<= T epochs); its anytime trace read at the budget counts only what was reached within it."""
    cs = cached_dataset("digits_cnn")
    T = cs.n_epochs
    rec = run_cell(_cell("digits_cnn", algo, 20, n_burnin=10) if algo == "earlystop" else _cell("digits_cnn", algo, 20))
    L = rec.ledger
    assert rec.budget == 20 * T
    assert sum(L["epochs"]) == rec.epochs == L["trained_epochs"]
    assert rec.epochs <= rec.budget + T
    if algo != "successive_halving":  # a pool of 200 configurations outlasts 20 T for all but random's own cap
        assert rec.epochs >= rec.budget
    assert all(ep <= rec.epochs for ep, _, _ in rec.anytime)
    assert len(L["row"]) == len(L["end"]) == L["n_trials"] == rec.n_trials


def test_a_budget_beyond_the_run_changes_nothing_but_the_record_field():
    """The engine's budget only ends runs: a budget the algorithm never reaches gives the record it gave without
    one; records without a budget or ledger have no such keys (old records read the same)."""
    a = run_cell(Cell("digits_cnn", "hyperband", build_config("hyperband", {}), seed=3))
    b = run_cell(Cell("digits_cnn", "hyperband", build_config("hyperband", {}), seed=3, budget=10**6))
    da, db = a.to_json(), b.to_json()
    assert "budget" not in da and "ledger" not in da and db.pop("budget") == 10**6
    assert da == db


def test_budget_ends_a_run_inside_a_batch_and_with_several_workers():
    """A uniform rung that crosses the budget is cut after the job that crosses it (fast path), and the event heap
    of 4 workers stops at the budget too."""
    from harness.algorithms import Hyperband

    cs = cached_dataset("digits_cnn")
    for workers in (1, 4):
        sched = Hyperband(Hyperband.Config(n_runs=50))
        oracle, trace = simulate(cs, sched, seed=0, budget=37, workers=workers)
        assert 37 <= trace.epochs_used <= 37 + cs.n_epochs and trace.budget_hit
    with pytest.raises(ValueError, match="budget is 0"):
        simulate(cs, Hyperband(), budget=0)


def test_to_spend_sets_the_setting_each_algorithm_ends_by():
    cs = cached_dataset("digits_cnn")
    b = budget_epochs(100, cs.n_epochs)
    assert b == 2000 and budget_epochs(0.5, 21) == 11
    assert to_spend(build_config("asha", {}), b, 20, 200).epochs_budget == 2000
    assert to_spend(build_config("hyperband", {}), b, 20, 200).n_runs == 101
    assert to_spend(build_config("random", {}), b, 20, 200).n == 101
    assert to_spend(build_config("random", {}), b, 20, 50).n == 50  # never more than the pool
    assert to_spend(build_config("earlystop", {"n_configs": 50}), b, 20, 200).n_configs is None
    with pytest.raises(ValueError, match="positive multiple"):
        budget_epochs(0, 20)


def _dpl_filter(curves: np.ndarray) -> np.ndarray:
    """The DPL code's TaskSet filter (releaunifreiburg/DPL benchmarks/taskset.py filter_curves), written again with
    pandas as it is written there: kept rows."""
    df = pd.DataFrame(curves)
    return (df.notnull().all(axis=1) & (df < df.quantile(0.95).min()).all(axis=1)).to_numpy()


def test_dpl_divergence_rule_keeps_what_the_dpl_loader_keeps():
    rng = np.random.default_rng(0)
    curves = 0.7 + 0.05 * rng.standard_normal((400, 30)).cumsum(axis=1) / 10
    curves[:12] *= rng.uniform(5, 300, size=(12, 1))  # exploding curves
    curves[20, 5:] = np.nan
    np.testing.assert_array_equal(~diverged(curves, "dpl"), _dpl_filter(curves))
    assert diverged(curves, "none").sum() == 1


def test_taskset_scale_leaves_diverged_configurations_out(shared_curves):
    """On the TaskSet task of the issue: 46 non-finite configurations dropped by the nan policy, 79 more diverged by
    DPL's rule; the regret scale (best to median) is set by the rest, and ``:diverged=drop`` drops them."""
    cs = cached_dataset("taskset_imdb_p32_gru64_avg")
    sc = pool_scale(cs)
    assert (sc["dropped"], sc["diverged"], sc["rule"]) == (46, 79, "dpl")
    final = cs.loss()[:, -1]
    assert final.max() > 60  # the outliers are in the pool ...
    assert sc["worst"] < 1.0 and abs(sc["median"] - 0.6936) < 1e-3  # ... and out of the scale
    dropped = cached_dataset("taskset_imdb_p32_gru64_avg:diverged=drop")
    assert dropped.n_configs == cs.n_configs - 79 and len(dropped.info["diverged_ids"]) == 79


def test_describe_counts_dropped_and_diverged_configurations(shared_curves, capsys):
    from harness.cli import main

    assert main(["datasets", "describe", "taskset_imdb_p32_gru64_avg"]) == 0
    out = capsys.readouterr().out
    assert "dropped_configs      46 (non-finite valid_loss, nan_policy=drop); 954 of 1000 configurations kept" in out
    assert "diverged_configs     79 by the dpl rule" in out and "regret_scale" in out


def test_readings_take_the_incumbent_within_each_point():
    from harness.reporting.budgeted import incumbent_at, readings

    at = [(10, 10.0, 0.5), (25, 25.0, 0.8), (40, 40.0, 0.9)]
    assert math.isnan(incumbent_at(at, 9)) and incumbent_at(at, 10) == 0.5 and incumbent_at(at, 39) == 0.8
    table = pd.DataFrame([{"dataset": "d", "instance": "a", "seed": 0, "epochs": 45, "anytime": json.dumps(at)}])
    scales = {"d": {"best": -1.0, "median": -0.5, "T": 10, "sign": -1.0}}  # a maximised metric: loss = -value
    r = readings(table, scales, (0.5, 2.5, 4.0))
    assert r.norm_regret.tolist() == [1.0, pytest.approx((-0.8 + 1) / 0.5), pytest.approx((-0.9 + 1) / 0.5)]
    assert r.has_incumbent.tolist() == [False, True, True] and r.spent.tolist() == [1.0, 1.0, 1.0]


def test_the_observed_reading_takes_the_best_value_seen_within_each_point():
    """reading: observed (DPL's protocol): the best value reported at any epoch within the point, as seen, on the
    scale of each configuration's best value at any epoch; the final reading of the same run is unchanged."""
    from harness.reporting.budgeted import observed_at, readings

    led = {"observed": [[3, 0.9], [12, 0.7], [30, 0.55]]}
    assert math.isnan(observed_at(led, 2)) and observed_at(json.dumps(led), 12) == 0.7 and observed_at(led, 99) == 0.55
    table = pd.DataFrame([{"dataset": "d", "instance": "a", "seed": 0, "epochs": 45, "anytime": json.dumps([]),
                           "ledger": json.dumps(led)}])
    scales = {"d": {"best": 0.6, "median": 0.8, "best_any": 0.5, "median_any": 0.7, "T": 10, "sign": 1.0}}
    r = readings(table, scales, (0.1, 2.0, 4.0), "observed")
    assert r.norm_regret.tolist() == [1.0, pytest.approx((0.7 - 0.5) / 0.2), pytest.approx((0.55 - 0.5) / 0.2)]
    assert r.has_incumbent.tolist() == [False, True, True]
    assert readings(table, scales, (4.0,)).norm_regret.tolist() == [1.0]  # nothing trained to R: no incumbent


def test_observed_scale_uses_each_configurations_best_epoch(shared_curves):
    from harness.divergence import diverged, rule_of
    from harness.reporting.budgeted import observed_scale

    cs = cached_dataset("taskset_imdb_p32_gru64_avg")
    sc = observed_scale(cs)
    loss = cs.loss()
    keep = ~diverged(loss, rule_of(cs))
    low = np.array([np.min(r[np.isfinite(r)]) for r in loss[keep] if np.isfinite(r).any()])
    assert sc["best_any"] == low.min() and sc["median_any"] == pytest.approx(np.median(low))
    assert sc["best_any"] <= pool_scale(cs)["best"]


def test_a_suite_reading_is_checked(tmp_path):
    from harness.bench import load_suite

    base = "name: s\ndatasets: [digits_cnn]\nalgorithms: [hyperband]\n"
    for extra, msg in (("reading: seen\n", "reading is 'seen', but must be 'final'"),
                       ("reading: observed\n", "used with a budget and ledger: true")):
        p = tmp_path / "s.yaml"
        p.write_text(base + extra)
        with pytest.raises(ValueError, match=msg):
            load_suite(p)
    p.write_text(base + "budget: 2\nledger: true\nreading: observed\n")
    assert load_suite(p).reading == "observed" and load_suite("leaderboard").reading == "final"
    assert load_suite("dpl_protocol").reading == "observed"


def test_searchers_in_hp_space_train_distinct_configurations(shared_curves):
    """Fed as the library means it: BOHB searching the hyperparameters (space=hp) is answered by untried pool rows,
    so at the leaderboard's settings it restarts no trained configuration; with space=pool (the row index) its KDE
    re-proposes rows (issue #35: 66% of its epochs). The ledger shows both."""
    pytest.importorskip("syne_tune")
    for ds in ("swifthb_mlpf_delphes", "digits_cnn"):
        rec = run_cell(_cell(ds, "synetune:BOHB", 20, space="hp"))
        L = rec.ledger
        assert L["restart_epochs"] < 0.05 * L["trained_epochs"]
        assert L["distinct"] >= 0.95 * L["n_trials"]
        assert rec.extra["mapped"]["to_a_tried_row"] == 0
    pool = run_cell(_cell("swifthb_mlpf_delphes", "synetune:BOHB", 20, space="pool")).ledger
    assert pool["restart_epochs"] > 0.2 * pool["trained_epochs"]


def test_smac_incumbent_selection_is_refused():
    pytest.importorskip("smac")
    from harness.algorithms import build_configs
    from harness.config import ConfigError

    with pytest.raises(ConfigError, match="incumbent_selection='any_budget' is not read"):
        build_configs(["smac:Hyperband"], {"incumbent_selection": "any_budget"})


@pytest.mark.slow
def test_adapters_give_identical_records_in_two_fresh_processes(tmp_path):
    """``harness replay --out`` twice, each a fresh process started without PYTHONHASHSEED (SMAC orders candidates
    by string hashes): byte-identical records for SMAC's facade, BOHB in hp space and Optuna's TPE."""
    pytest.importorskip("smac")
    pytest.importorskip("syne_tune")
    pytest.importorskip("optuna")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    outs = []
    for k in range(2):
        out = tmp_path / f"run{k}.jsonl"
        cmd = [sys.executable, "-c", "import sys; from harness.cli import main; sys.exit(main())", "replay",
               "-d", "digits_cnn", "-a", "smac:MultiFidelityFacade", "-a", "synetune:BOHB",
               "-a", "optuna:HyperbandPruner", "--set", "smac:MultiFidelityFacade.space=hp",
               "--set", "synetune:BOHB.space=hp", "--set", "optuna:HyperbandPruner.sampler=tpe",
               "--seeds", "0", "--baseline", "", "--ledger", "--out", str(out), "-q"]
        subprocess.run(cmd, check=True, env=env, capture_output=True, timeout=600)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and len(outs[0].splitlines()) == 3


def test_cell_code_version_covers_the_engine_and_the_cells_own_algorithm():
    """A bench cell's key changes with the engine and its algorithm's modules, not with another algorithm's,
    a writer or a command (issue #35: an unrelated edit must not rerun the board)."""
    from harness.codeversion import ENGINE, algorithm_code_hash, cell_roots, code_hash, module_closure

    hb = module_closure((*ENGINE, "harness.algorithms.hyperband"))
    assert {"harness.sim", "harness.scheduler", "harness.hb", "harness.metrics", "harness.store"} <= set(hb)
    assert not any(m.startswith(("harness.algorithms.swift", "harness.adapters", "harness.reporting", "harness.cli"))
                   or m in ("harness.algorithms", "harness.predictors.zoo") for m in hb)
    # a predictor-driven cell adds the module of the predictor its settings name (not every predictor's)
    assert cell_roots({"predictor": "qsvr"}) == ("harness.predictors.qsvr",) and cell_roots({}) == ()
    swift = module_closure((*ENGINE, "harness.algorithms.swift", *cell_roots({"predictor": "nusvr"})))
    assert "harness.predictors.zoo" in swift and "harness.predictors.qsvr" not in swift
    assert algorithm_code_hash("harness.algorithms.swift", ("harness.predictors.qsvr",)) != \
        algorithm_code_hash("harness.algorithms.swift", ("harness.predictors.zoo",))
    assert algorithm_code_hash("harness.algorithms.hyperband") != algorithm_code_hash("harness.algorithms.swift")
    assert algorithm_code_hash("mypackage.mine") == code_hash()
    assert algorithm_code_hash("harness.algorithms.swift", cell_roots({"predictor": "mine:Pred"})) == code_hash()


def test_records_and_replay_say_what_was_left_out_of_the_pool(shared_curves, capsys):
    """Issue #37: a run's record says how many configurations the nan policy dropped (and the divergence rule,
    when dropped), and the replay table's header says it too; a pool without any says nothing."""
    from harness.cli import main

    r = run_cell(Cell("taskset_imdb_p32_gru64_avg:diverged=drop", "hyperband", build_config("hyperband", {})))
    assert r.extra["pool_dropped"] == {"configs": 46, "nan_policy": "drop"}
    assert r.extra["pool_diverged_dropped"] == {"configs": 79, "rule": "dpl"}
    assert "pool_dropped" not in run_cell(Cell("digits_cnn", "hyperband", build_config("hyperband", {}))).extra
    assert main(["replay", "-d", "taskset_imdb_p32_gru64_avg", "-a", "hyperband", "--seeds", "0", "-q"]) == 0
    assert "954 configs x 50 epochs" in (out := capsys.readouterr().out)
    assert "46 configs dropped (non-finite, nan_policy=drop)" in out


def test_ledger_stats_count_trials_drawn_and_never_trained_apart():
    """A trial drawn ahead and never trained (``u``, as earlystop draws its next batch before its run ends) is not a
    trial on a repeated configuration: the page's distinct share is over trials that trained an epoch."""
    import json

    import pandas as pd

    from harness.reporting.budgeted import ledger_stats

    led = {"pool": 5, "row": [0, 1, 2, 1, 3, 4], "epochs": [3, 3, 1, 2, 0, 0], "end": "fssfuu", "restarted": [3],
           "n_trials": 6, "distinct": 3, "n_restarted": 1, "restart_epochs": 2, "trained_epochs": 9}
    st = ledger_stats(pd.DataFrame({"instance": ["a", "a"], "ledger": [json.dumps(led)] * 2}))
    row = st.iloc[0]
    assert (row["trials a run"], row["drawn, never trained, a run"]) == ("4.0", "2.0")
    assert row["distinct configs / trials"] == "0.750" and row["epochs on restarted configs"] == f"{2 / 9:.3f}"
