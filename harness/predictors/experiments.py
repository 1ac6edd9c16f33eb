"""Baker et al. prediction experiments: Table 1 (model zoo), Table 2 (feature ablation), Figure 3 (R^2 vs
observed fraction) and Table 8 (out-of-distribution splits); ``targets`` (not in the paper) compares
nu-SVR's regression targets final / delta / auto against last-seen-value. Their tables and figures are
in :mod:`harness.reporting.predict`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..store import CurveSet
from . import TARGETS
from .features import FeatureBuilder
from .protocol import Task, run_protocol

EXPERIMENTS = ("table1", "table2", "fig3", "table8", "targets", "ablation")
#: issue #18's ablation: which step of the SRM pipeline loses accuracy on spiky curves
ABLATION_FRACTIONS = (25, 40, 60, 80)
TABLE1_METHODS = ("nusvr", "ols", "blr", "rf")
TABLE2_SETS = ("HP", "AP", "TS", "AP+HP", "TS+HP", "TS+AP", "TS+AP+HP")
FIG3_METHODS = ("nusvr", "blr", "lastseen")
FIG3_FRACTIONS = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90)


def usable_sets(cs: CurveSet, sets: tuple[str, ...]) -> list[str]:
    out = []
    for s in sets:
        try:
            FeatureBuilder(cs, s)(np.arange(2), 1)
            out.append(s)
        except ValueError:
            continue
    return out


def tasks_for(experiment: str, cs: CurveSet, *, fractions: tuple[float, ...] = FIG3_FRACTIONS,
              with_lce: bool = False, features: str = "TS+AP+HP", target: str = "final",
              with_freezethaw: bool = False) -> list[Task]:
    """The prediction tasks of an experiment; ``with_freezethaw`` appends DPL's and DyHPO's models (table1, fig3)
    after every other task, so the others keep their seeds."""
    tasks = _tasks_for(experiment, cs, fractions=fractions, with_lce=with_lce, features=features, target=target)
    if with_freezethaw and experiment in ("table1", "fig3"):
        fr = (25,) if experiment == "table1" else fractions
        tasks += [Task(m, "TS", f) for f in fr for m in ("dpl", "dyhpo")]
    return tasks


def _tasks_for(experiment: str, cs: CurveSet, *, fractions: tuple[float, ...] = FIG3_FRACTIONS,
               with_lce: bool = False, features: str = "TS+AP+HP", target: str = "final") -> list[Task]:
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment is {experiment!r}, but must be one of {EXPERIMENTS}")
    feats = features if features in usable_sets(cs, (features,)) else "TS"
    if experiment == "table1":
        return [Task(m, feats, 25, target) for m in TABLE1_METHODS]
    if experiment == "table2":
        return [Task("nusvr", s, 25, target) for s in usable_sets(cs, TABLE2_SETS)]
    if experiment == "table8":
        return [Task("nusvr", feats, 25, target)]
    if experiment == "targets":
        return [Task("nusvr", feats, 25, t) for t in TARGETS] + [Task("lastseen", "TS", 25)]
    if experiment == "ablation":
        raw, flat = (("clip_features", None),), (("level_tol", None),)
        out = []
        for f in fractions:
            out += [Task("nusvr", "TS", f), Task("nusvr", "TS", f, options=flat), Task("nusvr", "TS", f, options=raw),
                    Task("nusvr", "PREFIX", f), Task("nusvr", "PREFIX", f, options=raw), Task("blr", "TS", f),
                    Task("blr", "TS", f, options=flat), Task("blr", "TS", f, options=raw),
                    Task("swift_svr", "PREFIX", f), Task("lastseen", "TS", f)]
        # appended after every fraction's block, so the tasks above keep their seeds
        return (out + [Task("nusvr", "TS", f, options=(("keep_collapsed", False),)) for f in fractions]
                + [Task("blr", "TS", f, options=(("halflife", (1.0, 100.0)),)) for f in fractions])
    methods = FIG3_METHODS + (("lce",) if with_lce else ())
    return [Task(m, "TS" if m == "lastseen" else feats, f, target) for f in fractions for m in methods]


def run_experiment(cs: CurveSet, experiment: str, *, repeats: int = 10, n_train: int = 100,
                   budget: str | int = "cheap", seed: int = 0, swapped: bool = False, with_lce: bool = False,
                   fractions: tuple[float, ...] = FIG3_FRACTIONS, split_column: str | None = None,
                   progress: bool = True, lce_test: int = 40, clip: str = "observed",
                   target: str = "final", lce_budget: str = "cheap", n_jobs: int = 1,
                   repeat_ids: list[int] | None = None, with_freezethaw: bool = False) -> pd.DataFrame:
    """The rows of one prediction experiment on ``cs`` (``n_jobs``: repeats in parallel processes, same rows;
    ``repeat_ids``: only those repeats, with the rows they have in the full run)."""
    if cs.n_configs < 4:
        raise ValueError(f"dataset {cs.name!r} has {cs.n_configs} configuration(s) with a finite curve; the R^2 protocol "
                         "needs at least 4 (2 to train on, 2 to test)")
    if cs.n_epochs < 2:
        raise ValueError(f"dataset {cs.name!r} records {cs.n_epochs} epoch(s); the R^2 protocol needs at least 2 (a "
                         "prefix and a final value)")
    tasks = tasks_for(experiment, cs, fractions=fractions, with_lce=with_lce, target=target,
                      with_freezethaw=with_freezethaw)
    if experiment != "table8":
        df = run_protocol(cs, tasks, n_train=n_train, repeats=repeats, budget=budget, seed=seed, swapped=swapped,
                          progress=progress, desc=experiment, lce_test=lce_test, clip=clip, lce_budget=lce_budget,
                          n_jobs=n_jobs, repeat_ids=repeat_ids)
        df.insert(0, "experiment", experiment)
        return df
    if split_column is None:
        raise ValueError("table8 needs --split-column (an HP or AP column to split at its median)")
    if split_column not in cs.configs.columns:
        raise ValueError(f"split column {split_column!r} is not a column of {cs.name}")
    v = cs.configs[split_column].to_numpy(dtype=float)
    med = float(np.nanmedian(v))
    below, above = np.flatnonzero(v <= med), np.flatnonzero(v > med)
    frames = []
    for name, tr, te in (("test>median", below, above), ("test<median", above, below)):
        n = min(n_train, len(tr) - 1)
        df = run_protocol(cs, tasks, n_train=n, repeats=repeats, budget=budget, seed=seed, swapped=swapped,
                          train_side=tr, test_side=te, progress=progress, desc=f"table8 {name}", clip=clip,
                          n_jobs=n_jobs, repeat_ids=repeat_ids)
        df.insert(0, "experiment", "table8")
        df["split"] = f"{split_column} {name} ({med:.4g})"
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
