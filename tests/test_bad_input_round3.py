"""Bad input, round three (issue #37): the catalogue's names and options, TaskSet files, settings a dataset or
algorithm cannot use, outputs, suites and an interrupted leaderboard. Each is one line naming the input and the
rule (and the closest valid value where there is one), or a sensible result; nothing under datasets/, results/ or
the data home changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.cli import main

from .test_bad_input_round2 import _long_dataset, _one_line

REPO = Path(__file__).resolve().parents[1]
GRU = "FixedTextRNNClassification_imdb_patch32_GRU64_avg_bs128"


@pytest.fixture(autouse=True)
def _nothing_changes(tmp_path, monkeypatch):
    """Every test here runs with its own data home; datasets/ and results/ must be as they were afterwards."""
    monkeypatch.setenv("LC_HARNESS_HOME", str(tmp_path / "home"))

    def tree():
        return sorted((str(p), p.stat().st_mtime_ns) for d in ("datasets", "results") for p in (REPO / d).rglob("*")
                      if "leaderboard" not in p.parts)  # (the leaderboard's records may be growing beside the tests)

    before = tree()
    yield
    assert tree() == before
    home = tmp_path / "home"
    assert not home.exists() or not any(p.is_file() for p in home.rglob("*") if "cache" not in p.parts)


def test_a_catalogue_name_with_a_typo_suggests_the_closest(capsys):
    msg = _one_line(capsys, 2, ["replay", "-d", "tasket_imdb_p32_gru64_avg", "-a", "hyperband"])
    assert "did you mean 'taskset_imdb_p32_gru64_avg'?" in msg


def test_an_unknown_lcbench_task(shared_curves, capsys):
    msg = _one_line(capsys, 2, ["replay", "-d", "lcbench_39450", "-a", "hyperband"])
    assert "has no task '39450' (did you mean 'lcbench_3945'?)" in msg


@pytest.mark.parametrize("opts,rule", [
    ("n=0", "option n='0' must be >= 2"), ("n=-5", "option n='-5' must be >= 2"),
    ("n=10000000", "option n='10000000' must be <= 100000"), ("seed=x", "option seed='x' must be int"),
    ("n=5,n=6", "option 'n' is given twice"), ("m=5", "unknown option 'm'; the lcbench family's options: n, seed"),
    ("n", "option 'n' must be KEY=VALUE"),
])
def test_malformed_pool_options(shared_curves, capsys, opts, rule):
    assert rule in _one_line(capsys, 2, ["replay", "-d", f"lcbench_3945:{opts}", "-a", "hyperband"])


def _taskset(path: Path, configs: list) -> Path:
    path.write_text(json.dumps(configs))
    return path


@pytest.fixture(scope="module")
def gru(shared_curves):
    return json.loads((shared_curves / "taskset_imdb_rnn" / f"{GRU}.json").read_text())


def test_taskset_files_that_cannot_be_read(tmp_path, gru, capsys):
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(gru[:20])[:5000])
    assert "cut.json: invalid JSON" in _one_line(capsys, 2, ["replay", "-d", str(cut), "-a", "hyperband"])
    keys = _taskset(tmp_path / "keys.json", [{"hyper": c["hp"], "valid": c["valid"]} for c in gru[:10]])
    assert "configuration 0 has no key 'hp'" in _one_line(capsys, 2, ["replay", "-d", str(keys), "-a", "hyperband"])
    one = _taskset(tmp_path / "one.json", gru[:1])
    assert "holds 1 configuration; a pool to search needs at least 2" in _one_line(
        capsys, 2, ["replay", "-d", str(one), "-a", "hyperband"])
    nan = _taskset(tmp_path / "nan.json", [{**c, "valid": {"loss": [None] * 51}} for c in gru[:10]])
    assert "every one of its 10 configurations has a non-finite 'valid_loss'" in _one_line(
        capsys, 2, ["replay", "-d", str(nan), "-a", "hyperband"])


def test_paths_with_spaces(tmp_path, gru, capsys):
    folder = tmp_path / "my data" / "task a.json"
    folder.parent.mkdir()
    _taskset(folder, gru[:40])
    assert main(["replay", "-d", str(folder), "-a", "hyperband", "--seeds", "0", "-q",
                 "--out", str(tmp_path / "out dir" / "runs a.jsonl")]) == 0
    assert (tmp_path / "out dir" / "runs a.jsonl").read_text().count("\n") == 1
    src = _long_dataset(tmp_path / "with space" / "ds folder", name="spaced")
    assert main(["datasets", "import", str(src), "--to", str(tmp_path / "to here")]) == 0


def test_settings_an_algorithm_or_dataset_cannot_use(tmp_path, capsys):
    msg = _one_line(capsys, 2, ["replay", "-d", "digits_cnn", "-a", "hyperband", "--set", "sampler=tpe"])
    assert "no algorithm of this run (hyperband) has a setting 'sampler'" in msg
    msg = _one_line(capsys, 2, ["replay", "-d", "digits_cnn", "-a", "asha", "--set", "space=hp"])
    assert "has a setting 'space'" in msg
    bare = tmp_path / "bare"
    _long_dataset(bare, name="bare")
    spec = json.loads((bare / "dataset.json").read_text())
    spec.pop("hp")
    spec["info"] = ["lr"]
    (bare / "dataset.json").write_text(json.dumps(spec))
    pytest.importorskip("syne_tune")
    msg = _one_line(capsys, 2, ["replay", "-d", str(bare), "-a", "synetune:ASHA", "--set", "space=hp",
                                "--seeds", "0", "--baseline", ""])
    assert "has no hp or ap feature columns" in msg


def test_cost_R_eta(shared_curves, capsys):
    msg = _one_line(capsys, 2, ["replay", "-d", "taskset_imdb_p32_gru64_avg", "-a", "hyperband", "--cost", "seconds"])
    assert "--cost seconds" in msg and "records no per-epoch seconds" in msg
    msg = _one_line(capsys, 2, ["replay", "-d", "digits_cnn", "-a", "hyperband", "--R", "50"])
    assert "--R is 50, but the curves record only 20 epochs" in msg and "--pad-to 50" in msg
    assert "eta is 1, but must be >= 2" in _one_line(capsys, 2, ["replay", "-d", "digits_cnn", "--eta", "1"])


def test_an_unwritable_out_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    msg = _one_line(capsys, 2, ["replay", "-d", "digits_cnn", "-a", "hyperband", "--seeds", "0",
                                "--out", str(blocker / "sub" / "runs.jsonl")])
    assert msg.startswith(f"error: --out {blocker / 'sub' / 'runs.jsonl'}: cannot create it")
    assert "is not a writable directory" in msg


def test_a_suite_naming_an_unknown_family_or_task(tmp_path, capsys):
    for ds, rule in (("lcbench_99999", "the lcbench family has no task '99999'"),
                     ("foo_bar", "unknown dataset 'foo_bar'")):
        suite = tmp_path / f"{ds}.yaml"
        suite.write_text(f"name: s\ndatasets: [{ds}, digits_cnn]\nalgorithms: [hyperband]\nout: {tmp_path}/o\n")
        msg = _one_line(capsys, 2, ["bench", str(suite)])
        assert msg.startswith(f"error: {suite}: ") and rule in msg and msg.count(f"'{ds}'") == 1


def test_an_interrupted_leaderboard_resumes(tmp_path, monkeypatch):
    """Killed midway: its finished cells are on disk and its lock names a dead process; the rerun takes the lock
    over, runs only the missing cells and gives the records a run without interruption gives."""
    import dataclasses

    import pandas as pd

    from harness.bench import load_suite, run_suite

    suite = load_suite("leaderboard")
    suite = dataclasses.replace(suite, datasets=("digits_cnn",), seeds=(0,), budget=5, read_at=(5,),
                                algorithms={"hyperband": {}, "asha": {}, "random": {}},
                                out=str(tmp_path / "a"), chunk=1)
    run_suite(suite, backend="sequential", progress=False, max_cells=2)  # the part done before the kill
    records = tmp_path / "a" / "records-0-of-1.parquet"
    assert len(pd.read_parquet(records)) == 2
    (tmp_path / "a" / "records-0-of-1.parquet.lock").write_text("pid 999999 on host, started earlier: killed\n")
    table = run_suite(suite, backend="sequential", progress=False)
    clean = run_suite(dataclasses.replace(suite, out=str(tmp_path / "b")), backend="sequential", progress=False)
    cols = [c for c in table.columns if c not in ("order", "cpu_seconds")]
    pd.testing.assert_frame_equal(table[cols].sort_values("key").reset_index(drop=True),
                                  clean[cols].sort_values("key").reset_index(drop=True))
    assert len(table) == 3 and os.path.getsize(records) > 0
