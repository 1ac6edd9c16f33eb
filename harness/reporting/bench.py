"""Benchmark-suite statistics and report (issue #14), computed by well-kept libraries:

* normalised regret per run (regret / the pool's range of final values) and normalised cost (epochs / the
  baseline's mean epochs on the same dataset);
* interquartile mean across all runs of all datasets, with a stratified bootstrap 95% CI (runs resampled
  within each dataset; ``scipy.stats.bootstrap`` with one sample per dataset);
* average ranks over datasets, Friedman test and critical difference (``autorank``), with its diagram;
* paired Wilcoxon signed-rank tests of every algorithm against the baseline over (dataset, seed), Holm-corrected
  (``scipy.stats.wilcoxon``, ``statsmodels.stats.multitest.multipletests``);
* performance profiles (share of runs with normalised regret at most tau) and anytime regret curves with 95%
  confidence bands per dataset.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .replay import on_grid, save_figure, to_markdown

CONFIDENCE = 0.95
MIN_DATASETS_FOR_RANKS = 5  # autorank's minimum number of rows


def iqm(x: Any) -> float:
    """Interquartile mean: the mean of the middle 50% (scipy.stats.trim_mean, 25% cut from each end)."""
    from scipy.stats import trim_mean

    x = np.asarray(x, float)
    return float(trim_mean(x, 0.25)) if len(x) else math.nan


def iqm_ci(groups: list[np.ndarray], *, n_resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """IQM of all values and its stratified bootstrap CI: each group (one dataset's runs) is resampled on its
    own, then the IQM of the pooled resample is taken (scipy.stats.bootstrap, percentile method)."""
    from scipy.stats import bootstrap

    groups = [np.asarray(g, float) for g in groups if len(g)]
    point = iqm(np.concatenate(groups)) if groups else math.nan
    if not groups or sum(len(g) for g in groups) < 4 or all(len(g) < 2 for g in groups):
        return point, math.nan, math.nan
    usable = [g for g in groups if len(g) >= 2]
    fixed = np.concatenate([g for g in groups if len(g) < 2]) if len(usable) < len(groups) else np.zeros(0)

    def stat(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        pooled = np.concatenate([*samples, np.broadcast_to(fixed, samples[0].shape[:-1] + fixed.shape)], axis=-1)
        from scipy.stats import trim_mean

        return trim_mean(pooled, 0.25, axis=-1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bootstrap(tuple(usable), stat, n_resamples=n_resamples, confidence_level=CONFIDENCE,
                        method="percentile", random_state=np.random.default_rng(seed), vectorized=True)
    return point, float(res.confidence_interval.low), float(res.confidence_interval.high)


def holm_wilcoxon(df: pd.DataFrame, value: str, baseline: str) -> pd.DataFrame:
    """Paired Wilcoxon signed-rank test of each algorithm against ``baseline`` over (dataset, seed), p-values
    Holm-corrected over the algorithms."""
    from scipy.stats import wilcoxon
    from statsmodels.stats.multitest import multipletests

    piv = df.pivot_table(index=["dataset", "seed"], columns="algorithm", values=value, aggfunc="first")
    if baseline not in piv.columns:
        return pd.DataFrame()
    rows = []
    for a in piv.columns:
        if a == baseline:
            continue
        pair = piv[[a, baseline]].dropna()
        d = pair[a] - pair[baseline]
        p = 1.0 if len(d) < 2 or np.all(d == 0) else float(wilcoxon(pair[a], pair[baseline], zero_method="zsplit").pvalue)
        rows.append({"algorithm": a, "n": len(d), "mean_diff": float(d.mean()), "p": p})
    out = pd.DataFrame(rows)
    if len(out):
        out["p_holm"] = multipletests(out["p"], method="holm")[1]
    return out


def ranks(df: pd.DataFrame, value: str) -> Any:
    """autorank over datasets (rows) x algorithms (columns) of the mean ``value`` (lower is better)."""
    import contextlib
    import io

    from autorank import autorank

    wide = df.groupby(["dataset", "algorithm"])[value].mean().unstack()
    wide = wide.dropna(axis=1)
    if wide.shape[0] < MIN_DATASETS_FOR_RANKS or wide.shape[1] < 2:
        return None
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):  # autorank prints its tables
        warnings.simplefilter("ignore")
        return autorank(wide, alpha=0.05, verbose=False, order="ascending", force_mode="nonparametric")


def prepare(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """One row per run with normalised regret and cost; ``algorithm`` is the suite's instance name."""
    df = table.copy()
    df["algorithm"] = df["instance"]
    base = df[df.algorithm == baseline].groupby(["dataset", "accounting", "workers"])["epochs"].mean()
    df["norm_cost"] = [e / base.get((d, a, w), math.nan) for d, a, w, e in
                       zip(df.dataset, df.accounting, df.workers, df.epochs, strict=True)]
    df["norm_regret"] = df["normalized_regret"].astype(float)
    return df


def summary(df: pd.DataFrame, baseline: str) -> pd.DataFrame:
    rows = []
    for a, g in df.groupby("algorithm", sort=False):
        by_ds = [x.to_numpy(float) for _, x in g.groupby("dataset")["norm_regret"]]
        by_ds_c = [x.to_numpy(float) for _, x in g.groupby("dataset")["norm_cost"]]
        r, rlo, rhi = iqm_ci(by_ds)
        c, clo, chi = iqm_ci(by_ds_c)
        rows.append({"algorithm": a, "runs": len(g), "datasets": g.dataset.nunique(),
                     "IQM norm. regret": f"{r:.4f} [{rlo:.4f}, {rhi:.4f}]",
                     "IQM norm. cost": f"{c:.3f} [{clo:.3f}, {chi:.3f}]",
                     "optimum rate": f"{g.returned_optimum.astype(float).mean():.2f}"})
    out = pd.DataFrame(rows)
    tests = holm_wilcoxon(df, "norm_regret", baseline)
    costs = holm_wilcoxon(df, "norm_cost", baseline)
    out["regret vs base (Holm p)"] = [_verdict(tests, a, baseline) for a in out.algorithm]
    out["cost vs base (Holm p)"] = [_verdict(costs, a, baseline) for a in out.algorithm]
    return out


def _verdict(tests: pd.DataFrame, a: str, baseline: str) -> str:
    if a == baseline:
        return "(baseline)"
    if tests.empty or a not in set(tests.algorithm):
        return "-"
    r = tests[tests.algorithm == a].iloc[0]
    word = "same" if r.p_holm >= 0.05 else ("higher" if r.mean_diff > 0 else "lower")
    return f"{word} ({r.p_holm:.3g})"


def _anytime(df: pd.DataFrame, ds: str, axis: str, ax: Any) -> None:
    sub = df[df.dataset == ds]
    col = 0 if axis == "epochs" else 1
    xmax = max(max((p[col] for p in json.loads(a)), default=0) for a in sub.anytime)
    grid = np.linspace(0, xmax, 120)
    opt = float(sub.optimum_final.iloc[0])
    ok = (sub.normalized_regret > 0) & np.isfinite(sub.normalized_regret)
    scale = float(np.median(sub.regret[ok] / sub.normalized_regret[ok])) if ok.any() else 1.0  # the pool's range
    for a, g in sub.groupby("algorithm", sort=False):
        ys = []
        for at in g.anytime:
            pts = json.loads(at)
            if not pts:
                continue
            xs = np.array([p[col] for p in pts])
            v = np.array([abs(opt - p[2]) for p in pts]) / scale
            ys.append(on_grid(xs, v, grid))
        if not ys:
            continue
        Y = np.array(ys)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = np.nanmean(Y, axis=0)
            n = np.sum(np.isfinite(Y), axis=0)
            se = np.nanstd(Y, axis=0, ddof=1) / np.sqrt(np.maximum(n, 1))
        from scipy.stats import t as student

        h = se * student.ppf(0.5 + CONFIDENCE / 2, np.maximum(n - 1, 1))
        line, = ax.plot(grid, m, label=a, lw=1.2)
        ax.fill_between(grid, np.maximum(m - h, 0), m + h, color=line.get_color(), alpha=0.15, lw=0)
    ax.set_title(ds, fontsize=8)
    ax.set_xlabel("cumulative epochs" if axis == "epochs" else "simulated time")
    ax.set_ylabel("normalised regret of the incumbent")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_ylim(bottom=0)


def plot_anytime(df: pd.DataFrame, path: Path, axis: str = "epochs") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dss = list(dict.fromkeys(df.dataset))
    cols = min(3, len(dss))
    rows = -(-len(dss) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.4 * rows), squeeze=False)
    for ax, ds in zip(axes.flat, dss, strict=False):
        _anytime(df, ds, axis, ax)
    for ax in list(axes.flat)[len(dss):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    return save_figure(fig, path)


def plot_profile(df: pd.DataFrame, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    taus = np.concatenate([[0], np.logspace(-4, 0, 80)])
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for a, g in df.groupby("algorithm", sort=False):
        v = g.norm_regret.to_numpy(float)
        ax.plot(taus, [(v <= t).mean() for t in taus], label=a, lw=1.2)
    ax.set_xscale("symlog", linthresh=1e-4)
    ax.set_xlabel("tau (normalised regret)")
    ax.set_ylabel("share of runs with regret <= tau")
    ax.legend(fontsize=6)
    return save_figure(fig, path)


def plot_cd(result: Any, path: Path) -> Path | None:
    if result is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import contextlib
    import io

    import matplotlib.pyplot as plt
    from autorank import plot_stats

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        ax = plot_stats(result, allow_insignificant=True)
    fig = ax.get_figure() if ax is not None else plt.gcf()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")  # autorank's axes do not fit tight_layout
    plt.close(fig)
    return path


def dataset_kinds(names: list[str]) -> str:
    """``name (kind)`` for each dataset, from the catalogue (a name it cannot resolve is shown as is)."""
    from ..datasets import resolve_name

    parts = []
    for n in names:
        try:
            task = resolve_name(n)
            kind = task.family.catalogue_row(task.task)["kind"] if task is not None else "?"
        except Exception:  # noqa: BLE001 (a folder path or a dataset no longer present)
            kind = "?"
        parts.append(f"`{n}` ({kind})")
    return ", ".join(parts) + "."


def power_note(df: pd.DataFrame, baseline: str) -> list[str]:
    """Say so when the paired tests cannot reach p < 0.05 with the runs given (then 'same' means 'cannot tell')."""
    from ..metrics import WILCOXON_MIN_PAIRS, min_wilcoxon_p

    pairs = df.groupby(["dataset", "seed"]).ngroups
    n_tests = max(df.algorithm.nunique() - 1, 1)
    floor = min_wilcoxon_p(pairs, n_tests)
    if floor < 0.05:
        return []
    return [f"**Power:** each test against `{baseline}` pairs {pairs} runs (datasets x seeds); the smallest p-value a "
            f"Wilcoxon signed-rank test can give then is {min_wilcoxon_p(pairs):.4g}, {floor:.4g} after Holm over "
            f"{n_tests} comparison(s), so no test can reach p < 0.05: 'same' here means the runs cannot tell, not that "
            f"the algorithms are equal. Use at least {WILCOXON_MIN_PAIRS} seeds (more with several comparisons).", ""]


def left_out_note(df: pd.DataFrame) -> list[str]:
    """One line naming the datasets whose pools lost configurations at load time (the records' extra
    ``pool_dropped``: the nan policy, with its name; ``pool_diverged_dropped``: a divergence rule)."""
    notes = {}
    for ds, extra in zip(df.dataset, df.get("extra", pd.Series([None] * len(df))), strict=True):
        e = json.loads(extra) if isinstance(extra, str) else (extra or {})
        parts = []
        if e.get("pool_dropped"):
            parts.append(f"{e['pool_dropped']['configs']} dropped as non-finite (nan_policy="
                         f"{e['pool_dropped']['nan_policy']})")
        if e.get("pool_diverged_dropped"):
            parts.append(f"{e['pool_diverged_dropped']['configs']} dropped as diverged "
                         f"({e['pool_diverged_dropped']['rule']} rule)")
        if parts:
            notes.setdefault(ds, "; ".join(parts))
    if not notes:
        return ["Configurations left out of the pools at load time: none."]
    return ["Configurations left out of the pools at load time: "
            + "; ".join(f"{ds}: {n}" for ds, n in notes.items()) + "."]


def write_report(suite: Any, table: pd.DataFrame, out: Path) -> Path:
    """``<out>/report.md`` with its figures; every number has a legend."""
    df = prepare(table, suite.baseline)
    lines = [f"# Benchmark suite `{suite.name}`", "",
             f"{df.dataset.nunique()} datasets x {df.algorithm.nunique()} algorithms x {df.seed.nunique()} seeds "
             f"= {len(df)} runs; baseline `{suite.baseline}`; records: `records-*.parquet` in this folder.", "",
             "Datasets by kind (recorded: real training runs; surrogate: a model's predictions, not runs; made here: "
             "CPU-sized populations of this repository's generate): " + dataset_kinds(list(dict.fromkeys(df.dataset))),
             "", *left_out_note(df), ""]
    for (acc, w), g in df.groupby(["accounting", "workers"], sort=False):
        tag = f"{acc}_{w}w"
        lines += [f"## accounting {acc}, {w} simulated worker(s)", "", to_markdown(summary(g, suite.baseline)), ""]
        lines += power_note(g, suite.baseline)
        res = ranks(g, "norm_regret")
        if res is not None:
            mr = res.rankdf["meanrank"].sort_values()
            lines += ["Average rank over datasets (normalised regret, lower is better): "
                      + ", ".join(f"{a} {r:.2f}" for a, r in mr.items()) + f". Friedman test p = {res.pvalue:.3g}"
                      + (f"; critical difference {res.cd:.2f}." if res.cd is not None else "."), ""]
            cd = plot_cd(res, out / f"cd_{tag}.png")
            if cd:
                lines += [f"![critical-difference diagram]({cd.name})", ""]
        else:
            lines += [f"(Average ranks, the Friedman test and the critical-difference diagram need at least "
                      f"{MIN_DATASETS_FOR_RANKS} datasets; this suite has {g.dataset.nunique()}.)", ""]
        prof = plot_profile(g, out / f"profile_{tag}.png")
        anyt = plot_anytime(g, out / f"anytime_{tag}.png")
        lines += [f"![performance profile]({prof.name})", "", f"![anytime regret]({anyt.name})", ""]
        if w > 1:
            wall = plot_anytime(g, out / f"anytime_time_{tag}.png", axis="time")
            lines += [f"![anytime regret vs simulated time]({wall.name})", ""]
    lines += ["## Legend", "",
              "- **normalised regret**: the returned config's regret at the dataset's last epoch divided by the "
              "pool's range of final values (0: the pool's best).",
              "- **normalised cost**: epochs charged / the baseline's mean epochs on the same dataset.",
              "- **IQM [a, b]**: interquartile mean over all runs of all datasets (the middle 50% of runs), with a "
              f"{CONFIDENCE:.0%} stratified bootstrap confidence interval (runs resampled within each dataset).",
              "- **vs base (Holm p)**: paired Wilcoxon signed-rank test against the baseline over (dataset, seed), "
              "p-values Holm-corrected over the algorithms; same / higher / lower at 0.05.",
              "- **optimum rate**: share of runs that returned the pool's best configuration.",
              "- **average rank / Friedman / critical difference**: autorank over the per-dataset mean normalised "
              "regret; in the diagram, algorithms joined by a bar do not differ significantly.",
              "- **performance profile**: share of runs whose normalised regret is at most tau.",
              "- **anytime regret**: the incumbent's normalised regret against cumulative epochs (and simulated time "
              f"with several workers), mean over seeds with a {CONFIDENCE:.0%} t-interval band.", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
