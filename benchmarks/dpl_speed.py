"""DPL's cost on one core (issue #36): a whole run, and the batched ensemble against a per-member loop.

    python benchmarks/dpl_speed.py                    # both, 3 interleaved repetitions of the ratio
    python benchmarks/dpl_speed.py --run-only --budget 1000 --dataset taskset_imdb_p32_gru64_avg

Prints (1) the seconds of one DPL run of ``--budget`` epochs (DPL's 1000 on a TaskSet task), split into
training and the rest, and (2) the median over interleaved repetitions of the seconds of a refinement (20
epochs, DPL's) and of a training from scratch (250 epochs) at n observations, batched vs one member after the
other, and their ratio. Measured in one process with one torch thread and one BLAS thread.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="taskset_imdb_p32_gru64_avg")
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--n", type=int, default=1000, help="observations the ratio is measured at")
    ap.add_argument("--run-only", action="store_true")
    ap.add_argument("--ratio-only", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import numpy as np
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    with threadpool_limits(1):
        if not args.ratio_only:
            from harness.freezethaw import power_law
            from harness.runner import Cell, build_config, run_cell

            steps = {"n": 0, "rows": 0}
            orig_forward = power_law.PowerLawEnsemble._forward

            def counted(self, x, budget, _orig=orig_forward):  # training batches (predictions run under no_grad)
                if torch.is_grad_enabled():
                    steps["n"] += 1
                    steps["rows"] += int(x.shape[0] * x.shape[1])
                    steps["d"] = int(x.shape[-1])
                return _orig(self, x, budget)

            power_law.PowerLawEnsemble._forward = counted
            spent = {"fit": 0.0, "refine": 0.0}
            for name in ("fit", "refine"):
                orig = getattr(power_law.PowerLawEnsemble, name)

                def timed(self, *a, _orig=orig, _name=name, **k):
                    t = time.perf_counter()
                    try:
                        return _orig(self, *a, **k)
                    finally:
                        spent[_name] += time.perf_counter() - t

                setattr(power_law.PowerLawEnsemble, name, timed)
            t0 = time.perf_counter()
            rec = run_cell(Cell(args.dataset, "dpl", build_config("dpl", {"epochs_budget": args.budget}), seed=0))
            wall = time.perf_counter() - t0
            print(f"DPL run, {args.dataset}, {rec.epochs} epochs: {wall:.1f} s on one core "
                  f"(training from scratch {spent['fit']:.1f} s x {rec.extra['trainings_from_scratch']}, "
                  f"refinements {spent['refine']:.1f} s x {rec.extra['refinements']}, the rest "
                  f"{wall - spent['fit'] - spent['refine']:.1f} s)")
            # what the arithmetic alone costs: multiply-adds of the training steps (forward, and twice that
            # backward) at this machine's measured float32 matmul rate on the same shapes
            d, U = steps["d"], 128
            macs_per_row = d * U + U * U + U * 3
            flops = 3 * 2 * macs_per_row * steps["rows"]
            a, w = torch.rand(5, 65, U), torch.rand(5, U, U)
            for _ in range(200):
                torch.bmm(a, w)
            t = time.perf_counter()
            for _ in range(2000):
                torch.bmm(a, w)
            rate = 2000 * 2 * 5 * 65 * U * U / (time.perf_counter() - t)
            print(f"  training steps {steps['n']:,} ({steps['rows']:,} example-member rows, d = {d}): "
                  f"{flops / 1e12:.2f} TFLOP; at this core's {rate / 1e9:.1f} GFLOP/s on (5, 65, 128) x (5, 128, 128) "
                  f"matmuls the arithmetic alone takes {flops / rate:.0f} s")
        if not args.run_only:
            from harness.freezethaw.power_law import PerMemberPowerLaw, PowerLawEnsemble

            rng = np.random.default_rng(0)
            n = args.n
            X, b = rng.random((n, 8)), rng.integers(1, 51, n) / 50
            y = 0.4 + 0.3 * b ** -0.5 + 0.01 * rng.standard_normal(n)
            times: dict[str, list[float]] = {}
            for _ in range(args.reps):  # interleaved: batched, then per member, then again
                for label, cls in (("batched", PowerLawEnsemble), ("per-member", PerMemberPowerLaw)):
                    m = cls(8, seed=0)
                    t = time.perf_counter()
                    m.fit(X[:200], y[:200], b[:200], 250)
                    times.setdefault(f"{label} fit 250 epochs at n=200", []).append(time.perf_counter() - t)
                    t = time.perf_counter()
                    m.refine(X, y, b, 20, newest=n - 1)
                    times.setdefault(f"{label} refine 20 epochs at n={n}", []).append(time.perf_counter() - t)
            med = {k: statistics.median(v) for k, v in times.items()}
            for k, v in med.items():
                print(f"{k:40s} {v:7.3f} s (median of {args.reps})")
            for what in ("fit 250 epochs at n=200", f"refine 20 epochs at n={n}"):
                print(f"per-member / batched, {what}: {med['per-member ' + what] / med['batched ' + what]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
