"""ifBO's extrapolation test (issue #36): contexts, scores recomputed by hand, reproducibility, the CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.predictors.extrapolation import draw_context, evaluate, normalised
from harness.runner import cached_dataset


def test_contexts_hold_exactly_n_points_of_partial_curves():
    rng = np.random.default_rng(3)
    rows, cuts = draw_context(200, 20, 400, rng)
    assert cuts.sum() == 400 and len(set(rows.tolist())) == len(rows)
    assert cuts.min() >= 1 and cuts.max() <= 19
    with pytest.raises(ValueError, match="needs more curves"):
        draw_context(10, 5, 100, rng)


def test_last_seen_scores_recomputed_by_hand():
    """The protocol's MSE of the last-seen predictor equals the one computed here from the same context."""
    cs = cached_dataset("digits_cnn")
    r = evaluate(cs, 150, "last_seen", seed=5)
    Y, keep = normalised(cs)
    assert len(keep) == cs.n_configs and np.nanmin(Y) == 0 and np.nanmax(Y) == 1
    rows, cuts = draw_context(len(Y), Y.shape[1], 150, np.random.default_rng(5))
    err = [(Y[r_, e - 1] - Y[r_, c - 1]) ** 2 for r_, c in zip(rows, cuts, strict=True)
           for e in range(c + 1, Y.shape[1] + 1)]
    assert r["mse"] == pytest.approx(float(np.mean(err)), rel=1e-12)
    assert r["targets"] == len(err) and math.isnan(r["ll"])


def test_models_with_uncertainty_score_a_log_likelihood_and_repeat_by_seed():
    pytest.importorskip("torch")
    cs = cached_dataset("digits_cnn")
    for model, epochs in (("dpl", {"dpl": 30}), ("dyhpo", {"dyhpo": 30})):
        a = evaluate(cs, 80, model, seed=1, epochs=epochs)
        b = evaluate(cs, 80, model, seed=1, epochs=epochs)
        assert np.isfinite(a["ll"]) and np.isfinite(a["mse"])
        assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
    assert np.isfinite(evaluate(cs, 80, "nusvr", seed=1)["mse"])
    a, b = (evaluate(cs, 80, "lce", seed=1, lce_fit="bma") for _ in range(2))  # Domhan's, one curve at a time
    assert np.isfinite(a["ll"]) and np.isfinite(a["mse"])
    assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}


def test_cli_prints_ours_beside_ifbo(tmp_path, capsys):
    from harness.cli import main

    assert main(["predict", "-e", "extrapolation", "-d", "digits_cnn", "--points", "60", "--models",
                 "last_seen", "--repeats", "2", "--out-dir", str(tmp_path), "-q"]) == 0
    out = capsys.readouterr().out
    assert "| digits_cnn | 60 | last_seen |" in out and "-11.98 / 0.007" in out
    assert (tmp_path / "extrapolation.csv").is_file()
    assert main(["predict", "-e", "extrapolation", "-d", "digits_cnn", "--models", "lcx"]) == 2  # a typo
    assert main(["predict", "-e", "extrapolation", "-d", "digits_cnn", "--points", "60", "--models", "lce",
                 "--repeats", "1", "--out-dir", str(tmp_path), "-q"]) == 0
    assert "| digits_cnn | 60 | lce |" in capsys.readouterr().out


def test_reproduce_extrapolation_quick(tmp_path, shared_curves):
    """harness reproduce extrapolation --quick: one context per model on a TaskSet task, our table beside ifBO's."""
    pytest.importorskip("torch")
    from harness.reproduce import reproduce

    reproduce(["extrapolation"], tmp_path, quick=True, n_jobs=1, progress=False)
    text = (tmp_path / "extrapolation.md").read_text()
    for model in ("last_seen", "nusvr", "lce", "dpl", "dyhpo"):
        assert f"| taskset_imdb_p32_gru64_avg | 100 | {model} |" in text
    assert "| dyhpo | -0.368 / 0.012 | -0.381 / 0.008 | 16.9 / 59.9 / 166.5 |" in text


def test_freezethaw_models_in_bakers_protocol():
    """--with-freezethaw appends DPL's and DyHPO's models after every other task (their seeds unchanged), and each
    predicts a final value per test configuration in the metric's units from the training curves and the test
    prefixes."""
    pytest.importorskip("torch")
    from harness.predictors.experiments import tasks_for
    from harness.predictors.extrapolation import final_from_prefixes

    cs = cached_dataset("digits_cnn")
    plain = tasks_for("table1", cs)
    more = tasks_for("table1", cs, with_freezethaw=True)
    assert more[: len(plain)] == plain and [t.method for t in more[len(plain):]] == ["dpl", "dyhpo"]
    rng = np.random.default_rng(0)
    tr, te = np.sort(rng.choice(200, 60, replace=False)), np.arange(200)[:40]
    te = np.setdiff1d(te, tr)
    y = cs.curve()
    for model in ("dpl", "dyhpo"):
        pred = final_from_prefixes(model, cs, tr, te, 5, seed=0, epochs={"dpl": 40, "dyhpo": 40}, max_points=300)
        assert pred.shape == (len(te),) and np.isfinite(pred).all()
        assert y.min() - 0.5 <= pred.min() and pred.max() <= y.max() + 0.5  # accuracies, not scaled values
