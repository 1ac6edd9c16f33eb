"""Recompute the equal-budget claims of a leaderboard from its records alone (issue #35).

    python benchmarks/budget_check.py results/leaderboard            # the board's records folder
    python benchmarks/budget_check.py /tmp/lb --suite conf/bench/leaderboard.yaml

For every record: the epochs its trials trained (its ledger, an independent count) equal the epochs it was
charged, and it charged at most its budget plus one job's epochs (T). For every reading point r x T: what a run
had spent by then is at most r x T plus one job, and the incumbent read there was reached within r x T. Per
algorithm: the share of its epochs spent restarting a configuration already trained, and of its trials that
trained an epoch on distinct configurations. Prints one line per check and exits non-zero when one fails.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("records", help="a suite's records folder (records-*.parquet)")
    ap.add_argument("--read-at", default="20,50,100", help="reading points, multiples of T")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from harness.bench import read_table
    from harness.reporting.budgeted import trained_trials
    from harness.runner import cached_dataset

    table = read_table(Path(args.records))
    if table.empty:
        print(f"{args.records}: no records")
        return 2
    if "budget" not in table or table.budget.isna().any():
        print(f"{args.records}: records without a budget (not an equal-budget suite)")
        return 2
    points = [float(x) for x in args.read_at.split(",")]
    T = {d: cached_dataset(d).n_epochs for d in table.dataset.unique()}
    bad = 0
    rows = []
    for r in table.itertuples(index=False):
        led = json.loads(r.ledger) if isinstance(r.ledger, str) else None
        t = T[r.dataset]
        if led is not None and led["trained_epochs"] != r.epochs:
            bad += 1
            print(f"FAIL {r.dataset} {r.instance} seed {r.seed}: ledger trained {led['trained_epochs']} epochs, "
                  f"record charged {r.epochs}")
        if r.epochs > r.budget + t:
            bad += 1
            print(f"FAIL {r.dataset} {r.instance} seed {r.seed}: {r.epochs} epochs > budget {r.budget} + T {t}")
        at = json.loads(r.anytime) if isinstance(r.anytime, str) else r.anytime
        for p in points:
            b = math.ceil(p * t)
            if b > r.budget:
                continue
            seen = [e for e, _, _ in at if e <= b]
            spent = min(r.epochs, b + t)
            if seen and max(seen) > b:
                bad += 1
                print(f"FAIL {r.dataset} {r.instance} seed {r.seed}: incumbent at {p:g} T reached after {b}")
            rows.append({"algorithm": r.instance, "point": p, "within": spent <= b + t})
        if led is not None:
            rows.append({"algorithm": r.instance, "point": -1, "restart_epochs": led["restart_epochs"],
                         "trained": led["trained_epochs"], "distinct": led["distinct"],
                         "trials": trained_trials(led["n_trials"], led)})
    df = pd.DataFrame(rows)
    print(f"{len(table)} records of {table.instance.nunique()} algorithms on {table.dataset.nunique()} datasets; "
          f"{bad} failed checks")
    led = df[df.point == -1]
    if len(led):
        g = led.groupby("algorithm")[["restart_epochs", "trained", "distinct", "trials"]].sum()
        for a, x in g.iterrows():
            print(f"{a:32s} epochs restarting a trained configuration {x.restart_epochs / max(x.trained, 1):6.1%}; "
                  f"distinct configurations / trained trials {x.distinct / max(x.trials, 1):6.1%}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
