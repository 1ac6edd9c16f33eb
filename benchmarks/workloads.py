"""The workloads users wait for, against a base commit (issue #26: 4411acd): wall time as a ratio, and digests that
show the results did not change.

    git worktree add /tmp/base 4411acd
    python benchmarks/workloads.py --base /tmp/base [--reps 3] [--only bench,fig3,table1,tests,reproduce]

Each workload runs as a user runs it (a fresh process, a fresh output folder) in the base checkout and in this one,
interleaved (base, head, head, base, ...), and its median wall time is compared. Then the numeric outputs of the
two sides are compared by digest: every run record of the bench suite (the suite as defined at the base commit,
all columns but the content key, whose code-version part changes with any commit), the prediction tables (all
columns but ``seconds``), and for ``reproduce`` every CSV and JSON-lines file of results/ (timing columns
dropped). ``reproduce`` takes about an hour at the base: it runs once per side unless --reps says otherwise. The
in-run R^2 per rung that issue #28 added to the run records (``r2_by_rung``, ``n_by_rung``) is removed before the
digest: the base's records do not have it.

Environment: the same Python for both sides (the base checkout is imported from its own folder, PYTHONPATH set).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HEAD = Path(__file__).resolve().parents[1]
FIG3 = ["digits_cnn", "swifthb_mnist_cnn", "nasbench_nlp_wikitext2", "swifthb_mlpf_delphes",
        "cifar10_cudaconvnet_small", "ptb_lstm_small"]
TIMING = {"seconds", "wall_seconds", "fit_seconds", "predict_seconds", "time_s", "cpu_seconds"}


def workload(name: str, root: Path, out: Path) -> list[str]:
    h = [sys.executable, "-m", "harness"]
    if name == "bench":
        suite = out / "suite.yaml"
        base_suite = subprocess.run(["git", "show", f"{BASE_SHA}:conf/bench/default.yaml"], cwd=HEAD,
                                    capture_output=True, text=True, check=True).stdout
        lines = [ln for ln in base_suite.splitlines() if not ln.startswith("out:")]
        suite.write_text("\n".join(lines) + f"\nout: {out / 'bench'}\n")
        return [*h, "bench", str(suite), "-q"]
    if name == "fig3":
        ds = [x for d in FIG3 for x in ("-d", d)]
        return [*h, "predict", "-e", "fig3", *ds, "--repeats", "5", "--budget", "tiny", "--fractions",
                "10,20,30,40,50,60,70,80,90", "--out-dir", str(out), "-q"]
    if name == "table1":
        ds = [x for d in FIG3 for x in ("-d", d)]
        return [*h, "predict", "-e", "table1", *ds, "--repeats", "10", "--budget", "cheap", "--out-dir", str(out), "-q"]
    if name == "reproduce":
        return [*h, "reproduce", "--out-dir", str(out / "results"), "--fresh", "-q"]
    if name == "tests":
        return [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    raise ValueError(name)


def _frame_digest(df: pd.DataFrame, drop: set[str]) -> str:
    df = df.drop(columns=[c for c in df.columns if c in drop])
    df = df.reindex(sorted(df.columns), axis=1)
    keys = [c for c in ("dataset", "algorithm", "instance", "seed", "accounting", "workers", "experiment", "method",
                        "features", "fraction", "repeat", "split") if c in df.columns]
    if keys:
        df = df.sort_values(keys, kind="mergesort").reset_index(drop=True)
    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format="%.17g")
    return hashlib.sha256(buf.getvalue().encode()).hexdigest()[:16]


#: keys issue #28 added to a record's predictor scores (the in-run R^2 per rung): not in the base's records
ADDED_SCORE_KEYS = ("r2_by_rung", "n_by_rung")


def without_added_scores(scores: dict) -> dict:
    """A record's predictor scores without the keys the base's records do not have."""
    return {p: {k: v for k, v in sc.items() if k not in ADDED_SCORE_KEYS} for p, sc in scores.items()}


def digests(name: str, out: Path) -> dict[str, str]:
    """Digest of every numeric output of a workload's run."""
    res: dict[str, str] = {}
    if name == "bench":
        files = sorted((out / "bench").glob("records-*.parquet"))
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        df["predictor_scores"] = df["predictor_scores"].map(
            lambda text: json.dumps(without_added_scores(json.loads(text)), sort_keys=True))
        res["records"] = _frame_digest(df, {"key", "order"} | TIMING)
    elif name in ("fig3", "table1"):
        res[name] = _frame_digest(pd.read_csv(out / f"{name}.csv"), TIMING)
    elif name == "reproduce":
        for f in sorted((out / "results").glob("*.csv")):
            res[f.name] = _frame_digest(pd.read_csv(f), TIMING)
        for f in sorted((out / "results").glob("*.jsonl")):
            rows = [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
            for r in rows:
                for k in list(r):
                    if k in TIMING:
                        r.pop(k)
                if isinstance(r.get("predictor_scores"), dict):
                    r["predictor_scores"] = without_added_scores(r["predictor_scores"])
            res[f.name] = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]
    return res


def run(name: str, root: Path, tmp: Path, keep: Path | None = None, side: str = "head"
        ) -> tuple[float, dict[str, str], int]:
    out = Path(tempfile.mkdtemp(dir=tmp, prefix=f"{name}-{side}-"))
    env = {**os.environ, "PYTHONPATH": str(root), "MPLBACKEND": "Agg"}
    cmd = workload(name, root, out)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0 and name != "tests":
        raise RuntimeError(f"{name} in {root} failed:\n{proc.stderr[-3000:]}")
    d = digests(name, out)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        shutil.move(str(out), str(keep / out.name))
        print(f"  kept {keep / out.name}", flush=True)
    else:
        shutil.rmtree(out, ignore_errors=True)
    return dt, d, proc.returncode


BASE_SHA = "4411acd"


def main() -> None:
    global BASE_SHA
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True, help="a checkout of the base commit")
    p.add_argument("--base-sha", default=BASE_SHA)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--head-first", action="store_true", help="the first repetition runs the head before the base")
    p.add_argument("--only", default="bench,fig3,table1,tests,reproduce")
    p.add_argument("--keep", type=Path, help="keep both sides' output folders here (e.g. a reproduce run's results/, "
                                             "to compare with results_digests.py --base-dir)")
    a = p.parse_args()
    BASE_SHA = a.base_sha
    base = Path(a.base).resolve()
    tmp = Path(tempfile.mkdtemp(prefix="workloads-"))
    print(f"base {base} ({BASE_SHA}), head {HEAD}; {os.cpu_count()} cores; interleaved repetitions, medians",
          flush=True)
    for name in a.only.split(","):
        reps = 1 if name == "reproduce" and a.reps == 3 else a.reps
        times: dict[str, list[float]] = {"base": [], "head": []}
        dig: dict[str, dict[str, str]] = {}
        for r in range(reps):
            order = (("base", base), ("head", HEAD)) if (r % 2 == 0) != a.head_first else (("head", HEAD), ("base", base))
            for side, root in order:
                dt, d, rc = run(name, root, tmp, a.keep, side)
                times[side].append(dt)
                if side in dig and dig[side] != d:
                    print(f"  WARNING {name} {side}: digests differ between repetitions", flush=True)
                dig[side] = d
                print(f"  {name} rep {r} {side}: {dt:.1f} s" + (f" (exit {rc})" if rc else ""), flush=True)
        mb, mh = float(np.median(times["base"])), float(np.median(times["head"]))
        same = dig["base"] == dig["head"]
        diff = sorted(k for k in set(dig["base"]) | set(dig["head"]) if dig["base"].get(k) != dig["head"].get(k))
        print(f"{name}: base {mb:.1f} s, head {mh:.1f} s -> {mb / mh:.2f}x faster (medians of {reps}); outputs "
              f"{'identical' if same else 'DIFFER: ' + ', '.join(diff)} ({len(dig['base'])} digests)", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
