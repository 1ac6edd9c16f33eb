"""Cost of a sequential regression model per early-stopping decision, measured in one run.

For a training set of 100 full curves (SPEC 2.8) at tau = 25% of T: fit time of one per-tau model
(random search + the error model), the cost of one prediction (one decision of the early-stopping
rule) and of a batched prediction, and their ratio.

    python benchmarks/srm_cost.py [--dataset swifthb_mlpf_delphes]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.datasets import load_dataset  # noqa: E402
from harness.predictors import make_predictor  # noqa: E402
from harness.predictors.features import FeatureBuilder  # noqa: E402
from harness.predictors.protocol import tau_for  # noqa: E402
from harness.predictors.srm import SRM  # noqa: E402


def best_of(fn, repeats: int) -> float:
    out = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t0)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dataset", default="swifthb_mlpf_delphes")
    p.add_argument("--batch", type=int, default=1000)
    a = p.parse_args()
    cs = load_dataset(a.dataset)
    tau = tau_for(25, cs.n_epochs)
    rng = np.random.default_rng(0)
    tr = rng.choice(cs.n_configs, 100, replace=False)
    fb = FeatureBuilder(cs, "TS")
    X, y = fb(tr, tau), cs.curve()[tr, -1]
    Xb = fb(rng.choice(cs.n_configs, a.batch, replace=True), tau)
    print(f"{a.dataset}: 100 training curves, tau={tau} ({X.shape[1]} TS features)")
    print(f"{'model':12s} {'error':6s} {'fit s':>9s} {'1 decision us':>14s} {'batched us/row':>15s} {'ratio':>7s}")
    for name, budget in (("nusvr", "tiny"), ("nusvr", "cheap"), ("blr", "cheap"), ("swift_svr", "tiny")):
        for error in ("kfold", "loo"):
            srm = SRM(lambda t, n=name, b=budget: make_predictor(n, tau=t, budget=b, seed=0), error=error)
            fit = best_of(lambda s=srm: s.fit(tau, X, y), 1)
            one = best_of(lambda s=srm: s.predict(tau, X[:1]), 200)
            many = best_of(lambda s=srm: s.predict(tau, Xb), 20) / a.batch
            print(f"{name + '/' + str(budget):12s} {error:6s} {fit:9.3f} {1e6 * one:14.1f} {1e6 * many:15.2f} "
                  f"{one / many:7.1f}x")


if __name__ == "__main__":
    main()
