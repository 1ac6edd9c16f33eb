"""results/leaderboard.md: which algorithm wins across the catalogue's benchmark families, by how much, and how
sure that is (issue #30). Built from the leaderboard suite's run records (conf/bench/leaderboard.yaml)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .bench import iqm_ci, plot_cd, power_note, prepare, ranks, summary
from .replay import STYLES, on_grid, save_figure, to_markdown


def families_of(datasets: list[str]) -> dict[str, tuple[str, str]]:
    """dataset -> (family, kind) from the catalogue."""
    from ..datasets import resolve_name

    out = {}
    for d in datasets:
        try:
            task = resolve_name(d)
            row = task.family.catalogue_row(task.task) if task is not None else {}
        except Exception:  # noqa: BLE001 (a dataset no longer present: shown as unknown)
            row = {}
        out[d] = (str(row.get("family", "?")), str(row.get("kind", "?")))
    return out


def family_table(df: pd.DataFrame, fam: dict[str, tuple[str, str]], value: str, digits: int) -> pd.DataFrame:
    """IQM [stratified bootstrap 95% CI] of ``value`` per algorithm (rows) and family (columns)."""
    df = df.assign(family=[fam[d][0] for d in df.dataset])
    cols = list(dict.fromkeys(fam[d][0] for d in df.dataset))
    rows = []
    for a, g in df.groupby("algorithm", sort=False):
        row: dict[str, Any] = {"algorithm": a}
        for f in cols:
            sub = g[g.family == f]
            if not len(sub):
                row[f] = "-"
                continue
            m, lo, hi = iqm_ci([x.to_numpy(float) for _, x in sub.groupby("dataset")[value]])
            row[f] = f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
        rows.append(row)
    return pd.DataFrame(rows)


def family_axes(n: int) -> tuple[Any, Any]:
    """A figure with one panel per family (three a row, a shared y axis), the unused panels hidden."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncol = min(3, n)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.3 * ncol, 2.6 * nrow + 0.9), squeeze=False, sharey=True)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def draw_band(ax: Any, k: int, grid: np.ndarray, Y: np.ndarray, rng: np.random.Generator, label: str) -> None:
    """The mean of the rows of ``Y`` (runs on ``grid``) with a bootstrap 95% band, the k-th line style."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = np.nanmean(Y, axis=0)
        boot = np.nanmean(Y[rng.integers(0, len(Y), size=(300, len(Y)))], axis=1)
        lo, hi = np.nanquantile(boot, 0.025, axis=0), np.nanquantile(boot, 0.975, axis=0)
    ls, marker = STYLES[k % len(STYLES)]
    line, = ax.plot(grid, m, ls=ls, marker=marker, markevery=(k % 10, 10), ms=2.5, lw=1, label=label)
    ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.12, lw=0)


def plot_family_anytime(df: pd.DataFrame, fam: dict[str, tuple[str, str]], path: Path, baseline: str) -> Path:
    """Per family: the incumbent's normalised regret against epochs as a share of the baseline's mean budget on
    the dataset, mean over runs with a bootstrap 95% band, a line style per algorithm."""
    fams = list(dict.fromkeys(fam[d][0] for d in df.dataset))
    fig, axes = family_axes(len(fams))
    grid = np.linspace(0, 1.5, 61)
    base = df[df.algorithm == baseline].groupby("dataset")["epochs"].mean()
    rng = np.random.default_rng(0)
    for ax, f in zip(axes.flat, fams, strict=False):
        sub = df[[fam[d][0] == f for d in df.dataset]]
        for k, (a, g) in enumerate(sub.groupby("algorithm", sort=False)):
            ys = []
            for ds, at, opt, reg, nreg in zip(g.dataset, g.anytime, g.optimum_final, g.regret, g.normalized_regret,
                                              strict=True):
                pts = json.loads(at)
                if not pts or not base.get(ds):
                    continue
                scale = reg / nreg if nreg and np.isfinite(nreg) and nreg > 0 else None
                xs = np.array([p[0] for p in pts]) / base[ds]
                v = np.array([abs(opt - p[2]) for p in pts])
                v = v / scale if scale else np.where(v > 0, np.nan, 0.0)
                ys.append(on_grid(xs, v, grid))
            if not ys:
                continue
            draw_band(ax, k, grid, np.array(ys), rng, a)
        label_panel(ax, f"{f} ({sub.dataset.nunique()} datasets)", f"epochs / {baseline}'s mean", 1e-3)
    return finish_family_figure(fig, axes, "normalised regret of the incumbent", path)


def label_panel(ax: Any, title: str, xlabel: str, linthresh: float) -> None:
    """A family panel's title, x label, tick size and symlog y scale."""
    ax.set_title(title, fontsize=8)
    ax.set_xlabel(xlabel, fontsize=7)
    ax.tick_params(labelsize=6)
    ax.set_yscale("symlog", linthresh=linthresh, linscale=0.3)


def finish_family_figure(fig: Any, axes: Any, ylabel: str, path: Path) -> Path:
    """The y label of each row, one legend under the panels, and the file."""
    for row in axes:
        row[0].set_ylabel(ylabel, fontsize=7)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=6, frameon=False)
    fig.tight_layout(rect=(0, 0.9 / fig.get_figheight(), 1, 1))
    return save_figure(fig, path, tight=False)


def write_leaderboard(suite: Any, table: pd.DataFrame, path: Path, *, wall_seconds: float, command: str,
                      code: dict[str, str]) -> Path:
    df = prepare(table, suite.baseline)
    fam = families_of(list(dict.fromkeys(df.dataset)))
    figs = path.parent / path.stem
    figs.mkdir(parents=True, exist_ok=True)
    by_fam = pd.Series({d: fam[d][0] for d in dict.fromkeys(df.dataset)}).value_counts()
    kinds = pd.Series({d: fam[d][1] for d in dict.fromkeys(df.dataset)}).value_counts()
    lines = ["# Leaderboard across the catalogue", "",
             f"{df.dataset.nunique()} datasets ({', '.join(f'{f}: {n}' for f, n in by_fam.items())}; by kind "
             f"{', '.join(f'{k}: {n}' for k, n in kinds.items())}) x {df.algorithm.nunique()} algorithms x "
             f"{df.seed.nunique()} seeds = {len(df)} runs. One Hyperband iteration's budget per run (R = each "
             f"dataset's T, eta = {suite.settings.get('eta', 3)}); the adapters start trials until those epochs are "
             f"spent. Baseline `{suite.baseline}`.", "",
             f"Made by `{command}` at commit {code.get('git_sha', '?')[:10]} (code hash {code.get('code_hash', '?')}); "
             f"the runs took {wall_seconds / 60:.1f} min of wall time on this machine (2 cores); records in "
             f"`{suite.out_dir.relative_to(Path.cwd()) if suite.out_dir.is_relative_to(Path.cwd()) else suite.out_dir}`.",
             "", "## Overall", "",
             "Interquartile mean over all runs of all datasets, with a stratified bootstrap 95% CI (runs resampled within "
             "each dataset); normalised regret: the returned configuration's regret over the pool's range of final "
             "values (0: the pool's best); normalised cost: epochs over the baseline's mean on the dataset; tests: "
             "paired Wilcoxon over (dataset, seed), Holm-corrected.", "",
             to_markdown(summary(df, suite.baseline)), ""]
    lines += power_note(df, suite.baseline)
    res = ranks(df, "norm_regret")
    if res is not None:
        mr = res.rankdf["meanrank"].sort_values()
        lines += ["## Ranks", "",
                  "Average rank over datasets of the mean normalised regret (1 = best): "
                  + ", ".join(f"{a} {r:.2f}" for a, r in mr.items()) + f". Friedman test p = {res.pvalue:.3g}"
                  + (f"; critical difference {res.cd:.2f} (Nemenyi)." if res.cd is not None else "."), ""]
        cd = plot_cd(res, figs / "cd.png")
        if cd:
            lines += [f"![critical-difference diagram]({figs.name}/{cd.name})", "",
                      "Algorithms joined by a bar do not differ significantly.", ""]
    lines += ["## Per family", "", "IQM normalised regret [stratified bootstrap 95% CI]:", "",
              to_markdown(family_table(df, fam, "norm_regret", 4)), "",
              "IQM normalised cost [stratified bootstrap 95% CI]:", "",
              to_markdown(family_table(df, fam, "norm_cost", 3)), ""]
    any_path = plot_family_anytime(df, fam, figs / "anytime.png", suite.baseline)
    lines += ["## Anytime", "", f"![anytime regret per family]({figs.name}/{any_path.name})", "",
              "The incumbent's normalised regret against epochs spent (as a share of the baseline's mean budget on "
              "the dataset), mean over runs with a bootstrap 95% band, per family.", ""]
    lines += ["## What not to conclude", "",
              "- **Surrogate tasks are model predictions.** The lcbench_* datasets are YAHPO Gym's surrogate of LCBench: "
              "smooth, and only as right as the surrogate; a win there is a win on the model's landscape, not on "
              "LCBench's recorded runs. With " + str(kinds.get('surrogate', 0)) + " of the datasets surrogate, they "
              "weigh heavily in the overall IQM and ranks: read the per-family table.",
              "- **Populations made here are CPU-sized** (a few thousand images, 15-30 epochs): their curves are "
              "shorter and noisier than the papers' GPU populations.",
              "- **One Hyperband iteration per run** is a small budget: model-based samplers (BOHB, SMAC's "
              "facade) and predictor-driven algorithms (Swift, f-Hyperband with d = 100) get little data to learn "
              "from; f-Hyperband rarely collects its d full curves and mostly acts as Hyperband.",
              "- **Adapters on recorded tables** sample pool rows (the nearest recorded row when they search a space);"
              " only the surrogate tasks answer the exact configuration proposed, and only with `space=hp` / "
              "`sampler=tpe`, which this leaderboard does not set.",
              "- Normalised regret compares within a dataset; a dataset where every algorithm finds the optimum adds "
              "ties, not evidence.", ""]
    path.write_text("\n".join(lines))
    return path
