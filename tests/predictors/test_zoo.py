"""The model zoo and the predictor factory (SPEC 2.3)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.predictors import make_predictor
from harness.predictors.features import FeatureBuilder
from harness.predictors.zoo import BLRPred, NuSVRPred, r2


@pytest.mark.parametrize("name", ["nusvr", "ols", "blr", "rf", "lastseen", "swift_svr", "mean"])
def test_each_model_on_real_curves(shared_curves, name):
    """Every zoo model fits and predicts on real MNIST curves (25% observed); the learned ones beat the mean."""
    from harness.datasets import load_dataset

    cs = load_dataset("swifthb_mnist_cnn")
    rng = np.random.default_rng(0)
    tr = rng.choice(cs.n_configs, 100, replace=False)
    te = np.setdiff1d(np.arange(cs.n_configs), tr)[:500]
    fb = FeatureBuilder(cs, "TS+AP+HP")
    y = cs.curve()[:, -1]
    est = make_predictor(name, tau=3, budget="tiny", seed=0).fit(fb(tr, 3), y[tr])
    score = r2(y[te], est.predict(fb(te, 3)))
    if name == "mean":
        assert score < 0.01
    elif name == "lastseen":
        assert score > 0.0
    else:
        assert score > 0.4, score


def test_delta_target_adds_the_last_seen_value_back():
    """y_T = y_tau + 0.05 exactly: the delta target learns a constant and extrapolates to unseen y_tau; the
    final target cannot (its RBF/linear fit of y_T on a narrow training range); auto picks delta by CV."""
    rng = np.random.default_rng(0)
    last = rng.uniform(0.5, 1.0, 60)
    X = np.column_stack([rng.normal(size=60), last])  # last seen value in column 1
    y = last + 0.05
    Xt = np.array([[0.0, 0.1], [1.0, 0.3]])
    d = NuSVRPred(n_search=10, seed=0, target="delta", col=1).fit(X, y)
    np.testing.assert_allclose(d.predict(Xt), [0.15, 0.35], atol=1e-6)
    assert d.target_ == "delta"
    np.testing.assert_allclose(d.refit_fixed(X[:30], y[:30]).predict(Xt), [0.15, 0.35], atol=1e-6)
    auto = NuSVRPred(n_search=10, seed=0, target="auto", col=1).fit(X, y)
    assert auto.target_ == "delta" and set(auto.cv_scores_by_target_) == {"final", "delta"}
    m, s = BLRPred(n_search=3, target="delta", col=1).fit(X, y).predict_dist(Xt)
    np.testing.assert_allclose(m, [0.15, 0.35], atol=1e-3)
    assert np.all(s > 0)
    with pytest.raises(ValueError, match="target is 'last'"):
        NuSVRPred(target="last").fit(X, y)
    with pytest.raises(ValueError, match="column 5"):
        NuSVRPred(target="delta", col=5).fit(X, y)
    with pytest.raises(ValueError, match="predictor 'lastseen' predicts y_T directly"):
        make_predictor("lastseen", tau=3, target="delta")
    with pytest.raises(ValueError, match="'sklearn.linear_model:Ridge' takes no 'target'"):
        make_predictor("sklearn.linear_model:Ridge", tau=3, target="delta")


def test_user_predictor_by_import_path():
    est = make_predictor("sklearn.linear_model:Ridge", tau=3)
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = X @ [1.0, 2.0, 3.0]
    m, s = est.fit(X, y).predict_dist(X)
    assert r2(y, m) > 0.9 and np.isnan(s).all()
    with pytest.raises(ValueError, match="cannot import"):
        make_predictor("nowhere.module:Thing")
    with pytest.raises(ValueError, match="predictor is 'xgb'"):
        make_predictor("xgb")
