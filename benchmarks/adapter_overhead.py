"""What the adapters add (issues #12, #30): replaying optuna:<Pruner> and smac:<Intensifier> in the simulator vs
the library's own ask/tell loop over the same table with no simulator (per reported epoch for Optuna, per trial
asked for SMAC); medians of interleaved repetitions. Goal: at most 1.5x.

    python benchmarks/adapter_overhead.py [--reps 5]
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import interleaved, line, table

from harness.runner import make_scheduler
from harness.sim import simulate

PRUNERS = {"HyperbandPruner": lambda o, R, eta: o.pruners.HyperbandPruner(1, R, eta),
           "MedianPruner": lambda o, R, eta: o.pruners.MedianPruner()}


def ask_tell(loss: np.ndarray, R: int, eta: int, pruner: str, n_trials: int, seed: int) -> int:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    rows = np.random.default_rng(seed).integers(loss.shape[0], size=n_trials)
    study = optuna.create_study(study_name="lc-harness", direction="minimize", pruner=PRUNERS[pruner](optuna, R, eta),
                                sampler=optuna.samplers.RandomSampler(seed=seed))
    reports = 0
    for c in rows:
        trial = study.ask()
        for e in range(1, R + 1):
            reports += 1
            trial.report(float(loss[c, e - 1]), e)
            if e == R:
                study.tell(trial, float(loss[c, e - 1]))
            elif trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
    return reports


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--trials", type=int, default=200)
    a = p.parse_args()
    R, eta = 50, 3
    cs = table(2_000, R)
    loss = cs.loss()
    for pruner in PRUNERS:
        counts: dict[str, int] = {}

        def harness_run(s: int, pruner: str = pruner, counts: dict = counts) -> None:
            sched = make_scheduler(cs, f"optuna:{pruner}", {"R": R, "eta": eta, "n_trials": a.trials})
            _, trace = simulate(cs, sched, seed=s)
            counts["harness_epochs"] = trace.epochs_used

        def raw_run(s: int, pruner: str = pruner, counts: dict = counts) -> None:
            counts["raw_epochs"] = ask_tell(loss, R, eta, pruner, a.trials, s)

        t = interleaved({"harness": harness_run, "raw": raw_run}, a.reps)
        # per reported epoch: both runs report every epoch they train
        r = float(np.median(t["harness"] / counts["harness_epochs"]) / np.median(t["raw"] / counts["raw_epochs"]))
        print(line(f"optuna:{pruner} in the simulator / Optuna's ask-tell loop, per epoch", r, "goal <= 1.5",
                   r <= 1.5))
        print(f"   {a.trials} trials of {R} epochs max on 2,000 configs; harness "
              f"{1e3 * np.median(t['harness']):.1f} ms ({counts['harness_epochs']} epochs), ask/tell "
              f"{1e3 * np.median(t['raw']):.1f} ms ({counts['raw_epochs']} epochs)")


def smac_loop(loss: np.ndarray, name: str, R: int, eta: int, n_asks: int, seed: int) -> int:
    """SMAC's own ask/tell loop over pool rows (an integer hyperparameter), each ask answered from the table."""
    import logging
    import shutil
    import tempfile

    from ConfigSpace import ConfigurationSpace, Integer
    from smac import HyperbandFacade, MultiFidelityFacade, Scenario, intensifier
    from smac.runhistory.dataclasses import TrialValue

    from harness.adapters.smac import CLASSES

    logging.getLogger("smac").setLevel(logging.ERROR)
    facade = {"HyperbandFacade": HyperbandFacade, "MultiFidelityFacade": MultiFidelityFacade}[CLASSES[name][0]]
    space = ConfigurationSpace(seed=seed)
    space.add(Integer("row", (0, loss.shape[0] - 1)))
    out = tempfile.mkdtemp()
    sc = Scenario(space, deterministic=True, n_trials=10**9, min_budget=1, max_budget=R, seed=seed, output_directory=out)
    smac = facade(sc, target_function=lambda config, budget, seed: 0.0,
                  intensifier=getattr(intensifier, CLASSES[name][1])(sc, eta=eta, seed=seed), overwrite=True,
                  logging_level=False)
    for _ in range(n_asks):
        info = smac.ask()
        e = min(max(1, int(round(info.budget))), R)
        smac.tell(info, TrialValue(cost=float(loss[int(info.config["row"]), e - 1])), save=False)
    shutil.rmtree(out, ignore_errors=True)
    return n_asks


def smac_main(reps: int, n_asks: int) -> None:
    R, eta = 50, 3
    cs = table(2_000, R)
    loss = cs.loss()
    for name in ("Hyperband", "MultiFidelityFacade"):
        counts: dict[str, int] = {}

        def harness_run(s: int, name: str = name, counts: dict = counts) -> None:
            sched = make_scheduler(cs, f"smac:{name}", {"R": R, "eta": eta, "n_trials": n_asks})
            simulate(cs, sched, seed=s)
            sched.extra_record()
            counts["harness"] = sched.asked

        def raw_run(s: int, name: str = name, counts: dict = counts) -> None:
            counts["raw"] = smac_loop(loss, name, R, eta, n_asks, s)

        t = interleaved({"harness": harness_run, "raw": raw_run}, reps)
        r = float(np.median(t["harness"] / counts["harness"]) / np.median(t["raw"] / counts["raw"]))
        print(line(f"smac:{name} in the simulator / SMAC's ask-tell loop, per ask", r, "goal <= 1.5", r <= 1.5))
        print(f"   {n_asks} asks, R = {R}, eta = {eta} on 2,000 configs; harness {1e3 * np.median(t['harness']):.1f} ms "
              f"({1e3 * np.median(t['harness']) / counts['harness']:.2f} ms/ask), SMAC's loop "
              f"{1e3 * np.median(t['raw']):.1f} ms ({1e3 * np.median(t['raw']) / counts['raw']:.2f} ms/ask)")


if __name__ == "__main__":
    import sys

    if "--smac" in sys.argv:
        sys.argv.remove("--smac")
        smac_main(reps=5, n_asks=300)
    else:
        main()
