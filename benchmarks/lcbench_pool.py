"""How fast an LCBench pool is built: this project's reader (onnxruntime, chunked batches) against yahpo_gym's own
``objective_function`` on the same queries (issue #25: goal >= 20x).

yahpo_gym 1.0.2 needs numpy < 2, so it runs in its own throwaway environment (see
tests/fixtures/make_yahpo_reference.py for how to make one); this script calls it in a subprocess that times only
the queries (one ``objective_function`` call per configuration with its 52 epochs, as one samples a curve; with
BenchmarkSet's default ``check=True``, and with ``check=False``), and times the pool here the same way (model loaded
first). Repetitions are interleaved; medians are printed.

    python benchmarks/lcbench_pool.py --yahpo-python /tmp/yahpo_env/bin/python [--n 2000] [--reps 3] [--task 3945]
        [--per-query]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.datasets import shared_data_root  # noqa: E402
from harness.families.lcbench import LCBench  # noqa: E402

YAHPO = """
import json, os, sys, tempfile, time
os.environ["YAHPO_LOCAL_CONFIG"] = os.path.join(tempfile.mkdtemp(), "cfg")
from yahpo_gym import BenchmarkSet, local_config
local_config.init_config(); local_config.set_data_path(sys.argv[1])
configs = json.load(open(sys.argv[3]))
mode = sys.argv[4]
bench = BenchmarkSet("lcbench", instance=sys.argv[2], multithread=False, check=mode != "nocheck")
t0 = time.perf_counter()
if mode == "perquery":  # one call per (configuration, epoch), as the issue's 2-minute figure was measured
    out = [[bench.objective_function({**c, "epoch": e, "OpenML_task_id": sys.argv[2]})[0] for e in range(1, 53)]
           for c in configs]
else:  # one call per configuration with its 52 epochs
    out = [bench.objective_function([{**c, "epoch": e, "OpenML_task_id": sys.argv[2]} for e in range(1, 53)])
           for c in configs]
print(time.perf_counter() - t0)
print(json.dumps([float(out[0][0]["val_accuracy"]), float(out[-1][-1]["val_accuracy"])]))
"""


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--yahpo-python", required=True, help="python of an environment with yahpo_gym 1.0.2")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--task", default="3945")
    p.add_argument("--per-query", action="store_true", help="also time one objective_function call per (configuration, "
                                                            "epoch), about 2 minutes a repetition")
    a = p.parse_args()
    fam = LCBench(shared_data_root())
    model = fam.model
    cols = model.space.sample(a.n, 0)
    configs = [{k: (int(v[i]) if fam.model.space[k].type == "int" else float(v[i])) for k, v in cols.items()}
               for i in range(a.n)]
    tmp = Path(tempfile.mkdtemp())
    (tmp / "configs.json").write_text(json.dumps(configs))
    (tmp / "yahpo.py").write_text(YAHPO)
    model.curves(a.task, {k: v[:2] for k, v in cols.items()})  # session opened before timing, as yahpo's is
    ours: list[float] = []
    modes = ("perquery", "check", "nocheck") if a.per_query else ("check", "nocheck")
    theirs: dict[str, list[float]] = {m: [] for m in modes}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for rep in range(a.reps):
        for mode in modes:
            t0 = time.perf_counter()
            pool = fam.pool(a.task, a.n, 0)
            ours.append(time.perf_counter() - t0)
            out = subprocess.run([a.yahpo_python, str(tmp / "yahpo.py"), str(shared_data_root() / "surrogates" / "yahpo"),
                                  a.task, str(tmp / "configs.json"), mode], capture_output=True, text=True, env=env,
                                 check=True)
            secs, values = out.stdout.strip().splitlines()[-2:]
            theirs[mode].append(float(secs))
            first, last = json.loads(values)
            assert np.isclose(first, pool.curves[0, 0, 0], rtol=1e-5) and np.isclose(
                last, pool.curves[-1, -1, 0], rtol=1e-5), (first, last)
            print(f"rep {rep}: ours {ours[-1]:.2f} s, yahpo_gym ({mode}) {theirs[mode][-1]:.2f} s, ratio "
                  f"{theirs[mode][-1] / ours[-1]:.1f}", flush=True)
    mo = float(np.median(ours))
    print(f"LCBench pool {a.n} x 52, task {a.task}, medians of {a.reps} interleaved repetitions: ours {mo:.2f} s")
    for mode, label in (("perquery", "one call per (configuration, epoch), defaults"),
                        ("check", "one call per configuration (52 epochs), defaults (check=True: each query "
                                  "validated by ConfigSpace)"),
                        ("nocheck", "one call per configuration (52 epochs), check=False (no validation)")):
        if mode in theirs:
            mt = float(np.median(theirs[mode]))
            print(f"  yahpo_gym objective_function, {label}: {mt:.2f} s = {mt / mo:.1f}x ours")


if __name__ == "__main__":
    main()
