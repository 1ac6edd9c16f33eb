"""Tables and figures of the prediction experiments (:mod:`harness.predictors.experiments`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..predictors.protocol import aggregate
from .replay import save_figure


def markdown(df: pd.DataFrame, experiment: str) -> str:
    """Rows = datasets, columns = methods / feature sets / fractions, cells 100 R^2 ± SE."""
    by = ["dataset", "method", "features", "fraction"] + (["split"] if "split" in df.columns else [])
    agg = aggregate(df, by=by)
    if experiment in ("table1", "targets"):
        col = "method"
    elif experiment == "table2":
        col = "features"
    elif experiment == "table8":
        col = "split"
    elif experiment == "ablation":
        agg["col"] = agg["method"] + " (" + agg["features"] + ")"
        agg["row"] = agg["dataset"] + " @" + agg["fraction"].map("{:g}".format) + "%"
        pivot = agg.pivot_table(index="row", columns="col", values="cell", aggfunc="first", sort=False)
        return _pivot_markdown(pivot, "dataset @ observed")
    else:
        agg["col"] = agg["method"] + " @" + agg["fraction"].astype(str) + "%"
        col = "col"
    pivot = agg.pivot_table(index="dataset", columns=col, values="cell", aggfunc="first", sort=False)
    return _pivot_markdown(pivot, "dataset")


def _pivot_markdown(pivot: pd.DataFrame, index_name: str) -> str:
    lines = [f"| {index_name} | " + " | ".join(map(str, pivot.columns)) + " |",
             "|---|" + "|".join("---" for _ in pivot.columns) + "|"]
    for ds, row in pivot.iterrows():
        lines.append(f"| {ds} | " + " | ".join(str(x) if isinstance(x, str) else "n/a" for x in row) + " |")
    return "\n".join(lines)


def plot_fig3(df: pd.DataFrame, path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(df["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 3.6), squeeze=False)
    agg = aggregate(df)
    for ax, ds in zip(axes[0], datasets, strict=True):
        for m, g in agg[agg.dataset == ds].groupby("method", sort=False):
            g = g.sort_values("fraction")
            ok = g["mean"] > 0  # Baker: absent points did not achieve a positive R^2
            ax.errorbar(g["fraction"][ok], g["mean"][ok], yerr=(g["se_x100"] / 100)[ok], marker="o", ms=3,
                        capsize=2, label=m)
        ax.set_title(ds, fontsize=9)
        ax.set_xlabel("% of learning curve observed")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("R² (test)")
    axes[0][-1].legend(fontsize=7)
    return save_figure(fig, path)
