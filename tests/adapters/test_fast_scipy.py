"""The faster truncated-normal draw given to Syne Tune's KDE searcher equals scipy's bit for bit, and BOHB's
records do not change with it (harness/adapters/fast_scipy.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("syne_tune", reason="the KDE searcher is Syne Tune's")
import scipy.stats as sps  # noqa: E402

from harness.adapters import fast_scipy  # noqa: E402
from harness.runner import Cell, run_cell  # noqa: E402
from tests.conftest import make_curveset  # noqa: E402


def test_twenty_thousand_draws_equal_scipys_bit_for_bit():
    """Draws shaped like the KDE searcher's (a = -m / bw, b = (1 - m) / bw, loc m, scale bw: left and right
    tails, narrow and wide bandwidths, repeated (a, b) pairs served from the cache) and some of other shapes:
    every value, its type and the generator's state afterwards equal scipy's."""
    tn = fast_scipy.ScalarTruncnorm(max_cached=64)  # small: the cache is cleared many times
    rng = np.random.default_rng(3)
    ours, theirs = np.random.RandomState(11), np.random.RandomState(11)
    ms = np.concatenate([rng.random(40), [0.0, 1.0, 0.5]])
    bws = np.concatenate([rng.uniform(1e-3, 3.0, 12), [1e-3, 50.0]])
    for i in range(20_000):
        if i % 10 == 9:  # other shapes: both bounds on one side of 0, a wide interval
            a = float(rng.uniform(-6, 6))
            b = a + float(rng.uniform(1e-3, 8))
            m, bw = float(rng.normal()), float(rng.uniform(0.01, 4))
        else:
            m, bw = float(ms[rng.integers(len(ms))]), float(bws[rng.integers(len(bws))])
            a, b = -m / bw, (1 - m) / bw
        x = tn.rvs(a, b, loc=m, scale=bw, random_state=ours)
        y = sps.truncnorm.rvs(a, b, loc=m, scale=bw, random_state=theirs)
        assert x == y and type(x) is type(y), (a, b, m, bw)
    assert ours.get_state()[2] == theirs.get_state()[2] and tn.agrees()


def test_what_it_does_not_compute_itself_is_scipys():
    """Arrays, a size, a Generator, degenerate or infinite arguments go to scipy (same values, same errors)."""
    tn = fast_scipy.ScalarTruncnorm()
    cases = [((np.array([-1.0, 0.5]), np.array([1.0, 2.0])), {"random_state": np.random.RandomState(1)}),
             ((-1.0, 1.0), {"size": 3, "random_state": np.random.RandomState(1)}),
             ((-1.0, 1.0), {"random_state": np.random.default_rng(1)}),
             ((-np.inf, 1.0), {"random_state": np.random.RandomState(1)}),
             ((-1.0, 1.0), {"scale": 0.0, "random_state": np.random.RandomState(1)})]
    for args, kw in cases:
        kw2 = {k: (v if not hasattr(v, "bit_generator") else np.random.default_rng(1)) for k, v in kw.items()}
        if isinstance(kw.get("random_state"), np.random.RandomState):
            kw2["random_state"] = np.random.RandomState(1)
        np.testing.assert_array_equal(tn.rvs(*args, **kw), sps.truncnorm.rvs(*args, **kw2))
    with pytest.raises(ValueError, match="Domain error"):
        tn.rvs(1.0, -1.0, random_state=np.random.RandomState(0))
    assert tn.cdf(0.0, -1.0, 1.0) == sps.truncnorm.cdf(0.0, -1.0, 1.0)  # the rest is scipy's truncnorm


def test_bohb_records_are_the_same_with_and_without_it():
    """BOHB searching the hyperparameters (space=hp: continuous coordinates, drawn by truncnorm), two seeds."""
    cs = make_curveset(n=120, t=27, seed=6)
    params = {"R": 27, "eta": 3, "space": "hp"}
    try:
        fast_scipy.uninstall_kde_truncnorm()
        import harness.adapters.synetune as st

        orig = fast_scipy.install_kde_truncnorm
        st.fast_scipy.install_kde_truncnorm = lambda: False  # the library's own scipy call
        slow = [run_cell(Cell("pool", "synetune:BOHB", params, seed=s, budget=40 * 27, ledger=True), curves=cs)
                for s in (0, 1)]
        st.fast_scipy.install_kde_truncnorm = orig
        fast = [run_cell(Cell("pool", "synetune:BOHB", params, seed=s, budget=40 * 27, ledger=True), curves=cs)
                for s in (0, 1)]
    finally:
        st.fast_scipy.install_kde_truncnorm = orig
    import importlib

    sps_there = importlib.import_module(fast_scipy.KDE_MODULE).sps
    assert isinstance(sps_there, fast_scipy._Stats) and sps_there.truncnorm._terms  # it drew the candidates
    for a, b in zip(slow, fast, strict=True):
        assert a.n_trials > 20
        assert json.dumps(a.to_json()) == json.dumps(b.to_json())
