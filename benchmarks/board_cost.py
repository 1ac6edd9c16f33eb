"""What a suite's board costs, from the CPU seconds its records carry (issue #35: the 100 T board on 2 cores).

    python benchmarks/board_cost.py results/leaderboard [--suite leaderboard] [--cores 2]

Sums the measured CPU seconds of the cells done, projects the cells not done yet from their (algorithm, dataset)
medians (else the algorithm's median), and prints the CPU-hours, each algorithm's share, and the wall time on
``--cores`` cores: the sum over the cores (perfect balance) and the makespan of the costliest-first assignment
the joblib backend approximates (one dataset's chunk at a time is not modelled: a lower bound).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("records", help="a suite's records folder (records-*.parquet)")
    ap.add_argument("--suite", default="leaderboard")
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import numpy as np

    from harness.bench import cell_costs, cost_table, load_suite, planned_records

    suite = load_suite(args.suite)
    table, cells = planned_records(suite, Path(args.records))
    if table.empty or "cpu_seconds" not in table or table.cpu_seconds.isna().all():
        print(f"{args.records}: no records of suite {args.suite} at this code version with cpu_seconds")
        return 2
    table = table[table.cpu_seconds.notna()]
    done = dict(zip(table.key, table.cpu_seconds, strict=True))
    expected = cell_costs(cells, cost_table(table))  # measured medians, else the algorithm's, else the runner's
    est, per_algo, missing = [], {}, 0
    for (k, inst, _), guess in zip(cells, expected, strict=True):
        s = float(done[k]) if k in done else guess
        missing += k not in done
        est.append(s)
        per_algo[inst] = per_algo.get(inst, 0.0) + s
    total = float(np.sum(est))
    load = [0.0] * args.cores
    for s in sorted(est, reverse=True):
        load[load.index(min(load))] += s
    print(f"{args.suite}: {len(cells):,} cells, {len(cells) - missing:,} measured, {missing:,} projected from medians "
          "(their algorithm's on the dataset, else over the datasets measured, else the runner's relative cost)")
    print(f"CPU time {total / 3600:.2f} h; on {args.cores} cores at least {total / args.cores / 3600:.2f} h wall "
          f"(costliest-first makespan {max(load) / 3600:.2f} h)")
    for a, s in sorted(per_algo.items(), key=lambda x: -x[1]):
        print(f"  {a:30s} {s / 3600:7.2f} CPU-h  {s / total:6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
