"""Tables of replay results: per-algorithm summaries against vanilla Hyperband on the same seeds."""

from __future__ import annotations

import json
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .metrics import RunRecord, bootstrap_ci, paired_test, summarize


def label(r: RunRecord) -> str:
    keys = ("predictor", "Delta", "d", "k", "rho", "q", "n_runs", "rule", "refit_every")
    defaults = {"n_runs": 1}
    extra = ",".join(f"{k}={r.params[k]}" for k in keys
                     if r.params.get(k) is not None and r.params.get(k) != defaults.get(k))
    return f"{r.algorithm}[{extra}]" if extra else r.algorithm


def group(records: Iterable[RunRecord]) -> dict[tuple[str, str], list[RunRecord]]:
    out: dict[tuple[str, str], list[RunRecord]] = defaultdict(list)
    for r in records:
        out[(label(r), r.accounting)].append(r)
    return out


def summary_table(records: Sequence[RunRecord], baseline: str = "hyperband") -> pd.DataFrame:
    """One row per (algorithm, accounting): epochs, speed-up vs ``baseline`` on matched seeds, quality."""
    groups = group(records)
    rows = []
    for (name, acc), rs in groups.items():
        base = next((g for (n, a), g in groups.items() if a == acc and g[0].algorithm == baseline), None)
        name_is_base = base is rs
        row: dict[str, Any] = {"algorithm": name, "accounting": acc, "seeds": len(rs)}
        row["epochs"] = summarize([r.epochs for r in rs]).fmt(1)
        if base is not None and not name_is_base:
            by_seed = {r.seed: r for r in base}
            pairs = [(by_seed[r.seed], r) for r in rs if r.seed in by_seed]
            sp = np.array([b.epochs / r.epochs for b, r in pairs if r.epochs > 0])
            saved = np.array([(b.epochs - r.epochs) / b.epochs for b, r in pairs if b.epochs > 0])
            lo, hi = bootstrap_ci(sp) if len(sp) > 1 else (np.nan, np.nan)
            row["speedup"] = f"{sp.mean():.3f} [{lo:.3f}, {hi:.3f}]" if len(sp) > 1 else (
                f"{sp.mean():.3f}" if len(sp) else "-")
            row["saved"] = f"{100 * saved.mean():.1f}%" if len(saved) else "-"
            t = paired_test([b.returned_final for b, _ in pairs], [r.returned_final for _, r in pairs])
            row["final_vs_base_p"] = f"{t['wilcoxon_p']:.3f}"
        else:
            row["speedup"] = "1.000" if name_is_base else "-"
            row["saved"] = "0.0%" if name_is_base else "-"
            row["final_vs_base_p"] = "-"
        row["returned_final"] = summarize([r.returned_final for r in rs]).fmt(4)
        row["regret"] = summarize([r.regret for r in rs]).fmt(4)
        row["returned_opt"] = f"{np.mean([r.returned_optimum for r in rs]):.2f}"
        row["in_final_set"] = f"{np.mean([r.in_final_set for r in rs]):.2f}"
        row["opt_sampled"] = f"{np.mean([r.optimum_sampled for r in rs]):.2f}"
        row["makespan"] = summarize([r.makespan for r in rs]).fmt(1)
        row["time_to_best"] = summarize([r.time_to_best for r in rs]).fmt(1)
        rows.append(row)
    return pd.DataFrame(rows)


def to_markdown(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(str(row[c]) for c in cols) + " |")
    return "\n".join(lines)


def write_jsonl(records: Iterable[RunRecord], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for r in records:
            fh.write(json.dumps(r.to_json(), default=float) + "\n")


def read_jsonl(path: str | Path) -> list[RunRecord]:
    out = []
    for line in Path(path).read_text().splitlines():
        if line.strip():
            d = json.loads(line)
            d["anytime"] = [tuple(x) for x in d.get("anytime", [])]
            out.append(RunRecord(**d))
    return out


def plot_anytime(records: Sequence[RunRecord], path: str | Path, title: str = "") -> Path:
    """Best true final value of the incumbent vs cumulative epochs, mean over seeds per algorithm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for (name, acc), rs in group(records).items():
        emax = max((r.epochs for r in rs), default=0)
        grid = np.linspace(0, emax, 200)
        ys = []
        for r in rs:
            if not r.anytime:
                continue
            e = np.array([a[0] for a in r.anytime])
            v = np.array([a[2] for a in r.anytime])
            idx = np.searchsorted(e, grid, side="right") - 1
            ys.append(np.where(idx >= 0, v[np.maximum(idx, 0)], np.nan))
        if ys:
            with warnings.catch_warnings():  # before any seed reached R the mean is NaN (not drawn)
                warnings.simplefilter("ignore", RuntimeWarning)
                ax.plot(grid, np.nanmean(np.array(ys), axis=0), label=f"{name} ({acc})")
    if records:
        ax.axhline(records[0].optimum_final, color="k", ls=":", lw=1, label="pool optimum")
    ax.set_xlabel("cumulative epochs")
    ax.set_ylabel("true final value of incumbent (mean over seeds)")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def save_figure(fig: Any, path: str | Path) -> Path:
    """tight_layout, create the folder, write a 120-dpi PNG and close the figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
