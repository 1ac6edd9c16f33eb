"""Merge a run directory (all shards) into a stored curve set (no torch needed)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.provenance import dirty_sessions, sessions
from harness.store import CurveSet, Feature, save

log = logging.getLogger(__name__)

HP_TYPES = {"lr": ("float", True), "weight_decay": ("float", True), "batch_size": ("int", True),
            "lr_schedule": ("categorical", False), "optimizer": ("categorical", False),
            "step_epochs": ("int", False), "lrn_scale": ("float", True), "lrn_power": ("float", False),
            "dropout": ("float", False)}


#: how generate measures the per-epoch seconds it records (stored in every exported dataset's provenance)
EPOCH_SECONDS_METHOD = (
    "wall seconds one configuration costs on one worker for one epoch (training + its own evaluation): trained "
    "alone or interleaved on the CPU, the time of its own steps; on a GPU with concurrent streams, the group's "
    "training time shared by step counts; stacked (vmap) training, the stack's time divided by its size")
EPOCH_CPU_SECONDS_METHOD = (
    "process CPU seconds (time.process_time, all threads) of the same steps and evaluation as epoch_seconds: "
    "unlike wall seconds they do not grow when other processes share the cores")


def export(run_dir: str | Path, *, allow_partial: bool = False, name: str | None = None,
           allow_dirty: bool = False) -> CurveSet:
    """The run directory's finished configs as a curve set. A run trained (in any session) from a tree with
    uncommitted code changes is refused unless ``allow_dirty``; then the diff's hash stays in the provenance."""
    d = Path(run_dir)
    meta_path = d / "run.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path}: not a generate run directory")
    meta = json.loads(meta_path.read_text())
    dirty = dirty_sessions(meta)
    if dirty and not allow_dirty:
        first = dirty[0]
        raise ValueError(f"{meta_path}: {len(dirty)} training session(s) ran from a tree with uncommitted changes "
                         f"to {', '.join(first.get('git_dirty_files') or ['the code'])[:120]} (commit "
                         f"{str(first.get('git_sha'))[:10]}); commit and regenerate, or export with allow_dirty=true "
                         "(--allow-dirty) to record the diff's hash")
    settings = meta["settings"]
    configs = [json.loads(line) for line in (d / "configs.jsonl").read_text().splitlines() if line.strip()]
    done = {p.stem: json.loads(p.read_text()) for p in sorted((d / "done").glob("*.json"))}
    missing = [c["config_id"] for c in configs if c["config_id"] not in done]
    if missing and not allow_partial:
        raise ValueError(f"{d}: {len(missing)} of {len(configs)} configs are unfinished (first: {missing[0]}); "
                         "rerun the generate command to resume, or export with --allow-partial")
    configs = [c for c in configs if c["config_id"] in done]
    T = int(settings["epochs"])
    lm = settings["space"]["family"] == "lstm"
    metrics = {"val_loss": "min", "val_acc": "max", "train_loss": "min"} | ({"val_ppl": "min"} if lm else {})
    objective = "val_loss" if lm else "val_acc"
    curves = np.full((len(configs), T, len(metrics)), np.nan)
    seconds = np.full((len(configs), T), np.nan)
    cpu = np.full((len(configs), T), np.nan)
    rows: list[dict[str, Any]] = []
    for i, c in enumerate(configs):
        rec = done[c["config_id"]]
        for e, h in enumerate(rec["history"][:T]):
            curves[i, e] = [h.get(m, np.nan) for m in metrics]
            seconds[i, e] = h.get("seconds", np.nan)
            cpu[i, e] = h.get("cpu_seconds", np.nan)
        hp = dict(c["hp"])
        if "dropout" in c["arch"]:
            hp["dropout"] = c["arch"]["dropout"]
        rows.append({"config_id": c["config_id"], **hp, **{f"ap_{k}": v for k, v in rec["ap"].items()},
                     "status": rec["status"], "arch": json.dumps(c["arch"])})
    df = pd.DataFrame(rows)
    feats = []
    for col in df.columns:
        if col in HP_TYPES and df[col].nunique(dropna=False) > 1:
            t, lg = HP_TYPES[col]
            feats.append(Feature(col, "hp", t, lg))
        elif col.startswith("ap_") and df[col].nunique() > 1:
            feats.append(Feature(col, "ap", "float", col in ("ap_n_weights",)))
    has_cpu = any("cpu_seconds" in h for rec in done.values() for h in rec["history"])
    prov = {**meta["provenance"], "generate_settings": settings, "run_dir": str(d),
            "epoch_seconds": EPOCH_SECONDS_METHOD}
    if meta.get("resumed"):
        prov["resumed"] = meta["resumed"]
        prov["git_clean_all_sessions"] = not dirty and all(s.get("git_clean") for s in sessions(meta))
        prov["git_shas"] = sorted({str(s.get("git_sha")) for s in sessions(meta)})
    if has_cpu:
        prov["epoch_cpu_seconds"] = EPOCH_CPU_SECONDS_METHOD
    return CurveSet(name=name or settings["name"], configs=df, curves=curves, metrics=metrics, objective=objective,
                    features=tuple(feats), epoch_seconds=seconds, epoch_cpu_seconds=cpu if has_cpu else None,
                    provenance=prov)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m generate.export", description="merge a run dir into datasets/")
    p.add_argument("run_dir")
    p.add_argument("--out", help="destination (default datasets/<name>)")
    p.add_argument("--allow-partial", action="store_true")
    p.add_argument("--overwrite", action="store_true", help="replace an existing dataset folder")
    p.add_argument("--allow-dirty", action="store_true",
                   help="export a run trained from a tree with uncommitted code changes (the diff's hash is recorded)")
    a = p.parse_args(argv)
    try:
        cs = export(a.run_dir, allow_partial=a.allow_partial, allow_dirty=a.allow_dirty)
        out = Path(a.out) if a.out else Path("datasets") / cs.name
        if (out / "metadata.json").is_file() and not a.overwrite:
            raise ValueError(f"{out} already holds a dataset; pass --overwrite to replace it, or --out elsewhere")
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = save(cs, out)
    print(f"exported {cs.n_configs} configs x {cs.n_epochs} epochs -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
