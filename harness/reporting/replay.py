"""Tables of replay results: per-algorithm summaries against a baseline on the same seeds, with legends."""

from __future__ import annotations

import functools
import json
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..metrics import NEAR_OPTIMUM, RunRecord, bootstrap_ci, paired_test, summarize

#: settings never shown in a label: R and eta apply to the whole run (its header says them), the rest is derived or
#: bookkeeping
_UNLABELLED = frozenset({"R", "eta", "trace", "epochs_budget"})


@functools.cache
def _defaults(algorithm: str) -> dict[str, Any]:
    """The settings' defaults of an algorithm (empty when it cannot be resolved here)."""
    try:
        from ..algorithms import resolve

        cls = resolve(algorithm)
    except Exception:  # noqa: BLE001 (a record of a plug-in not importable here: label every setting)
        return {}
    return {name: json.loads(json.dumps(default, default=str)) for name, _, default, _ in cls.Config.describe()}


def label(r: RunRecord) -> str:
    """The algorithm and only the settings that differ from its defaults (``swift[d=7]``; ``swift`` when all are
    defaults); an instance name ``NAME@LABEL`` is its own label."""
    if "@" in r.algorithm:
        return r.algorithm
    d = _defaults(r.algorithm)
    extra = ",".join(f"{k}={v}" for k, v in r.params.items()
                     if k not in _UNLABELLED and (k not in d or json.loads(json.dumps(v, default=str)) != d[k]))
    return f"{r.algorithm}[{extra}]" if extra else r.algorithm


def group(records: Iterable[RunRecord]) -> dict[tuple[str, str], list[RunRecord]]:
    out: dict[tuple[str, str], list[RunRecord]] = defaultdict(list)
    for r in records:
        out[(label(r), r.accounting)].append(r)
    return out


#: the columns a reader needs; ``wide`` shows every column
NARROW = ("algorithm", "accounting", "seeds", "epochs", "speedup", "returned_final", "final_vs_base", "regret",
          "returned_opt", "near_opt", "inrun_r2", "inrun_rho")
COLUMN_HELP = {
    "dataset": "dataset (and simulated workers)",
    "algorithm": "algorithm and the settings that differ from its defaults (harness algorithms NAME lists them)",
    "accounting": "resume: a promoted trial continues from its last epoch; scratch: it retrains from epoch 1",
    "seeds": "runs (one per seed)",
    "epochs": "epochs charged per run, mean ± SE",
    "speedup": "baseline epochs / epochs on the same seed, mean [bootstrap 95% CI]",
    "saved": "share of the baseline's epochs not spent, mean over seeds",
    "returned_final": "true final value (at the dataset's last epoch) of the returned config, mean ± SE",
    "final_vs_base": "returned final value against the baseline's on the same seeds: same, better, or WORSE "
                     "(Wilcoxon signed-rank p < 0.05); a speed-up with a WORSE final is not a saving",
    "final_vs_base_p": "Wilcoxon signed-rank p of the returned final values against the baseline's",
    "regret": "returned final value's distance to the pool optimum (in the objective's units, >= 0), mean ± SE",
    "returned_opt": "share of runs that returned the pool's best config exactly",
    "near_opt": f"share of runs whose regret is within {NEAR_OPTIMUM:.0%} of the pool's range of final values",
    "in_final_set": "share of runs in which the pool's best config was trained to R",
    "opt_sampled": "share of runs that sampled the pool's best config at all",
    "makespan": "simulated wall time of a run, mean ± SE",
    "time_to_best": "simulated time at which the returned config first reached R, mean ± SE",
    "inrun_r2": "R² of the predictions the algorithm acted on against the recorded truth, pooled over their target "
                "epochs (rungs) and checks, mean ± SE over seeds; inrun_r2_rung gives it per rung (--wide)",
    "inrun_r2_rung": "R² per target epoch (rung r: predictions aimed at epoch r), mean over seeds (n predictions)",
    "inrun_rho": "Spearman rank correlation of those predictions with the truth, mean ± SE over seeds",
    "inrun_n": "predictions acted on per run, mean",
    "inrun_mae": "mean absolute error of those predictions (in the objective's units), mean over seeds",
    "inrun_coverage": "share of truths inside the predictions' stated 95% intervals (predictors with a std)",
    "wrong_stops": "stops/pauses per run whose true value beat the threshold they were compared with, mean",
}


def _worse(base: list[RunRecord], rs: list[RunRecord]) -> tuple[str, float]:
    """Is the returned final value of ``rs`` significantly worse than the baseline's (paired by seed)?"""
    by_seed = {r.seed: r for r in base}
    pairs = [(by_seed[r.seed], r) for r in rs if r.seed in by_seed]
    if len(pairs) < 2:
        return "-", float("nan")
    t = paired_test([b.regret for b, _ in pairs], [r.regret for _, r in pairs])
    if t["wilcoxon_p"] >= 0.05 or t["mean_diff"] == 0:
        return "same", t["wilcoxon_p"]
    return ("better" if t["mean_diff"] > 0 else "WORSE"), t["wilcoxon_p"]


def inrun(rs: Sequence[RunRecord], key: str) -> list[float]:
    """Per-seed in-run prediction scores ``key`` (r2, spearman, ...) of the records' predictors."""
    out = []
    for r in rs:
        for sc in r.predictor_scores.values():
            out.append(sc.get(key, float("nan")))
    return out


def rung_r2(rs: Sequence[RunRecord]) -> str:
    """``r13: -0.03 (n=40); r26: 0.52 (n=12)``: in-run R^2 per target epoch, mean over seeds and predictors."""
    vals: dict[int, list[float]] = defaultdict(list)
    counts: dict[int, float] = defaultdict(float)
    for r in rs:
        for sc in r.predictor_scores.values():
            for k, v in (sc.get("r2_by_rung") or {}).items():
                vals[int(k)].append(v)
            for k, n in (sc.get("n_by_rung") or {}).items():
                counts[int(k)] += n
    if not vals:
        return "-"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return "; ".join(f"r{k}: {np.nanmean(v):.2f} (n={counts[k]:.0f})" for k, v in sorted(vals.items()))


def summary_table(records: Sequence[RunRecord], baseline: str = "hyperband", wide: bool = False,
                  show_time: bool = False) -> pd.DataFrame:
    """One row per (algorithm, accounting): epochs, speed-up vs ``baseline`` on matched seeds, quality, and the
    in-run accuracy of the predictions the algorithm acted on. See :data:`COLUMN_HELP`."""
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
            verdict, p = _worse(base, rs)
            row["final_vs_base"] = verdict
            row["final_vs_base_p"] = f"{p:.3f}" if np.isfinite(p) else "-"
        else:
            row["speedup"] = "1.000" if name_is_base else "-"
            row["saved"] = "0.0%" if name_is_base else "-"
            row["final_vs_base"] = "(baseline)" if name_is_base else "-"
            row["final_vs_base_p"] = "-"
        row["returned_final"] = summarize([r.returned_final for r in rs]).fmt(4)
        row["regret"] = summarize([r.regret for r in rs]).fmt(4)
        row["returned_opt"] = f"{np.mean([r.returned_optimum for r in rs]):.2f}"
        row["near_opt"] = f"{np.mean([r.normalized_regret <= NEAR_OPTIMUM for r in rs]):.2f}"
        row["in_final_set"] = f"{np.mean([r.in_final_set for r in rs]):.2f}"
        row["opt_sampled"] = f"{np.mean([r.optimum_sampled for r in rs]):.2f}"
        row["makespan"] = summarize([r.makespan for r in rs]).fmt(1)
        row["time_to_best"] = summarize([r.time_to_best for r in rs]).fmt(1)
        has_pred = any(r.predictor_scores for r in rs)
        row["inrun_r2"] = summarize(inrun(rs, "r2")).fmt(3) if has_pred else "-"
        row["inrun_rho"] = summarize(inrun(rs, "spearman")).fmt(3) if has_pred else "-"
        row["inrun_r2_rung"] = rung_r2(rs) if has_pred else "-"
        row["inrun_n"] = f"{np.nanmean(inrun(rs, 'n')):.1f}" if has_pred else "-"
        row["inrun_mae"] = f"{np.nanmean(inrun(rs, 'mae')):.4g}" if has_pred else "-"
        cov = [c for c in inrun(rs, "coverage") if np.isfinite(c)]
        row["inrun_coverage"] = f"{np.mean(cov):.2f}" if cov else "-"
        row["wrong_stops"] = f"{np.nanmean(inrun(rs, 'wrong_stops')):.1f}" if has_pred else "-"
        rows.append(row)
    df = pd.DataFrame(rows)
    if not wide and len(df):
        cols = list(NARROW)
        if show_time:  # several workers, or recorded seconds: the simulated time is what the run is about
            cols[cols.index("regret") + 1:cols.index("regret") + 1] = ["makespan", "time_to_best"]
        df = df[[c for c in cols if c in df.columns]]
        if (df["inrun_r2"] == "-").all():
            df = df.drop(columns=["inrun_r2", "inrun_rho"])
    return df


def legend(df: pd.DataFrame, *, cost: str = "epochs", baseline: str = "hyperband") -> str:
    """What each column of ``df`` means (units, what ± is, what the brackets are)."""
    lines = ["", "Columns" + (f" (baseline: {baseline})" if baseline else "") + ":"]
    for c in df.columns:
        text = COLUMN_HELP.get(c, "")
        if c in ("makespan", "time_to_best"):
            text += " (in epochs: one epoch takes one unit)" if cost == "epochs" else " (in recorded seconds)"
        lines.append(f"  {c:15s} {text}")
    lines.append("  ± is the standard error of the mean over seeds; [a, b] is a bootstrap 95% confidence interval."
                 " --wide shows every column.")
    return "\n".join(lines)


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
    return [r for _, r in read_keyed_jsonl(path)]


def read_keyed_jsonl(path: str | Path) -> list[tuple[str | None, RunRecord]]:
    """(content key or None, record) of every complete line (a line cut by a crash is skipped)."""
    out = []
    for line in Path(path).read_text().splitlines():
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line of a file whose writer was killed mid-line
        key = d.pop("key", None)
        d["anytime"] = [tuple(x) for x in d.get("anytime", [])]
        out.append((key, RunRecord(**d)))
    return out


class RecordWriter:
    """Appends run records to a JSON-lines file as they finish, each line flushed to disk, under a lock (one
    writer per file); opened before the run, so an unwritable path fails at once."""

    def __init__(self, path: str | Path):
        from ..write import OutputLock

        self.path = Path(path)
        self.lock = OutputLock(self.path, what=f"--out {self.path}").acquire()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = self.path.open("a")
            if self.path.stat().st_size and not self.path.read_bytes().endswith(b"\n"):
                self.fh.write("\n")  # a line cut by a crash is left alone, the next starts on its own line
        except BaseException:
            self.lock.release()
            raise

    def write(self, key: str, record: RunRecord) -> None:
        import os

        self.fh.write(json.dumps({"key": key, **record.to_json()}, default=float) + "\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        self.fh.close()
        self.lock.release()


#: line styles cycled per algorithm, so that lines that overlap stay distinguishable (with the markers)
STYLES = (("-", "o"), ("--", "s"), ("-.", "^"), (":", "D"), ((0, (5, 1)), "v"), ((0, (3, 1, 1, 1)), "P"))


def on_grid(xs: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A step function (``values[k]`` from ``xs[k]`` on) read at ``grid``; NaN before its first step."""
    idx = np.searchsorted(xs, grid, side="right") - 1
    return np.where(idx >= 0, values[np.maximum(idx, 0)], np.nan)


def anytime_band(records: Sequence[RunRecord], grid: np.ndarray, *, n_boot: int = 1000, seed: int = 0,
                 level: float = 0.95, distance: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds of the incumbent's true final value (``distance``: its distance to the pool optimum) on
    ``grid`` (cumulative epochs), with a percentile bootstrap CI over seeds at each grid point (NaN where no seed
    has an incumbent yet)."""
    ys = []
    for r in records:
        if not r.anytime:
            continue
        e = np.array([a[0] for a in r.anytime])
        v = np.abs(np.array([a[2] for a in r.anytime]) - r.optimum_final) if distance else \
            np.array([a[2] for a in r.anytime])
        ys.append(on_grid(e, v, grid))
    if not ys:
        nan = np.full(len(grid), np.nan)
        return nan, nan, nan
    Y = np.array(ys)
    with warnings.catch_warnings():  # before any seed reached R the mean is NaN (not drawn)
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(Y, axis=0)
        if len(Y) < 2:
            return mean, mean.copy(), mean.copy()
        rng = np.random.default_rng(seed)
        boot = np.nanmean(Y[rng.integers(0, len(Y), size=(n_boot, len(Y)))], axis=1)
        a = (1 - level) / 2
        lo, hi = np.nanquantile(boot, a, axis=0), np.nanquantile(boot, 1 - a, axis=0)
    return mean, lo, hi


def plot_anytime(records: Sequence[RunRecord], path: str | Path, title: str = "", ylabel: str | None = None) -> Path:
    """The incumbent's distance to the pool optimum (its regret, log scale) against cumulative epochs: mean over
    seeds per algorithm with a bootstrap 95% band over seeds, a line style and marker per algorithm, so lines that
    end near the optimum stay apart and visible; one column wide (3.5 in), labelled axes with units."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.5, 2.8))
    groups = group(records)
    emax = max((r.epochs for r in records), default=0)
    grid = np.linspace(0, emax, 200)
    accs = {a for _, a in groups}
    floor = np.inf
    for k, ((name, acc), rs) in enumerate(groups.items()):
        mean, lo, hi = anytime_band(rs, grid, distance=True)
        if not np.isfinite(mean).any():
            continue
        pos = mean[np.isfinite(mean) & (mean > 0)]
        floor = min(floor, pos.min() if pos.size else np.inf)
        ls, marker = STYLES[k % len(STYLES)]
        tag = name if len(accs) == 1 else f"{name} ({acc})"
        line, = ax.plot(grid, mean, ls=ls, marker=marker, markevery=(k * 7 % 40, 40), ms=3.5, lw=1.2,
                        label=f"{tag} (n={len(rs)})")
        ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.18, lw=0)
    lin = floor if np.isfinite(floor) else 1e-6
    ax.set_yscale("symlog", linthresh=lin, linscale=0.3)  # 0 (the pool's optimum found) stays on the axis
    ax.set_ylim(bottom=0)
    ax.set_xlabel("epochs charged (cumulative)", fontsize=8)
    ax.set_ylabel(ylabel or "incumbent's distance to the pool optimum", fontsize=8)
    ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6, frameon=False, title="mean over seeds, band: bootstrap 95% CI", title_fontsize=6)
    return save_figure(fig, path)


def save_figure(fig: Any, path: str | Path, tight: bool = True) -> Path:
    """tight_layout (unless the caller laid the figure out), create the folder, write a PNG and close the figure."""
    import matplotlib.pyplot as plt

    if tight:
        fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=200 if fig.get_figwidth() < 4 else 120)
    plt.close(fig)
    return path
