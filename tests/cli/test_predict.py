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


def test_predict_cli_bad_input_is_one_line_naming_the_option(tmp_path, fake, capsys):
    """Each used to crash (KeyError after zero repeats), run a meaningless cell (fraction 0 or 100, one training
    config) or reject a documented value (--budget N)."""
    from harness.cli import main
    from harness.store import save

    ds = str(save(fake, tmp_path / "fake"))
    base = ["predict", "-d", ds, "-e", "fig3", "--repeats", "1", "--n-train", "30", "-q",
            "--out-dir", str(tmp_path / "out")]
    for extra, message in ((["--fractions", "0"], "fraction is 0, but must be a percentage of the curve strictly "
                                                  "between 0 and 100"),
                           (["--fractions", "25,100"], "fraction is 100, but"),
                           (["--fractions", "25,x"], "--fractions is '25,x', but must be comma-separated percentages"),
                           (["--repeats", "0"], "repeats is 0, but must be an integer >= 1"),
                           (["--n-train", "1"], "n_train is 1, but must be an integer >= 2"),
                           (["--seed", "-1"], "seed is -1, but must be an integer >= 0"),
                           (["--budget", "-5"], "search budget is -5, but must be >= 1"),
                           (["--budget", "many"], "search budget is 'many', but must be an integer or one of")):
        assert main([*base, *extra]) == 2, extra
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: {message}"), (extra, err)
    assert main([*base, "--budget", "3", "--fractions", "50"]) == 0  # a number of draws, as --help says
    assert (tmp_path / "out" / "fig3.csv").is_file()
