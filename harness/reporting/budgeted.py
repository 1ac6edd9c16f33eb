"""The equal-budget leaderboard (issue #35): every algorithm read at the same epochs spent, regret on a scale that
diverged configurations do not set, and algorithms whose mechanism cannot act marked instead of ranked.

Built from the records of a suite with ``budget`` (conf/bench/leaderboard.yaml). For each reading point
``r x T`` (``read_at``) a run's incumbent is the configuration with the best observed value at full fidelity
among those that reached it within ``r x T`` epochs (its anytime trace: what the run would return if stopped
there); its normalised regret is ``(final loss - best) / (median - best)`` over the pool's non-diverged
configurations (:func:`harness.divergence.pool_scale`): 0 is the pool's best, 1 a typical configuration.

With ``reading: observed`` (DPL's and DyHPO's protocol) a run's incumbent at ``r x T`` is instead the best value
reported to the algorithm at any epoch within ``r x T`` epochs (the ledger's ``observed`` trace), scored as it
was seen, on the same kind of scale built from each configuration's best value at any epoch
(:func:`observed_scale`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: the normalised regret of a run that has no incumbent yet at a reading point (nothing trained to R): a typical
#: configuration of the pool
NO_INCUMBENT = 1.0


def dataset_scales(datasets: list[str]) -> dict[str, dict[str, Any]]:
    """dataset -> its regret scale (harness.divergence.pool_scale) with ``T``, ``sign`` (loss = sign x metric)
    and the scale of the observed reading (:func:`observed_scale`)."""
    from ..divergence import pool_scale
    from ..runner import cached_dataset

    out = {}
    for d in datasets:
        cs = cached_dataset(d)
        out[d] = {**pool_scale(cs), **observed_scale(cs), "T": cs.n_epochs, "sign": -1.0 if cs.mode == "max" else 1.0,
                  "surrogate": cs.surrogate is not None}
    return out


def observed_scale(cs: Any) -> dict[str, float]:
    """The scale of the observed reading: ``best_any`` and ``median_any`` of each non-diverged configuration's best
    loss at any epoch (DPL normalises by the table's best and worst value at any epoch after its divergence
    filter; the median here, as on the final reading, so that a few bad configurations do not set it)."""
    from ..divergence import diverged, rule_of

    loss = cs.loss()
    info = cs.info or {}
    bad = diverged(loss, "none" if "diverged_ids" in info else rule_of(cs))
    finite = np.where(np.isfinite(loss), loss, np.inf)[~bad]
    low = finite.min(axis=1) if finite.size else np.array([])
    low = low[np.isfinite(low)]
    if not low.size:
        return {"best_any": math.nan, "median_any": math.nan}
    return {"best_any": float(low.min()), "median_any": float(np.median(low))}


def parsed(field: Any, empty: Any) -> Any:
    """A record field as the table holds it (JSON text, or already an object; ``empty`` when absent)."""
    return json.loads(field) if isinstance(field, str) else (field or empty)


def _last_within(points: list[tuple[float, float]], epochs: float) -> float:
    """The value of the last (epochs, value) point at or before ``epochs`` (NaN: none yet)."""
    v = math.nan
    for ep, value in points:
        if ep > epochs:
            break
        v = value
    return v


def observed_at(ledger: Any, epochs: float) -> float:
    """The best loss reported to the algorithm at any epoch within ``epochs`` epochs (the ledger's ``observed``
    trace; NaN: nothing reported yet)."""
    return _last_within(parsed(ledger, {}).get("observed", []), epochs)


def incumbent_at(anytime: list[Any], epochs: float) -> float:
    """The incumbent's true final value (metric units) after ``epochs`` epochs of a run's anytime trace (NaN:
    none yet)."""
    return _last_within([(ep, value) for ep, _, value in anytime], epochs)


def regret_trace(anytime: Any, ledger: Any, sc: dict[str, Any], reading: str) -> tuple[list[tuple[float, float]],
                                                                                        float]:
    """A run's incumbent as (epochs, loss above the scale's best) each time it changed, by ``reading`` ("final":
    the anytime trace's true final values; "observed": the ledger's best values seen), and the scale's span
    (median - best) that normalises it."""
    if reading == "final":
        return ([(ep, sc["sign"] * value - sc["best"]) for ep, _, value in parsed(anytime, [])],
                sc["median"] - sc["best"])
    return ([(ep, loss - sc["best_any"]) for ep, loss in parsed(ledger, {}).get("observed", [])],
            sc["median_any"] - sc["best_any"])


def prediction_counts(scores: Any) -> tuple[int, int]:
    """(predictions acted on, trials they stopped) of one record's ``predictor_scores``."""
    n = stops = 0
    for v in parsed(scores, {}).values():
        n += int(v.get("n", 0))
        stops += int(v.get("stops", 0))
    return n, stops


def plural(n: int, word: str) -> str:
    """``n`` and ``word``, with an s unless n is 1."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def space_searchers(table: pd.DataFrame, scales: dict[str, dict[str, Any]]) -> list[str]:
    """The algorithms that proposed configurations outside the pool on a surrogate task (surrogate mode: the
    engine's ``extra.proposed``), in the table's order: on those tasks they search the whole space while the
    others draw from the pool."""
    out = []
    for a, g in table.groupby("instance", sort=False):
        if any(scales[d].get("surrogate") and int(parsed(e, {}).get("proposed") or 0) > 0
               for d, e in zip(g.dataset, g.extra, strict=True)):
            out.append(a)
    return out


def rank_text(res: Any) -> str:
    """An autorank result as "a 1.00, b 2.00 (Friedman p = ...; critical difference ...)"."""
    return (", ".join(f"{a} {r:.2f}" for a, r in res.rankdf["meanrank"].sort_values().items())
            + f" (Friedman p = {res.pvalue:.3g}" + (f"; critical difference {res.cd:.2f}" if res.cd is not None else "")
            + ")")


def iqm_text(r: pd.DataFrame) -> str:
    """IQM normalised regret of readings ``r`` with its stratified bootstrap 95% CI (per dataset), as "m [lo, hi]"
    ("-": no readings)."""
    from .bench import iqm_ci

    if r.empty:
        return "-"
    m, lo, hi = iqm_ci([x.to_numpy(float) for _, x in r.groupby("dataset").norm_regret])
    return f"{m:.4f} [{lo:.4f}, {hi:.4f}]"


def rank_line(wide: pd.DataFrame, what: str) -> str:
    """Average ranks (1 = best) over the rows (datasets) of ``wide`` (datasets x algorithms, mean normalised regret)
    with Friedman's p and the critical difference, or why there are none."""
    from .bench import MIN_DATASETS_FOR_RANKS, ranks

    long = wide.rename_axis(index="dataset", columns="algorithm").stack().rename("norm_regret").reset_index()
    res = ranks(long, "norm_regret") if len(wide) >= MIN_DATASETS_FOR_RANKS else None
    if res is None:
        return f"({what}: {plural(len(wide), 'dataset')}, too few for ranks.)"
    return f"{what} ({plural(len(wide), 'dataset')}): {rank_text(res)}."


def ran_out_of_pool(extra: Any) -> bool:
    """Whether a run ended because its pool had no unused row left: the engine's ``pool_exhausted`` (``draws:
    run``) or an adapter's own (``mapped.pool_exhausted``: every row tried)."""
    e = parsed(extra, {})
    return bool(e.get("pool_exhausted")) or bool((e.get("mapped") or {}).get("pool_exhausted"))


def readings(table: pd.DataFrame, scales: dict[str, dict[str, Any]], points: tuple[float, ...],
             reading: str = "final") -> pd.DataFrame:
    """One row per run and reading point: ``norm_regret`` of its incumbent there, ``spent`` (epochs charged by
    then over the point's budget, at most 1), ``has_incumbent``, ``ran_out`` (the run had ended before the point
    because its pool had no unused row left). ``reading``: "final" (best trained to full fidelity, its true final
    value) or "observed" (best value reported at any epoch, as seen)."""
    rows = []
    for rec in table.itertuples(index=False):
        sc = scales[rec.dataset]
        out = ran_out_of_pool(rec.extra) if hasattr(rec, "extra") else False
        trace, span = regret_trace(rec.anytime, getattr(rec, "ledger", None), sc, reading)
        for p in points:
            b = math.ceil(p * sc["T"])
            v = _last_within(trace, b)
            if v != v:
                nr = NO_INCUMBENT
            else:
                nr = v / span if span > 0 else 0.0
            rows.append({"dataset": rec.dataset, "algorithm": rec.instance, "seed": rec.seed, "point": p,
                         "norm_regret": nr, "spent": min(rec.epochs, b) / b, "has_incumbent": v == v,
                         "epochs": rec.epochs, "ran_out": out and rec.epochs < b})
    return pd.DataFrame(rows)


def acts(table: pd.DataFrame) -> pd.DataFrame:
    """Per (algorithm, dataset): whether its mechanism acted in any run (predictor-driven algorithms: at least one
    prediction acted on; every other algorithm always acts), the predictions and stops made, and the engine's
    advice when it did not act."""
    from ..runner import cached_dataset, make_scheduler

    rows = []
    for (a, d), g in table.groupby(["instance", "dataset"], sort=False):
        params = parsed(g.params.iloc[0], {})
        predictive = "predictor" in params
        counts = [prediction_counts(s) for s in g.predictor_scores]
        n_pred, stops = sum(n for n, _ in counts), sum(k for _, k in counts)
        advice = ""
        if predictive and not n_pred:
            try:
                advice = " ".join(make_scheduler(None, a, params).advice(cached_dataset(d).n_epochs))
            except Exception as e:  # noqa: BLE001 (advice is a courtesy: its failure is said, not raised)
                advice = f"(advice unavailable: {e})"
        rows.append({"algorithm": a, "dataset": d, "predictive": predictive, "acts": (not predictive) or n_pred > 0,
                     "predictions": n_pred, "stops": stops, "runs": len(g), "advice": advice})
    return pd.DataFrame(rows)


def trained_trials(n_trials: int, ledger: Any) -> int:
    """A run's trials that trained at least one epoch: its ledger's trials less those drawn and never trained
    (``u``); ``n_trials`` when the record has no ledger."""
    led = parsed(ledger, None) if isinstance(ledger, (str, dict)) and ledger else None
    return int(n_trials) if not led else int(led["n_trials"]) - led["end"].count("u")


def ledger_stats(table: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm, from the records' trial ledgers: trials a run that trained at least one epoch, trials drawn
    but never trained (``u``: drawn ahead by an algorithm whose run ended first), distinct configurations a trained
    trial, and the share of trained epochs spent on trials that restarted a configuration already trained."""
    rows = []
    for a, g in table.groupby("instance", sort=False):
        n = dist = rep = tot = unt = 0
        runs = 0
        for L in g.get("ledger", pd.Series(dtype=object)):
            if not isinstance(L, str) or not L:
                continue
            led = json.loads(L)
            runs += 1
            trained = trained_trials(led["n_trials"], led)
            n += trained
            unt += led["n_trials"] - trained
            dist += led["distinct"]
            rep += led["restart_epochs"]
            tot += led["trained_epochs"]
        if runs:
            rows.append({"algorithm": a, "trials a run": f"{n / runs:.1f}",
                         "drawn, never trained, a run": f"{unt / runs:.1f}",
                         "distinct configs / trials": f"{dist / max(n, 1):.3f}",
                         "epochs on restarted configs": f"{rep / max(tot, 1):.3f}"})
    return pd.DataFrame(rows)


def cost_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm: CPU seconds a run (median, and the largest) and its share of the suite's CPU time, from the
    records' ``cpu_seconds`` (absent in records made before they were kept)."""
    if "cpu_seconds" not in table or table.cpu_seconds.isna().all():
        return pd.DataFrame()
    t = table[table.cpu_seconds.notna()]
    total = float(t.cpu_seconds.sum())
    rows = [{"algorithm": a, "runs": len(g), "CPU s a run (median)": f"{g.cpu_seconds.median():.2f}",
             "largest": f"{g.cpu_seconds.max():.1f}", "share of the CPU time": f"{g.cpu_seconds.sum() / total:.3f}"}
            for a, g in t.groupby("instance", sort=False)]
    return pd.DataFrame(rows)


def clipped_counts(table: pd.DataFrame) -> dict[str, int]:
    """Per algorithm: proposals outside the space moved into it (surrogate mode; ``extra.clipped_proposals``)."""
    out: dict[str, int] = {}
    for a, ex in zip(table.instance, table.extra, strict=True):
        n = sum((parsed(ex, {}).get("clipped_proposals") or {}).values())
        if n:
            out[a] = out.get(a, 0) + n
    return out


def pool_ran_out(table: pd.DataFrame) -> tuple[dict[str, float], dict[str, int]]:
    """Per algorithm: the share of runs that ended because the pool had no unused row left (the engine's
    ``pool_exhausted`` under ``draws: run``, or an adapter's own ``mapped.pool_exhausted``), and the trials it
    started itself on a row an earlier trial had used (``rows_restarted``)."""
    out: dict[str, list[bool]] = {}
    restarted: dict[str, int] = {}
    for a, ex, ep, b in zip(table.instance, table.extra, table.epochs, table.budget, strict=True):
        out.setdefault(a, []).append(ran_out_of_pool(ex) and ep < b)
        restarted[a] = restarted.get(a, 0) + int(parsed(ex, {}).get("rows_restarted", 0) or 0)
    return {a: float(np.mean(v)) for a, v in out.items()}, {a: n for a, n in restarted.items() if n}


def given_table(suite: Any, algos: list[str]) -> pd.DataFrame:
    """Per algorithm: the settings the suite gave it and the setting that makes it spend the budget."""
    from ..bench import configs
    from ..budget import to_spend

    cfgs = configs(suite)
    rows = []
    for a in algos:
        own = {**{k: v for k, v in suite.settings.items() if k in cfgs[a].names()}, **suite.algorithms.get(a, {})}
        before = cfgs[a].to_dict()
        after = to_spend(cfgs[a], 10**6, 50, 10**6).to_dict()
        moved = [k for k in after if after[k] != before[k]]
        space = own.get("space") or own.get("sampler") or ("pool rows" if ":" in a else "-")
        rows.append({"algorithm": a, "settings": ", ".join(f"{k}={v}" for k, v in own.items()) or "(defaults)",
                     "searches": {"hp": "hyperparameters (untried pool rows)", "tpe": "hyperparameters (TPE; "
                                  "untried pool rows)"}.get(str(space), str(space)),
                     "spends the budget by": ", ".join(moved) or "(its own end)"})
    return pd.DataFrame(rows)


def bounds_rows(table: pd.DataFrame, bounds: pd.DataFrame, read: pd.DataFrame, bread: pd.DataFrame, point: float,
                base: str) -> pd.DataFrame:
    """Per predictor-driven algorithm ``X`` with a bound ``X@oracle`` (the same algorithm and settings with a perfect
    predictor): trials and stops a run, and the IQM normalised regret at ``point``, with its own predictor, with the
    perfect one and for ``base``, over the datasets all three ran on."""

    def stops(g: pd.DataFrame) -> float:
        return sum(prediction_counts(s)[1] for s in g.predictor_scores) / max(len(g), 1)

    def trials(g: pd.DataFrame) -> float:
        return float(np.mean([trained_trials(n, L) for n, L in zip(g.n_trials, g.get("ledger", [None] * len(g)),
                                                                    strict=True)]))

    rows = []
    for b in dict.fromkeys(bounds.instance):
        own = b.split("@")[0]
        if own not in set(table.instance):
            continue
        ds = set(table[table.instance == own].dataset) & set(bounds[bounds.instance == b].dataset) \
            & set(table[table.instance == base].dataset)
        if not ds:
            continue
        t_own = table[(table.instance == own) & table.dataset.isin(ds)]
        t_b = bounds[(bounds.instance == b) & bounds.dataset.isin(ds)]
        t_base = table[(table.instance == base) & table.dataset.isin(ds)]

        def at(r: pd.DataFrame, a: str, ds: set[str] = ds) -> pd.DataFrame:
            return r[(r.algorithm == a) & (r.point == point) & r.dataset.isin(ds)]

        rows.append({"algorithm": own, "datasets": len(ds),
                     "trials a run: own / perfect / " + base: f"{trials(t_own):.0f} / {trials(t_b):.0f}"
                                                              f" / {trials(t_base):.0f}",
                     "stops a run: own / perfect": f"{stops(t_own):.0f} / {stops(t_b):.0f}",
                     "epochs a run: own / perfect / " + base: f"{t_own.epochs.mean():.0f} / {t_b.epochs.mean():.0f}"
                                                              f" / {t_base.epochs.mean():.0f}",
                     f"IQM norm. regret at {point:g} T: own": iqm_text(at(read, own)),
                     "perfect predictor": iqm_text(at(bread, b)), base: iqm_text(at(read, base))})
    return pd.DataFrame(rows)


def samerows_lines(read: pd.DataFrame, sread: pd.DataFrame, points: tuple[float, ...], sur: list[str]) -> list[str]:
    """The page's like-for-like check on the surrogate tasks: the board's readings there, with the searchers'
    replaced by their runs on the same tasks read as recorded tables (``sread``: suite ``leaderboard_samerows``,
    datasets ``<task>:surrogate=off``, answered by untried pool rows), over the seeds both have; per reading the
    IQM of every algorithm and the ranks, and beside each searcher its IQM when it searched the whole space."""
    from ..datasets import split_surrogate_option
    from .replay import to_markdown

    sread = sread.assign(dataset=[split_surrogate_option(d)[0] for d in sread.dataset])
    moved = list(dict.fromkeys(sread.algorithm))
    seeds = sorted(set(sread.seed))
    tasks = sorted(set(sread.dataset) & set(sur))
    if not tasks or not moved:
        return []
    base = read[read.dataset.isin(tasks) & read.seed.isin(seeds) & ~read.marked]
    same = pd.concat([base[~base.algorithm.isin(moved)], sread[sread.dataset.isin(tasks)]], ignore_index=True)

    rows = []
    for a in dict.fromkeys(base.algorithm):
        row = {"algorithm": a, "draws": "pool rows (its board runs)" if a not in moved else "untried pool rows"}
        for p in points:
            row[f"IQM at {p:g} T"] = iqm_text(same[(same.algorithm == a) & (same.point == p)])
            if a in moved:
                whole = iqm_text(base[(base.algorithm == a) & (base.point == p)])
                row[f"IQM at {p:g} T"] += f" (whole space: {whole.split(' [')[0]})"
        rows.append(row)
    lines = ["## On the surrogate tasks, every algorithm on the same rows", "",
             f"The like-for-like check of the surrogate tasks' ranks: the searchers ({', '.join(f'`{a}`' for a in moved)}) "
             f"rerun with the board's settings on the same {plural(len(tasks), 'task')} read as recorded tables "
             "(`<task>:surrogate=off`: a proposal is answered by the nearest pool row no trial of the run has tried, "
             f"as on the recorded tables; suite `leaderboard_samerows`), seeds {', '.join(map(str, seeds))}; every "
             "other algorithm's runs are the board's (they draw pool rows either way). In brackets, each searcher's "
             "IQM at the same seeds when it searched the whole space (the board's runs).", "", to_markdown(pd.DataFrame(rows)), ""]
    for p in points:
        wide = same[same.point == p].groupby(["dataset", "algorithm"]).norm_regret.mean().unstack().dropna(axis=0)
        lines += [rank_line(wide, f"Average rank at {p:g} T, every algorithm on the same rows"), ""]
    return lines


def run_wall_sentence(wall_seconds: float, computed: int | None, runs: int) -> str:
    """The wall time of the ``harness reproduce`` run that made the page: a resumed board computes only the runs
    missing, so its wall time is the whole board's only when it computed every run (the CPU seconds the records
    carry are the board's cost either way: "What each algorithm cost")."""
    wall = f"{wall_seconds / 60:.1f} min of wall time"
    if computed is None:
        return f"The run that made this page took {wall} (how many of the runs it computed was not recorded). "
    if computed == 0:
        return (f"The run that made this page found all {runs:,} runs' records made and computed none ({wall}); "
                "the board's CPU time is under \"What each algorithm cost\". ")
    if computed >= runs:
        return f"The run that made this page computed all {runs:,} runs in {wall}. "
    return (f"The run that made this page resumed an interrupted one and computed {computed:,} of the {runs:,} runs "
            f"in {wall}: not the board's wall time (its CPU time is under \"What each algorithm cost\"). ")


def mark_key(marks: pd.DataFrame) -> set[tuple[str, str]]:
    return {(r.algorithm, r.dataset) for r in marks.itertuples() if not r.acts}


def write_budgeted(suite: Any, table: pd.DataFrame, path: Path, *, wall_seconds: float, command: str,
                   code: dict[str, str], planned: int | None = None, bounds: pd.DataFrame | None = None,
                   computed: int | None = None, samerows: pd.DataFrame | None = None) -> Path:
    from .bench import MIN_DATASETS_FOR_RANKS, _verdict, holm_wilcoxon, plot_cd, ranks
    from .leaderboard import families_of
    from .replay import to_markdown

    datasets = list(dict.fromkeys(table.dataset))
    scales = dataset_scales(datasets)
    fam = families_of(datasets)
    points = tuple(suite.read_at)
    reading = getattr(suite, "reading", "final")
    read = readings(table, scales, points, reading)
    marks = acts(table)
    marked = mark_key(marks)
    read["marked"] = [(a, d) in marked for a, d in zip(read.algorithm, read.dataset, strict=True)]
    figs = path.parent / path.stem
    figs.mkdir(parents=True, exist_ok=True)
    algos = list(dict.fromkeys(table.instance))
    by_fam = pd.Series({d: fam[d][0] for d in datasets}).value_counts()
    short = table.groupby("instance").apply(lambda g: float((g.epochs < g.budget).mean()), include_groups=False) \
        if "budget" in table else pd.Series(dtype=float)
    searchers = space_searchers(table, scales)
    sur = [d for d in datasets if scales[d].get("surrogate")]
    sur_pool = int(np.median([scales[d]["configs"] for d in sur])) if sur else 0
    out_dir = suite.out_dir
    partial = []
    if planned is not None and len(table) < planned:
        partial = [f"> **Partial: {len(table):,} of the suite's {planned:,} runs**, on {len(datasets)} datasets ("
                   + ", ".join(datasets) + "). The run stopped before the end; "
                   f"`{command.split(' --')[0]}` resumes it, computing only the missing runs. Read nothing across the "
                   "catalogue off this page yet: the datasets covered are the ones it started with.", ""]
    lines = ["# Leaderboard across the catalogue, at equal budgets", "", *partial,
             f"{len(datasets)} datasets ({', '.join(f'{f}: {n}' for f, n in by_fam.items())}) x {len(algos)} "
             f"algorithms x {table.seed.nunique()} seeds = {len(table)} runs. **Every run gets the same budget: "
             f"{suite.budget:g} x T epochs** (T: the dataset's epochs); every algorithm spends it (iteration-based "
             "algorithms run consecutive iterations and keep what they learned; `harness.budget`). Each is read at "
             + ", ".join(f"{p:g} T" for p in points) + " epochs spent: its incumbent then is "
             + ("the best configuration it had trained to full fidelity within those epochs, scored by its true "
                "final value" if reading == "final" else "**the best value reported to it at any epoch** within "
                "those epochs, scored as seen (`reading: observed`: DPL's and DyHPO's protocol; a configuration "
                "need not be trained to full fidelity to count)")
             + ". " + ("No run draws a pool row twice (`draws: run`); a run ends when its pool has no unused row "
                       "left. " if getattr(suite, "draws", "bracket") == "run" else "")
             + "Baseline `" + suite.baseline + "`.", "",
             f"Made by `{command}` at commit {code.get('git_sha', '?')[:10]} (code hash {code.get('code_hash', '?')}); "
             "every record on it was made by the code its cell runs at that commit (a record is keyed by the hash "
             "of the engine's and its own algorithm's code; a record under another key is not read). "
             + (run_wall_sentence(wall_seconds, computed, len(table)) if wall_seconds == wall_seconds else "")
             + f"Records (with one ledger row per trial) in `{out_dir.name}/`.", "",
             ("**Regret scale.** Normalised regret = (incumbent's final loss - pool best) / (pool median - pool best) "
              "over the pool's non-diverged configurations: 0 is the best configuration of the pool, 1 a typical "
              "one, below 0 better than every pool row (only a configuration proposed outside the pool, on a "
              "surrogate task, can be). A run with no configuration trained to full fidelity yet counts 1." if reading == "final" else
              "**Regret scale.** Normalised regret = (best loss seen - pool best) / (pool median - pool best), where a "
              "configuration's value is its best loss at any epoch, over the pool's non-diverged configurations "
              "(DPL's scale is the table's best to worst at any epoch after its divergence filter: the median here "
              "keeps a few bad configurations from setting it). A run that has seen nothing yet counts 1.")
             + " Diverged configurations stay in the pool (an algorithm may draw them) but not in the scale; per "
             "family:", ""]
    div = pd.DataFrame([{"family": fam[d][0], "dataset": d, "rule": s["rule"], "configs": s["configs"],
                         "dropped (nan policy)": s["dropped"], "diverged (rule)": s["diverged"]}
                        for d, s in scales.items()])
    agg = div.groupby(["family", "rule"], sort=False).agg(datasets=("dataset", "count"), configs=("configs", "sum"),
                                                         dropped=("dropped (nan policy)", "sum"),
                                                         diverged=("diverged (rule)", "sum")).reset_index()
    lines += [to_markdown(agg.rename(columns={"dropped": "dropped: non-finite (nan_policy drop)",
                                              "diverged": "diverged: out of the scale"})), ""]
    for p in points:
        sub = read[read.point == p]
        ok = sub[~sub.marked]
        lines += [f"## At {p:g} T epochs", ""]
        rows = []
        tests = holm_wilcoxon(ok, "norm_regret", suite.baseline)
        for a in algos:
            g = ok[ok.algorithm == a]
            n_marked = int(sub[(sub.algorithm == a) & sub.marked].dataset.nunique())
            if g.empty:
                rows.append({"algorithm": a, "datasets": 0, "marked (cannot act)": n_marked})
                continue
            rows.append({"algorithm": a, "datasets": g.dataset.nunique(), "marked (cannot act)": n_marked,
                         "IQM norm. regret [95% CI]": iqm_text(g),
                         "no incumbent yet": f"{1 - g.has_incumbent.mean():.3f}",
                         "budget spent": f"{g.spent.mean():.3f}",
                         "pool ran out": f"{g.ran_out.mean():.2f}",
                         "regret vs base (Holm p)": _verdict(tests, a, suite.baseline)})
        lines += [to_markdown(pd.DataFrame(rows)), ""]
        wide = ok.groupby(["dataset", "algorithm"]).norm_regret.mean().unstack()
        complete = wide.dropna(axis=0)
        res = ranks(complete.stack().rename("norm_regret").reset_index(), "norm_regret") \
            if len(complete) >= MIN_DATASETS_FOR_RANKS else None
        if res is not None:
            mr = res.rankdf["meanrank"].sort_values()
            lines += [f"Average rank over the {len(complete)} datasets where every algorithm acts (1 = best): "
                      + ", ".join(f"{a} {r:.2f}" for a, r in mr.items()) + f". Friedman p = {res.pvalue:.3g}"
                      + (f"; critical difference {res.cd:.2f} (Nemenyi)." if res.cd is not None else "."), ""]
            cd = plot_cd(res, figs / f"cd_{p:g}T.png")
            if cd:
                lines += [f"![critical-difference diagram at {p:g} T]({figs.name}/{cd.name})", ""]
        else:
            lines += [f"(Ranks need at least {MIN_DATASETS_FOR_RANKS} datasets where every algorithm acts: "
                      f"{len(complete)} here.)", ""]
        limited = sorted(set(sub.dataset[sub.ran_out]))
        if limited:
            room = complete[~complete.index.isin(limited)]
            res2 = ranks(room.stack().rename("norm_regret").reset_index(), "norm_regret") \
                if len(room) >= MIN_DATASETS_FOR_RANKS else None
            lines += [f"**Pool-limited by {p:g} T:** on {len(limited)} of the {sub.dataset.nunique()} datasets some "
                      "run had used up its pool before this reading (" + ", ".join(limited[:8])
                      + (", ..." if len(limited) > 8 else "") + "); there an algorithm that spends fewer epochs a "
                      "configuration ends sooner, with no configuration left to try, and one that trains every "
                      "configuration it draws fully (random search) is not held back: the reading says how good the "
                      "pool's best is that each found, not what each would find in an unbounded space. "
                      + (f"Over the {len(room)} datasets where no run had: {rank_text(res2)}."
                         if res2 is not None else f"({plural(len(room), 'dataset')} where no run had: too few for "
                                                  "ranks.)"),
                      ""]
        if searchers and sur:
            beat = sub[sub.dataset.isin(sur)].groupby("algorithm").norm_regret.apply(lambda x: float((x < 0).mean()))
            rec = complete[~complete.index.isin(sur)]
            lines += ["**Recorded tables and surrogate tasks apart.** On the surrogate tasks "
                      + ", ".join(f"`{a}`" for a in searchers) + " propose any configuration of the space (the "
                      f"surrogate answers it) while the others draw from the task's pool of {sur_pool:,} "
                      "configurations; a proposal can beat every pool row, which reads as a negative regret (runs of "
                      "theirs whose incumbent beat the pool's best here: "
                      + ", ".join(f"`{a}` {beat.get(a, 0.0):.0%}" for a in searchers) + "). "
                      + rank_line(rec, "On the recorded tables, where every algorithm draws the same rows") + " "
                      + rank_line(complete[complete.index.isin(sur)], "On the surrogate tasks"), ""]
    anyp = plot_budget_anytime(table, scales, fam, figs / "anytime.png", suite.budget, reading)
    lines += ["## Anytime", "", f"![anytime regret per family]({figs.name}/{anyp.name})", "",
              "Normalised regret of the incumbent against epochs spent (multiples of T), mean over runs with a "
              "bootstrap 95% band, per family.", ""]
    lines += ["## Who could act", ""]
    nm = marks[~marks.acts]
    if nm.empty:
        lines += ["Every algorithm's mechanism acted on every dataset (predictor-driven algorithms made predictions "
                  "in at least one run of each).", ""]
    else:
        lines += ["Predictor-driven algorithms that made no prediction in any run on a dataset are left out of that "
                  "dataset's tables and ranks (they acted exactly as the algorithm they extend):", ""]
        for a, g in nm.groupby("algorithm", sort=False):
            why = next((x for x in g.advice if x), "no rung collected enough full curves")
            lines += [f"- `{a}`: {plural(len(g), 'dataset')} ({', '.join(g.dataset[:6])}{', ...' if len(g) > 6 else ''}). "
                      f"Engine's reason: {why}"]
        lines += [""]
    act = marks[marks.predictive & marks.acts].groupby("algorithm").agg(datasets=("dataset", "count"),
                                                                       predictions=("predictions", "sum"),
                                                                       stops=("stops", "sum")).reset_index()
    if len(act):
        lines += ["Where they acted (predictions acted on and trials stopped or paused by them, summed over runs):",
                  "", to_markdown(act), ""]
    if bounds is not None and len(bounds):
        bread = readings(bounds, {**scales, **dataset_scales([d for d in dict.fromkeys(bounds.dataset)
                                                                if d not in scales])}, points, reading)
        bt = bounds_rows(table, bounds, read, bread, points[-1], suite.baseline)
        if len(bt):
            lines += ["## What the mechanisms could reach", "",
                      "Each predictor-driven algorithm beside itself with a **perfect predictor** (`predictor: oracle`: "
                      "the recorded truth, which no real predictor can know; suite `leaderboard_bounds`, the same "
                      "protocol) and beside the baseline, over the datasets all three ran on. The perfect predictor's "
                      "column is the most the mechanism could reach at this budget; where it is no better than the "
                      "baseline, the mechanism has nothing to gain here whatever its predictor. More trials a run is "
                      "what a mechanism's stops buy at an equal budget; fewer epochs a run, where a run ends when "
                      "its pool runs out (`draws: run`), is the saving they buy on a pool.", "", to_markdown(bt), ""]
    if samerows is not None and len(samerows) and sur:
        from ..datasets import split_surrogate_option

        # a detached task's scale is its surrogate task's (the same pool): the board's, not loaded again
        sscales = {d: scales.get(split_surrogate_option(d)[0]) or dataset_scales([d])[d]
                   for d in dict.fromkeys(samerows.dataset)}
        lines += samerows_lines(read, readings(samerows, sscales, points, reading), points, sur)
    st = ledger_stats(table)
    if len(st):
        lines += ["## What each algorithm trained (trial ledgers)", "", to_markdown(st), "",
                  "Trials: those that trained at least one epoch (a configuration drawn ahead and never trained, "
                  "as earlystop draws its next batch before its run ends, is counted apart). A restarted "
                  "configuration is one an earlier trial of the same run had trained, started again from epoch 1 "
                  "(`harness replay --ledger` shows a run's ledger).", ""]
    cost = cost_rows(table)
    if len(cost):
        lines += ["## What each algorithm cost", "", to_markdown(cost), "",
                  f"CPU seconds of the runs on this page, {float(table.cpu_seconds.sum()) / 3600:.2f} CPU-hours in all "
                  "(measured in each run's process, one BLAS thread). The model-based searchers' time is their "
                  "libraries' own (SMAC's random forest and acquisition search, Syne Tune's KDE).", ""]
    lines += ["## What each algorithm was given", "",
              to_markdown(given_table(suite, algos)), "",
              "Settings: the suite's, beside each algorithm's defaults (`harness algorithms NAME`). Spends the "
              "budget by: the setting `harness.budget` moved past it on every dataset (n_runs: consecutive "
              "iterations; epochs_budget: the epochs it may spend; n: configurations; n_configs: the whole pool).",
              ""]
    lines += ["## What not to conclude", ""]
    if len(short):
        early = [f"`{a}` {v:.0%}" for a, v in short.items() if v > 0]
        if early:
            lines += ["- **Runs that ended before the budget** (out of configurations to try, or a fixed number of "
                      "trials) keep their incumbent and are read as they ended: " + ", ".join(early) + " of runs."]
    if getattr(suite, "draws", "bracket") == "run":
        ran_out, restarted = pool_ran_out(table)
        who = [f"`{a}` {v:.0%}" for a, v in ran_out.items() if v > 0]
        lines += ["- **No run draws a pool row twice** (`draws: run`), as a continuous space never repeats a "
                  "configuration (SPEC 0.3's per-bracket draws, `draws: bracket`, restarted a row drawn again from "
                  "epoch 1: 61-77% of the pool samplers' trained epochs at 100 T on the first 28 datasets, a regret "
                  "gap that was the sampling, not the algorithms). So a run ends at the first draw its pool cannot "
                  "answer (a Hyperband bracket asking for more unused rows than are left), as the searchers end when "
                  "no untried row is left"
                  + (": " + ", ".join(who) + " of runs ended so. On those pools the late readings compare how far "
                     "each algorithm got before the pool ran out, not what it would find with more configurations"
                     if who else "") + "."
                  + (" Trials an algorithm itself started on a row already used (counted, allowed): "
                     + ", ".join(f"`{a}` {n}" for a, n in restarted.items()) + "." if restarted else "")]
    if len(st):
        heavy = [(r["algorithm"], float(r["epochs on restarted configs"])) for _, r in st.iterrows()
                 if float(r["epochs on restarted configs"]) >= 0.2]
        if heavy:
            lines += ["- **Repeated draws of the same pool row.** Algorithms that sample the pool at random draw with "
                      "replacement, and a row drawn again starts a new trial from epoch 1 on the same recorded curve; at "
                      f"{suite.budget:g} T on these pools that is most of their budget: "
                      + ", ".join(f"`{a}` {v:.0%}" for a, v in heavy) + " of trained epochs (the ledger table above). "
                      "In a continuous space such a draw would be a new configuration; here it learns nothing new. "
                      "The searchers that never repeat a row (`space=hp`, `sampler=tpe`) run out of rows instead "
                      "(\"budget spent\"). Their regret gap at the late readings is partly this, not their models."]
    small = [d for d in datasets if suite.budget is not None and scales[d]["configs"] <= suite.budget]
    if small and getattr(suite, "draws", "bracket") != "run":  # (with draws: run, the pool-limited notes say more)
        lines += [f"- **Pools the budget can exhaust.** On {len(small)} of the {len(datasets)} datasets the pool holds "
                  f"at most {suite.budget:g} configurations, so {suite.budget:g} x T epochs train every one of them to "
                  "full fidelity: a searcher that never repeats a configuration ends there with the pool's best "
                  "(regret 0), and the late readings on these datasets say how fast, not whether, the best is "
                  "found (" + ", ".join(small[:8]) + (", ..." if len(small) > 8 else "") + ")."]
    clipped = clipped_counts(table)
    if clipped:
        lines += ["- **Proposals outside the space.** Syne Tune 0.16's KDE maps an integer hyperparameter back over "
                  "[1, upper] whatever its lower bound, so on the surrogate tasks BOHB proposes e.g. max_units 28 in "
                  "[64, 1024]; the adapter moves such values into the range and the library is told the configuration "
                  "evaluated: " + ", ".join(f"`{a}` {n} proposals" for a, n in clipped.items()) + " over all runs."]
    lines += ["- **A run the budget ended before its algorithm named an incumbent** (random search's single batch, "
              "an iteration cut at the budget) returns the best configuration it trained to full fidelity, the rule "
              "of the readings above.",
              "- **Surrogate tasks are model predictions.** The lcbench_* datasets are YAHPO Gym's surrogate of "
              "LCBench: a win there is a win on the model's landscape. Read the per-family anytime plot.",
              *(["- **On the surrogate tasks the searchers search a larger space.** "
                 + ", ".join(f"`{a}`" for a in searchers) + " propose any configuration of the space there (the "
                 "surrogate answers every one, as YAHPO Gym means it to be used); the other algorithms draw from a "
                 f"pool of {sur_pool:,} configurations sampled from the same space, whose best is the scale's 0. "
                 f"Those {plural(len(sur), 'task')} are most of the catalogue, so the overall ranks mix two "
                 "questions: which algorithm is better, and whether a fresh configuration beats the best of "
                 f"{sur_pool:,} random ones. Do not read a searcher's overall rank as a verdict against the pool "
                 "algorithms; the like-for-like ones are the recorded tables' ranks (each reading's \"apart\" "
                 "paragraph) and, where the suite `leaderboard_samerows` ran, the section \"On the surrogate tasks, "
                 "every algorithm on the same rows\". A negative regret is a configuration better than every pool row, not an error."]
                if searchers and sur else []),
              "- **Adapters search the hyperparameters where the suite says so** (`space=hp`, `sampler=tpe`); on "
              "recorded tables a proposal is answered by the nearest pool row no trial of the run has tried (the libraries "
              "here take no list of allowed configurations: Syne Tune 0.16's BOHB has no `restrict_configurations`), "
              "so a searcher's model sees the row's hyperparameters, not the ones it proposed; the ledger counts "
              "restarts.",
              "- **Ranks cover only the datasets where every algorithm acts**; an algorithm marked on a dataset is "
              "neither better nor worse there, it did not run its mechanism.",
              "- Normalised regret compares within a dataset, in units of (median - best); a dataset where every "
              "algorithm finds the optimum adds ties, not evidence.",
              "- **The freeze-thaw methods (`dpl`, `dyhpo`) are not on this board** unless listed above: they refit "
              "their model on every point seen after every epoch, so their cost grows with the square of the budget: "
              "a 1000-epoch DPL run is 196,350 training steps and about 4 CPU-minutes here "
              "(`benchmarks/dpl_speed.py`), a 5,000-epoch one (100 T at T = 50) about 25 times that; their protocol "
              "is DPL's (1000 epochs, 20 T at T = 50: `conf/bench/dpl_protocol.yaml`).",
              ""]
    path.write_text("\n".join(lines))
    return path


def plot_budget_anytime(table: pd.DataFrame, scales: dict[str, dict[str, Any]], fam: dict[str, tuple[str, str]],
                        path: Path, budget: float, reading: str = "final") -> Path:
    from .leaderboard import draw_band, family_axes, finish_family_figure, label_panel
    from .replay import on_grid

    fams = list(dict.fromkeys(fam[d][0] for d in table.dataset))
    fig, axes = family_axes(len(fams))
    grid = np.linspace(0, budget, 101)
    rng = np.random.default_rng(0)
    for ax, f in zip(axes.flat, fams, strict=False):
        sub = table[[fam[d][0] == f for d in table.dataset]]
        for k, (a, g) in enumerate(sub.groupby("instance", sort=False)):
            ys = []
            ledgers = g.get("ledger", pd.Series([None] * len(g), index=g.index))
            for ds, at, led in zip(g.dataset, g.anytime, ledgers, strict=True):
                sc = scales[ds]
                pts, span = regret_trace(at, led, sc, reading)
                if not pts or not span > 0:
                    continue
                xs = np.array([p[0] for p in pts]) / sc["T"]
                v = np.array([p[1] for p in pts]) / span
                y = on_grid(xs, v, grid)
                ys.append(np.where(np.isnan(y), NO_INCUMBENT, y))
            if not ys:
                continue
            draw_band(ax, k, grid, np.array(ys), rng, a)
        label_panel(ax, f"{f} ({sub.dataset.nunique()} datasets)", "epochs spent / T", 1e-2)
    return finish_family_figure(fig, axes, "normalised regret (median = 1)", path)
