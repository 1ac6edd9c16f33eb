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
