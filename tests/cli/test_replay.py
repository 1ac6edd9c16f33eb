"""harness replay."""

from __future__ import annotations

import numpy as np
import pytest

from harness.cli import main


def test_cli_replay_prints_epochs_and_optimum(mlpf, capsys):
    assert main(["replay", "-d", "swifthb_mlpf_delphes", "--R", "100", "--eta", "2", "--seeds", "0-1", "-q",
                 "--per-seed"]) == 0
    out = capsys.readouterr().out
    assert "epochs=3213" in out and "pool optimum 442.268" in out


def test_cli_bad_dataset_one_line_error(tmp_path, capsys):
    (tmp_path / "metadata.json").write_text("{not json")
    assert main(["replay", "-d", str(tmp_path), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "metadata.json: invalid JSON" in err and "\n" not in err


def test_per_algorithm_set_applies_to_one_algorithm(mlpf, capsys):
    assert main(["replay", "-d", "swifthb_mlpf_delphes", "-a", "swift", "-a", "fhyperband", "--R", "100", "--eta",
                 "2", "--seeds", "0", "-q", "--set", "swift.d=7", "--set", "fhyperband.d=20"]) == 0
    out = capsys.readouterr().out
    assert "| swift[d=7] |" in out and "| fhyperband[d=20] |" in out


def test_a_mechanism_that_cannot_act_is_announced(caplog, capsys):
    """d=100 full curves per rung cannot be collected by one Hyperband run on a 20-epoch table: say so."""
    with caplog.at_level("WARNING"):
        assert main(["replay", "-d", "digits_cnn", "-a", "fhyperband", "-a", "swift", "--eta", "2", "--seeds", "0",
                     "-q", "--set", "fhyperband.d=100", "--set", "swift.d=100"]) == 0
    assert "fhyperband: d=100 full curves are needed before a rung's SRM is trained" in caplog.text
    assert "swift: d=100 full curves are needed before a rung's predictor is trained" in caplog.text
    assert "will act exactly like Hyperband" in caplog.text
    # at R=20, eta=2 a rung trains at most 18 trials per Hyperband run: 5 runs collect 90, 6 runs 108
    for n_runs, acts in ((5, False), (6, True)):
        caplog.clear()
        with caplog.at_level("WARNING"):
            assert main(["replay", "-d", "digits_cnn", "-a", "fhyperband", "--eta", "2", "--seeds", "0", "-q",
                         "--set", "d=100", "--set", f"n_runs={n_runs}"]) == 0
        assert ("act exactly like Hyperband" not in caplog.text) == acts, n_runs
        assert acts or "no rung trains more than 90 trials" in caplog.text


def test_an_internal_error_is_not_disguised_as_bad_input(tmp_path, monkeypatch, capsys):
    """A bug in a plug-in scheduler (here raising KeyError) is reported with its traceback, then one line naming the
    plug-in and the call, and exit code 3; never as a one-line error about the user's input alone."""
    (tmp_path / "buggy.py").write_text(
        "from harness.algorithms import Hyperband\n\n\nclass Buggy(Hyperband):\n"
        "    def program(self):\n        raise KeyError('oops')\n        yield\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["replay", "-d", "digits_cnn", "-a", "buggy:Buggy", "--seeds", "0", "-q", "--baseline", ""]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and not err.startswith("error:")
    assert err.strip().splitlines()[-1].startswith("error: algorithm buggy:Buggy raised KeyError: 'oops' in its "
                                                   "program() (buggy.py:6)")


def test_output_paths_are_checked_before_the_run(tmp_path, capsys, monkeypatch):
    """A --plot name matplotlib cannot write, or an --out that is a directory, used to fail after the whole run."""
    import harness.runner

    def no_run(*a, **k):
        raise AssertionError("the run started before the output paths were checked")

    (tmp_path / "file").write_text("")
    base = ["replay", "-d", "digits_cnn", "--seeds", "0", "-q"]
    with monkeypatch.context() as m:
        m.setattr(harness.runner, "run_cells", no_run)
        for extra, message in ((["--plot", str(tmp_path / "a.txt")], "the file name must end in an image format"),
                               (["--plot", str(tmp_path / "a")], "the file name must end in an image format"),
                               (["--out", str(tmp_path)], "is a directory, but must be a file path"),
                               (["--out", str(tmp_path / "file" / "r.jsonl")], "cannot create it")):
            assert main([*base, *extra]) == 2, extra
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and message in err[0], (extra, err)
    out, png = tmp_path / "new" / "r.jsonl", tmp_path / "new" / "p.svg"
    assert main([*base, "--out", str(out), "--plot", str(png)]) == 0
    assert out.read_text().count("\n") == 1 and png.stat().st_size > 1000


def test_labels_show_only_settings_that_differ_from_defaults(mlpf, capsys):
    assert main(["replay", "-d", "swifthb_mlpf_delphes", "-a", "swift", "-a", "fhyperband", "-a", "swift@mine",
                 "--set", "swift@mine.q=0.5", "--set", "fhyperband.Delta=0.95", "--R", "100", "--eta", "2",
                 "--seeds", "0", "-q"]) == 0
    out = capsys.readouterr().out
    assert "| swift |" in out and "| fhyperband |" in out and "| swift@mine |" in out  # defaults: no brackets
    assert "predictor=" not in out


def test_time_columns_show_with_workers_or_seconds(capsys):
    assert main(["replay", "-d", "nasbench_nlp_wikitext2", "-a", "swift", "--R", "50", "--eta", "2", "--workers",
                 "8", "--cost", "seconds", "--seeds", "0-1", "-q"]) == 0
    head = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| algorithm"))
    assert "| makespan | time_to_best |" in head
    assert main(["replay", "-d", "digits_cnn", "--seeds", "0", "-q"]) == 0
    head = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| algorithm"))
    assert "makespan" not in head


def test_plot_has_bands_and_labelled_axes(tmp_path, capsys):
    from harness.reporting.replay import anytime_band
    from harness.runner import Cell, run_cell

    recs = [run_cell(Cell("digits_cnn", "hyperband", {"eta": 2}, s)) for s in range(4)]
    grid = np.linspace(0, max(r.epochs for r in recs), 50)
    mean, lo, hi = anytime_band(recs, grid, distance=True)
    ok = np.isfinite(mean)
    assert ok.any() and np.all(lo[ok] <= mean[ok] + 1e-12) and np.all(mean[ok] <= hi[ok] + 1e-12)
    assert (hi[ok] - lo[ok]).max() > 0  # seeds differ: a band, not a line
    assert main(["replay", "-d", "digits_cnn", "--seeds", "0-3", "-q", "--plot", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").stat().st_size > 10_000


def test_help_texts_are_written_for_users(capsys):
    import subprocess
    import sys
    from pathlib import Path

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "one module per command" not in out and "harness datasets list" in out
    with pytest.raises(SystemExit):
        main(["datasets", "--help"])
    assert "export    write a dataset" in capsys.readouterr().out
    assert main(["algorithms"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln and not ln.startswith("harness")]
    assert all(len(ln.split(None, 1)) == 2 and len(ln.split(None, 1)[1]) > 20 for ln in lines)
    repo = Path(__file__).resolve().parents[2]
    gen = subprocess.run([sys.executable, "-m", "generate", "--help"], cwd=repo, capture_output=True, text=True).stdout
    pops = sorted(p.stem for p in (repo / "conf" / "population").glob("*.yaml"))
    assert ", ".join(pops) in gen and "reproduce:" not in gen and "bench:" not in gen
