"""``harness reproduce``: rebuild results/ (tables, figures, manifest, README) from stored curves.

Each experiment is a hydra config in ``conf/reproduce/<name>.yaml``. Experiments are split into small
units (one dataset of a prediction table, one ordering of the early-stopping simulation, one replay
cell) that run in parallel with joblib; results are assembled per experiment in the parent process.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from tqdm.auto import tqdm

from .codeversion import code_hash
from .datasets import REPO_ROOT, load_dataset
from .metrics import RunRecord
from .runner import Cell, run_cell
from .studies import fhb_study_cells, swift_oracle_cells

CONF_DIR = REPO_ROOT / "conf" / "reproduce"
EXPERIMENTS = ("swift_mlpf", "table1", "table2", "fig3", "fig3_lce", "targets", "targets_n400", "fig4", "fig6",
               "swift_more", "ablation", "predict_check", "fhyperband_study", "adapters", "fhb_mlpf", "table1_taskset")
#: algorithm names of an experiment that stand for an algorithm with the QSVR predictor
QSVR_INSTANCES = ("swift_qsvr", "fhyperband_qsvr")


def load_config(name: str, quick: bool = False, overrides: list[str] | None = None) -> dict[str, Any]:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    if not (CONF_DIR / f"{name}.yaml").is_file():
        raise ValueError(f"experiment is {name!r}, but must be one of {EXPERIMENTS} (conf/reproduce/*.yaml)")
    from hydra.errors import HydraException

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        try:
            cfg = compose(config_name=name, overrides=overrides or [])
        except HydraException as e:  # a key the experiment lacks, a malformed override: the user's input
            msg = " ".join(str(e).split())
            raise ValueError(f"--override {' '.join(overrides or [])}: {msg} (conf/reproduce/{name}.yaml)") from None
    d: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    q = d.pop("quick", {}) or {}
    if quick:
        for k, v in q.items():
            d[k] = {**d[k], **v} if isinstance(v, dict) and isinstance(d.get(k), dict) else v
    return d


# ---------------------------------------------------------------------------------------------
# units (top-level functions so joblib can pickle them)


#: what decides a prediction experiment's rows on a dataset (besides the dataset and the repeat), with the defaults
#: of those a config may leave out: two experiments with the same spec share their units (predict_check's repeats
#: are fig3's first repeats)
PREDICT_SPEC = {"experiment": None, "n_train": None, "budget": None, "seed": None, "with_lce": False,
                "fractions": (25,), "lce_test": 40, "target": "final", "lce_budget": "cheap"}


def predict_spec(cfg: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The :data:`PREDICT_SPEC` of a predict experiment's config, defaults filled in (hashable: a unit's key)."""
    c = {**PREDICT_SPEC, **cfg, "experiment": cfg.get("base_experiment", cfg["experiment"])}
    c["with_lce"], c["fractions"] = bool(c["with_lce"]), tuple(c["fractions"])
    return tuple((k, c[k]) for k in PREDICT_SPEC)


def _unit_predict(spec: tuple[tuple[str, Any], ...], dataset: str, rep: int) -> pd.DataFrame:
    """Repeat ``rep`` of a prediction experiment on ``dataset``: the rows it has in the full run (every repeat
    draws its own split and seeds), LCE's rows alone when the experiment adds LCE to another."""
    from .predictors.experiments import run_experiment

    s = dict(spec)
    cs = load_dataset(dataset)
    n_train = min(s["n_train"], cs.n_configs // 2)
    df = run_experiment(cs, s["experiment"], repeats=rep + 1, n_train=n_train, budget=s["budget"], seed=s["seed"],
                        with_lce=s["with_lce"], fractions=s["fractions"], progress=False, lce_test=s["lce_test"],
                        target=s["target"], lce_budget=s["lce_budget"], repeat_ids=[rep])
    if s["with_lce"]:
        df = df[df.method == "lce"]
    if ":" in dataset:  # a variant (e.g. name:diverged=drop) keeps its option in the rows, beside the plain dataset
        df = df.assign(dataset=f"{cs.name}:{dataset.split(':', 1)[1]}")
    return df


def _unit_cell(cell: Cell) -> RunRecord:
    return run_cell(cell)


def unit_key(fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """What a unit computes, as a digest: its cache file's name, and equal for two experiments' equal units."""
    return hashlib.sha256(repr((fn.__name__, args)).encode()).hexdigest()[:24]


#: units whose results depend only on these modules and what they import (the unit itself is a one-line call into
#: them): their saved results live under that code's version and survive edits elsewhere (the extrapolation
#: test's contexts take hours, over several sessions); every other unit's are under the whole harness's version
UNIT_ROOTS = {"_unit_extrapolation": ("harness.predictors.extrapolation", "harness.families.lcbench")}


def unit_cache(cache: Path, fn: Callable[..., Any]) -> Path:
    """The folder of ``fn``'s saved results: ``cache`` (``.units/<code hash>``), or for a unit of
    :data:`UNIT_ROOTS` a sibling named by its own code version."""
    from .codeversion import closure_hash

    roots = UNIT_ROOTS.get(fn.__name__)
    return cache if roots is None else cache.parent / f"{fn.__name__}-{closure_hash(roots)}"


def _cached(cache: Path | None, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, float | None]:
    """Run a unit, or load its result saved by an earlier (possibly crashed) run of the same code; with the
    seconds it took (None when it was loaded)."""
    if cache is not None:
        cache = unit_cache(cache, fn)
        cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{unit_key(fn, args)}.pkl" if cache is not None else None
    if path is not None and path.is_file():
        return joblib.load(path), None
    t0 = time.perf_counter()
    res = fn(*args)
    secs = time.perf_counter() - t0
    if path is not None:
        tmp = path.with_suffix(".tmp")
        joblib.dump(res, tmp)
        tmp.replace(path)
    return res, secs


def _run_chain(cache: Path | None, chain: list[tuple[Callable[..., Any], tuple[Any, ...]]]
               ) -> list[tuple[Any, float | None]]:
    """Units one after another in one process: those of a chain refit the same models, which the process's fit
    cache (:func:`harness.predictors.srm.fit_tau`) then holds."""
    return [_cached(cache, fn, args) for fn, args in chain]


def _cell_params(cell: Cell) -> dict[str, Any]:
    return cell.params.to_dict() if hasattr(cell.params, "to_dict") else dict(cell.params)


def _unit_extrapolation(dataset: str, points: int, model: str, seed: int, epochs: tuple[tuple[str, int], ...]
                        ) -> dict[str, Any]:
    """One context of ifBO's extrapolation test (:mod:`harness.predictors.extrapolation`) for one model."""
    from .predictors.extrapolation import evaluate

    return {"dataset": dataset, **evaluate(load_dataset(dataset), points, model, seed=seed, epochs=dict(epochs))}


def unit_label(fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """What a unit computes, in a few words (the manifest's slowest units)."""
    if fn is _unit_predict:
        return f"predict {dict(args[0])['experiment']} {args[1]} seed {args[2]}"
    if fn is _unit_extrapolation:
        return f"extrapolation {args[2]} {args[0]} N={args[1]} seed {args[3]}"
    cell = args[0]
    params = _cell_params(cell)
    extra = " ".join(f"{k}={params[k]}" for k in ("predictor", "d", "eta") if k in params)
    return f"{cell.algorithm} {cell.dataset} seed {cell.seed}" + (f" {extra}" if extra else "")


def unit_times(units: list[tuple[str, Callable[..., Any], tuple[Any, ...]]], seconds: dict[int, float | None],
               top: int = 15) -> dict[str, Any]:
    """Where a run's time went: CPU-bound seconds per experiment (summed over its units, in whichever process
    ran them), the mean seconds of each unit kind (what the next run orders its chains by) and the slowest units.
    Units loaded from the cache count nothing, nor do units equal to another experiment's (computed once)."""
    per: dict[str, float] = {}
    for i, (n, _, _) in enumerate(units):
        per[n] = per.get(n, 0.0) + (seconds.get(i) or 0.0)
    slow = sorted((i for i in seconds if seconds[i]), key=lambda i: -(seconds[i] or 0.0))[:top]
    kinds: dict[str, list[float]] = {}
    for i, secs in seconds.items():
        if secs is not None:
            kinds.setdefault(unit_kind(units[i][1], units[i][2]), []).append(secs)
    return {"seconds_by_experiment": {n: round(v, 1) for n, v in sorted(per.items(), key=lambda kv: -kv[1])},
            "seconds_by_kind": {k: round(sum(v) / len(v), 3) for k, v in sorted(kinds.items())},
            "slowest_units": [{"experiment": units[i][0], "unit": unit_label(units[i][1], units[i][2]),
                               "seconds": round(seconds[i] or 0.0, 1)} for i in slow],
            "units_loaded_from_cache": sum(1 for i in seconds if seconds[i] is None)}


def unit_kind(fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """A unit's label without its seed (repeat): units of one kind cost about the same."""
    return re.sub(r" seed \d+", "", unit_label(fn, args))


def chain_key(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """Units that fit the same models, None for a unit that shares none: the prediction experiments' repeats of
    one dataset and split (their first cells share a seed: targets' nu-SVR cells are table1's), early stopping's
    orderings of one dataset, predictor and seed under every threshold (the same curves reach the same SRM fits until the
    thresholds part them: 83% of the fits of fig4's cells recur), f-Hyperband's cells of one dataset, seed,
    eta and predictor (its variants share the first brackets' fits)."""
    if fn is _unit_predict:
        s = dict(args[0])
        return ("predict", args[1], s["n_train"], s["seed"], args[2])
    if fn is not _unit_cell:
        return None
    cell = args[0]
    p = _cell_params(cell)
    if cell.algorithm == "earlystop":
        return ("earlystop", cell.dataset, p.get("predictor"), p.get("n_burnin"), cell.seed)
    if cell.algorithm == "fhyperband" and p.get("predictor") not in ("oracle", "lastseen"):
        return ("fhyperband", cell.dataset, cell.seed, p.get("eta"), p.get("predictor"))
    return None


def _guess_seconds(fn: Callable[..., Any], args: tuple[Any, ...]) -> float:
    """A unit's cost before any run measured its kind (seconds on one core, order of magnitude)."""
    if fn is _unit_predict:
        return 5.0
    if fn is _unit_extrapolation:
        return {"dpl": 30.0, "dyhpo": 60.0, "nusvr": 2.0}.get(args[2], 0.01) * args[1] / 1000
    cell = args[0]
    p = _cell_params(cell)
    pred = p.get("predictor")
    if pred == "qsvr":
        return 40.0
    if cell.algorithm == "earlystop":
        return 4.0 if pred == "nusvr" else 1.0
    if cell.algorithm == "fhyperband" and pred not in ("oracle", "lastseen"):
        return 10.0
    return 0.3


def measured_seconds(*folders: Path) -> dict[str, float]:
    """Seconds per unit kind that earlier full runs recorded (manifest.json 'time', the first folder first)."""
    out: dict[str, float] = {}
    for folder in reversed(folders):
        try:
            m = json.loads((folder / "manifest.json").read_text())
        except (OSError, json.JSONDecodeError):
            continue
        for entry in [m, *m.get("reruns", [])]:
            out.update((entry.get("time") or {}).get("seconds_by_kind", {}))
    return out


def plan(units: list[tuple[str, Callable[..., Any], tuple[Any, ...]]], known: dict[str, float]
         ) -> tuple[list[list[int]], dict[int, int]]:
    """The chains to run (lists of unit indices, costliest first, so the pool stays busy to the end) and, for
    every unit equal to an earlier one (same :func:`unit_key`), that unit's index: it is computed once."""
    first: dict[str, int] = {}
    same: dict[int, int] = {}
    chains: dict[Any, list[int]] = {}
    for i, (_, fn, args) in enumerate(units):
        k = unit_key(fn, args)
        if k in first:
            same[i] = first[k]
            continue
        first[k] = i
        ck = chain_key(fn, args)
        chains.setdefault(("chain", ck) if ck is not None else ("unit", i), []).append(i)

    def cost(chain: list[int]) -> float:
        return sum(known.get(unit_kind(units[i][1], units[i][2])) or _guess_seconds(units[i][1], units[i][2])
                   for i in chain)

    return sorted(chains.values(), key=lambda c: (-cost(c), c[0])), same


def _units(cfg: dict[str, Any]) -> list[tuple[Callable[..., Any], tuple[Any, ...]]]:
    kind = cfg["kind"]
    if kind == "predict":
        # one unit per repeat: fine-grained for the pool, and shared between experiments of the same spec
        spec = predict_spec(cfg)
        return [(_unit_predict, (spec, ds, rep)) for ds in cfg["datasets"]
                for rep in range(cfg["repeats"])]
    if kind == "extrapolation":
        epochs = tuple(sorted((cfg.get("epochs") or {}).items()))
        return [(_unit_extrapolation, (ds, int(n), m, rep, epochs)) for ds in cfg["datasets"] for n in cfg["points"]
                for m in cfg["models"] for rep in range(cfg["repeats"])]
    cells = []
    if kind == "fhb_study":
        return [(_unit_cell, (c,)) for _, c in fhb_study_cells(cfg) + swift_oracle_cells(cfg)]
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
        from .algorithms import build_configs

        # "swift_qsvr" / "fhyperband_qsvr" are Swift / f-Hyperband with the QSVR predictor (settings from the
        # experiment's qsvr block)
        qsvr = [a[: -len("_qsvr")] for a in cfg["algorithms"] if a in QSVR_INSTANCES]
        instances = [f"{a[: -len('_qsvr')]}@qsvr" if a in QSVR_INSTANCES else a for a in cfg["algorithms"]]
        # an experiment's params may name algorithms that its --quick variant leaves out
        bases = {i.split("@")[0] for i in instances} | set(instances)
        settings = {k: v for k, v in cfg["params"].items() if "." not in k or k.rsplit(".", 1)[0] in bases}
        for a in qsvr:
            settings.update({f"{a}@qsvr.{k}": v for k, v in {"predictor": "qsvr", **cfg.get("qsvr", {})}.items()})
        configs = build_configs(instances, settings, option=f"conf/reproduce/{cfg['experiment']}.yaml params")
        from .adapters import is_adapter

        for ds in cfg["datasets"]:
            for acc in cfg["accounting"]:
                for workers in cfg.get("workers", [1]):
                    for inst in instances:
                        base = inst.split("@")[0]
                        params = configs[inst].to_dict() if is_adapter(base) else configs[inst]
                        for s in range(cfg["seeds"]):
                            cells.append(Cell(ds, base, params, seed=s, accounting=acc, workers=workers))
    return [(_unit_cell, (c,)) for c in cells]


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
              progress: bool = True, overrides: list[str] | None = None, resume: bool = True,
              why: str | None = None) -> dict[str, Any]:
    """Unit results are saved under ``<out_dir>/.units/<code hash>/`` as they finish, so a crash loses
    nothing and a rerun with the same code reuses them (``resume=False`` recomputes everything). A subset of the
    experiments rebuilt in a folder holding a full run is merged into its manifest, summary and README, with an
    entry in ``reruns`` (``why``: the reason, shown in the README)."""
    from joblib import Parallel, delayed

    from .reporting.paper import write_readme
    from .runner import check_n_jobs

    check_n_jobs(n_jobs)
    from .reporting.results import write_earlystop, write_predict, write_replay

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfgs = {n: load_config(n, quick, overrides) for n in names}
    units = [(n, fn, args) for n, cfg in cfgs.items() for fn, args in _units(cfg)]
    chains, same = plan(units, measured_seconds(out, REPO_ROOT / "results"))
    t0 = time.perf_counter()
    par = Parallel(n_jobs=n_jobs, return_as="generator")
    results: dict[int, Any] = {}
    seconds: dict[int, float | None] = {}
    cache = out / ".units" / f"{code_hash()}{'-quick' if quick else ''}" if resume else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    gen = par(delayed(_run_chain)(cache, [units[i][1:] for i in chain]) for chain in chains)
    with tqdm(total=len(units) - len(same), desc="reproduce", unit="unit", disable=not progress) as bar:
        for chain, got in zip(chains, gen, strict=True):
            for i, (res, secs) in zip(chain, got, strict=True):
                results[i], seconds[i] = res, secs
            bar.update(len(chain))
    for i, j in same.items():  # another experiment's equal unit: computed once
        results[i], seconds[i] = results[j], None
    wall = time.perf_counter() - t0
    summaries: dict[str, Any] = {}
    datasets: set[str] = set()
    for n, cfg in cfgs.items():
        got = [results[i] for i in range(len(units)) if units[i][0] == n]
        datasets.update(cfg["datasets"])
        if cfg["kind"] == "predict":
            summaries[n] = write_predict(cfg, got, out)
        elif cfg["kind"] == "fhb_study":
            from .reporting.fhb_study import write_fhb_study

            summaries[n] = write_fhb_study(cfg, got, out)
        elif cfg["kind"] == "earlystop":
            summaries[n] = write_earlystop(cfg, got, out)
        elif cfg["kind"] == "extrapolation":
            from .reporting.extrapolation import write_extrapolation

            summaries[n] = write_extrapolation(cfg, got, out)
        else:
            summaries[n] = write_replay(cfg, got, out)
    hashes = {}
    for d in sorted(datasets):
        cs = load_dataset(d)
        hashes[d] = {"hash": cs.content_hash(), "configs": cs.n_configs, "epochs": cs.n_epochs}
    command = f"harness reproduce {' '.join(names)}" + (" --quick" if quick else "")
    spent = unit_times(units, seconds)
    manifest = {"experiments": {n: {k: v for k, v in c.items()} for n, c in cfgs.items()}, "quick": quick,
                "datasets": hashes, "versions": _versions(), "git_sha": _git_sha(), "wall_seconds": round(wall, 1),
                "units": len(units), "code_hash": code_hash(), "command": command, "time": spent}
    manifest, summaries = merge_into_full_run(out, manifest, summaries, why)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    (out / "summary.json").write_text(json.dumps(summaries, indent=2, default=str) + "\n")
    write_readme(out, summaries, manifest)
    return summaries


def merge_into_full_run(out: Path, manifest: dict[str, Any], summaries: dict[str, Any], why: str | None
                        ) -> tuple[dict[str, Any], dict[str, Any]]:
    """A run of some experiments (rebuilt, or new ones) in a folder holding a full run is merged into it: the full
    run's manifest and summaries with this run's experiments replaced or added, and an entry in ``reruns`` saying
    which, when and why. A quick run, or one that covers every experiment of the folder's, replaces it."""
    old = _full_run(out)
    names = list(manifest["experiments"])
    if old is None or manifest.get("quick") or set(old[0]["experiments"]) <= set(names):
        return manifest, summaries
    merged, all_summaries = old
    merged["experiments"].update(manifest["experiments"])
    merged["datasets"].update(manifest["datasets"])
    merged.setdefault("reruns", []).append({
        "command": manifest["command"], "experiments": names, "wall_seconds": manifest["wall_seconds"],
        "git_sha": manifest["git_sha"], "code_hash": manifest["code_hash"],
        "why": why or "(no reason given: harness reproduce --why)", "time": manifest["time"]})
    return merged, {**all_summaries, **summaries}


def _full_run(out: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The manifest and summaries of a full (not quick) run in ``out``, if there is one."""
    try:
        manifest = json.loads((out / "manifest.json").read_text())
        summaries = json.loads((out / "summary.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return (manifest, summaries) if not manifest.get("quick") else None


def run_leaderboard(out_dir: str | Path, *, quick: bool = False, n_jobs: int = -1, progress: bool = True,
                    command: str = "harness reproduce leaderboard", report_only: bool = False) -> Path:
    """The leaderboard suite (conf/bench/leaderboard.yaml) run like any suite (resumable: the records stay under
    ``<out_dir>/leaderboard/``; shard it with ``harness bench leaderboard --n-shards``), then
    ``<out_dir>/leaderboard.md``. ``quick``: three datasets of three families, 2 seeds (the CI test).
    ``report_only``: the page from the records already there, nothing run (the wall time stated is the last
    recorded run's)."""
    import dataclasses

    from .bench import load_suite, planned_records, run_suite
    from .reporting.budgeted import write_budgeted
    from .reporting.leaderboard import write_leaderboard

    out = Path(out_dir)
    suite = load_suite("leaderboard")
    suite = dataclasses.replace(suite, out=str(out.resolve() / "leaderboard"))
    if quick:
        suite = dataclasses.replace(suite, datasets=("digits_cnn", "swifthb_mnist_cnn", "taskset_imdb_p32_gru64_avg"),
                                    seeds=(0, 1), algorithms={a: v for a, v in suite.algorithms.items()
                                                              if a in ("hyperband", "asha", "swift", "random",
                                                                       "optuna:HyperbandPruner", "smac:Hyperband",
                                                                       "synetune:BOHB")},
                                    budget=10, read_at=(2, 5, 10))
    state = suite.out_dir / "wall_seconds.json"
    try:
        runs = json.loads(state.read_text()).get("runs", []) if state.is_file() else []
    except (OSError, json.JSONDecodeError, AttributeError):
        runs = []
    if report_only:
        last = runs[-1] if runs else None
    else:
        before = len(planned_records(suite)[0])
        t0 = time.perf_counter()
        run_suite(suite, backend="joblib", n_jobs=n_jobs, progress=progress)
        # the page states the wall time of the run that made it (not a sum over interrupted ones) and how many runs
        # it computed (a resumed board computes only the missing ones); each run's is kept
        last = {"wall_seconds": round(time.perf_counter() - t0, 1), "computed": len(planned_records(suite)[0]) - before}
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"wall_seconds": last["wall_seconds"], "runs": [*runs, last]}) + "\n")
    # entries written before the count was kept are bare seconds
    wall = float("nan") if last is None else float(last["wall_seconds"] if isinstance(last, dict) else last)
    computed = last.get("computed") if isinstance(last, dict) else None
    table, cells = planned_records(suite)
    if table.empty:
        raise ValueError(f"{suite.out_dir}: no records of the leaderboard suite at this code version; run "
                         f"`{command.split(' --report-only')[0]}` without --report-only first")
    code = {"git_sha": _git_sha(), "code_hash": code_hash()}
    if suite.budget is not None:
        def side(name: str) -> pd.DataFrame:  # a suite at the board's protocol, run beside it into out/<name>
            side_suite = dataclasses.replace(load_suite(name), out=str(out.resolve() / name))
            if not report_only:
                run_suite(side_suite, backend="joblib", n_jobs=n_jobs, progress=progress)
            return planned_records(side_suite)[0]

        # what the predictor-driven mechanisms could reach with a perfect predictor (same protocol), and the surrogate
        # tasks' like-for-like check (the searchers on the same rows as the others)
        bounds = None if quick else side("leaderboard_bounds")
        samerows = None if quick else side("leaderboard_samerows")
        return write_budgeted(suite, table, out / "leaderboard.md", wall_seconds=wall, command=command, code=code,
                              planned=len(cells), bounds=bounds, computed=computed, samerows=samerows)
    return write_leaderboard(suite, table, out / "leaderboard.md", wall_seconds=wall, command=command, code=code)
