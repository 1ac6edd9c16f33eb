"""Benchmark suites: resumable content-addressed cells, one table, statistics checked by hand."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.bench import load_suite, plan, read_table, run_suite
from harness.cli import main
from harness.reporting.bench import holm_wilcoxon, iqm, iqm_ci, ranks

REPO = Path(__file__).resolve().parents[1]
DATA = ("digits_cnn", "shakespeare_lstm")


def suite_file(tmp_path: Path, algorithms: dict, name: str = "tiny", chunk: int = 3) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    p = tmp_path / f"{name}.yaml"
    p.write_text(json.dumps({"name": name, "datasets": list(DATA), "algorithms": algorithms,
                             "settings": {"eta": 2}, "seeds": 3, "out": str(tmp_path / "out" / name),
                             "chunk": chunk}))
    return p


def data_columns(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["order", "cpu_seconds"]).sort_values("key").reset_index(drop=True)


ALGOS = {"hyperband": {}, "swift": {"d": 5}, "asha": {}}


def test_interrupted_suite_resumes_to_the_same_table(tmp_path):
    whole = load_suite(suite_file(tmp_path / "a", ALGOS))
    full = run_suite(whole, progress=False)
    assert len(full) == len(DATA) * len(ALGOS) * 3
    cut = load_suite(suite_file(tmp_path / "b", ALGOS))
    run_suite(cut, progress=False, max_cells=7)  # stopped after 7 cells (chunks of 3 are written atomically)
    assert len(read_table(cut.out_dir)) == 7
    resumed = run_suite(cut, progress=False)
    pd.testing.assert_frame_equal(data_columns(resumed), data_columns(full))


def test_adding_an_algorithm_runs_only_its_cells(tmp_path, monkeypatch):
    import harness.bench as bench

    first = load_suite(suite_file(tmp_path, ALGOS))
    run_suite(first, progress=False)
    ran = []
    real = bench.run_cells
    monkeypatch.setattr(bench, "run_cells", lambda cells, **kw: ran.extend(cells) or real(cells, **kw))
    more = load_suite(suite_file(tmp_path, {**ALGOS, "random": {}}))
    table = run_suite(more, progress=False)
    assert {c.algorithm for c in ran} == {"random"} and len(ran) == len(DATA) * 3
    assert len(table) == len(DATA) * 4 * 3


def test_cell_keys_change_with_what_decides_a_result(tmp_path):
    a = {k: (inst, c.seed) for k, inst, c in plan(load_suite(suite_file(tmp_path, ALGOS)))}
    b = {k: (inst, c.seed) for k, inst, c in plan(load_suite(suite_file(tmp_path, {**ALGOS, "swift": {"d": 6}})))}
    changed = {v for k, v in a.items() if k not in b}
    assert changed == {("swift", s) for s in range(3)} | set()  # only the cells whose config changed


def test_report_and_errors(tmp_path, capsys):
    p = suite_file(tmp_path, ALGOS)
    assert main(["bench", str(p), "-q"]) == 0
    out = tmp_path / "out" / "tiny"
    report = (out / "report.md").read_text()
    assert "IQM norm. regret" in report and "need at least 5 datasets" in report and "## Legend" in report
    assert (out / "profile_resume_1w.png").stat().st_size > 1000
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets: [digits_cnn]\nalgorithms: [hyperband]\nseedz: 3\n")
    assert main(["bench", str(bad)]) == 2
    assert "unknown key 'seedz'; valid keys: name, datasets" in capsys.readouterr().err


def test_statistics_against_hand_computed_values():
    assert iqm([1, 2, 3, 4, 5, 6, 7, 8]) == pytest.approx(4.5)  # mean of 3, 4, 5, 6
    point, lo, hi = iqm_ci([np.arange(8.0), np.arange(8.0) + 10])
    assert point == pytest.approx(iqm(np.r_[np.arange(8.0), np.arange(8.0) + 10])) and lo <= point <= hi
    # Holm over three p-values 0.01 < 0.03 < 0.04: 3 x 0.01, max(2 x 0.03, 0.03), max(1 x 0.04, 0.06)
    from statsmodels.stats.multitest import multipletests

    assert np.allclose(multipletests([0.01, 0.04, 0.03], method="holm")[1], [0.03, 0.06, 0.06])
    rng = np.random.default_rng(0)
    rows = []
    for ds in range(6):
        for seed in range(5):
            for a, shift in (("base", 0.0), ("better", -0.3), ("same", 0.0)):
                rows.append({"dataset": f"d{ds}", "seed": seed, "algorithm": a,
                             "v": 1.0 + shift + rng.normal(0, 0.05)})
    df = pd.DataFrame(rows)
    tests = holm_wilcoxon(df, "v", "base").set_index("algorithm")
    from scipy.stats import wilcoxon

    piv = df.pivot_table(index=["dataset", "seed"], columns="algorithm", values="v")
    p_better = wilcoxon(piv["better"], piv["base"], zero_method="zsplit").pvalue
    p_same = wilcoxon(piv["same"], piv["base"], zero_method="zsplit").pvalue
    assert tests.loc["better", "p_holm"] == pytest.approx(min(1, 2 * min(p_better, p_same)) if p_better < p_same
                                                          else max(p_better, min(1, 2 * p_same)))
    res = ranks(df, "v")
    from scipy.stats import friedmanchisquare

    wide = df.groupby(["dataset", "algorithm"]).v.mean().unstack()
    assert res.pvalue == pytest.approx(friedmanchisquare(*[wide[c] for c in wide.columns]).pvalue)
    assert res.rankdf["meanrank"].idxmin() == "better"


def test_hydra_joblib_launcher_shards(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher", reason="pip install hydra-joblib-launcher")
    p = suite_file(tmp_path, ALGOS)
    cmd = [sys.executable, "-m", "harness.bench", "-m", f"suite={p}", "n_shards=2", "shard=0,1",
           "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={tmp_path / 'mr'}"]
    proc = subprocess.run(cmd, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "out" / "tiny"
    assert sorted(f.name for f in out.glob("records-*.parquet")) == ["records-0-of-2.parquet",
                                                                     "records-1-of-2.parquet"]
    import pyarrow.parquet as pq  # zstd: a 100 T board's records (ledgers, mapping distances) fit a git file

    assert pq.ParquetFile(out / "records-0-of-2.parquet").metadata.row_group(0).column(0).compression == "ZSTD"
    sharded = read_table(out)
    seq = run_suite(load_suite(suite_file(tmp_path / "seq", ALGOS)), progress=False)
    pd.testing.assert_frame_equal(data_columns(sharded), data_columns(seq))


def test_hydra_entry_point_bad_input_is_one_line(tmp_path):
    """It printed Hydra's 'Error executing job' and a traceback for a suite name that does not exist."""
    pytest.importorskip("hydra")
    for override, message in (("suite=nope_suite", "error: suite 'nope_suite': no file "),
                              ("n_shards=0", "error: n_shards is 0, but must be an integer >= 1")):
        cmd = [sys.executable, "-m", "harness.bench", override, f"hydra.run.dir={tmp_path / 'run'}"]
        proc = subprocess.run(cmd, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 2, proc.stderr[-2000:]
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(message), lines


def test_bad_process_and_shard_counts_are_errors_before_any_work(tmp_path):
    """--jobs 0 used to run the whole suite sequentially (joblib raised only once a cell was big enough) and
    --n-shards 0 said 'shard is 0, but must be in [0, n_shards=0)'."""
    from harness.bench import load_suite, run_suite
    from harness.runner import run_cells

    suite = load_suite("default")
    for kw, message in (({"n_jobs": 0}, r"n_jobs \(--jobs\) is 0, but must be a number of processes >= 1"),
                        ({"n_jobs": 1.5}, r"n_jobs \(--jobs\) is 1.5"),
                        ({"n_shards": 0}, r"n_shards is 0, but must be an integer >= 1")):
        with pytest.raises(ValueError, match=message):
            run_suite(suite, **kw, progress=False, max_cells=0)
    with pytest.raises(ValueError, match=r"n_jobs \(--jobs\) is 0"):
        run_cells([], backend="joblib", n_jobs=0)


@pytest.mark.parametrize("line, message", [
    ("seeds: -1", "seeds is -1, but must be a number of seeds >= 1 or a non-empty list of seeds >= 0"),
    ("seeds: []", "seeds is [], but must be"),
    ("accounting: [resume, restart]", "accounting is 'restart', but must be one of resume, scratch"),
    ("workers: [1, 0]", "workers is 0, but must be a number of workers >= 1"),
    ("cost: time", "cost is 'time', but must be epochs, seconds or cpu_seconds"),
    ("chunk: 0", "chunk is 0, but must be a number of cells >= 1"),
    ("baseline: asha", "baseline is 'asha', but must be one of the suite's algorithms (hyperband, random)"),
    ("pad_to: {ptb_lstm_small: 40}", "pad_to.ptb_lstm_small is 40, but must be a number of epochs >= 1 for one "
                                     "of the suite's datasets"),
])
def test_a_suite_value_that_cannot_work_is_a_one_line_error(tmp_path, line, message):
    """seeds: -1 ran zero cells without a word; a baseline outside the suite gave a report of NaN costs and no
    tests."""
    path = tmp_path / "s.yaml"
    path.write_text(f"datasets: [digits_cnn]\nalgorithms: [hyperband, random]\n{line}\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}: {message}")):
        load_suite(path)


def test_suite_defaults_and_lists():
    s = load_suite("default")
    assert (s.seeds, s.accounting, s.workers, s.baseline, s.cost, s.chunk) == (
        tuple(range(10)), ("resume",), (1,), "hyperband", "epochs", 50)


def test_too_few_seeds_are_said_in_the_report_and_warned(tmp_path, caplog):
    from harness.bench import load_suite, read_table, run_suite
    from harness.metrics import min_wilcoxon_p
    from harness.reporting.bench import write_report

    assert min_wilcoxon_p(5) == 0.0625 and min_wilcoxon_p(6) == 0.03125 and min_wilcoxon_p(5, 4) == 0.25
    suite_path = tmp_path / "s.yaml"
    suite_path.write_text(f"name: s\ndatasets: [digits_cnn]\nalgorithms: [hyperband, asha]\nseeds: 5\n"
                          f"out: {tmp_path / 'out'}\n")
    with caplog.at_level("WARNING"):
        suite = load_suite(suite_path)
    assert "cannot reach p < 0.05" in caplog.text and "use at least 6 seeds" in caplog.text
    run_suite(suite, progress=False)
    text = write_report(suite, read_table(suite.out_dir), suite.out_dir).read_text()
    assert "**Power:** each test against `hyperband` pairs 5 runs" in text and "0.0625" in text


def test_an_equal_budget_suite_gets_the_leaderboards_report(tmp_path, capsys):
    """harness bench on a suite with a budget (DPL's protocol, conf/bench/dpl_protocol.yaml, in miniature):
    the freeze-thaw methods beside Hyperband at equal budgets, read at two points, the leaderboard's report."""
    pytest.importorskip("torch")
    from harness.bench import load_suite
    from harness.cli import main

    assert load_suite("dpl_protocol").budget == 20
    suite = tmp_path / "mini.yaml"
    suite.write_text(f"""name: mini
datasets: [digits_cnn, swifthb_mnist_cnn]
algorithms:
  dpl: {{epochs_scratch: 20, epochs_refine: 2, units: 16}}
  hyperband: {{}}
  random: {{}}
seeds: 2
budget: 3
read_at: [1, 3]
ledger: true
out: {tmp_path}/out
""")
    assert main(["bench", str(suite), "--backend", "sequential", "-q"]) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    assert "## At 1 T epochs" in text and "## At 3 T epochs" in text and "| dpl |" in text
    assert "Made by `harness bench" in text


def test_a_suite_report_counts_the_configurations_left_out(tmp_path, shared_curves):
    """Issue #37: a suite's report names the datasets whose pools lost configurations at load time, with how
    many and the policy or rule (from the records)."""
    from harness.cli import main

    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ndatasets: [taskset_imdb_p32_gru64_avg, digits_cnn]\nalgorithms: [hyperband]\n"
                     f"seeds: 1\nout: {tmp_path}/o\n")
    assert main(["bench", str(suite), "--backend", "sequential", "-q"]) == 0
    text = (tmp_path / "o" / "report.md").read_text()
    assert ("Configurations left out of the pools at load time: taskset_FixedTextRNNClassification_imdb_patch32_"
            "GRU64_avg_bs128: 46 dropped as non-finite (nan_policy=drop).") in text


def test_the_page_shows_what_a_mechanism_could_reach_with_a_perfect_predictor(tmp_path):
    """Issue #35, item 3: beside each predictor-driven algorithm, the same algorithm with a perfect predictor
    (a bounds suite at the same protocol) and the baseline: trials, stops and the IQM regret at the last point."""
    import dataclasses

    from harness.bench import load_suite, read_table, run_suite
    from harness.reporting.budgeted import write_budgeted

    common = "datasets: [digits_cnn, swifthb_mnist_cnn]\nseeds: 2\nbudget: 4\nread_at: [2, 4]\nledger: true\n"
    (tmp_path / "main.yaml").write_text("name: main\nalgorithms:\n  hyperband: {}\n  swift: {d: 4}\n"
                                        "baseline: hyperband\n" + common + f"out: {tmp_path}/main\n")
    (tmp_path / "b.yaml").write_text("name: b\nalgorithms:\n  swift@oracle: {d: 4, predictor: oracle}\n"
                                     "baseline: swift@oracle\n" + common + f"out: {tmp_path}/b\n")
    main_s, b_s = load_suite(tmp_path / "main.yaml"), load_suite(tmp_path / "b.yaml")
    for s in (main_s, b_s):
        run_suite(s, backend="sequential", progress=False)
    table, bounds = read_table(main_s.out_dir), read_table(b_s.out_dir)
    page = write_budgeted(main_s, table, tmp_path / "page.md", wall_seconds=1.0, command="test", code={},
                          bounds=bounds)
    text = page.read_text()
    assert "## What the mechanisms could reach" in text
    section = text.split("## What the mechanisms could reach")[1]
    row = next(line for line in section.splitlines() if line.startswith("| swift |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "2"  # datasets
    own, perfect, base = (float(x) for x in cells[2].split(" / "))

    def trained(t):  # trials that trained an epoch (ledger letters other than u)
        return round(float(np.mean([len(json.loads(L)["end"].replace("u", "")) for L in t.ledger])))

    assert own == trained(table[table.instance == "swift"])
    assert base == trained(table[table.instance == "hyperband"])
    assert perfect == trained(bounds)
    own, perfect, base = (float(x) for x in cells[4].split(" / "))  # epochs a run
    assert (own, perfect, base) == (round(table[table.instance == "swift"].epochs.mean()),
                                    round(bounds.epochs.mean()), round(table[table.instance == "hyperband"].epochs.mean()))
    assert dataclasses.replace(main_s).reading == "final"
    assert "computed 3 of the 8 runs in 1.0 min" in write_budgeted(
        main_s, table, tmp_path / "p2.md", wall_seconds=60.0, command="test", code={}, computed=3).read_text()
    assert "computed all 8 runs" in write_budgeted(
        main_s, table, tmp_path / "p3.md", wall_seconds=60.0, command="test", code={}, computed=8).read_text()


def test_shards_are_balanced_by_measured_cost_and_keep_their_split(tmp_path):
    """--n-shards: cells go to shards costliest first (LPT) by the CPU seconds measured in the suite's records;
    the split is frozen in shard-costs-<n>.json, so shards resumed later run the same cells; every cell is run by
    exactly one shard and the sharded table equals the unsharded one."""
    import dataclasses

    from harness.bench import cost_table, load_suite, plan, run_suite, shard_owners

    p = tmp_path / "s.yaml"
    p.write_text(f"name: s\ndatasets: [digits_cnn, swifthb_mnist_cnn]\nalgorithms:\n  hyperband: {{}}\n"
                 f"  swift: {{d: 4}}\n  fhyperband: {{d: 4}}\nseeds: 3\nout: {tmp_path}/one\n")
    suite = load_suite(p)
    whole = run_suite(suite, backend="sequential", progress=False)
    costs = cost_table(whole)
    assert len(costs) == 6 and all(v > 0 for v in costs.values())
    assert costs["fhyperband|digits_cnn"] > costs["hyperband|digits_cnn"]  # f-Hyperband refits SRMs
    cells = plan(suite)
    owners = shard_owners(cells, 2, tmp_path / "one", whole)
    load = [sum(costs[f"{inst}|{c.dataset}"] for (_, inst, c), o in zip(cells, owners, strict=True) if o == s)
            for s in (0, 1)]
    assert max(load) <= 0.5 * sum(load) + max(costs.values())  # LPT: within one cell of an even split
    assert (tmp_path / "one" / "shard-costs-2.json").is_file()
    assert shard_owners(cells, 2, tmp_path / "one", whole.iloc[:0]) == owners  # frozen: the same split later
    # run sharded from scratch: each shard's cells once, together the whole table
    two = dataclasses.replace(suite, out=str(tmp_path / "two"))
    for k in (0, 1):
        run_suite(two, backend="sequential", n_shards=2, shard=k, progress=False)
    from harness.bench import read_table

    sharded = read_table(two.out_dir)
    assert sorted(sharded.key) == sorted(whole.key)
    pd.testing.assert_frame_equal(data_columns(sharded), data_columns(whole))
