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


def test_quick_leaderboard(tmp_path):
    """harness reproduce leaderboard --quick: the suite across families, then leaderboard.md with the overall IQM
    table, the per-family tables, the anytime figure, the wall time, the command and code version, and what not
    to conclude; a rerun resumes (no cell runs twice)."""
    from harness.cli import main

    assert main(["reproduce", "leaderboard", "--quick", "--out-dir", str(tmp_path), "-q"]) == 0
    text = (tmp_path / "leaderboard.md").read_text()
    for part in ("# Leaderboard across the catalogue", "## Overall", "## Per family", "| generate | swifthb | taskset |",
                 "## Anytime", "## What not to conclude", "harness reproduce leaderboard --quick",
                 "of wall time", "smac:Hyperband", "optuna:HyperbandPruner"):
        assert part in text, part
    assert (tmp_path / "leaderboard" / "anytime.png").is_file()
    records = sorted((tmp_path / "leaderboard").glob("records-*.parquet"))
    import pandas as pd

    n = len(pd.read_parquet(records[0]))
    assert n == 3 * 6 * 2
    assert main(["reproduce", "leaderboard", "--quick", "--out-dir", str(tmp_path), "-q"]) == 0
    assert len(pd.read_parquet(records[0])) == n
