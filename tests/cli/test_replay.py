"""harness replay."""

from __future__ import annotations

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
    assert "swift[predictor=swift_svr,d=7" in out and "fhyperband[predictor=nusvr,Delta=0.95,d=20" in out


def test_a_mechanism_that_cannot_act_is_announced(caplog, capsys):
    """d=100 full curves per rung cannot be collected by one Hyperband run on a 20-epoch table: say so."""
    with caplog.at_level("WARNING"):
        assert main(["replay", "-d", "digits_cnn", "-a", "fhyperband", "-a", "swift", "--eta", "2", "--seeds", "0",
                     "-q", "--set", "fhyperband.d=100", "--set", "swift.d=100"]) == 0
    assert "fhyperband: d=100 full curves are needed before a rung's SRM is trained" in caplog.text
    assert "swift: d=100 full curves are needed before a rung's predictor is trained" in caplog.text
    assert "will act exactly like Hyperband" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert main(["replay", "-d", "digits_cnn", "-a", "fhyperband", "--eta", "2", "--seeds", "0", "-q",
                     "--set", "d=100", "--set", "n_runs=20"]) == 0
    assert "act exactly like Hyperband" not in caplog.text
