"""Replay speed: one vanilla Hyperband iteration (1000 configs x 50 epochs, R=50, eta=3), measured in
one run for

engine   harness.sim.simulate + Hyperband scheduler (event heap, oracle accounting, records)
bound    a vectorised numpy lower bound doing only the arithmetic (sample, index, argsort per rung)
optuna   Optuna's HyperbandPruner replaying the same table (one trial per sampled configuration,
         report() every epoch, should_prune() decides); ``pip install optuna`` for this column

    python benchmarks/replay_speed.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.algorithms.hyperband import Hyperband  # noqa: E402
from harness.hb import brackets, hyperband_configs  # noqa: E402
from harness.sim import simulate  # noqa: E402
from harness.store import CurveSet  # noqa: E402


def table(n: int = 1000, t: int = 50, seed: int = 0) -> CurveSet:
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.5, 0.95, n), rng.uniform(2, 15, n)
    y = a[:, None] * (1 - np.exp(-np.arange(1, t + 1)[None, :] / b[:, None])) + rng.normal(0, 0.01, (n, t))
    return CurveSet(name="synthetic", configs=pd.DataFrame({"config_id": [str(i) for i in range(n)]}),
                    curves=y[:, :, None], metrics={"acc": "max"}, objective="acc")


def bound(loss: np.ndarray, R: int, eta: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    epochs = 0
    best = np.inf
    for b in brackets(R, eta):
        idx = rng.choice(loss.shape[0], size=b.n, replace=False)
        prev = 0
        for rung in b.rungs:
            vals = loss[idx, rung.r_i - 1]
            epochs += len(idx) * (rung.r_i - prev)
            prev = rung.r_i
            idx = idx[np.argsort(vals, kind="stable")[: rung.keep]]
        best = min(best, loss[idx, R - 1].min())
    return epochs


def optuna_replay(loss: np.ndarray, R: int, eta: int, seed: int) -> int:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    rng = np.random.default_rng(seed)
    order = rng.permutation(loss.shape[0])
    epochs = 0

    def objective(trial):
        nonlocal epochs
        c = int(order[trial.number % len(order)])
        for e in range(1, R + 1):
            epochs += 1
            trial.report(float(loss[c, e - 1]), e)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(loss[c, R - 1])

    pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=R, reduction_factor=eta)
    study = optuna.create_study(direction="minimize", pruner=pruner,
                                sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(objective, n_trials=hyperband_configs(R, eta))
    return epochs


def timeit(fn, repeats: int) -> float:
    best = np.inf
    for r in range(repeats):
        t0 = time.perf_counter()
        fn(r)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--R", type=int, default=50)
    p.add_argument("--eta", type=int, default=3)
    a = p.parse_args()
    cs = table()
    loss = cs.loss()
    t_engine = timeit(lambda s: simulate(cs, Hyperband(R=a.R, eta=a.eta), seed=s), a.repeats)
    t_bound = timeit(lambda s: bound(loss, a.R, a.eta, s), a.repeats)
    print(f"table 1000 configs x 50 epochs, Hyperband R={a.R} eta={a.eta}, best of {a.repeats} runs")
    print(f"engine  {1e3 * t_engine:9.3f} ms / iteration")
    print(f"bound   {1e3 * t_bound:9.3f} ms / iteration (numpy lower bound)")
    print(f"ratio engine / bound          {t_engine / t_bound:8.2f}x")
    try:
        import optuna  # noqa: F401
    except ImportError:
        print("optuna  not installed (pip install optuna): skipped")
        return
    t_opt = timeit(lambda s: optuna_replay(loss, a.R, a.eta, s), max(1, a.repeats // 10))
    print(f"optuna  {1e3 * t_opt:9.3f} ms / iteration (HyperbandPruner, same number of trials)")
    print(f"ratio optuna / engine         {t_opt / t_engine:8.1f}x")


if __name__ == "__main__":
    main()
