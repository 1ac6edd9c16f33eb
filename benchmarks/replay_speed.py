"""Replay speed of Hyperband (issue #15), ratios measured in one run from interleaved repetitions (medians).

1. the engine vs a minimal numpy Hyperband doing only the arithmetic (sample, index, argsort per rung), 10
   Hyperband runs on 10,000 configs x 100 epochs (R=100, eta=3);                      goal <= 2x
2. time per trial at 1,000,000 trials vs at 10,000 trials (same table, more runs);   goal <= 1.2x
3. Optuna's HyperbandPruner replaying the same number of trials through its own loop (report every epoch,
   should_prune) vs the engine, at 1k x 50, 10k x 100, 100k x 100, as time per Hyperband run;  goal >= 100x.
   A repetition runs one Optuna study and ENGINE_RUNS engine runs on consecutive seeds (an A/B test's usage):
   one engine run at 1k x 50 takes about 0.1 ms, which timed alone right after an 8 ms Optuna study measured
   the cold caches it left (the ratio moved 45-85 between runs of this script).
4. peak memory of a 100k x 100 replay (tracemalloc) over the table's own bytes;       goal <= 1.2

    python benchmarks/replay_speed.py [--reps 7]
"""

from __future__ import annotations

import argparse
import tracemalloc

import numpy as np
from _common import interleaved, line, ratio, table

from harness.algorithms import Hyperband
from harness.hb import brackets, hyperband_configs
from harness.sim import simulate

#: engine runs (consecutive seeds) per repetition of the Optuna comparison
ENGINE_RUNS = 20


def bound(loss: np.ndarray, R: int, eta: int, runs: int, seed: int) -> int:
    """Minimal Hyperband: only the arithmetic, vectorised."""
    rng = np.random.default_rng(seed)
    epochs = 0
    for _ in range(runs):
        for b in brackets(R, eta):
            idx = rng.choice(loss.shape[0], size=b.n, replace=False)
            prev = 0
            for rung in b.rungs:
                vals = loss[idx, rung.r_i - 1]
                epochs += len(idx) * (rung.r_i - prev)
                prev = rung.r_i
                idx = idx[np.argsort(vals, kind="stable")[: rung.keep]]
    return epochs


def optuna_replay(loss: np.ndarray, R: int, eta: int, n_trials: int, seed: int) -> int:
    """Optuna as its users run it: study.optimize over an objective that reports the recorded value after
    every epoch and raises TrialPruned when should_prune() says so."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    rows = np.random.default_rng(seed).integers(loss.shape[0], size=n_trials)
    reports = 0

    def objective(trial: optuna.Trial) -> float:
        nonlocal reports
        c = int(rows[trial.number])
        for e in range(1, R + 1):
            reports += 1
            trial.report(float(loss[c, e - 1]), e)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(loss[c, R - 1])

    pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=R, reduction_factor=eta)
    study = optuna.create_study(direction="minimize", pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    return reports


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--optuna-reps", type=int, default=3)
    a = p.parse_args()
    R, eta = 100, 3
    per_run = hyperband_configs(R, eta)  # trials of one Hyperband run
    cs = table(10_000, 100)
    loss = cs.loss()
    print(f"Hyperband R={R}, eta={eta}: {per_run} trials per run; medians of {a.reps} interleaved repetitions\n")

    t = interleaved({"engine": lambda s: simulate(cs, Hyperband(R=R, eta=eta, n_runs=10), seed=s),
                     "bound": lambda s: bound(loss, R, eta, 10, s)}, a.reps)
    r1 = ratio(t, "engine", "bound")
    print(line("1. engine / numpy bound, 10 runs on 10k x 100", r1, "goal <= 2", r1 <= 2))
    print(f"   engine {1e3 * np.median(t['engine']):.2f} ms, bound {1e3 * np.median(t['bound']):.2f} ms")

    small, big = 10_000 // per_run, 1_000_000 // per_run
    t = interleaved({"small": lambda s: simulate(cs, Hyperband(R=R, eta=eta, n_runs=small), seed=s),
                     "big": lambda s: simulate(cs, Hyperband(R=R, eta=eta, n_runs=big), seed=s)},
                    max(3, a.reps // 2))
    r2 = float(np.median((t["big"] / (big * per_run)) / (t["small"] / (small * per_run))))
    print(line(f"2. time per trial, {big * per_run:,} vs {small * per_run:,} trials", r2, "goal <= 1.2",
               r2 <= 1.2))
    print(f"   {1e6 * np.median(t['small']) / (small * per_run):.2f} us vs "
          f"{1e6 * np.median(t['big']) / (big * per_run):.2f} us per trial")

    try:
        import optuna  # noqa: F401
    except ImportError:
        print("3. optuna not installed (pip install optuna): skipped")
    else:
        for n, T in ((1_000, 50), (10_000, 100), (100_000, 100)):
            c2 = table(n, T, seed=1)
            l2 = c2.loss()
            n_trials = hyperband_configs(T, eta)
            t = interleaved({"optuna": lambda s, l2=l2, T=T, k=n_trials: optuna_replay(l2, T, eta, k, s),
                             "engine": lambda s, c2=c2, T=T: [simulate(c2, Hyperband(R=T, eta=eta), seed=s * ENGINE_RUNS + j)
                                                              for j in range(ENGINE_RUNS)]},
                            a.optuna_reps)
            r3 = ratio(t, "optuna", "engine") * ENGINE_RUNS
            print(line(f"3. Optuna HyperbandPruner / engine, {n:,} x {T}, {n_trials} trials", r3, "goal >= 100",
                       r3 >= 100))
            print(f"   per Hyperband run: Optuna {1e3 * np.median(t['optuna']):.2f} ms, "
                  f"engine {1e3 * np.median(t['engine']) / ENGINE_RUNS:.3f} ms")

    big_cs = table(100_000, 100, seed=2)
    table_bytes = big_cs.curves.nbytes
    simulate(big_cs, Hyperband(R=R, eta=eta, n_runs=10), seed=0)  # warm caches (finiteness check)
    tracemalloc.start()
    simulate(big_cs, Hyperband(R=R, eta=eta, n_runs=10), seed=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    r4 = (table_bytes + peak) / table_bytes
    print(line("4. peak memory of a 100k x 100 replay / table", r4, "goal <= 1.2", r4 <= 1.2))
    print(f"   table {table_bytes / 2**20:.1f} MiB, replay peak above it {peak / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
