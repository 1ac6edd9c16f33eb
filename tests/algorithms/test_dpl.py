"""DPL (issue #36): the power-law ensemble, freeze-thaw accounting, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from harness.runner import Cell, build_config, run_cell  # noqa: E402

SMALL = {"epochs_budget": 60, "epochs_scratch": 30, "epochs_refine": 5, "units": 32}


def test_power_law_ensemble_recovers_a_power_law_within_one_percent():
    """Trained on curves y(b) = a + c b^-g whose (a, c, g) are functions of the hyperparameters, the ensemble's
    mean predicts unseen epochs of them within 1% (DPL's model family contains the truth)."""
    from harness.freezethaw.power_law import PowerLawEnsemble

    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    a, c, g = 0.2 + 0.3 * X[:, 0], 0.2 + 0.2 * X[:, 1], 0.3 + 0.5 * X[:, 2]
    T = 20
    seen = [(i, e) for i in range(60) for e in range(1, T + 1) if e % 2]  # odd epochs only
    Xa = X[[i for i, _ in seen]]
    b = np.array([e / T for _, e in seen])
    y = a[[i for i, _ in seen]] + c[[i for i, _ in seen]] * b ** -g[[i for i, _ in seen]]
    m = PowerLawEnsemble(3, seed=0)
    m.fit(Xa, y, b, 250)
    for e in (4, 10, 20):  # epochs never seen
        truth = a + c * (e / T) ** -g
        pred = m.predict(X, e / T).mean(axis=0)
        assert np.max(np.abs(pred - truth) / truth) < 0.01, e


def test_dpl_pauses_and_resumes_charging_only_the_extra_epoch():
    """Every DPL step trains one configuration one more epoch: the epochs charged equal the steps, each trial's
    epochs (the ledger, an independent count) sum to them, no configuration is ever restarted, and some trials
    were paused and resumed (more than one epoch each, never all epochs in one job)."""
    rec = run_cell(Cell("digits_cnn", "dpl", build_config("dpl", SMALL), seed=0, ledger=True))
    L = rec.ledger
    assert rec.epochs == 60 == rec.extra["steps"] == sum(L["epochs"])
    assert L["n_restarted"] == 0 and L["distinct"] == L["n_trials"]
    # DPL's schedule: from scratch while its training counter is <= 10 (11 times), then refined, from scratch again
    # after `patience` observations without a new best
    assert max(L["epochs"]) > 1 and rec.extra["refinements"] > 0 and rec.extra["trainings_from_scratch"] >= 11
    assert rec.predictor_scores["dpl"]["n"] == 59  # every step after the first random one acted on a prediction


def test_dpl_same_seed_same_record_and_budget_protocol():
    from harness.budget import to_spend

    cfg = build_config("dpl", SMALL)
    a = run_cell(Cell("digits_cnn", "dpl", cfg, seed=4)).to_json()
    b = run_cell(Cell("digits_cnn", "dpl", cfg, seed=4)).to_json()
    assert a == b
    assert to_spend(build_config("dpl", {}), 400, 20, 200).epochs_budget == 400
