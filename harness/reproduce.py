"""``harness reproduce``: rebuild results/ (tables, figures, manifest, README) from stored curves.

Each experiment is a hydra config in ``conf/reproduce/<name>.yaml``. Experiments are split into small
units (one dataset of a prediction table, one ordering of the early-stopping simulation, one replay
cell) that run in parallel with joblib; results are assembled per experiment in the parent process.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .datasets import REPO_ROOT, load_dataset
from .metrics import RunRecord, summarize
from .report import plot_anytime, save_figure, summary_table, to_markdown, write_jsonl
from .runner import Cell, run_cell

CONF_DIR = REPO_ROOT / "conf" / "reproduce"
EXPERIMENTS = ("swift_mlpf", "table1", "table2", "fig3", "fig3_lce", "targets", "targets_n400", "fig4", "fig6",
               "swift_more")


def load_config(name: str, quick: bool = False, overrides: list[str] | None = None) -> dict[str, Any]:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    if not (CONF_DIR / f"{name}.yaml").is_file():
        raise ValueError(f"experiment is {name!r}, but must be one of {EXPERIMENTS} (conf/reproduce/*.yaml)")
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        cfg = compose(config_name=name, overrides=overrides or [])
    d: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    q = d.pop("quick", {}) or {}
    if quick:
        for k, v in q.items():
            d[k] = {**d[k], **v} if isinstance(v, dict) and isinstance(d.get(k), dict) else v
    return d


# ---------------------------------------------------------------------------------------------
# units (top-level functions so joblib can pickle them)


def _unit_predict(cfg: dict[str, Any], dataset: str) -> pd.DataFrame:
    from .predictors.tables import run_experiment

    cs = load_dataset(dataset)
    n_train = min(cfg["n_train"], cs.n_configs // 2)
    exp = cfg.get("base_experiment", cfg["experiment"])
    df = run_experiment(cs, exp, repeats=cfg["repeats"], n_train=n_train, budget=cfg["budget"], seed=cfg["seed"],
                        with_lce=cfg.get("with_lce", False), fractions=tuple(cfg.get("fractions", (25,))),
                        progress=False, lce_test=cfg.get("lce_test", 40), target=cfg.get("target", "final"),
                        lce_budget=cfg.get("lce_budget", "cheap"))
    if cfg.get("with_lce"):
        df = df[df.method == "lce"]
    return df


def _unit_cell(cell: Cell) -> RunRecord:
    return run_cell(cell)


def code_hash() -> str:
    """sha256 of the harness sources: cached unit results are reused only by the same code."""
    h = hashlib.sha256()
    for p in sorted((REPO_ROOT / "harness").rglob("*.py")):
        h.update(p.relative_to(REPO_ROOT).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _cached(cache: Path | None, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Run a unit, or load its result saved by an earlier (possibly crashed) run of the same code."""
    if cache is None:
        return fn(*args)
    key = hashlib.sha256(repr((fn.__name__, args)).encode()).hexdigest()[:24]
    path = cache / f"{key}.pkl"
    if path.is_file():
        return joblib.load(path)
    res = fn(*args)
    tmp = path.with_suffix(".tmp")
    joblib.dump(res, tmp)
    tmp.replace(path)
    return res


def _units(cfg: dict[str, Any]) -> list[tuple[Callable[..., Any], tuple[Any, ...]]]:
    kind = cfg["kind"]
    if kind == "predict":
        return [(_unit_predict, (cfg, ds)) for ds in cfg["datasets"]]
    cells = []
    if kind == "earlystop":
        for ds in cfg["datasets"]:
            for pred in cfg["predictors"]:
                for Delta in cfg["Delta"]:
                    for delta in cfg["delta"]:
                        for nth in cfg["nth"]:
                            for k in range(cfg["orderings"]):
                                cells.append(Cell(ds, "earlystop", {"predictor": pred, "Delta": Delta, "delta": delta,
                                                                    "nth": nth, "n_burnin": cfg["n_burnin"]}, seed=k))
    else:
        for ds in cfg["datasets"]:
            for acc in cfg["accounting"]:
                for algo in cfg["algorithms"]:
                    params = {k: v for k, v in cfg["params"].items() if "." not in k}
                    name = algo
                    if algo == "swift_qsvr":
                        name = "swift"
                        params = {**params, "predictor": "qsvr", **cfg.get("qsvr", {})}
                    params.update({k.split(".", 1)[1]: v for k, v in cfg["params"].items()
                                   if k.startswith(name + ".")})
                    for s in range(cfg["seeds"]):
                        cells.append(Cell(ds, name, params, seed=s, accounting=acc))
    return [(_unit_cell, (c,)) for c in cells]


# ---------------------------------------------------------------------------------------------
# writers


def _write_predict(cfg: dict[str, Any], frames: list[pd.DataFrame], out: Path) -> dict[str, Any]:
    from .predictors.protocol import aggregate
    from .predictors.tables import markdown, plot_fig3

    df = pd.concat(frames, ignore_index=True)
    name = cfg["experiment"]
    df.to_csv(out / f"{name}.csv", index=False)
    md = markdown(df, cfg.get("base_experiment", name))
    (out / f"{name}.md").write_text(f"# {name}: 100 x R² (mean ± SE over {cfg['repeats']} repeats), "
                                    f"{cfg['n_train']} training configs\n\n{md}\n")
    if cfg.get("base_experiment", name) == "fig3":
        plot_fig3(df, out / f"{name}.png")
    agg = aggregate(df)
    return {"cells": {f"{r.dataset}/{r.method}/{r.features}/{r.fraction:g}": [round(r.r2x100, 2), round(r.se_x100, 2)]
                      for r in agg.itertuples()}}


def _write_earlystop(cfg: dict[str, Any], recs: list[RunRecord], out: Path) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    write_jsonl(recs, out / f"{cfg['experiment']}_runs.jsonl")
    groups: dict[tuple, list[RunRecord]] = defaultdict(list)
    for r in recs:
        groups[(r.dataset, r.params["predictor"], r.params["Delta"], r.params["delta"], r.params["nth"])].append(r)
    rows = []
    full_cost = {}  # N * T of each dataset: the cost of training every config fully
    for (ds, pred, Delta, delta, nth), rs in groups.items():
        if ds not in full_cost:
            cs = load_dataset(ds)
            full_cost[ds] = cs.n_configs * cs.n_epochs
        sp = summarize([full_cost[ds] / r.epochs for r in rs])
        rec = [r.in_final_set for r in rs]
        rows.append({"dataset": ds, "predictor": pred, "Delta": Delta, "delta": delta, "nth": nth,
                     "orderings": len(rs), "speedup": round(sp.mean, 3), "speedup_se": round(sp.se, 3),
                     "recovered_rate": float(np.mean(rec)), "recovered": "yes" if np.sum(rec) > len(rs) / 2 else "no",
                     "regret": round(float(np.mean([r.regret for r in rs])), 5)})
    df = pd.DataFrame(rows)
    df.to_csv(out / f"{cfg['experiment']}.csv", index=False)
    (out / f"{cfg['experiment']}.md").write_text(
        "# fig4: early-stopping simulation, speed-up N·T/epochs (mean, SE over orderings); recovered = the pool's "
        "best config was trained to T in more than half the orderings\n\n" + to_markdown(df) + "\n")
    dsets = list(dict.fromkeys(df.dataset))
    fig, axes = plt.subplots(1, len(dsets), figsize=(4.5 * len(dsets), 3.6), squeeze=False)
    for ax, ds in zip(axes[0], dsets, strict=True):
        for (pred, nth), g in df[df.dataset == ds].groupby(["predictor", "nth"]):
            g = g.sort_values("Delta")
            ax.plot(g.Delta, g.speedup, marker="", label=f"{pred}, n={nth}")
            for _, r in g.iterrows():
                ax.plot(r.Delta, r.speedup, "^" if r.recovered == "yes" else "x", color=ax.lines[-1].get_color())
        ax.set_title(f"{ds} (▲ optimum recovered, × not)", fontsize=8)
        ax.set_xlabel("Δ")
        ax.set_ylabel("speed-up N·T / epochs")
        ax.legend(fontsize=7)
    save_figure(fig, out / f"{cfg['experiment']}.png")
    return {"rows": rows}


def _write_replay(cfg: dict[str, Any], recs: list[RunRecord], out: Path) -> dict[str, Any]:
    name = cfg["experiment"]
    write_jsonl(recs, out / f"{name}_runs.jsonl")
    by_ds: dict[str, list[RunRecord]] = defaultdict(list)
    for r in recs:
        by_ds[r.dataset].append(r)
    md, summary = [f"# {name}: replay over stored curves (mean ± SE over seeds; speed-up vs Hyperband on the "
                   "same seeds, bootstrap 95% CI)\n"], {}
    tables = []
    for ds, rs in by_ds.items():
        df = summary_table(rs)
        df.insert(0, "dataset", ds)
        tables.append(df)
        md.append(f"## {ds} (pool optimum {rs[0].optimum_final:.6g})\n\n{to_markdown(df)}\n")
        plot_anytime(rs, out / f"{name}_{ds}_anytime.png", title=f"{name}: {ds}")
        summary[ds] = {row["algorithm"] + "/" + row["accounting"]: {k: row[k] for k in
                       ("epochs", "speedup", "saved", "returned_final", "returned_opt", "in_final_set")}
                       for _, row in df.iterrows()}
        if name == "swift_mlpf":
            md.append(_per_seed(rs))
        if name == "fig6":
            md.append(_per_run_speedup(rs, out / f"{name}_{ds}_per_run.png"))
    pd.concat(tables, ignore_index=True).to_csv(out / f"{name}.csv", index=False)
    (out / f"{name}.md").write_text("\n".join(md))
    return summary


def _per_seed(rs: list[RunRecord]) -> str:
    from .report import label

    algos = list(dict.fromkeys(label(r) for r in rs))
    lines = ["### per seed: epochs / returned final loss\n", "| seed | " + " | ".join(algos) + " |",
             "|---|" + "|".join("---" for _ in algos) + "|"]
    for s in sorted({r.seed for r in rs}):
        cells = []
        for a in algos:
            r = next(x for x in rs if x.seed == s and label(x) == a)
            cells.append(f"{r.epochs} / {r.returned_final:.4f}")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _per_run_speedup(rs: list[RunRecord], png: Path) -> str:
    """Fig. 12 analogue: speed-up of f-Hyperband over Hyperband after each consecutive Hyperband run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def per_run(r: RunRecord) -> list[int]:
        out: dict[int, int] = {}
        for x in r.rounds:
            out[x["run"]] = x["epochs"]
        return [out[k] for k in sorted(out)]

    lines: list[str] = []
    fig = plt.figure(figsize=(5, 3.4))
    for acc in sorted({r.accounting for r in rs}):
        hb = {r.seed: per_run(r) for r in rs if r.algorithm == "hyperband" and r.accounting == acc}
        fh = {r.seed: per_run(r) for r in rs if r.algorithm == "fhyperband" and r.accounting == acc}
        seeds = sorted(set(hb) & set(fh))
        if not seeds:
            continue
        sp = np.array([[h / f for h, f in zip(hb[s], fh[s], strict=True)] for s in seeds])
        m = sp.mean(axis=0)
        plt.plot(np.arange(1, len(m) + 1), m, marker="o", ms=3, label=acc)
        lines.append(f"speed-up after each run ({acc}): " + ", ".join(f"{x:.2f}" for x in m))
    plt.xlabel("Hyperband run")
    plt.ylabel("cumulative epochs HB / f-HB")
    plt.legend(fontsize=7)
    save_figure(fig, png)
    return "\n".join(f"- {x}" for x in lines) + "\n"


# ---------------------------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("numpy", "scipy", "pandas", "scikit-learn", "dwave-samplers", "dimod", "joblib", "lc-harness"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _git_sha() -> str:
    try:
        r = subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], capture_output=True, text=True,
                           cwd=REPO_ROOT, timeout=5)
        return r.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def reproduce(names: list[str], out_dir: str | Path, *, quick: bool = False, n_jobs: int = -1,
              progress: bool = True, overrides: list[str] | None = None, resume: bool = True) -> dict[str, Any]:
    """Unit results are saved under ``<out_dir>/.units/<code hash>/`` as they finish, so a crash loses
    nothing and a rerun with the same code reuses them (``resume=False`` recomputes everything)."""
    from joblib import Parallel, delayed

    from .paper import write_readme

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfgs = {n: load_config(n, quick, overrides) for n in names}
    units = [(n, fn, args) for n, cfg in cfgs.items() for fn, args in _units(cfg)]
    # long units first so the pool stays busy
    weight = {"targets_n400": 0, "table1": 0, "fig3_lce": 1, "fig4": 2, "swift_mlpf": 3, "table2": 4, "fig3": 5, "fig6": 6}
    order = sorted(range(len(units)), key=lambda i: weight.get(units[i][0], 9))
    t0 = time.perf_counter()
    par = Parallel(n_jobs=n_jobs, return_as="generator")
    results: dict[int, Any] = {}
    cache = out / ".units" / f"{code_hash()}{'-quick' if quick else ''}" if resume else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    gen = par(delayed(_cached)(cache, units[i][1], units[i][2]) for i in order)
    for i, res in zip(order, tqdm(gen, total=len(units), desc="reproduce", disable=not progress), strict=True):
        results[i] = res
    wall = time.perf_counter() - t0
    summaries: dict[str, Any] = {}
    datasets: set[str] = set()
    for n, cfg in cfgs.items():
        got = [results[i] for i in range(len(units)) if units[i][0] == n]
        datasets.update(cfg["datasets"])
        if cfg["kind"] == "predict":
            summaries[n] = _write_predict(cfg, got, out)
        elif cfg["kind"] == "earlystop":
            summaries[n] = _write_earlystop(cfg, got, out)
        else:
            summaries[n] = _write_replay(cfg, got, out)
    hashes = {}
    for d in sorted(datasets):
        cs = load_dataset(d)
        hashes[d] = {"hash": cs.content_hash(), "configs": cs.n_configs, "epochs": cs.n_epochs}
    manifest = {"experiments": {n: {k: v for k, v in c.items()} for n, c in cfgs.items()}, "quick": quick,
                "datasets": hashes, "versions": _versions(), "git_sha": _git_sha(), "wall_seconds": round(wall, 1),
                "units": len(units), "code_hash": code_hash(), "command": f"harness reproduce {' '.join(names)}" + (" --quick" if quick else "")}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    (out / "summary.json").write_text(json.dumps(summaries, indent=2, default=str) + "\n")
    write_readme(out, summaries, manifest)
    return summaries
