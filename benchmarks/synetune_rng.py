"""Syne Tune's global random states: owned by the run from start() to close(), against swapped around every call
into the library (what the adapter did before issue #35). Same records, less time.

    python benchmarks/synetune_rng.py --reps 3

Runs the same cells (Syne Tune ASHA, BOHB on pool rows and in hp space; three datasets; two seeds) both ways,
interleaved, checks the records are byte-identical, and prints the median seconds of each way and their ratio.
The per-call way is the current adapter with its run's states handed back right after start(): every later call
then swaps them in and out, as the old code did.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from harness.adapters.synetune import SyneTuneScheduler
    from harness.runner import Cell, build_config, run_cell

    cells = [Cell(ds, a, build_config(a, kw).to_dict(), seed=s)
             for ds in ("digits_cnn", "swifthb_mlpf_delphes", "deepobs_cifar100_allcnnc")
             for a, kw in (("synetune:ASHA", {}), ("synetune:BOHB", {}), ("synetune:BOHB", {"space": "hp"}))
             for s in range(2)]
    own_start = SyneTuneScheduler.start

    def per_call_start(self, view, rng):  # the old behaviour: the run's states are swapped per call
        own_start(self, view, rng)
        self.close()

    def run(per_call: bool) -> tuple[float, list[str]]:
        SyneTuneScheduler.start = per_call_start if per_call else own_start
        t = time.perf_counter()
        recs = [json.dumps(run_cell(c).to_json(), sort_keys=True, default=str) for c in cells]
        return time.perf_counter() - t, recs

    run(False)  # imports and dataset loads out of the timings
    times: dict[str, list[float]] = {"per call": [], "per run": []}
    records: dict[str, list[str]] = {}
    for _ in range(args.reps):
        for label, per_call in (("per call", True), ("per run", False)):
            dt, recs = run(per_call)
            times[label].append(dt)
            records[label] = recs
    SyneTuneScheduler.start = own_start
    same = records["per call"] == records["per run"]
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{len(cells)} cells; records identical: {same}")
    for k, v in med.items():
        print(f"  {k:9s} {v:7.2f} s (median of {args.reps} interleaved)")
    print(f"per call / per run: {med['per call'] / med['per run']:.2f}x")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
