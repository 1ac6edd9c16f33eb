"""Issue #27: nothing overwritten, one writer per output, nothing finished lost, and the rest of the bad inputs, each
a one-line error (or warning) naming the input. Every test also checks that no tracked file changed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from harness.cli import main

REPO = Path(__file__).resolve().parents[1]
WATCHED = ("datasets", "conf", "results")


@pytest.fixture(autouse=True)
def nothing_else_changes():
    """No file under datasets/, conf/ or results/ is created, removed or modified by a test of this file."""
    def snap() -> dict[str, tuple[int, int]]:
        out = {}
        for top in WATCHED:
            for p in (REPO / top).rglob("*"):
                if p.is_file() and ".units" not in p.parts:
                    st = p.stat()
                    out[str(p)] = (st.st_size, st.st_mtime_ns)
        return out

    before = snap()
    yield
    after = snap()
    changed = sorted(set(before) ^ set(after) | {k for k in before if k in after and before[k] != after[k]})
    assert not changed, f"files changed outside the test's own folders: {changed[:5]}"


def _one_line(capsys, code: int, argv: list[str]) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def _long_dataset(folder: Path, name: str = "mine") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "configs.csv").write_text("config_id,lr\n" + "".join(f"{i},{0.001 * (i + 1)}\n" for i in range(12)))
    rows = "".join(f"{i},{e},{0.1 * e + 0.01 * i}\n" for i in range(12) for e in range(1, 9))
    (folder / "curves.csv").write_text("config_id,epoch,acc\n" + rows)
    (folder / "dataset.json").write_text(json.dumps({"name": name, "metrics": {"acc": "max"}, "objective": "acc",
                                                     "hp": {"lr": {"log": True}}}))
    return folder


# --- 1. nothing overwritten, nothing outside its folder -------------------------------------------------------

def test_import_never_replaces_an_embedded_default(tmp_path, capsys):
    src = _long_dataset(tmp_path / "src", name="digits_cnn")
    msg = _one_line(capsys, 2, ["datasets", "import", str(src)])
    assert "'digits_cnn' is the name of a dataset shipped with the harness, which an import never shadows" in msg
    msg = _one_line(capsys, 2, ["datasets", "import", str(src), "--overwrite"])
    assert "never shadows" in msg
    msg = _one_line(capsys, 2, ["datasets", "import", str(src), "--out", str(REPO / "datasets" / "digits_cnn")])
    assert "is the embedded default dataset 'digits_cnn', which is never replaced" in msg


def test_a_dataset_name_cannot_leave_datasets(tmp_path, capsys):
    src = _long_dataset(tmp_path / "src", name="../../escaped_ds")
    msg = _one_line(capsys, 2, ["datasets", "import", str(src)])
    assert "dataset name '../../escaped_ds' must be a plain name" in msg
    assert not (REPO.parent / "escaped_ds").exists() and not (REPO / "escaped_ds").exists()


def test_import_refuses_to_replace_without_overwrite(tmp_path, capsys):
    src = _long_dataset(tmp_path / "src")
    assert main(["datasets", "import", str(src), "--out", str(tmp_path / "ds")]) == 0
    msg = _one_line(capsys, 2, ["datasets", "import", str(src), "--out", str(tmp_path / "ds")])
    assert msg.endswith("ds: already holds a dataset; pass --overwrite to replace it, or --out elsewhere")
    assert main(["datasets", "import", str(src), "--out", str(tmp_path / "ds"), "--overwrite"]) == 0


# --- 2. one writer per output ----------------------------------------------------------------------------------

def test_a_second_bench_writer_is_refused_naming_the_first(tmp_path, capsys):
    from harness.write import OutputLock

    suite = tmp_path / "s.yaml"
    suite.write_text(f"name: s\ndatasets: [digits_cnn]\nalgorithms: [hyperband]\nseeds: 1\nout: {tmp_path / 'out'}\n")
    (tmp_path / "out").mkdir()
    with OutputLock(tmp_path / "out" / "records-0-of-1.parquet", what="suite s"):
        msg = _one_line(capsys, 2, ["bench", str(suite), "-q"])
    assert msg.startswith("error: suite s (shard 0 of 1, ") and f"is being written by pid {os.getpid()} on " in msg
    assert main(["bench", str(suite), "-q", "--backend", "sequential"]) == 0  # released: runs


def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path, caplog):
    from harness.write import OutputLock

    lock = tmp_path / "f.jsonl.lock"
    lock.write_text("pid 999999 on elsewhere, started 2020-01-01 00:00:00: harness replay\n")
    with caplog.at_level("WARNING"), OutputLock(tmp_path / "f.jsonl"):
        pass
    assert "taking over the lock of pid 999999 (dead)" in caplog.text


def test_a_second_out_writer_is_refused(tmp_path, capsys):
    from harness.write import OutputLock

    out = tmp_path / "runs.jsonl"
    with OutputLock(out):
        msg = _one_line(capsys, 2, ["replay", "-d", "digits_cnn", "--seeds", "0", "-q", "--out", str(out)])
    assert f"--out {out} is being written by pid {os.getpid()}" in msg


# --- 3. nothing finished is lost ----------------------------------------------------------------------------------

FAILS_AT_THIRD = """
from harness.algorithms import Hyperband

STARTS = [0]
FAIL = {fail}


class FailsAtThird(Hyperband):
    def start(self, view, rng):
        STARTS[0] += 1
        if FAIL and STARTS[0] == 3:
            raise KeyboardInterrupt  # as Ctrl-C during the third run
        super().start(view, rng)
"""


def test_out_keeps_finished_runs_and_a_rerun_skips_them(tmp_path, capsys, monkeypatch):
    """Runs are appended as they finish: an interrupt during the third of three seeds keeps two records, and the
    same command again runs only the missing one and says so."""
    import importlib

    (tmp_path / "fails.py").write_text(FAILS_AT_THIRD.replace("{fail}", "True"))
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "r.jsonl"
    argv = ["replay", "-d", "digits_cnn", "-a", "fails:FailsAtThird", "--baseline", "", "--seeds", "0-2", "-q",
            "--backend", "sequential", "--out", str(out)]
    assert main(argv) == 130
    assert len(out.read_text().splitlines()) == 2
    (tmp_path / "fails.py").write_text(FAILS_AT_THIRD.replace("{fail}", "False"))
    import fails

    importlib.reload(fails)
    capsys.readouterr()
    assert main(argv) == 0
    got = capsys.readouterr().out
    assert f"{out}: 2 of 3 runs already there" in got and "running the other 1" in got
    lines = out.read_text().splitlines()
    assert len(lines) == 3 and sorted(json.loads(x)["seed"] for x in lines) == [0, 1, 2]
    assert main(argv) == 0 and "3 of 3 runs already there" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 3


# --- 4. the rest, each one line naming the input --------------------------------------------------------------

MINIMAL = '''
from dataclasses import dataclass
from typing import ClassVar

from harness import AlgorithmConfig, Decision, Job, Scheduler, setting


class TrainAll(Scheduler):
    """Train n configs to the end, one by one (the README's contract, without setting max_epoch)."""

    name = "train_all"

    @dataclass(frozen=True)
    class Config(AlgorithmConfig):
        algorithm: ClassVar[str] = "train_all"
        n: int = setting(5, help="configs", range=(1, None))

    def start(self, view, rng):
        super().start(view, rng)
        self.todo = view.sample(self.config.n)
        self.live = 0

    def suggest(self):
        if not self.todo:
            return None
        self.live += 1
        return Job(self.todo.pop(0), self.view.n_epochs)

    def on_result(self, trial, epoch, loss):
        self.reached.append((trial, loss))
        self.live -= 1
        return Decision.CONTINUE

    @property
    def finished(self):
        return not self.todo and self.live == 0
'''


def test_a_minimal_scheduler_need_not_set_max_epoch(tmp_path, capsys, monkeypatch):
    (tmp_path / "minimal.py").write_text(MINIMAL)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["replay", "-d", "digits_cnn", "-a", "minimal:TrainAll", "--seeds", "0", "-q"]) == 0
    assert "minimal:TrainAll" in capsys.readouterr().out


def test_a_plugin_bug_shows_its_traceback_and_names_the_algorithm_and_call(tmp_path, capsys, monkeypatch):
    (tmp_path / "buggy2.py").write_text(MINIMAL.replace("        self.live += 1\n", "        self.live += 1 / 0\n"))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["replay", "-d", "digits_cnn", "-a", "buggy2:TrainAll", "--seeds", "0", "-q", "--baseline", ""]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "buggy2.py" in err
    assert err.strip().splitlines()[-1].startswith("error: algorithm buggy2:TrainAll raised ZeroDivisionError: "
                                                   "division by zero in its suggest() (buggy2.py:")


def test_a_predictor_bug_names_the_predictor(tmp_path, capsys, monkeypatch):
    (tmp_path / "badpred.py").write_text(
        "import numpy as np\n\n\nclass Boom:\n    def fit(self, X, y):\n        raise RuntimeError('no fit')\n\n"
        "    def predict(self, X):\n        return np.zeros(len(X))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["replay", "-d", "digits_cnn", "-a", "swift", "--set", "predictor=badpred:Boom", "--eta", "2",
                 "--set", "d=5", "--set", "n_runs=2", "--seeds", "0", "-q"]) == 3
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("error: predictor badpred:Boom raised RuntimeError: no fit in its fit() (badpred.py:")
    assert "(algorithm swift)" in last


@pytest.mark.parametrize("mod, body, message", [
    ("badlen", "return np.zeros(len(X) + 1)",
     r"predictor badlen:Out: predict\(\) gave \d+ value\(s\) .* but must give one value per row"),
    ("badnan", "return np.full(len(X), np.nan)", r"predictor badnan:Out: predict\(\) gave NaN for \d+ of \d+ row\(s\)"),
])
def test_a_predictor_giving_wrong_values_is_named(tmp_path, capsys, monkeypatch, mod, body, message):
    import re

    (tmp_path / f"{mod}.py").write_text(
        "import numpy as np\n\n\nclass Out:\n    def fit(self, X, y):\n        return self\n\n"
        f"    def predict(self, X):\n        {body}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    msg = _one_line(capsys, 2, ["replay", "-d", "digits_cnn", "-a", "swift", "--set", f"predictor={mod}:Out", "--eta",
                                "2", "--set", "d=5", "--set", "n_runs=2", "--seeds", "0", "-q"])
    assert re.search(message, msg), msg


def test_a_malformed_suite_names_file_line_and_column(tmp_path, capsys):
    suite = tmp_path / "bad.yaml"
    suite.write_text("name: s\ndatasets: [digits_cnn\nalgorithms: [hyperband]\n")
    msg = _one_line(capsys, 2, ["bench", str(suite), "-q"])
    assert msg.startswith(f"error: {suite}: malformed YAML at line ") and "column" in msg


@pytest.mark.parametrize("field, value, message", [
    ("datasets", "[nope_ds]", "unknown dataset 'nope_ds'"),
    ("algorithms", "[hyperbandd]", "algorithm is 'hyperbandd', but must be one of"),
])
def test_a_suite_naming_unknown_things_names_the_file(tmp_path, capsys, field, value, message):
    suite = tmp_path / "s.yaml"
    body = {"datasets": "[digits_cnn]", "algorithms": "[hyperband]"} | {field: value}
    suite.write_text(f"name: s\ndatasets: {body['datasets']}\nalgorithms: {body['algorithms']}\n")
    msg = _one_line(capsys, 2, ["bench", str(suite), "-q"])
    assert msg.startswith(f"error: {suite}: ") and message in msg


def test_predict_on_a_one_config_dataset(tmp_path, capsys):
    d = _long_dataset(tmp_path / "one")
    (d / "configs.csv").write_text("config_id,lr\n0,0.1\n")
    (d / "curves.csv").write_text("config_id,epoch,acc\n0,1,0.5\n0,2,0.6\n")
    msg = _one_line(capsys, 2, ["predict", "-d", str(d), "-e", "table1", "--out-dir", str(tmp_path / "o")])
    assert "has 1 configuration(s) with a finite curve; the R^2 protocol needs at least 4" in msg


def test_a_run_too_large_is_refused_before_it_starts(capsys):
    t0 = time.perf_counter()
    msg = _one_line(capsys, 2, ["replay", "-d", "digits_cnn", "--set", "n_runs=1000000", "--seeds", "0", "-q"])
    assert time.perf_counter() - t0 < 10
    assert "hyperband: n_runs=1000000 at R=20, eta=3 would start about" in msg and "lower n_runs" in msg


@pytest.mark.parametrize("override, message", [
    ("n_configs=abc", "n_configs is 'abc', but must be an integer >= 1"),
    ("n_configs=-1", "n_configs is -1, but must be an integer >= 1"),
    ("epochs=0", "epochs is 0, but must be an integer >= 1"),
])
def test_generate_names_the_key_and_the_rule(tmp_path, override, message):
    pytest.importorskip("torch")
    proc = subprocess.run([sys.executable, "-m", "generate", "population=digits_cnn", override, "export=false",
                           f"out_dir={tmp_path / 'run'}", "progress=false"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: {message}"
    assert not (tmp_path / "run" / "done").exists()


def test_ctrl_c_in_generate_says_how_to_resume(tmp_path):
    pytest.importorskip("torch")
    proc = subprocess.Popen([sys.executable, "-m", "generate", "population=digits_cnn", "n_configs=50", "epochs=20",
                             "export=false", "threads=1", f"out_dir={tmp_path / 'run'}", "progress=false"],
                            cwd=REPO, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list((tmp_path / "run" / "state").glob("*.pt")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == ("interrupted: every finished epoch is saved; rerun the same command to "
                                            "resume")


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "1,1,1"], "--seeds '1,1,1': seed 1 is given more than once"),
    (["-a", "swift", "-a", "swift"], "--algorithm swift is given twice; a second instance with other settings is "
                                     "swift@LABEL"),
])
def test_repeated_inputs_are_refused(capsys, argv, message):
    msg = _one_line(capsys, 2, ["replay", "-d", "digits_cnn", "-q", *argv])
    assert message in msg


def test_a_repeated_dataset_is_refused(capsys):
    with pytest.raises(SystemExit) as e:
        main(["replay", "-d", "digits_cnn", "-d", "swifthb_mlpf_delphes", "-q"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "argument --dataset/-d: given twice ('digits_cnn' and 'swifthb_mlpf_delphes')" in err


def test_pad_on_infinite_values_warns_as_drop_does(caplog):
    from harness.store import apply_nan_policy
    from tests.conftest import make_curveset

    cs = make_curveset(n=6, t=4)
    cs.curves[1, 2, 0] = np.inf
    cs.curves[3, 1, 0] = -np.inf
    with caplog.at_level("WARNING"):
        padded = apply_nan_policy(cs, "pad")
    assert "padded 2 config(s) with non-finite 'acc' (+inf, -inf; nan_policy=pad" in caplog.text
    assert np.isfinite(padded.curve()).all()


def test_errors_about_a_folder_name_the_folder(tmp_path, capsys):
    d = _long_dataset(tmp_path / "good", name="good")
    (d / "curves.csv").write_text("config_id,epoch,acc\n" + "".join(f"{i},1,{'nan' if i == 3 else 0.5}\n"
                                                                    for i in range(12)))
    msg = _one_line(capsys, 2, ["datasets", "validate", str(d), "--strict"])
    assert msg.startswith(f"error: {d}: ")


def test_an_imported_dataset_is_listed_as_imported(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LC_HARNESS_HOME", str(tmp_path / "home"))
    src = _long_dataset(tmp_path / "src", name="mine")
    assert main(["datasets", "import", str(src)]) == 0
    assert (tmp_path / "home" / "datasets" / "mine" / "metadata.json").is_file()  # the data home, not the package
    capsys.readouterr()
    assert main(["datasets", "list", "--family", "imported"]) == 0
    out = capsys.readouterr().out
    assert "imported  (recorded; 1 dataset" in out and "[imported]" in out


# --- 6. no import circle -------------------------------------------------------------------------------------------

def test_bench_does_not_import_the_cli():
    import ast

    for mod in ("bench.py", "runner.py", "errors.py", "write.py"):
        tree = ast.parse((REPO / "harness" / mod).read_text())
        names = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        assert not any(m == "cli" or m.startswith("cli.") for m in names), mod
