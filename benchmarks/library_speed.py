"""The two leaderboard speed changes inside the libraries' loops (issue #35), each against the library's own way,
on leaderboard cells (100 T, ledger on), with the records compared byte for byte.

    python benchmarks/library_speed.py [--reps 3] [--only kde,optuna]

kde: Syne Tune BOHB (space=hp) with scipy's truncnorm.rvs (the library as shipped) against
harness.adapters.fast_scipy.ScalarTruncnorm (the same draws, bit for bit), on a TaskSet task and an LCBench task.
optuna: optuna:HyperbandPruner (random and TPE) and optuna:SuccessiveHalvingPruner asking should_prune after every
epoch against only at the pruner's rungs (harness.adapters.optuna.decision_steps).
Prints the median seconds over interleaved repetitions (never best-of) and their ratio, measured in this run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import interleaved  # noqa: E402


def cells(algorithms: list[str], datasets: list[str]) -> list:
    from harness.bench import load_suite, plan

    suite = load_suite("leaderboard")
    return [c for _, a, c in plan(suite) if a in algorithms and c.dataset in datasets and c.seed == 0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="kde,optuna")
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    import harness.adapters.optuna as opt
    import harness.adapters.synetune as st
    from harness.adapters import fast_scipy
    from harness.runner import run_cell

    def records(cs: list) -> list[str]:
        return [json.dumps(run_cell(c).to_json(), sort_keys=True, default=str) for c in cs]

    install, steps = fast_scipy.install_kde_truncnorm, opt.decision_steps
    out: dict[str, list[str]] = {}

    def library_kde(_: int) -> None:
        fast_scipy.uninstall_kde_truncnorm()
        st.fast_scipy.install_kde_truncnorm = lambda: False
        try:
            out["kde library"] = records(kde_cells)
        finally:
            st.fast_scipy.install_kde_truncnorm = install

    def harness_kde(_: int) -> None:
        out["kde harness"] = records(kde_cells)

    def every_step(_: int) -> None:
        opt.decision_steps = lambda pruner, R: None
        try:
            out["optuna every epoch"] = records(opt_cells)
        finally:
            opt.decision_steps = steps

    def rungs(_: int) -> None:
        out["optuna rungs"] = records(opt_cells)

    with threadpool_limits(1):
        if "kde" in args.only:
            kde_cells = cells(["synetune:BOHB"], ["taskset_imdb_p32_gru64_avg", "lcbench_3945"])
            t = interleaved({"library": library_kde, "harness": harness_kde}, args.reps, warmup=False)
            med = {k: statistics.median(v) for k, v in t.items()}
            print(f"Syne Tune BOHB (hp), {len(kde_cells)} leaderboard cells: scipy truncnorm {med['library']:.2f} s, "
                  f"ScalarTruncnorm {med['harness']:.2f} s (medians of {args.reps}): "
                  f"{med['library'] / med['harness']:.2f}x; records identical: {out['kde library'] == out['kde harness']}")
        if "optuna" in args.only:
            opt_cells = cells(["optuna:HyperbandPruner", "optuna:HyperbandPruner@tpe", "optuna:SuccessiveHalvingPruner"],
                              ["taskset_imdb_p32_gru64_avg", "lcbench_3945", "deepobs_cifar100_allcnnc"])
            t = interleaved({"every": every_step, "rungs": rungs}, args.reps)
            med = {k: statistics.median(v) for k, v in t.items()}
            print(f"Optuna pruners, {len(opt_cells)} leaderboard cells: should_prune every epoch {med['every']:.2f} s, "
                  f"at rungs {med['rungs']:.2f} s (medians of {args.reps}): {med['every'] / med['rungs']:.2f}x; "
                  f"records identical: {out['optuna every epoch'] == out['optuna rungs']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
