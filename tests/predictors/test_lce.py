"""Domhan's curve extrapolation (SPEC 5.1)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest


def test_lce_extrapolates_a_known_family():
    from harness.predictors.lce import LCEPred, _f

    t = np.arange(1, 41, dtype=float)
    curve = _f("pow3", t, np.array([0.9, 0.6, 0.7]))
    lce = LCEPred(T=40, mode="max").fit_bounds(np.array([[0.0, 1.0]]))
    m, s = lce.predict_dist_curve(curve[:12])
    assert abs(m - curve[-1]) < 0.02 and s > 0
    assert lce.prob_better(curve[:12], curve[-1] + 0.3) < 0.05  # Domhan: terminate
    loss = LCEPred(T=40, mode="min").fit_bounds(np.array([[0.0, 1.0]]))
    m2, _ = loss.predict_dist_curve(1 - curve[:12])
    assert abs(m2 - (1 - curve[-1])) < 0.02
    assert LCEPred(T=40).predict_dist_curve(curve[:2])[0] == pytest.approx(curve[1])  # too short: last seen


@pytest.mark.skipif(importlib.util.find_spec("emcee") is None,
                    reason="Domhan's MCMC needs emcee (pip install '.[lce]')")
def test_lce_mcmc_is_seeded_and_agrees_with_the_cheaper_fits():
    from harness.predictors.lce import LCE_FITS, LCEPred, _f, cut_beginning

    t = np.arange(1, 31, dtype=float)
    truth = _f("janoschek", t, np.array([0.85, 0.1, 0.3, 0.8]))
    curve = truth + np.random.default_rng(0).normal(0, 0.005, 30)
    bounds = np.array([[0.0, 1.0]])
    a = LCEPred(T=30, seed=3).fit_bounds(bounds)
    f, sigma = a.posterior(curve[:10])
    nw_max = 2 * (sum(3 if k in ("vap", "pow3", "hill3", "log_power") else 2 if k in ("loglog_linear", "ilog2")
                      else 4 for k in a.fit_curve(curve[:10])) + 1 + len(a.fit_curve(curve[:10]))) + 2
    _, steps, burn, thin = LCE_FITS["cheap"]
    assert 1 < len(f) <= nw_max * (steps - burn) // thin and np.all(sigma > 0) and np.all(sigma <= 1)
    np.testing.assert_array_equal(f, LCEPred(T=30, seed=3).fit_bounds(bounds).posterior(curve[:10])[0])
    assert not np.array_equal(f, LCEPred(T=30, seed=4).fit_bounds(bounds).posterior(curve[:10])[0])
    dists = {fit: LCEPred(T=30, fit=fit).fit_bounds(bounds).predict_dist_curve(curve[:10])
             for fit in ("bma", "cheap", "paper")}
    assert all(abs(m - truth[-1]) < 0.06 for m, _ in dists.values()), dists
    assert all(abs(m - truth[-1]) < 2 * s for fit, (m, s) in dists.items() if fit != "bma"), dists
    assert a.prob_better(curve[:10], 0.3) > 0.95 and a.prob_better(curve[:10], 0.99) < 0.05
    with pytest.raises(ValueError, match="LCE fit is 'nuts'"):
        LCEPred(T=30, fit="nuts")
    assert cut_beginning(np.array([0.1, 0.1, 0.1, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])) == 3
    assert cut_beginning(np.array([0.1, 0.5, 0.6])) == 0


def test_lce_predicts_every_remaining_epoch_of_a_curve():
    """predict_dist_epochs (ifBO's extrapolation test): on a clean pow3 curve the rest of the curve is recovered
    closely, the value at T agrees with predict_dist_curve (the BMA path: the same formula), and the cheap MCMC
    gives a finite spread at every epoch."""
    import numpy as np

    from harness.predictors.lce import LCEPred

    T = 40
    t = np.arange(1, T + 1)
    y = 0.9 - 0.6 * t ** -0.7
    bma = LCEPred(T=T, mode="max", fit="bma").fit_bounds(y[None, :])
    m, s = bma.predict_dist_epochs(y[:15], np.arange(16, T + 1))
    assert m.shape == s.shape == (T - 15,)
    assert np.max(np.abs(m - y[15:])) < 0.01 and np.all(s > 0)
    mT, sT = bma.predict_dist_curve(y[:15])
    assert abs(m[-1] - mT) < 1e-12 and abs(s[-1] - sT) < 1e-12
    mc = LCEPred(T=T, mode="max", fit="cheap", seed=1).fit_bounds(y[None, :])
    m2, s2 = mc.predict_dist_epochs(y[:15], np.arange(16, T + 1))
    assert np.max(np.abs(m2 - y[15:])) < 0.03 and np.all(np.isfinite(s2)) and np.all(s2 > 0)
    short, sd = mc.predict_dist_epochs(y[:2], np.arange(3, T + 1))  # too short to fit: the last value
    assert np.all(short == y[1]) and np.allclose(sd, 0.25 * (y.max() - y.min()))
