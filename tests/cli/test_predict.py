"""harness predict."""

from __future__ import annotations


def test_predict_cli_writes_tables_and_detects_regressions(tmp_path, fake, capsys):
    from harness.cli import main
    from harness.store import save

    ds = str(save(fake, tmp_path / "fake"))
    args = ["predict", "-d", ds, "-e", "table1", "--repeats", "2", "--budget", "tiny", "--n-train", "30", "-q"]
    assert main([*args, "--out-dir", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "table1.md").read_text().splitlines()[-1].count("±") == 4  # one cell per model
    import pandas as pd

    base = pd.read_csv(tmp_path / "a" / "table1.csv")
    base.loc[base.method == "blr", "r2"] += 0.5  # pretend the baseline was much better
    base.to_csv(tmp_path / "base.csv", index=False)
    assert main([*args, "--out-dir", str(tmp_path / "b"), "--baseline", str(tmp_path / "base.csv")]) == 1
    out = capsys.readouterr().out
    assert "FAIL fake/blr/TS+AP+HP/25" in out and "FAIL fake/nusvr" not in out
    assert main(["predict", "-d", ds, "-e", "fig3", "--repeats", "1", "--budget", "tiny", "--n-train", "30", "-q",
                 "--fractions", "25,50", "--out-dir", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / "fig3.png").stat().st_size > 1000
