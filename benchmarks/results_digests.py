"""Compare the numbers of two results/ folders (issue #26: same results before and after the speed work).

    python benchmarks/results_digests.py --base-rev 4411acd [--new results]
    python benchmarks/results_digests.py --base-dir KEPT/reproduce-base-xxx/results --new KEPT/reproduce-head-yyy/results

For every CSV and JSON-lines file of results/ at the base revision, the file of the new folder is compared by
digest after removing what is not a result: timing columns (``seconds``, ``wall_seconds``), the label column
``algorithm`` of replay tables (issue #28 shortened the labels; the rows stay in the same order and the run records
keep the instance names), the per-rung in-run R^2 that issue #28 added to the records, and rows or records the
new code added (a study variant that did not exist at the base). What differs on purpose is listed with
``--expect FILE:why`` and reported as such, never silently.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
from pathlib import Path

import pandas as pd
from workloads import without_added_scores  # benchmarks/ is on the path when this script runs

REPO = Path(__file__).resolve().parents[1]
TIMING = {"seconds", "wall_seconds", "fit_seconds", "cpu_seconds"}


def _git(rev: str, path: str) -> str | None:
    out = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=REPO, capture_output=True, text=True)
    return out.stdout if out.returncode == 0 else None


def _files(rev: str, base_dir: Path | None = None) -> list[str]:
    if base_dir is not None:
        return sorted(f"results/{p.relative_to(base_dir).as_posix()}" for p in base_dir.rglob("*")
                      if p.suffix in (".csv", ".jsonl"))
    out = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "results/"], cwd=REPO, capture_output=True,
                         text=True, check=True)
    return [f for f in out.stdout.splitlines() if f.endswith((".csv", ".jsonl"))]


def _csv_digest(df: pd.DataFrame, keep_rows: pd.Series | None = None) -> str:
    if keep_rows is not None:
        df = df[keep_rows.to_numpy()]
    df = df.drop(columns=[c for c in df.columns if c in TIMING or c == "algorithm"]).reset_index(drop=True)
    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format="%.17g")
    return hashlib.sha256(buf.getvalue().encode()).hexdigest()[:16]


def _record(r: dict) -> dict:
    r = {k: v for k, v in r.items() if k not in TIMING}
    if isinstance(r.get("predictor_scores"), dict):
        r["predictor_scores"] = without_added_scores(r["predictor_scores"])
    return r


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--base-rev", default="4411acd")
    p.add_argument("--base-dir", type=Path, help="a results/ folder to compare with instead of --base-rev's")
    p.add_argument("--new", default=str(REPO / "results"))
    p.add_argument("--expect", action="append", default=[], help="FILE:why a file differs on purpose")
    a = p.parse_args()
    expected = dict(x.split(":", 1) for x in a.expect)
    new_root = Path(a.new)
    same, differ, missing = 0, [], []
    base_name = str(a.base_dir) if a.base_dir else a.base_rev
    for f in _files(a.base_rev, a.base_dir):
        name = Path(f).name
        old_text = ((a.base_dir / Path(f).relative_to("results")).read_text() if a.base_dir
                    else _git(a.base_rev, f))
        new_path = new_root / Path(f).relative_to("results")
        if not new_path.is_file():
            missing.append(name)
            continue
        if f.endswith(".csv"):
            old, new = pd.read_csv(io.StringIO(old_text)), pd.read_csv(new_path)
            keep = None
            if "variant" in old.columns and "variant" in new.columns:  # a study's variants: the base's only
                keep = new.variant.isin(set(old.variant))
            ok = list(new.columns) == list(old.columns) or set(old.columns) <= set(new.columns)
            new = new[list(old.columns)] if ok else new
            d_old, d_new = _csv_digest(old), _csv_digest(new, keep)
        else:  # run records matched by (dataset, algorithm, settings, seed, accounting, workers): added cells ignored
            def key(r: dict) -> str:
                return json.dumps([r.get(k) for k in ("dataset", "algorithm", "params", "seed", "accounting",
                                                      "workers")], sort_keys=True, default=str)

            olds = [_record(json.loads(x)) for x in old_text.splitlines() if x.strip()]
            news = {key(r): r for r in (_record(json.loads(x)) for x in new_path.read_text().splitlines() if x.strip())}
            d_old = hashlib.sha256(json.dumps(olds, sort_keys=True, default=str).encode()).hexdigest()[:16]
            matched = [news.get(key(r)) for r in olds]
            d_new = hashlib.sha256(json.dumps(matched, sort_keys=True, default=str).encode()).hexdigest()[:16]
        if d_old == d_new:
            same += 1
        else:
            differ.append(name)
    print(f"{same} result files identical to {base_name} (numbers; labels and timing excluded)")
    for name in differ:
        why = expected.get(name)
        print(f"  {'expected' if why else 'DIFFERS'}: {name}" + (f" ({why})" if why else ""))
    for name in missing:
        print(f"  not in the new folder: {name}")
    raise SystemExit(1 if any(n not in expected for n in differ) else 0)


if __name__ == "__main__":
    main()
