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
