"""A reduced ``harness reproduce`` (the --quick settings of conf/reproduce/*.yaml) builds every artifact."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harness.cli import main
from harness.reproduce import EXPERIMENTS, load_config


def test_configs_load_and_quick_overrides_apply():
    full, quick = load_config("swift_mlpf"), load_config("swift_mlpf", quick=True)
    assert full["seeds"] == 10 and quick["seeds"] == 2
    assert quick["params"] == {"R": 100, "eta": 2}  # nested dicts merge, not replace
    assert load_config("fig6", quick=True)["params"]["Delta"] == 0.95
    with pytest.raises(ValueError, match="experiment is 'nope'"):
        load_config("nope")


def test_quick_reproduce_builds_results(tmp_path, shared_curves, capsys):
    assert main(["reproduce", "--quick", "--out-dir", str(tmp_path), "-q", "--jobs", "2"]) == 0
    for name in EXPERIMENTS:
        assert (tmp_path / f"{name}.md").is_file(), name
        assert (tmp_path / f"{name}.csv").stat().st_size > 0, name
    for png in ("fig3.png", "fig4.png", "fig6_digits_cnn_per_run.png", "swift_mlpf_swifthb_mlpf_delphes_anytime.png"):
        assert (tmp_path / png).stat().st_size > 1000, png
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["quick"] is True
    assert manifest["datasets"]["swifthb_mlpf_delphes"]["hash"].startswith("sha256:")
    # where the time went: seconds per experiment, the slowest units named
    spent = manifest["time"]["seconds_by_experiment"]
    assert set(spent) == set(EXPERIMENTS) and all(v >= 0 for v in spent.values()) and sum(spent.values()) > 0
    slow = manifest["time"]["slowest_units"]
    assert len(slow) == 15 and slow[0]["seconds"] >= slow[-1]["seconds"] and slow[0]["experiment"] in EXPERIMENTS
    # in a fresh folder a unit is loaded only when another experiment of this run already computed the same one
    assert 0 <= manifest["time"]["units_loaded_from_cache"] < manifest["units"]
    swift = pd.read_csv(tmp_path / "swift_mlpf.csv")
    hb = swift[swift.algorithm == "hyperband"]
    assert hb.epochs.iloc[0].startswith("3213.0")
    assert len(swift) == 3  # Hyperband, Swift + SVR, Swift + QSVR
    readme = (tmp_path / "README.md").read_text()
    assert "QUICK run" in readme and "2926.3 ± 39.9" in readme and "97.22 ± 0.31" in readme
    # Baker's own rows under ours (issue #29): Table 1's MetaQNN nu-SVR, Table 2's MetaQNN AP alone
    assert "| MetaQNN (CIFAR-10), T=20, 1000 configs | 97.22 ± 0.31 |" in (tmp_path / "table1.md").read_text()
    assert "| AP | 15.38 ± 4.66 |" in (tmp_path / "table2.md").read_text()
    t1 = pd.read_csv(tmp_path / "table1.csv")
    assert set(t1.method) == {"nusvr", "ols", "blr", "rf"}
    # the f-Hyperband study's run records keep their per-run statistics but not the decision traces (which
    # made the full-size file hundreds of MB)
    fhb = [json.loads(line) for line in (tmp_path / "fhyperband_study_runs.jsonl").read_text().splitlines()]
    traced = [r for r in fhb if r["algorithm"] == "fhyperband"]
    assert traced and all("trace" not in r["extra"] and r["extra"]["trace_decisions"] > 0 for r in traced)
    assert all("_stats" in r["extra"] for r in traced)


def test_rerun_reuses_finished_units(tmp_path, shared_curves):
    from harness.reproduce import reproduce

    first = reproduce(["swift_mlpf"], tmp_path, quick=True, n_jobs=1, progress=False)
    cached = list((tmp_path / ".units").rglob("*.pkl"))
    assert len(cached) == 6  # 3 algorithms x 2 seeds
    stamp = {p: p.stat().st_mtime_ns for p in cached}
    second = reproduce(["swift_mlpf"], tmp_path, quick=True, n_jobs=1, progress=False)
    assert second == first
    assert all(p.stat().st_mtime_ns == t for p, t in stamp.items())  # loaded, not recomputed
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["time"]["units_loaded_from_cache"] == 6 and manifest["time"]["slowest_units"] == []
    assert manifest["time"]["seconds_by_experiment"] == {"swift_mlpf": 0.0}


def test_reproduce_help_lists_every_experiment():
    from harness.cli.reproduce import EXPERIMENT_NAMES
    from harness.reproduce import EXPERIMENTS

    assert tuple(EXPERIMENT_NAMES) == tuple(EXPERIMENTS)


def test_a_bad_override_is_a_one_line_error_naming_it(tmp_path, capsys):
    """Hydra's ConfigCompositionException used to surface as an internal error with a traceback."""
    with pytest.raises(ValueError, match=r"--override nope=1: Could not override 'nope'\. .*conf/reproduce/fig3"):
        load_config("fig3", overrides=["nope=1"])
    assert main(["reproduce", "fig3", "--override", "repeats=[1", "--out-dir", str(tmp_path), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --override repeats=[1: "), err
    assert load_config("fig3", overrides=["repeats=2"])["repeats"] == 2


def test_reproduce_rejects_zero_jobs_before_any_work(tmp_path):
    from harness.reproduce import reproduce

    with pytest.raises(ValueError, match=r"n_jobs \(--jobs\) is 0"):
        reproduce(["fig3"], tmp_path, quick=True, n_jobs=0, progress=False)
    assert not any(tmp_path.iterdir())


def test_quick_leaderboard(tmp_path, capsys):
    """harness reproduce leaderboard --quick: the equal-budget suite across families, then leaderboard.md with a
    table per reading point, the regret scale and its diverged counts, who could act, the ledgers, the anytime
    figure, the wall time, the command and code version, and what not to conclude; a rerun resumes (no cell runs
    twice) and states its own wall time."""
    import json

    from harness.cli import main

    # --report-only before any run: a one-line error naming the records directory
    assert main(["reproduce", "leaderboard", "--quick", "--report-only", "--out-dir", str(tmp_path), "-q"]) == 2
    assert "leaderboard: no records of the leaderboard suite at this code version" in capsys.readouterr().err
    assert main(["reproduce", "leaderboard", "--quick", "--out-dir", str(tmp_path), "-q"]) == 0
    text = (tmp_path / "leaderboard.md").read_text()
    for part in ("# Leaderboard across the catalogue, at equal budgets", "10 x T epochs", "## At 2 T epochs",
                 "## At 5 T epochs", "## At 10 T epochs", "| taskset | dpl | 1 | 954 | 46 | 79 |",
                 "## Who could act", "## What each algorithm trained (trial ledgers)",
                 "## What each algorithm was given", "| synetune:BOHB | eta=3, space=hp | hyperparameters",
                 "## Anytime", "## What not to conclude", "harness reproduce leaderboard --quick",
                 "of wall time", "smac:Hyperband", "optuna:HyperbandPruner", "synetune:BOHB",
                 "No run draws a pool row twice (`draws: run`)"):
        assert part in text, part
    assert (tmp_path / "leaderboard" / "anytime.png").is_file()
    records = sorted((tmp_path / "leaderboard").glob("records-*.parquet"))
    n = len(pd.read_parquet(records[0]))
    assert n == 3 * 7 * 2
    table = pd.read_parquet(records[0])
    assert set(table.budget) == {200, 120, 500}  # 10 x T on digits_cnn, swifthb_mnist_cnn, taskset (T 20, 12, 50)
    assert all(json.loads(L)["n_trials"] >= 1 for L in table.ledger)
    # distinct draws over the run: no ledger starts a pool row twice unless the algorithm asked (counted)
    for L, ex in zip(table.ledger, table.extra, strict=True):
        rows = json.loads(L)["row"]
        assert json.loads(ex)["draws"] == "run"
        assert len(rows) - len(set(rows)) == json.loads(ex)["rows_restarted"]
    assert main(["reproduce", "leaderboard", "--quick", "--out-dir", str(tmp_path), "-q"]) == 0
    assert len(pd.read_parquet(records[0])) == n
    state = json.loads((tmp_path / "leaderboard" / "wall_seconds.json").read_text())
    assert len(state["runs"]) == 2 and state["wall_seconds"] == state["runs"][-1]["wall_seconds"]
    assert [r["computed"] for r in state["runs"]] == [n, 0]  # the rerun resumed: nothing left to compute
    assert f"found all {n} runs' records made and computed none" in (tmp_path / "leaderboard.md").read_text()
    # --report-only: the page from the records there; nothing runs, no run is added to the wall-time record
    (tmp_path / "leaderboard.md").unlink()
    assert main(["reproduce", "leaderboard", "--quick", "--report-only", "--out-dir", str(tmp_path), "-q"]) == 0
    assert "## What not to conclude" in (tmp_path / "leaderboard.md").read_text()
    assert len(pd.read_parquet(records[0])) == n
    assert json.loads((tmp_path / "leaderboard" / "wall_seconds.json").read_text()) == state


def test_predict_units_are_the_full_runs_rows(shared_curves):
    """One unit per repeat: together the rows the whole experiment gives (timings aside)."""
    from harness.datasets import load_dataset
    from harness.predictors.experiments import run_experiment
    from harness.reproduce import _unit_predict, predict_spec

    cfg = {**load_config("fig3", quick=True), "repeats": 2}
    spec = predict_spec(cfg)
    parts = pd.concat([_unit_predict(spec, "digits_cnn", r) for r in range(2)], ignore_index=True)
    whole = run_experiment(load_dataset("digits_cnn"), "fig3", repeats=2, n_train=cfg["n_train"], budget="tiny",
                           fractions=tuple(cfg["fractions"]), progress=False)
    assert len(parts) == len(whole) > 0
    pd.testing.assert_frame_equal(parts.drop(columns="seconds"), whole.drop(columns="seconds"))


def test_plan_computes_equal_units_once_and_costliest_first(shared_curves):
    """predict_check's repeats are fig3's (same spec): planned once; chains ordered by expected cost."""
    from harness.reproduce import _units, plan, unit_key

    cfgs = {n: load_config(n) for n in ("fig3", "predict_check", "fig4")}
    units = [(n, fn, args) for n, cfg in cfgs.items() for fn, args in _units(cfg)]
    chains, same = plan(units, {})
    fig3 = {unit_key(fn, a): i for i, (n, fn, a) in enumerate(units) if n == "fig3"}
    shared = [i for i, (n, fn, a) in enumerate(units) if n == "predict_check" and unit_key(fn, a) in fig3]
    both = set(cfgs["fig3"]["datasets"]) & set(cfgs["predict_check"]["datasets"])
    assert len(both) == 8 and len(shared) == len(both) * cfgs["predict_check"]["repeats"]  # 8 x 3 repeats
    assert all(same[i] == fig3[unit_key(units[i][1], units[i][2])] for i in shared)
    planned = sorted(i for c in chains for i in c)
    assert planned == sorted(set(range(len(units))) - set(same))  # every other unit exactly once
    # fig4's thresholds of one (dataset, predictor, ordering) run as one chain
    es = [c for c in chains if units[c[0]][0] == "fig4"]
    assert len(es) == 2 * 2 * 10 and all(len(c) == 3 * 2 for c in es)
    # with measured costs, the costliest chain goes first
    chains2, _ = plan(units, {"predict fig3 digits_cnn": 1000.0})
    assert units[chains2[0][0]][0] in ("fig3", "predict_check") and "digits_cnn" in units[chains2[0][0]][2]


def test_chained_cells_give_what_they_give_alone(shared_curves):
    """Early-stopping cells of one ordering run back to back share SRM fits through the process's fit cache,
    and each gives the record it gives alone with an empty cache."""
    import dataclasses

    from harness.predictors import srm
    from harness.reproduce import _run_chain, _unit_cell
    from harness.runner import Cell, run_cell

    cells = [Cell("digits_cnn", "earlystop", {"predictor": "nusvr", "Delta": D, "delta": 0.0, "nth": nth,
                                              "n_burnin": 30}, seed=0) for D, nth in ((0.99, 1), (0.9, 1), (0.99, 3))]

    def plain(rec):
        return {k: v for k, v in dataclasses.asdict(rec).items() if "seconds" not in k}

    alone = []
    for c in cells:
        srm._FITS.clear()
        alone.append(plain(run_cell(c)))
    srm._FITS.clear()
    hits = srm.FIT_CACHE_STATS["hits"]
    chained = [plain(r) for r, _ in _run_chain(None, [(_unit_cell, (c,)) for c in cells])]
    assert srm.FIT_CACHE_STATS["hits"] > hits  # the chain reused fits ...
    assert chained == alone  # ... and changed no number


def test_cells_shared_between_experiments_are_fitted_once(shared_curves):
    """targets' first cell (nu-SVR on the final value) is table1's: same split, same seed, same data. In one
    process it is fitted once, and targets' rows are what they are without table1 run before."""
    from harness.predictors import protocol
    from harness.reproduce import _unit_predict, predict_spec

    spec = {n: predict_spec({**load_config(n), "budget": "tiny"}) for n in ("table1", "targets")}
    protocol._CELLS.clear()
    alone = _unit_predict(spec["targets"], "digits_cnn", 0)
    protocol._CELLS.clear()
    t1 = _unit_predict(spec["table1"], "digits_cnn", 0)
    after = _unit_predict(spec["targets"], "digits_cnn", 0)
    assert len(protocol._CELLS) == len(t1) + len(after) - 1  # one cell shared
    pd.testing.assert_frame_equal(after.drop(columns="seconds"), alone.drop(columns="seconds"))
    assert after.r2.iloc[0] == t1[t1.method == "nusvr"].r2.iloc[0]


def test_table1_on_taskset_with_and_without_its_diverged_configurations(tmp_path):
    """Issue #35, item 4: the R^2 protocol on a TaskSet task as recorded and with the DPL rule's diverged
    configurations out (a row each, the variant named), and how many configurations each kept and left out."""
    from harness.reproduce import reproduce

    reproduce(["table1_taskset"], tmp_path, quick=True, n_jobs=1, progress=False)
    text = (tmp_path / "table1_taskset.md").read_text()
    name = "taskset_FixedTextRNNClassification_imdb_patch32_GRU64_avg_bs128"
    df = pd.read_csv(tmp_path / "table1_taskset.csv")
    assert set(df.dataset) == {name, f"{name}:diverged=drop"}
    assert "| taskset_imdb_p32_gru64_avg:diverged=drop | 875 | 46 | 79 | dpl |" in text
    assert "| taskset_imdb_p32_gru64_avg | 954 | 46 | 0 | - |" in text


def test_extrapolation_units_are_saved_under_their_own_codes_version(tmp_path, monkeypatch):
    """The extrapolation test's contexts (hours, over sessions) are saved under the version of the code they run
    (harness.predictors.extrapolation and what it imports), so an edit elsewhere in the harness leaves them to be
    loaded; an edit to that code puts them in a new folder. Other units stay under the whole harness's version."""
    from harness import codeversion
    from harness.reproduce import _cached, _unit_extrapolation, _unit_predict, unit_cache

    cache = tmp_path / ".units" / "abc"
    own = unit_cache(cache, _unit_extrapolation)
    assert own.parent == cache.parent and own.name.startswith("_unit_extrapolation-")
    assert unit_cache(cache, _unit_predict) == cache
    calls = []

    def fake(*args):
        calls.append(args)
        return {"n": len(calls)}

    fake.__name__ = "_unit_extrapolation"
    assert _cached(cache, fake, ("digits_cnn", 60, "last_seen", 0, ()))[0] == {"n": 1}
    # the whole harness's version changes (another cache folder), the unit's own code does not: loaded, not run
    res, secs = _cached(tmp_path / ".units" / "other", fake, ("digits_cnn", 60, "last_seen", 0, ()))
    assert res == {"n": 1} and secs is None and len(calls) == 1
    # the unit's own code changes: a new folder, run again
    real = codeversion.closure_hash
    monkeypatch.setattr(codeversion, "closure_hash", lambda roots: real(roots) + "x")
    assert _cached(cache, fake, ("digits_cnn", 60, "last_seen", 0, ()))[0] == {"n": 2}


def test_a_new_experiment_run_into_a_full_runs_folder_is_merged_into_it(tmp_path):
    """harness reproduce NEW --out-dir results used to replace the full run's manifest and summaries when NEW was not
    one of its experiments (only a subset of them merged); now every partial run merges, with a reruns entry."""
    from harness.reproduce import merge_into_full_run

    full = {"experiments": {"a": {}, "b": {}}, "datasets": {"d1": {}}, "quick": False}
    (tmp_path / "manifest.json").write_text(json.dumps(full))
    (tmp_path / "summary.json").write_text(json.dumps({"a": 1, "b": 2}))
    new = {"experiments": {"c": {}}, "datasets": {"d2": {}}, "quick": False, "command": "harness reproduce c",
           "wall_seconds": 3.0, "git_sha": "x", "code_hash": "y", "time": {}}
    m, s = merge_into_full_run(tmp_path, new, {"c": 3}, "why not")
    assert set(m["experiments"]) == {"a", "b", "c"} and set(m["datasets"]) == {"d1", "d2"}
    assert s == {"a": 1, "b": 2, "c": 3} and m["reruns"][-1]["experiments"] == ["c"]
    assert m["reruns"][-1]["why"] == "why not"
    # a run of every experiment of the folder's (or a quick one) replaces it
    every = {**new, "experiments": {"a": {}, "b": {}, "c": {}}}
    assert merge_into_full_run(tmp_path, every, {"a": 0}, None) == (every, {"a": 0})
    assert merge_into_full_run(tmp_path, {**new, "quick": True}, {"c": 3}, None)[1] == {"c": 3}
