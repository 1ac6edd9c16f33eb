"""Swift-Hyperband replay cost on MLPF (issue #15): its time outside predictor fitting and prediction vs
Hyperband's per seed (goal <= 2x), the predictor's own cost reported separately, and the number of predict
calls per rung and decision point (goal: one, the predictions of a rung batched). Medians of interleaved
repetitions over seeds.

    python benchmarks/swift_speed.py [--reps 10]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import interleaved, line

from harness.datasets import load_dataset
from harness.predictors import zoo
from harness.runner import make_scheduler
from harness.sim import simulate

ACC = {"fit": 0.0, "predict": 0.0, "predict_calls": 0}


def _instrument() -> None:
    for name in ("fit", "predict"):
        orig = getattr(zoo.SwiftSVR, name)

        def wrapped(self, *a, _orig=orig, _name=name, **k):
            t0 = time.perf_counter()
            try:
                return _orig(self, *a, **k)
            finally:
                ACC[_name] += time.perf_counter() - t0
                if _name == "predict":
                    ACC["predict_calls"] += 1

        setattr(zoo.SwiftSVR, name, wrapped)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=10)
    a = p.parse_args()
    cs = load_dataset("swifthb_mlpf_delphes")
    _instrument()
    inside: list[float] = []
    decisions: list[tuple[int, int]] = []

    def swift(s: int) -> None:
        ACC.update(fit=0.0, predict=0.0, predict_calls=0)
        sched = make_scheduler(cs, "swift", {"R": 100, "eta": 2})
        simulate(cs, sched, seed=s)
        inside.append(ACC["fit"] + ACC["predict"])
        points = {(d["run"], d["s"], d["i"]) for d in sched.decisions}
        decisions.append((ACC["predict_calls"], len(points)))

    def hb(s: int) -> None:
        simulate(cs, make_scheduler(cs, "hyperband", {"R": 100, "eta": 2}), seed=s)

    t = interleaved({"swift": swift, "hb": hb}, a.reps)
    pred = np.array(inside[-a.reps:])
    outside = t["swift"] - pred
    r = float(np.median(outside / t["hb"]))
    print(line("Swift time outside predictor fit+predict / Hyperband, per seed", r, "goal <= 2", r <= 2))
    print(f"   Swift {1e3 * np.median(t['swift']):.2f} ms per seed, of which predictor fit+predict "
          f"{1e3 * np.median(pred):.2f} ms; Hyperband {1e3 * np.median(t['hb']):.2f} ms")
    calls = [c / max(n, 1) for c, n in decisions[-a.reps:]]
    print(line("predict calls per rung decision point (batched: 1)", float(np.median(calls)), "goal = 1",
               max(calls) <= 1))


if __name__ == "__main__":
    main()
