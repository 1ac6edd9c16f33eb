"""SRMs and the LOOCV error model (SPEC 2.2, 2.4)."""

from __future__ import annotations

import numpy as np

from harness.predictors.features import FeatureBuilder
from harness.predictors.srm import SRM, error_model
from harness.predictors.zoo import BLRPred, NuSVRPred


def test_error_model_is_centered_and_positive(fake):
    fb = FeatureBuilder(fake, "TS")
    X, y = fb(np.arange(40), 5), fake.curve()[:40, -1]
    est = NuSVRPred(n_search=10, seed=0).fit(X, y)
    mu, sigma = error_model(est, X, y, "loo")
    assert sigma > 0 and abs(mu) < 3 * sigma
    srm = SRM(lambda tau: NuSVRPred(n_search=10, seed=0), error="kfold")
    srm.fit(5, X, y)
    m, s = srm.predict(5, X[:3])
    assert m.shape == s.shape == (3,) and np.all(s > 0)
    blr = SRM(lambda tau: BLRPred(n_search=5))
    blr.fit(5, X, y)
    assert np.all(blr.predict(5, X[:3])[1] > 0)


def test_srm_leaves_out_diverged_rows_and_ranks_them_worst(fake):
    """A diverged curve (non-finite prefix or target) is left out of training: the fit equals the fit on the
    finite rows. A diverged query is predicted at ``worst`` (u = -loss: -inf); too few finite rows: no model."""
    fb = FeatureBuilder(fake, "TS")
    X, y = fb(np.arange(40), 5), fake.curve()[:40, -1]
    Xb, yb = X.copy(), y.copy()
    Xb[3, 2:] = np.nan
    yb[7] = -np.inf
    ok = np.setdiff1d(np.arange(40), [3, 7])
    a, b = (SRM(lambda tau: NuSVRPred(n_search=10, seed=0), error="kfold") for _ in range(2))
    a.fit(5, Xb, yb)
    b.fit(5, X[ok], y[ok])
    q = np.vstack([X[:2], Xb[3]])
    ma, sa = a.predict(5, q)
    mb, sb = b.predict(5, X[:2])
    np.testing.assert_array_equal(ma[:2], mb)
    np.testing.assert_array_equal(sa[:2], sb)
    assert ma[2] == -np.inf and 0 < sa[2] <= 1e-12
    few = SRM(lambda tau: NuSVRPred(n_search=10, seed=0))
    Xf = np.full_like(X[:5], np.inf)
    Xf[:2] = X[:2]
    assert few.fit(5, Xf, y[:5]) is None and 5 not in few
