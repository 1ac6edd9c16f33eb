"""Syne Tune's tabulated-blackbox format, in and out.

A blackbox folder as Syne Tune's ``blackbox_repository.blackbox_tabular.serialize`` writes it:
``hyperparameters.parquet`` (one row per configuration, one column per config-space entry), ``configspace.json`` and ``fidelityspace.json``
(Syne Tune's config-space JSON), ``objectives_evaluations.npy`` of shape (tasks, configurations, seeds,
fidelities, objectives), ``fidelities_values.npy`` and ``metadata.json`` (``objectives_names``,
``task_names``). Syne Tune's own ``deserialize`` reads what :func:`export_blackbox` writes
(tests/test_blackbox.py), and :func:`import_blackbox` reads folders Syne Tune wrote (LCBench, NAS-Bench-201,
FCNet, PD1, YAHPO as its repository converts them).

Round trips are exact: the values are stored as float64 (Syne Tune's serializer uses float32, its loader
accepts either), all config columns go into ``lc_harness_configs.parquet`` beside it, and this project's schema (metric
directions, objective, feature kinds, provenance) rides along in ``metadata.json`` under ``lc_harness``, so
exporting and importing again gives the same content hash.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..store import CurveSet, DatasetError, Feature

log = logging.getLogger(__name__)

FILES = ("hyperparameters.parquet", "objectives_evaluations.npy", "fidelities_values.npy", "metadata.json")
SECONDS = "epoch_seconds"  # the objective that carries per-epoch seconds in an exported blackbox
CONFIGS = "lc_harness_configs.parquet"  # every config column (Syne Tune reads only hyperparameters.parquet)
#: Syne Tune metadata keys naming a cumulative time objective, in the repository's conversion scripts
ELAPSED_KEYS = ("metric_elapsed_time", "elapsed_time_attr")


#: the seed column an export adds when configurations repeat (Syne Tune's BlackboxTabular refuses duplicate
#: hyperparameter rows: "some hps are duplicated, use a seed column")


def is_blackbox(path: str | Path) -> bool:
    """A folder Syne Tune's serializer wrote: one tabular blackbox, or per-task files (PD1's layout)."""
    p = Path(path)
    return all((p / f).is_file() for f in FILES) or (
        (p / "metadata.json").is_file() and any(p.glob("*-hyperparameters.parquet")))


def repository_root() -> Path:
    """Where Syne Tune keeps its blackbox repository (``~/.blackbox-repository``; ``$SYNETUNE_BLACKBOX_REPOSITORY``
    overrides it here)."""
    import os

    env = os.environ.get("SYNETUNE_BLACKBOX_REPOSITORY")
    return Path(env).expanduser() if env else Path("~/.blackbox-repository").expanduser()


#: blackboxes of Syne Tune's repository that are tabulated learning curves (what the harness replays)
REPOSITORY_NAMES = ("lcbench", "nasbench201", "fcnet", "pd1")


def repository_path(name: str) -> Path:
    """The folder of ``synetune:<name>`` in the local repository (``yahpo-<x>`` lives under ``yahpo/<x>``);
    absent is a one-line error saying where it looked and how Syne Tune downloads it."""
    root = repository_root()
    folder = root / "yahpo" / name[len("yahpo-"):] if name.startswith("yahpo-") else root / name
    if not folder.is_dir():
        have = sorted(d.name for d in root.iterdir() if d.is_dir()) if root.is_dir() else []
        raise DatasetError(f"synetune:{name}: {folder} does not exist (Syne Tune's blackbox repository at {root} "
                           f"holds {', '.join(have) or 'nothing'}); download it once with: python -c \"from "
                           f"syne_tune.blackbox_repository import load_blackbox; load_blackbox('{name}')\"")
    if not is_blackbox(folder):
        raise DatasetError(f"synetune:{name}: {folder} is not a tabulated blackbox (no hyperparameters.parquet, "
                           "objectives_evaluations.npy and metadata.json); only tabulated learning curves replay")
    return folder


def _config_space(cs: CurveSet, tunable_ap: bool = False) -> dict[str, Any]:
    """Syne Tune's config space of a dataset's hyperparameters: a surrogate benchmark's own space where it has
    one (its ranges, types and log scales), else each hp column's type and range over the pool, log-scaled ones
    as ``loguniform`` / ``lograndint``. Architecture (``ap``) columns describe a configuration but are not tuned:
    they stay out (``tunable_ap`` puts them in)."""
    from syne_tune.config_space import choice, lograndint, loguniform, randint, uniform

    if cs.surrogate is not None and getattr(cs.surrogate, "space", None) is not None:
        from .synetune import synetune_space

        return synetune_space(cs.surrogate.space)
    space: dict[str, Any] = {}
    for f in cs.features:
        if f.kind == "ap" and not tunable_ap:
            continue
        col = cs.configs[f.name]
        if f.type == "categorical":
            values = sorted({str(v) for v in col.dropna()})
            if values:
                space[f.name] = choice(values)
            continue
        v = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        if not len(v):
            continue
        lo, hi = float(v.min()), float(v.max())
        if hi <= lo:
            continue
        if f.type == "int":
            space[f.name] = (lograndint if f.log and lo > 0 else randint)(int(lo), int(hi))
        elif f.log and lo > 0:
            space[f.name] = loguniform(lo, hi)
        else:
            space[f.name] = uniform(lo, hi)
    return space


def export_blackbox(cs: CurveSet, out: str | Path, *, tunable_ap: bool = False) -> Path:
    """Write ``cs`` as a one-task Syne Tune blackbox (fidelity = epoch 1..T). Repeated trainings of one
    configuration (rows with equal hyperparameters) go on Syne Tune's seed axis, as its benchmarks keep repeats:
    one configuration a row of ``hyperparameters.parquet``, its k-th run at seed k; a configuration with fewer runs
    than the most repeated one has NaN at the seeds it lacks (Syne Tune's seed axis is dense; ``metadata.json``
    gives each configuration's run count). Every original row rides along for exact round trips."""
    try:
        from syne_tune.config_space import config_space_to_json_dict, randint
    except ImportError:
        raise ValueError("export --format synetune needs Syne Tune (pip install 'lc-harness[synetune]')") from None
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    configs = cs.configs.copy()
    configs["config_id"] = configs["config_id"].astype(str)
    space = _config_space(cs, tunable_ap)
    cols = [c for c in space if c in configs.columns]
    hps_all = configs[cols].copy()
    if cols:
        key = pd.MultiIndex.from_frame(hps_all.astype(str)) if len(cols) > 1 else hps_all[cols[0]].astype(str)
        codes, uniques = pd.factorize(key)
    else:
        codes = np.arange(len(hps_all))
    seed_of = pd.Series(codes).groupby(codes).cumcount().to_numpy()
    n_unique, n_seeds = int(codes.max(initial=-1)) + 1, int(seed_of.max(initial=0)) + 1
    first = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
    hps = hps_all.iloc[first].reset_index(drop=True)
    names = list(cs.metrics) + ([SECONDS] if cs.epoch_seconds is not None else [])
    values = cs.curves if cs.epoch_seconds is None else np.concatenate([cs.curves, cs.epoch_seconds[:, :, None]],
                                                                       axis=2)
    evals = np.full((1, n_unique, n_seeds, cs.n_epochs, len(names)), np.nan)
    evals[0, codes, seed_of] = values
    hps.to_parquet(d / "hyperparameters.parquet", index=False)
    configs.to_parquet(d / CONFIGS, index=False)
    np.save(d / "objectives_evaluations.npy", evals, allow_pickle=False)
    np.save(d / "fidelities_values.npy", np.arange(1, cs.n_epochs + 1), allow_pickle=False)
    (d / "configspace.json").write_text(json.dumps(config_space_to_json_dict(space), indent=2))
    (d / "fidelityspace.json").write_text(json.dumps(config_space_to_json_dict({"epoch": randint(1, cs.n_epochs)})))
    runs = np.bincount(codes, minlength=n_unique)
    meta = {"objectives_names": names, "task_names": [cs.name], "resource_attr": "epoch",
            "lc_harness": {"name": cs.name, "metrics": dict(cs.metrics), "objective": cs.objective,
                           "features": {f.name: f.to_json() for f in cs.features}, "provenance": cs.provenance,
                           "content_hash": cs.content_hash(), "seconds_objective": SECONDS
                           if cs.epoch_seconds is not None else None,
                           "rows": [[int(c), int(k)] for c, k in zip(codes, seed_of, strict=True)],
                           "runs_per_config": runs.tolist(), "repeated_rows": int((seed_of > 0).sum()),
                           "not_tuned": [f.name for f in cs.features if f.name not in space],
                           "space_from": "surrogate" if cs.surrogate is not None else "pool"}}
    (d / "metadata.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return d


def import_blackbox(path: str | Path, *, task: str | None = None, seed: int = 0, objective: str | None = None,
                    mode: str | None = None, name: str | None = None) -> CurveSet:
    """A blackbox folder as a curve set: one task and one seed of it (a Syne Tune blackbox may hold several of
    each); metric directions from this project's metadata when present, else ``mode`` / the metric's name."""
    p = Path(path)
    try:
        meta = json.loads((p / "metadata.json").read_text())
    except json.JSONDecodeError as e:
        raise DatasetError(f"{p / 'metadata.json'}: invalid JSON ({e.msg})") from None
    for key in ("objectives_names", "task_names"):
        if key not in meta:
            raise DatasetError(f"{p / 'metadata.json'}: missing field {key!r} (not a Syne Tune blackbox?)")
    names, tasks = list(meta["objectives_names"]), list(meta["task_names"])
    task = task if task is not None else tasks[0]
    if task not in tasks:
        raise DatasetError(f"{p}: no task {task!r}; tasks: {', '.join(map(str, tasks))}")
    per_task = not (p / "objectives_evaluations.npy").is_file()  # PD1's layout: <task>-<file> per task
    epath = p / (f"{task}-objectives_evaluations.npy" if per_task else "objectives_evaluations.npy")
    if not epath.is_file():
        raise DatasetError(f"{epath}: file not found")
    evals = np.load(epath, allow_pickle=False)
    if evals.ndim != (4 if per_task else 5):
        axes = "configs, seeds, fidelities, objectives" if per_task else "tasks, configs, seeds, fidelities, objectives"
        raise DatasetError(f"{epath}: expected {axes.count(',') + 1} axes ({axes}), got shape {evals.shape}")
    if per_task:
        evals = evals[None]
    if not 0 <= seed < evals.shape[2]:
        raise DatasetError(f"{p}: seed {seed} out of range [0, {evals.shape[2]})")
    ours = meta.get("lc_harness") or {}
    if ours.get("rows") is not None:  # our own export: every original row, from its (configuration, seed)
        rows = np.asarray(ours["rows"], dtype=np.intp).reshape(-1, 2)
        values = np.asarray(evals[tasks.index(task), rows[:, 0], rows[:, 1]], dtype=np.float64)
    else:
        values = np.asarray(evals[0 if per_task else tasks.index(task), :, seed], dtype=np.float64)
    hp_file = (CONFIGS if ours and (p / CONFIGS).is_file() else
               f"{task}-hyperparameters.parquet" if per_task else "hyperparameters.parquet")
    hps = pd.read_parquet(p / hp_file).reset_index(drop=True)
    if ours.get("seed_column") and ours["seed_column"] in hps.columns and hp_file != CONFIGS:  # older exports
        hps = hps.drop(columns=[ours["seed_column"]])
    sec_name = ours.get("seconds_objective")
    seconds = None
    if sec_name and sec_name in names:
        j = names.index(sec_name)
        seconds = values[:, :, j].copy()
        values = np.delete(values, j, axis=2)
        names.pop(j)
    else:
        elapsed = next((meta[k] for k in ELAPSED_KEYS if meta.get(k) in names), None)
        if elapsed is not None:  # Syne Tune's converted benchmarks record cumulative time: take differences
            cum = values[:, :, names.index(elapsed)]
            seconds = np.diff(np.concatenate([np.zeros((len(cum), 1)), cum], axis=1), axis=1)
    if ours:
        metrics = {m: ours["metrics"][m] for m in names}
        objective = ours["objective"]
        features = tuple(Feature(n, **f) for n, f in ours["features"].items())
        provenance = ours.get("provenance", {})
        cs_name = ours.get("name", task)
    else:
        metrics = {m: (mode if m == objective and mode else _guess_mode(m)) for m in names}
        objective = objective or meta.get("metric_valid_error") or names[0]
        features = _guess_features(hps)
        provenance = {"source": str(p), "format": "syne-tune blackbox", "task": task, "seed": seed}
        cs_name = name or f"{p.name}_{task}"
    if objective not in metrics:
        raise DatasetError(f"{p}: objective {objective!r} is not one of {names}")
    if "config_id" not in hps.columns:
        hps.insert(0, "config_id", [str(i) for i in range(len(hps))])
    return CurveSet(name=name or cs_name, configs=hps, curves=values, metrics=metrics, objective=objective,
                    features=features, epoch_seconds=seconds, provenance=provenance)


def _guess_mode(metric: str) -> str:
    m = metric.lower()
    return "max" if any(k in m for k in ("acc", "auc", "f1", "score", "r2", "precision", "recall")) else "min"


def _guess_features(hps: pd.DataFrame) -> tuple[Feature, ...]:
    out = []
    for c in hps.columns:
        if c == "config_id":
            continue
        s = hps[c]
        if pd.api.types.is_numeric_dtype(s):
            v = s.to_numpy(dtype=float)
            positive = np.all(v[np.isfinite(v)] > 0)
            spread = positive and np.nanmax(v) / max(np.nanmin(v), 1e-300) > 100
            out.append(Feature(str(c), "hp", "int" if pd.api.types.is_integer_dtype(s) else "float", bool(spread)))
        else:
            out.append(Feature(str(c), "hp", "categorical"))
    return tuple(out)
