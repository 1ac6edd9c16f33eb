"""Writers of ``harness reproduce``: each experiment's results/<name>.md, .csv, .png and run records."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..datasets import load_dataset
from ..metrics import RunRecord, summarize
from .replay import legend, plot_anytime, save_figure, summary_table, to_markdown, write_jsonl


def _paper_beside(name: str) -> str:
    """Baker et al.'s own table under ours (quoted from SPEC 7), for table1 and table2."""
    from .paper import PAPER_BESIDE, PAPER_TABLE1, PAPER_TABLE2

    quoted = {"table1": ("Table 1, ν-SVR/OLS/BLR/RF at 25% of the curve", PAPER_TABLE1),
              "table2": ("Table 2, ν-SVR by feature set", PAPER_TABLE2)}.get(name)
    if quoted is None:
        return ""
    return (f"\n{PAPER_BESIDE}{quoted[0]} (quoted from SPEC 7; their populations are not public). "
            "The analogues made here from their search spaces: `cifar10_metaqnn_small` (MetaQNN CNNs, architecture "
            "varying), `cifar10_resnet_small` (ResNets; Baker's are on TinyImageNet with T=140), "
            "`cifar10_cudaconvnet_small` and `ptb_lstm_small` (the LSTM space):\n\n" + quoted[1] + "\n")


def _pools_left_out(datasets: list[str]) -> str:
    """For an experiment that names dataset variants (``name:diverged=drop``): each dataset's configurations kept
    and those its loading left out (non-finite ones by the nan policy, diverged ones by the family's rule)."""
    if not any(":" in d for d in datasets):
        return ""
    rows = []
    for d in datasets:
        cs = load_dataset(d)
        info = cs.info or {}
        rows.append({"dataset": d, "configs kept": cs.n_configs,
                     "dropped: non-finite": len(info.get("dropped_ids", [])),
                     "dropped: diverged": len(info.get("diverged_ids", [])),
                     "rule": (cs.provenance or {}).get("divergence", "-") if info.get("diverged_ids") else "-"})
    return "\n## Configurations each dataset kept\n\n" + to_markdown(pd.DataFrame(rows)) + "\n"


def write_predict(cfg: dict[str, Any], frames: list[pd.DataFrame], out: Path) -> dict[str, Any]:
    from ..predictors.protocol import aggregate
    from .predict import markdown, plot_fig3

    df = pd.concat(frames, ignore_index=True)
    name = cfg["experiment"]
    df.to_csv(out / f"{name}.csv", index=False)
    md = markdown(df, cfg.get("base_experiment", name))
    (out / f"{name}.md").write_text(f"# {name}: 100 x R² (mean ± SE over {cfg['repeats']} repeats), "
                                    f"{cfg['n_train']} training configs\n\n{md}\n{_paper_beside(name)}"
                                    + _pools_left_out(cfg["datasets"]))
    if cfg.get("base_experiment", name) == "fig3":
        plot_fig3(df, out / f"{name}.png")
    agg = aggregate(df)
    return {"cells": {f"{r.dataset}/{r.method}/{r.features}/{r.fraction:g}": [round(r.r2x100, 2), round(r.se_x100, 2)]
                      for r in agg.itertuples()}}


def write_earlystop(cfg: dict[str, Any], recs: list[RunRecord], out: Path) -> dict[str, Any]:
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


def write_replay(cfg: dict[str, Any], recs: list[RunRecord], out: Path) -> dict[str, Any]:
    name = cfg["experiment"]
    write_jsonl(recs, out / f"{name}_runs.jsonl")
    by_ds: dict[str, list[RunRecord]] = defaultdict(list)
    many_workers = len({r.workers for r in recs}) > 1
    for r in recs:
        by_ds[f"{r.dataset}, {r.workers} workers" if many_workers else r.dataset].append(r)
    md, summary = [f"# {name}: replay over stored curves (mean ± SE over seeds; speed-up vs Hyperband on the "
                   "same seeds, bootstrap 95% CI)\n"], {}
    tables = []
    for ds, rs in by_ds.items():
        df = summary_table(rs, wide=True)
        df.insert(0, "dataset", ds)
        tables.append(df)
        kind = " [surrogate: model predictions, not recorded runs]" if rs[0].extra.get("dataset_kind") == "surrogate" else ""
        md.append(f"## {ds}{kind} (pool optimum {rs[0].optimum_final:.6g})\n\n{to_markdown(df)}\n")
        plot_anytime(rs, out / f"{name}_{ds.replace(', ', '_').replace(' ', '')}_anytime.png", title=f"{name}: {ds}")
        summary[ds] = {row["algorithm"] + "/" + row["accounting"]: {k: row[k] for k in
                       ("epochs", "speedup", "saved", "returned_final", "returned_opt", "in_final_set",
                        "makespan")}
                       for _, row in df.iterrows()}
        if name == "swift_mlpf":
            md.append(_per_seed(rs))
        if name == "fig6":
            md.append(_per_run_speedup(rs, out / f"{name}_{ds}_per_run.png"))
    pd.concat(tables, ignore_index=True).to_csv(out / f"{name}.csv", index=False)
    if name == "adapters":
        from .adapters import arithmetic_section

        md.append(arithmetic_section(cfg))
    md.append(legend(tables[0]).lstrip("\n") + "\n")
    (out / f"{name}.md").write_text("\n".join(md))
    return summary


def _per_seed(rs: list[RunRecord]) -> str:
    from .replay import label

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
