"""Baker's TS/AP/HP features (SPEC 2.1)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.predictors.features import FeatureBuilder, parse_sets, ts_features
from harness.predictors.protocol import tau_for


def test_ts_features_layout():
    p = np.array([[1.0, 2.0, 4.0, 7.0]])
    f = ts_features(p)
    # values, d1 (3), d2 (2), mean, std
    assert f.shape == (1, 4 + 3 + 2 + 2)
    np.testing.assert_allclose(f[0], [1, 2, 4, 7, 1, 2, 3, 1, 1, 3.5, np.std([1, 2, 4, 7])])
    assert ts_features(np.array([[3.0]])).shape == (1, 3)


def test_feature_sets(fake):
    assert parse_sets("ts+ap") == ("TS", "AP")
    with pytest.raises(ValueError, match="feature set 'XY'"):
        parse_sets("XY")
    fb = FeatureBuilder(fake, "TS+AP+HP")
    X = fb(np.arange(5), 4)
    assert X.shape == (5, 3 * 4 - 1 + 2)
    np.testing.assert_allclose(FeatureBuilder(fake, "HP")(np.arange(3), 4)[:, 0], np.log10(fake.configs["lr"][:3]))


def test_tau_for_fraction():
    assert [tau_for(25, 20), tau_for(25, 50), tau_for(60, 25), tau_for(25, 140), tau_for(1, 12)] == [5, 13, 15, 35, 1]
