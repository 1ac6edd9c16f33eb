"""QSVR (SPEC section 4)."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest

from harness.predictors.qsvr import (
    QSVRPred,
    bias,
    build_qubo,
    combination_weights,
    decode,
    ising_beta_range,
    qubo_bqm,
    qubo_dict,
    rbf_kernel,
    sample_qubo,
)
from harness.predictors.zoo import r2

needs_sampler = pytest.mark.skipif(
    importlib.util.find_spec("dimod") is None or importlib.util.find_spec("dwave") is None,
    reason="QSVR sampling needs dimod and dwave-samplers (pip install '.[quantum]')")


def _brute(Q: np.ndarray) -> float:
    n = Q.shape[0]
    return min(float(np.array(v) @ Q @ np.array(v)) for v in itertools.product([0, 1], repeat=n))


def test_qubo_energy_is_the_dual_objective():
    rng = np.random.default_rng(1)
    N, K = 3, 2
    X, y = rng.normal(size=(N, 2)), rng.uniform(size=N)
    km = rbf_kernel(X, X, 0.1)
    Q = build_qubo(km, y, K=K, B=0.5, k0=0.005, epsilon=0.02, xi=0.01)
    assert np.allclose(Q, np.triu(Q))
    for _ in range(20):
        v = rng.integers(0, 2, 2 * K * N)
        a, s = decode(v[None], N, K, 0.5, 0.005)
        b = a[0] - s[0]
        E = 0.5 * b @ km @ b + 0.02 * (a[0] + s[0]).sum() - y @ b + 0.01 * b.sum() ** 2
        assert np.isclose(v @ Q @ v, E)


@needs_sampler
def test_exact_and_annealing_find_the_ground_state():
    rng = np.random.default_rng(2)
    N, K = 2, 3
    X, y = rng.normal(size=(N, 1)), rng.uniform(size=N)
    Q = build_qubo(rbf_kernel(X, X, 0.1), y, K=K)
    ground = _brute(Q)
    s_exact, e_exact, used = sample_qubo(Q, backend="exact")
    assert used == "exact" and np.isclose(e_exact[0], ground)
    s_sa, e_sa, used = sample_qubo(Q, backend="sa", num_reads=50, num_sweeps=200, seed=0)
    assert used == "sa" and np.isclose(e_sa[0], ground)
    assert np.all(np.diff(e_sa) >= 0)


@needs_sampler
def test_qpu_without_token_falls_back_to_annealing(monkeypatch):
    monkeypatch.delenv("DWAVE_API_TOKEN", raising=False)
    monkeypatch.setattr("harness.predictors.qsvr.token_configured", lambda: False)
    Q = build_qubo(np.eye(2), np.array([0.1, 0.9]), K=2)
    _, _, used = sample_qubo(Q, backend="qpu", num_reads=10, num_sweeps=50)
    assert used == "sa"


def test_bias_modes():
    km = np.eye(3)
    y = np.array([0.2, 0.5, 0.9])
    a, s = np.array([0.5, 0.0, 0.0]), np.array([0.0, 0.3, 0.0])
    std = bias(a, s, km, y, 0.02, 67.61, "standard")
    ref = bias(a, s, km, y, 0.02, 67.61, "reference")
    # standard: b_a = y0 - eps - 0.5, b_s = y1 + eps + 0.3 ; reference subtracts eps for both
    assert np.isclose(std, ((0.2 - 0.02 - 0.5) + (0.5 + 0.02 + 0.3)) / 2)
    assert np.isclose(ref, ((0.2 - 0.02 - 0.5) + (0.5 - 0.02 + 0.3)) / 2)


def test_combination_rules():
    mse, lc, r2_ = np.array([0.1, 0.2, 0.4]), np.array([1.0, 2.0, 4.0]), np.array([0.9, 0.8, 0.6])
    w = combination_weights(mse, lc, r2_)
    assert set(w) == {"norm", "softmax", "lc-norm", "lc-softmax", "best", "mean", "r2-softmax"}
    for v in w.values():
        assert np.isclose(v.sum(), 1)
    np.testing.assert_allclose(w["norm"], [4 / 7, 2 / 7, 1 / 7])
    assert w["best"].tolist() == [1, 0, 0]
    ref = combination_weights(mse, lc, r2_, "reference")
    assert ref["best"].tolist() == [0, 0, 1]  # the reference picks the lowest R^2 (its MSE slot holds R^2)
    np.testing.assert_allclose(ref["r2-softmax"], [1 / 3] * 3)


@needs_sampler
def test_qsvr_offline_small_case_is_seeded_and_predicts(mlpf):
    y = mlpf.curve()
    tr = np.arange(0, 296, 15)[:20]
    te = np.setdiff1d(np.arange(296), tr)
    X = y[:, :25:2]
    a = QSVRPred(num_reads=100, num_sweeps=200, seed=3).fit(X[tr], y[tr, -1])
    b = QSVRPred(num_reads=100, num_sweeps=200, seed=3).fit(X[tr], y[tr, -1])
    assert a.backend_used_ == "sa"
    np.testing.assert_array_equal(a.predict(X[te]), b.predict(X[te]))
    assert r2(y[te, -1], a.predict(X[te])) > 0.5
    big = QSVRPred(num_reads=20, num_sweeps=20, seed=0).fit(X[:60], y[:60, -1])
    assert big.X_.shape[0] == 20  # subsampled to 120 qubits / (2K)


def _random_qubos(n_models: int, seed: int = 0):
    """Random upper-triangular QUBOs of many sizes, densities and precisions, and real QSVR models."""
    rng = np.random.default_rng(seed)
    for t in range(n_models):
        n = int(rng.integers(1, 60))
        Q = rng.normal(size=(n, n)) * rng.choice([1e-3, 1.0, 100.0])
        Q[rng.random((n, n)) < rng.random() * 0.9] = 0
        yield np.round(Q, int(rng.integers(0, 4))) if t % 3 == 0 else Q  # ties in the smallest bias count
    for K in (2, 3):
        X, y = rng.random((20, 4)), rng.random(20)
        yield build_qubo(rbf_kernel(X, X, 0.1), y, K=K, B=0.5, k0=0.005, epsilon=0.02, xi=0.01, beta=0.0)


@needs_sampler
def test_qubo_model_is_dimods_from_qubo():
    """qubo_dict/qubo_bqm build, from arrays, what the double loop and dimod.BQM.from_qubo built: the same keys in
    the same order, the same variables in the same order, the same biases in BINARY and SPIN form."""
    import dimod

    for Q in _random_qubos(60):
        n = Q.shape[0]
        loop = {(p, q): float(Q[p, q]) for p in range(n) for q in range(p, n) if Q[p, q] != 0 or p == q}
        assert list(qubo_dict(Q).items()) == list(loop.items())
        ref, ours = dimod.BQM.from_qubo(loop), qubo_bqm(Q)
        assert list(ours.variables) == list(ref.variables)
        for a, b in ((ref, ours), (ref.spin, ours.spin)):
            assert list(a.linear.items()) == list(b.linear.items())
            assert list(a.quadratic.items()) == list(b.quadratic.items()) and a.offset == b.offset


@needs_sampler
def test_beta_range_is_the_samplers_default():
    """ising_beta_range equals dwave.samplers' _default_ising_beta_range bit for bit (its per-variable sums are
    order-sensitive: summing the couplings in any other order changes many of these), and the annealer gives the
    same samples with it as with its own default."""
    from dwave.samplers import SimulatedAnnealingSampler
    from dwave.samplers.sa.sampler import _default_ising_beta_range

    for Q in _random_qubos(200, seed=1):
        spin = qubo_bqm(Q).spin
        ref = _default_ising_beta_range(spin.linear, spin.quadratic)
        assert ising_beta_range(spin) == ref
    samples, energy, _ = sample_qubo(Q, num_reads=30, num_sweeps=20, seed=7)
    ss = SimulatedAnnealingSampler().sample_qubo(qubo_dict(Q), num_reads=30, num_sweeps=20, seed=7).aggregate()
    order = np.argsort(ss.record.energy, kind="stable")
    assert np.array_equal(energy, ss.record.energy[order])
    assert np.array_equal(samples, np.asarray(ss.record.sample)[order][:, np.argsort(ss.variables)])
