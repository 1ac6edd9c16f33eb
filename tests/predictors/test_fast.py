"""The fast NuSVR / BayesianRidge give scikit-learn's numbers bit for bit (issue #26: same results)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import BayesianRidge
from sklearn.svm import NuSVR

from harness.predictors.fast import BayesPrep, FastBayesianRidge, FastNuSVR


def _data(n, p, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = X @ rng.normal(size=p) + 0.1 * rng.normal(size=n)
    return X, y, rng.normal(size=(7, p))


@pytest.mark.parametrize("n, p", [(13, 30), (60, 8), (40, 40), (5, 2)])
@pytest.mark.parametrize("kernel, gamma", [("linear", "scale"), ("rbf", "scale"), ("rbf", 0.37)])
def test_nusvr_equals_sklearn(n, p, kernel, gamma):
    X, y, Q = _data(n, p, n * p)
    for C, nu, max_iter in ((1.0, 0.5, -1), (3e-4, 0.9, 100_000), (7.0, 0.05, 100_000), (10.0, 0.5, 3)):
        np.random.seed(5)
        with warnings.catch_warnings(record=True) as w_ref:
            warnings.simplefilter("always")
            ref = NuSVR(kernel=kernel, C=C, nu=nu, gamma=gamma, max_iter=max_iter).fit(X, y)
        after_ref = np.random.randint(1 << 30)
        np.random.seed(5)
        with warnings.catch_warnings(record=True) as w_fast:
            warnings.simplefilter("always")
            fast = FastNuSVR(kernel=kernel, C=C, nu=nu, gamma=gamma, max_iter=max_iter).fit(X, y)
        assert np.random.randint(1 << 30) == after_ref  # the global generator advanced as NuSVR advances it
        np.testing.assert_array_equal(fast.predict(Q), ref.predict(Q))
        np.testing.assert_array_equal(fast.predict(X), ref.predict(X))
        conv = [str(x.message) for x in w_ref if issubclass(x.category, ConvergenceWarning)]
        assert conv == [str(x.message) for x in w_fast if issubclass(x.category, ConvergenceWarning)]
        assert fast.get_params() == ref.get_params()


@pytest.mark.parametrize("n, p", [(13, 30), (60, 8), (40, 40), (100, 3)])
def test_bayesian_ridge_equals_sklearn(n, p):
    X, y, Q = _data(n, p, 7 + n + p)
    prep = BayesPrep(X, y)
    for a1, a2, l1, l2 in ((1e-6, 1e-6, 1e-6, 1e-6), (3e-7, 8e-6, 1e-5, 2e-7)):
        ref = BayesianRidge(alpha_1=a1, alpha_2=a2, lambda_1=l1, lambda_2=l2).fit(X, y)
        for fast in (FastBayesianRidge(alpha_1=a1, alpha_2=a2, lambda_1=l1, lambda_2=l2).fit(X, y),
                     FastBayesianRidge(alpha_1=a1, alpha_2=a2, lambda_1=l1, lambda_2=l2).fit(X, y, prep)):
            np.testing.assert_array_equal(fast.coef_, ref.coef_)
            assert fast.intercept_ == ref.intercept_ and fast.alpha_ == ref.alpha_ and fast.lambda_ == ref.lambda_
            assert fast.n_iter_ == ref.n_iter_
            np.testing.assert_array_equal(fast.sigma_, ref.sigma_)
            m, s = fast.predict(Q, return_std=True)
            m_ref, s_ref = ref.predict(Q, return_std=True)
            np.testing.assert_array_equal(m, m_ref)
            np.testing.assert_array_equal(s, s_ref)
            assert fast.get_params() == ref.get_params()
    np.testing.assert_array_equal(X, _data(n, p, 7 + n + p)[0])  # inputs untouched


def test_searched_models_unchanged_on_real_curves(mlpf):
    """nu-SVR and BLR searches on MLPF prefixes (the fast path) predict what the scikit-learn path predicted."""
    from harness.predictors import zoo
    from harness.predictors.features import ts_features

    y = mlpf.curve()
    X = ts_features(y[:100, :20])
    Q = ts_features(y[100:140, :20])
    for cls, kw in ((zoo.NuSVRPred, {"n_search": 20}), (zoo.BLRPred, {"n_search": 20}),
                    (zoo.RFPred, {"n_search": 3, "max_trees": 40})):
        fast = cls(seed=3, col=19, **kw).fit(X, y[:100, -1])
        slow = cls(seed=3, col=19, **kw)
        slow._fast = False
        slow.fit(X, y[:100, -1])
        np.testing.assert_array_equal(fast.predict(Q), slow.predict(Q))
        assert fast.best_params_ == slow.best_params_ and fast.cv_score_ == slow.cv_score_


@pytest.mark.parametrize("n, p", [(13, 30), (100, 8), (60, 1)])
def test_forest_equals_sklearn(n, p):
    from sklearn.ensemble import RandomForestRegressor

    from harness.predictors.fast import FastForest

    X, y, Q = _data(n, p, 11 * n + p)
    for trees, mf, seed in ((10, 0.1, 0), (37, 0.45, 123456), (5, 0.3, 2**31 - 7)):
        ref = RandomForestRegressor(n_estimators=trees, max_features=mf, random_state=seed, n_jobs=1).fit(X, y)
        fast = FastForest(n_estimators=trees, max_features=mf, random_state=seed).fit(X, y)
        np.testing.assert_array_equal(fast.predict(Q), ref.predict(Q))
        np.testing.assert_array_equal(fast.predict(X), ref.predict(X))
        assert fast.get_params() == ref.get_params()
