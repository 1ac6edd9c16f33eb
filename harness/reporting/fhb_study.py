"""results/fhyperband_study.md (issue #13): what limits f-Hyperband's savings, from its decision traces."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..datasets import load_dataset
from ..metrics import RunRecord, bootstrap_ci, paired_test, summarize
from .replay import save_figure, to_markdown, write_jsonl


def trace_stats(rec: RunRecord, loss: np.ndarray) -> dict[str, float]:
    """What one traced f-Hyperband run did: model coverage, stops, their accuracy in hindsight, and the
    predictive sd against the gaps the rule had to resolve. ``loss`` is the (padded) loss table."""
    tr = rec.extra.get("trace", [])
    with_model = {(d["run"], d["s"], d["i"]) for d in tr}
    cut = {(x["run"], x["s"], x["i"]): x["kept_cut"] for x in rec.rounds}
    prev, covered, total = 0, 0, 0
    for x in rec.rounds:
        e = x["epochs"] - prev
        prev = x["epochs"]
        total += e
        covered += e if (x["run"], x["s"], x["i"]) in with_model else 0
    stops = [d for d in tr if d["decision"] == "stop"]
    truth = np.array([-loss[d["config"], d["target"] - 1] for d in tr], float)  # u = -loss at the rung epoch
    thr = np.array([d["threshold"] for d in tr], float)
    sd = np.array([d["std"] for d in tr], float)
    has_thr = np.isfinite(thr)
    below = has_thr & (truth < thr)  # checks the rule should have stopped, in hindsight
    stopped = np.array([d["decision"] == "stop" for d in tr], bool)
    wrong = sum(loss[d["config"], d["target"] - 1] < cut[(d["run"], d["s"], d["i"])] for d in stops)
    return {
        "coverage": covered / total if total else math.nan,
        "checks": float(len(tr)),
        "with_threshold": float(has_thr.mean()) if len(tr) else math.nan,
        "stops": float(len(stops)),
        "tau_share": float(np.mean([d["epoch"] / d["target"] for d in stops])) if stops else math.nan,
        "recall": float((stopped & below).sum() / below.sum()) if below.sum() else math.nan,
        "wrong": float(wrong),
        "sd": float(np.median(sd)) if len(sd) else math.nan,
        "gap": float(np.median(np.abs(truth[has_thr] - thr[has_thr]))) if has_thr.any() else math.nan,
    }


def oracle_bound(R: int, eta: int, kappa: float, accounting: str) -> float:
    """The most f-Hyperband's rule can save over Hyperband at these settings: SRMs perfect and trained from
    the first trial, every trial that is not needed stopped at its first check (one epoch). Per rung the
    first k = ceil(kappa n_next) trials processed must train fully (they make the threshold) and so must the
    rung's survivors; in the best case those are the same trials, so max(k, keep) train fully."""
    from ..hb import brackets

    hb, best = 0, 0
    for b in brackets(R, eta):
        prev = 0
        for rung in b.rungs:
            full = rung.r_i - prev if accounting == "resume" else rung.r_i
            n_next = rung.n_i // eta if rung.i != b.s else 1
            must = min(rung.n_trained, max(max(1, math.ceil(kappa * n_next)), rung.keep))
            hb += rung.n_trained * full
            best += must * full + (rung.n_trained - must) * min(1, full)
            prev = rung.r_i
    return hb / best


def _per_run_epochs(rec: RunRecord) -> list[int]:
    out: dict[int, int] = {}
    for x in rec.rounds:
        out[x["run"]] = x["epochs"]
    cum = [out[k] for k in sorted(out)]
    return [b - a for a, b in zip([0, *cum[:-1]], cum, strict=True)]


def _without_trace(rec: RunRecord) -> RunRecord:
    if "trace" not in rec.extra:
        return rec
    extra = {k: v for k, v in rec.extra.items() if k != "trace"}
    return replace(rec, extra={**extra, "trace_decisions": len(rec.extra["trace"])})


def _variant(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    return {**cfg["base"], **cfg["variants"][name]}


def write_fhb_study(cfg: dict[str, Any], recs: list[RunRecord], out: Path) -> dict[str, Any]:
    name = cfg["experiment"]
    # cells come in (f-Hyperband, Hyperband) pairs in the order of reproduce.fhb_study_cells
    from ..studies import fhb_study_cells, swift_oracle_cells

    cells = fhb_study_cells(cfg)
    swift_recs = recs[len(cells):]
    recs = recs[:len(cells)]
    groups: dict[tuple[str, str], list[tuple[RunRecord, RunRecord]]] = defaultdict(list)
    tables: dict[tuple[str, int | None], np.ndarray] = {}
    for (variant, fc), fr, hr in zip(cells[::2], recs[::2], recs[1::2], strict=True):
        groups[(fc.dataset, variant)].append((fr, hr))
        key = (fc.dataset, fc.pad_to)
        if key not in tables:
            cs = load_dataset(fc.dataset)
            tables[key] = (cs.pad_to(fc.pad_to) if fc.pad_to else cs).loss()
        fr.extra["_stats"] = trace_stats(fr, tables[key])
    # the run records without their decision traces (the traces of 40 runs would make the file hundreds of MB;
    # `harness replay ... --set trace=true --out FILE` writes them for any one run), with the per-run statistics
    write_jsonl([_without_trace(r) for r in recs], out / f"{name}_runs.jsonl")
    rows = []
    for (ds, variant), pairs in groups.items():
        sp = np.array([h.epochs / f.epochs for f, h in pairs])
        lo, hi = bootstrap_ci(sp) if len(sp) > 1 else (math.nan, math.nan)
        late = []
        for f, h in pairs:
            fe, he = _per_run_epochs(f), _per_run_epochs(h)
            half = len(fe) // 2
            late.append(sum(he[half:]) / max(sum(fe[half:]), 1))
        st = pd.DataFrame([f.extra["_stats"] for f, _ in pairs]).mean()
        reg_f, reg_h = [f.regret for f, _ in pairs], [h.regret for _, h in pairs]
        p = paired_test(reg_h, reg_f)["wilcoxon_p"] if len(pairs) > 1 else math.nan
        worse = np.mean(reg_f) > np.mean(reg_h) and (p < 0.05 if np.isfinite(p) else True)
        v = _variant(cfg, variant)
        R = pairs[0][1].params["R"]
        bound = oracle_bound(R, v["eta"], v.get("kappa", 0.5), pairs[0][0].accounting)
        rows.append({
            "dataset": ds, "variant": variant, "seeds": len(pairs),
            "settings": ", ".join(f"{k}={x}" for k, x in cfg["variants"][variant].items()) or "(paper Fig. 6)",
            "speedup": float(sp.mean()), "speedup_ci": f"[{lo:.2f}, {hi:.2f}]" if np.isfinite(lo) else "-",
            "speedup_late": float(np.mean(late)), "bound": bound,
            "final_fhb": summarize([f.returned_final for f, _ in pairs]).fmt(4),
            "final_hb": summarize([h.returned_final for _, h in pairs]).fmt(4),
            "final_vs_hb": ("WORSE" if worse else ("same" if not (np.mean(reg_f) < np.mean(reg_h) and p < 0.05)
                                                   else "better")),
            "coverage": st["coverage"], "stops_per_run": st["stops"] / v.get("n_runs", 1),
            "tau_share": st["tau_share"], "recall": st["recall"], "wrong": st["wrong"],
            "sd": st["sd"], "gap": st["gap"], "with_threshold": st["with_threshold"],
        })
    df = pd.DataFrame(rows)
    df.to_csv(out / f"{name}.csv", index=False)
    sw = _swift_table(swift_oracle_cells(cfg), swift_recs)
    if len(sw):
        sw.to_csv(out / f"{name}_swift.csv", index=False)
    (out / f"{name}.md").write_text(_markdown(cfg, df, sw))
    _plot(df, out / f"{name}.png")
    return {f"{r.dataset}/{r.variant}": {"speedup": round(r.speedup, 3), "final_vs_hb": r.final_vs_hb,
                                         "coverage": round(r.coverage, 3)} for r in df.itertuples()}


def _fmt(x: float, digits: int = 2) -> str:
    return "-" if not np.isfinite(x) else f"{x:.{digits}f}"


def _swift_table(cells: list[tuple[str, Any]], recs: list[RunRecord]) -> pd.DataFrame:
    """Per dataset: Swift's and a perfect predictor's speed-up over Hyperband at the same settings and seeds."""
    by: dict[str, dict[str, list[RunRecord]]] = defaultdict(lambda: defaultdict(list))
    for (name, c), r in zip(cells, recs, strict=True):
        by[c.dataset][name].append(r)
    rows = []
    for ds, g in by.items():
        hb = {r.seed: r for r in g["hyperband"]}
        row: dict[str, Any] = {"dataset": ds, "seeds": len(hb), "settings": ", ".join(
            f"{k}={v}" for k, v in cells[0][1].params.items() if k != "trace")}
        for name in ("swift", "swift_oracle"):
            sp = np.array([hb[r.seed].epochs / r.epochs for r in g[name]])
            lo, hi = bootstrap_ci(sp) if len(sp) > 1 else (math.nan, math.nan)
            reg_s, reg_h = [r.regret for r in g[name]], [hb[r.seed].regret for r in g[name]]
            p = paired_test(reg_h, reg_s)["wilcoxon_p"] if len(sp) > 1 else math.nan
            worse = np.mean(reg_s) > np.mean(reg_h) and (p < 0.05 if np.isfinite(p) else True)
            row[f"{name}_speedup"] = f"{sp.mean():.3f} [{lo:.3f}, {hi:.3f}]" if np.isfinite(lo) else f"{sp.mean():.3f}"
            row[f"{name}_sp"] = float(sp.mean())
            row[f"{name}_final"] = "WORSE" if worse else "same"
        row["share_of_perfect"] = ((row["swift_sp"] - 1) / (row["swift_oracle_sp"] - 1)
                                   if row["swift_oracle_sp"] > 1 else math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def _markdown(cfg: dict[str, Any], df: pd.DataFrame, sw: pd.DataFrame | None = None) -> str:
    base = ", ".join(f"{k}={v}" for k, v in cfg["base"].items())
    lines = [f"# {cfg['experiment']}: what limits f-Hyperband's savings (issue #13)", "",
             f"Base: the paper's Fig. 6 settings ({base}, {cfg['accounting']} accounting); each variant changes the "
             "settings shown. f-Hyperband runs with `trace=true` against Hyperband at the same eta, R, number of runs "
             "and accounting, on the same seeds.", ""]
    show = df.assign(
        speedup=[f"{s:.2f} {c}" for s, c in zip(df.speedup, df.speedup_ci, strict=True)],
        speedup_late=df.speedup_late.map(_fmt), bound=df.bound.map(_fmt), coverage=df.coverage.map(_fmt),
        stops_per_run=df.stops_per_run.map(lambda x: _fmt(x, 1)), tau_share=df.tau_share.map(_fmt),
        recall=df.recall.map(_fmt), wrong=df.wrong.map(lambda x: _fmt(x, 1)), sd=df.sd.map(lambda x: f"{x:.3g}"),
        gap=df.gap.map(lambda x: f"{x:.3g}"), with_threshold=df.with_threshold.map(_fmt))
    for ds, g in show.groupby("dataset", sort=False):
        lines += [f"## {ds}", "", to_markdown(g.drop(columns=["dataset", "speedup_ci"])), ""]
    lines += ["## Reading the columns", "",
              "- `speedup`: Hyperband's epochs / f-Hyperband's on the same seed, mean [bootstrap 95% CI]; "
              "`speedup_late`: the same over the second half of the consecutive runs only, when the SRMs of earlier "
              "runs exist (the analogue of Baker's pretrained SRMs, Fig. 13).",
              "- `final_fhb` / `final_hb`: true final value of the returned config, mean ± SE; `final_vs_hb`: WORSE when "
              "f-Hyperband's regret is higher with Wilcoxon p < 0.05 (a speed-up is only a saving when this is same).",
              "- `coverage`: share of f-Hyperband's epochs spent in rungs where a trained SRM existed: the most the "
              "rule could act on. Until a rung has collected d full curves, f-Hyperband is Hyperband.",
              "- `with_threshold`: share of checks with a threshold (a rung must first hold k = ceil(kappa n_next) "
              "values; in a last rung n_next = 1, so its first trial always trains fully).",
              "- `stops_per_run`, `tau_share` (epoch of the stop / rung epoch), `recall` (stops / checks whose true "
              "value was below the threshold, i.e. could have been stopped), `wrong` (stops per seed whose true value "
              "would have kept the trial in the rung's survivors).",
              "- `sd`: median predictive std of the SRMs (LOOCV / K-fold error model); `gap`: median |true value - "
              "threshold|. With sd above the typical gap, Phi((thr - m)/sd) rarely reaches Delta: the rule is safe "
              "(few wrong stops) but stops little.", ""]
    lines += _findings(df)
    if sw is not None and len(sw):
        lines += ["## Swift-Hyperband: its predictor against a perfect one", "",
                  "The same question for Swift (its defaults, `" + sw.iloc[0]["settings"] + "`): `swift_oracle` predicts "
                  "PART's loss at r_i exactly (the recorded value) at Swift's decision points, after the same warm-up "
                  "(d full curves per rung); speed-up over Hyperband on the same seeds, mean [bootstrap 95% CI]; "
                  "`share_of_perfect`: (Swift's speed-up - 1) / (the perfect predictor's - 1).", "",
                  to_markdown(sw.drop(columns=["swift_sp", "swift_oracle_sp"]).assign(
                      share_of_perfect=sw.share_of_perfect.map(_fmt))), ""]
    return "\n".join(lines) + "\n"


def _findings(df: pd.DataFrame) -> list[str]:
    """Statements computed from the table: the limits at the base settings, and what reaches 2x."""
    out = ["## Findings (computed from the table above)", ""]
    for ds, g in df.groupby("dataset", sort=False):
        b = g[g.variant == "base"]
        if len(b):
            r = b.iloc[0]
            out.append(f"- **{ds}**, paper settings: speed-up {r.speedup:.2f}; only {100 * r.coverage:.0f}% of the "
                       f"epochs fall in rungs with a trained SRM; {100 * r.with_threshold:.0f}% of the checks had a "
                       f"threshold; median predictive sd {r.sd:.3g} vs median gap {r.gap:.3g}; recall "
                       f"{_fmt(r.recall)}, {_fmt(r.wrong, 1)} wrong stops per seed.")
        bmax = g.sort_values("bound").iloc[-1]
        orc = g[g.variant == "oracle"]
        if len(b) and len(orc):
            o = orc.iloc[0]
            share = (b.iloc[0].speedup - 1) / (o.speedup - 1) if o.speedup > 1 else math.nan
            out.append(f"  - Reachable: a perfect predictor at the same settings and seeds (variant `oracle`: the recorded "
                       f"value at the first check, after the same warm-up of d curves) saves {o.speedup:.2f}x; the "
                       f"nu-SVR SRMs get {_fmt(100 * share, 0)}% of that saving. The closed-form {b.iloc[0].bound:.2f}x "
                       f"(best processing order, no warm-up) is not reachable"
                       + (f"; the best variant's closed form is {bmax.bound:.2f}x ({bmax.variant})."
                          if bmax.bound > b.iloc[0].bound + 1e-9 else "."))
        elif len(b):
            out.append(f"  - Closed form: perfect SRMs from the first trial in the best processing order could save at "
                       f"most {b.iloc[0].bound:.2f}x at the paper settings on this T ({bmax.bound:.2f}x at {bmax.variant}).")
        g = g[g.variant != "oracle"]  # a bound, not a setting one could run
        ok = g[(g.speedup >= 2.0) & (g.final_vs_hb != "WORSE")]
        best = g.sort_values("speedup", ascending=False).iloc[0]
        if len(ok):
            names = ", ".join(f"{v} ({s:.2f}x)" for v, s in zip(ok.variant, ok.speedup, strict=True))
            out.append(f"  - 2x at Hyperband's final value is reached by: {names}.")
        else:
            out.append(f"  - No variant reaches 2x at Hyperband's final value; the largest speed-up is {best.speedup:.2f} "
                       f"({best.variant}, final {best.final_vs_hb}); over the second half of the runs "
                       f"{g.speedup_late.max():.2f} ({g.sort_values('speedup_late').iloc[-1].variant}).")
    return out + [""]


def _plot(df: pd.DataFrame, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dss = list(dict.fromkeys(df.dataset))
    fig, axes = plt.subplots(1, len(dss), figsize=(4.2 * len(dss), 3.6), squeeze=False)
    for ax, ds in zip(axes[0], dss, strict=True):
        g = df[df.dataset == ds]
        colors = ["tab:red" if v == "WORSE" else "tab:blue" for v in g.final_vs_hb]
        ax.barh(g.variant, g.speedup, color=colors)
        ax.axvline(1, color="k", lw=0.8)
        ax.axvline(2, color="k", ls=":", lw=0.8)
        ax.set_title(ds, fontsize=9)
        ax.set_xlabel("speed-up over Hyperband (red: worse final)")
    return save_figure(fig, path)
