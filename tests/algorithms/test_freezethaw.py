"""DPL and DyHPO (issue #36): their models, freeze-thaw accounting, reproducibility."""

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


DY = {"epochs_budget": 40, "epochs_scratch": 60, "epochs_refine": 5, "lr": 0.05}  # (lr: the GP's mean converges)


def test_dyhpo_pauses_and_resumes_charging_only_the_extra_epoch():
    rec = run_cell(Cell("digits_cnn", "dyhpo", build_config("dyhpo", DY), seed=0, ledger=True))
    L = rec.ledger
    assert rec.epochs == 40 == rec.extra["steps"] == sum(L["epochs"])
    assert L["n_restarted"] == 0 and L["distinct"] == L["n_trials"] and max(L["epochs"]) > 1
    assert rec.extra["trainings_from_scratch"] >= 10 and rec.extra["refinements"] > 0
    assert rec.predictor_scores["dyhpo"]["n"] == 39
    again = run_cell(Cell("digits_cnn", "dyhpo", build_config("dyhpo", DY), seed=0, ledger=True))
    assert again.to_json() == rec.to_json()


def test_deep_kernel_gp_posterior_is_the_exact_gp_posterior():
    """The GP part written out by hand equals the textbook posterior (numpy, float64) on the same extracted
    features and kernel parameters, noise included."""
    from harness.freezethaw.deep_kernel import NOISE_FLOOR, DeepKernelGP

    rng = np.random.default_rng(0)
    X, b = rng.random((30, 4)), rng.integers(1, 11, 30) / 10
    curves = rng.random((30, 5))
    y = 0.5 + 0.3 * X[:, 0] - 0.2 * b + 0.01 * rng.standard_normal(30)
    gp = DeepKernelGP(4, seed=1)
    gp.fit(X, b, curves, y, 40)
    Xq, bq, cq = rng.random((7, 4)), rng.integers(1, 11, 7) / 10, rng.random((7, 5))
    mean, std = gp.predict(X, b, curves, Xq, bq, cq, y)
    gp.eval()
    with torch.no_grad():
        z = gp.fe(*(torch.as_tensor(a, dtype=torch.float32) for a in (X, b, curves))).double().numpy()
        zq = gp.fe(*(torch.as_tensor(a, dtype=torch.float32) for a in (Xq, bq, cq))).double().numpy()
        ls, os_ = (float(torch.nn.functional.softplus(p)) for p in (gp.raw_lengthscale, gp.raw_outputscale))
        noise = float(torch.nn.functional.softplus(gp.raw_noise)) + NOISE_FLOOR
        c = float(gp.mean)

    def k(a, q):
        return os_ * np.exp(-0.5 * ((a[:, None, :] - q[None, :, :]) ** 2).sum(-1) / ls**2)

    K = k(z, z) + noise * np.eye(30)
    Ks = k(z, zq)
    m = c + Ks.T @ np.linalg.solve(K, y - c)
    v = os_ - np.einsum("ij,ij->j", Ks, np.linalg.solve(K, Ks)) + noise
    np.testing.assert_allclose(mean, m, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(std, np.sqrt(v), rtol=1e-3, atol=1e-3)


def test_the_functional_adam_step_gives_torch_optim_adams_weights_bit_for_bit():
    """PowerLawEnsemble calls Adam's fused kernel without the optimiser object: after 300 steps (fit and refine,
    members batched) its weights equal those of torch.optim.Adam(fused=True) driven the usual way."""
    from harness.freezethaw.power_law import PowerLawEnsemble

    rng = np.random.default_rng(0)
    X, b = rng.random((300, 6)), rng.integers(1, 21, 300) / 20
    y = 0.5 + 0.2 * b ** -0.4 + 0.01 * rng.standard_normal(300)
    ours = PowerLawEnsemble(6, members=3, units=16, seed=4)
    ours.fit(X[:100], y[:100], b[:100], 12)
    ours.refine(X, y, b, 3, newest=299)

    ref = PowerLawEnsemble(6, members=3, units=16, seed=4)

    def step(loss):  # the usual way: an optimiser object, zero_grad, backward, step
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    ref.reset()
    opt = torch.optim.Adam(ref.params, lr=ref.lr, fused=True)
    ref._step = step
    ref._epochs(*ref._tensors(X[:100], y[:100], b[:100]), 12, None)
    ref._epochs(*ref._tensors(X, y, b), 3, 299)
    assert all(torch.equal(a.detach(), c.detach()) for a, c in zip(ours.params, ref.params, strict=True))
