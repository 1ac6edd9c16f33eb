"""Shared fixtures: small fake curve sets and access to ../shared/data (skipped cleanly if absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.datasets import shared_curves_root, shared_data_root
from harness.store import CurveSet, Feature


def make_curveset(n: int = 60, t: int = 20, seed: int = 0, mode: str = "max", name: str = "fake") -> CurveSet:
    """Saturating curves y = a (1 - exp(-t / b)) + noise with HP/AP features that explain a and b."""
    rng = np.random.default_rng(seed)
    lr = 10 ** rng.uniform(-4, -1, n)
    width = rng.integers(8, 128, n)
    a = 0.5 + 0.4 * np.exp(-((np.log10(lr) + 2.5) ** 2)) + 0.05 * np.log2(width) / 7
    b = rng.uniform(1.5, 6.0, n)
    ep = np.arange(1, t + 1)
    y = a[:, None] * (1 - np.exp(-ep[None, :] / b[:, None])) + rng.normal(0, 0.005, (n, t))
    if mode == "min":
        y = 1.0 - y
    configs = pd.DataFrame({"config_id": [f"c{i}" for i in range(n)], "lr": lr, "width": width})
    return CurveSet(
        name=name,
        configs=configs,
        curves=y[:, :, None].astype(np.float64),
        metrics={"acc" if mode == "max" else "err": mode},
        objective="acc" if mode == "max" else "err",
        features=(Feature("lr", "hp", "float", log=True), Feature("width", "ap", "int")),
        epoch_seconds=np.full((n, t), 2.0) + rng.uniform(0, 1, (n, 1)),
    )


@pytest.fixture
def fake() -> CurveSet:
    return make_curveset()


@pytest.fixture(scope="session")
def shared_curves() -> Path:
    root = shared_curves_root()
    if not root.is_dir():
        pytest.skip(f"real curves not available: {root} does not exist (set LC_HARNESS_SHARED_DATA)")
    return root


@pytest.fixture(scope="session")
def shared_train() -> Path:
    root = shared_data_root() / "train"
    if not root.is_dir():
        pytest.skip(f"training data not available: {root} does not exist (set LC_HARNESS_SHARED_DATA)")
    return root


@pytest.fixture(scope="session")
def mlpf(shared_curves):
    from harness.datasets import load_dataset

    return load_dataset("swifthb_mlpf_delphes")


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Surrogate pools are cached on disk and imports go to the data home: tests use their own, never the user's."""
    import os

    saved = {k: os.environ.get(k) for k in ("LC_HARNESS_CACHE", "LC_HARNESS_HOME")}
    os.environ["LC_HARNESS_CACHE"] = str(tmp_path_factory.mktemp("lc_harness_cache"))
    os.environ["LC_HARNESS_HOME"] = str(tmp_path_factory.mktemp("lc_harness_home"))  # imports, fetches: never ~
    yield
    for k, old in saved.items():
        if old is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = old


@pytest.fixture(scope="session")
def yahpo_root() -> Path:
    root = shared_data_root() / "surrogates" / "yahpo"
    if not (root / "lcbench" / "model.onnx").is_file():
        pytest.skip(f"YAHPO Gym's LCBench surrogate not available: {root}/lcbench/model.onnx does not exist")
    pytest.importorskip("onnxruntime", reason="the lcbench family needs onnxruntime (pip install '.[surrogate]')")
    return root


# --- the embedded datasets are byte-identical after the whole suite (issue #27) ---------------------------------

_EMBEDDED = Path(__file__).resolve().parents[1] / "datasets"


def _embedded_digest() -> dict[str, str]:
    import hashlib

    return {str(p.relative_to(_EMBEDDED)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(_EMBEDDED.rglob("*")) if p.is_file()}


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller (or a run without xdist)
        session.config._embedded_before = _embedded_digest()


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_embedded_before", None)
    if before is None:
        return
    after = _embedded_digest()
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if changed:
        session.config.get_terminal_writer().line(
            f"FAILED: the test suite changed embedded dataset files under datasets/: {', '.join(changed[:5])}", red=True)
        session.exitstatus = 1
