"""The extrapolation test's table (ifBO's Table 1 protocol, :mod:`harness.predictors.extrapolation`): ours per
dataset, context size and model, mean +- SE over contexts, with ifBO's numbers beside them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .replay import to_markdown


def _fmt(x: pd.Series, digits: int) -> str:
    x = x.dropna()
    if x.empty:
        return "-"
    se = x.std(ddof=1) / len(x) ** 0.5 if len(x) > 1 else float("nan")
    return f"{x.mean():.{digits}g}" + (f" ± {se:.2g}" if se == se else "")


def tables(df: pd.DataFrame) -> str:
    """Ours and ifBO's, as markdown."""
    from ..predictors.extrapolation import IFBO_TABLE

    g = df.groupby(["dataset", "points", "model"], sort=False)
    ours = g.agg(mse=("mse", lambda x: _fmt(x, 3)), log_likelihood=("ll", lambda x: _fmt(x, 4)),
                 seconds=("seconds", lambda x: _fmt(x, 3)), contexts=("seed", "count")).reset_index()
    ref = pd.DataFrame([{"model": m, "LCBench LL / MSE": f"{v['lcbench'][0]} / {v['lcbench'][1]}",
                         "TaskSet LL / MSE": f"{v['taskset'][0]} / {v['taskset'][1]}",
                         "seconds at 400 / 1000 / 1800": " / ".join(map(str, v["seconds"]))}
                        for m, v in IFBO_TABLE.items()])
    return ("# Extrapolation test (ifBO, Table 1)\n\nOurs (values normalised to [0, 1] over each task's non-diverged "
            "configurations; mean ± SE over contexts; last_seen and nusvr are point predictions, without a "
            "log-likelihood):\n\n" + to_markdown(ours) + "\n\nifBO's Table 1 (device cpu; log-likelihood / MSE at 1000 "
            "points; its LCBench is the raw data, ours YAHPO's surrogate, whose smoother curves are easier to "
            "extrapolate; its TaskSet is mf-prior-bench's 24 tasks, ours the 8 here):\n\n" + to_markdown(ref) + "\n")


def write_extrapolation(cfg: dict[str, Any], rows: list[dict[str, Any]], out: Path) -> dict[str, Any]:
    df = pd.DataFrame(rows)
    name = cfg["experiment"]
    df.to_csv(out / f"{name}.csv", index=False)
    (out / f"{name}.md").write_text(tables(df))
    return {"rows": len(df), "models": sorted(df.model.unique().tolist())}
