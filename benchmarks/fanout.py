"""Fan-out (issue #15): ``--backend joblib`` is never slower than sequential (100 MLPF Hyperband seeds, a small
job it should keep sequential), and with enough work (1,000 Swift seeds on MLPF) it is at least 1.6x faster on
2 cores. Ratios of interleaved repetitions (medians); each backend starts with a cold worker pool.

    python benchmarks/fanout.py [--reps 3] [--swift-seeds 1000]
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import interleaved, line

from harness.runner import Cell, run_cells


def cells(algo: str, params: dict, n: int) -> list[Cell]:
    return [Cell("swifthb_mlpf_delphes", algo, params, seed=s) for s in range(n)]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--swift-seeds", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=2)
    a = p.parse_args()
    small = cells("hyperband", {"R": 100, "eta": 2}, 100)
    big = cells("swift", {"R": 100, "eta": 2}, a.swift_seeds)
    run_cells(small[:1], progress=False)  # load the dataset once in this process
    t = interleaved({"seq": lambda _: run_cells(small, progress=False),
                     "joblib": lambda _: run_cells(small, backend="joblib", n_jobs=a.jobs, progress=False)},
                    a.reps, warmup=False)
    r1 = float(np.median(t["joblib"] / t["seq"]))
    print(line("joblib / sequential, 100 Hyperband seeds on MLPF", r1, "goal <= 1 (never slower)", r1 <= 1.05))
    t = interleaved({"seq": lambda _: run_cells(big, progress=False),
                     "joblib": lambda _: run_cells(big, backend="joblib", n_jobs=a.jobs, progress=False)},
                    a.reps, warmup=False)
    r2 = float(np.median(t["seq"] / t["joblib"]))
    print(line(f"sequential / joblib ({a.jobs} jobs), {a.swift_seeds} Swift seeds on MLPF", r2, "goal >= 1.6",
               r2 >= 1.6))
    print(f"   medians: sequential {np.median(t['seq']):.1f} s, joblib {np.median(t['joblib']):.1f} s")


if __name__ == "__main__":
    main()
