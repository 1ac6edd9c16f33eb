"""harness ab."""

from __future__ import annotations

from harness.cli import main


def test_ab_command_reports_paired_statistics(tmp_path, fake, capsys):
    from harness.store import save

    ds = str(save(fake, tmp_path / "fake"))
    rc = main(["ab", "-d", ds, "--a", "hyperband", "--b", "swift", "--set-b", "d=5", "--R", "20", "--eta", "2",
               "--seeds", "0-5", "-q"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "A = hyperband {'R': 20, 'eta': 2" in out and "B = swift {'R': 20, 'eta': 2, 'n_runs': 1" in out
    assert "'d': 5" in out.splitlines()[1]
    epochs_line = next(line for line in out.splitlines() if line.startswith("epochs"))
    assert "wilcoxon p=" in epochs_line and "A-B +" in epochs_line  # Swift never uses more epochs


def test_ab_with_one_seed_says_there_is_no_test(tmp_path, fake, capsys):
    """One seed printed a NaN interval and 'wilcoxon p=1', which reads as 'no difference'."""
    from harness.store import save

    ds = str(save(fake, tmp_path / "fake"))
    assert main(["ab", "-d", ds, "--a", "hyperband", "--b", "random", "--R", "20", "--eta", "2", "--seeds", "3",
                 "-q"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out and "wilcoxon" not in out
    assert next(line for line in out.splitlines() if line.startswith("epochs")).endswith("(one seed)")
    assert "one seed: no standard error, confidence interval or test" in out
