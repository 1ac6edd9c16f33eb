"""``harness datasets list|describe|validate|import``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAN_POLICIES = ("drop", "pad", "keep", "error")


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("datasets", help="list, describe, validate or import datasets")
    d.add_argument("action", choices=["list", "describe", "validate", "import", "export"])
    d.add_argument("name", nargs="?", help="dataset name or folder (import: a folder with dataset.json, or a Syne "
                                           "Tune blackbox folder)")
    d.add_argument("target", nargs="?", help="export: destination folder")
    d.add_argument("--nan-policy", default="drop", choices=NAN_POLICIES)
    d.add_argument("--strict", action="store_true", help="validate: any non-finite objective value is an error")
    d.add_argument("--out", help="import: destination folder (default datasets/<name>)")
    d.add_argument("--format", default="lc-harness", choices=["lc-harness", "synetune"],
                   help="export: this project's format or a Syne Tune blackbox")
    d.add_argument("--task", help="import of a blackbox: which task (default: the first)")
    d.add_argument("--seed", type=int, default=0, help="import of a blackbox: which seed (default 0)")
    d.add_argument("--objective", help="import of a blackbox: the objective (default: its metadata's, else the first)")
    d.add_argument("--mode", choices=["min", "max"], help="import of a blackbox: the objective's direction")
    d.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..datasets import list_datasets, load_dataset

    if args.action == "list":
        for e in list_datasets():
            status = "ok" if e.available else "missing"
            print(f"{e.name:32s} {e.source:9s} {status:8s} {e.location}")
        return 0
    if not args.name:
        raise ValueError(f"harness datasets {args.action} needs a dataset name or folder")
    if args.action in ("describe", "validate"):
        policy = "error" if args.action == "validate" and args.strict else args.nan_policy
        cs = load_dataset(args.name, nan_policy=policy)
        if args.action == "validate":
            print(f"{args.name}: ok ({cs.n_configs} configs x {cs.n_epochs} epochs, {cs.content_hash()[:19]}, "
                  f"nan_policy={policy}, non-finite ids: {len(cs.info.get('non_finite_ids', []))})")
            return 0
        for k, v in cs.describe().items():
            print(f"{k:20s} {v}")
        if cs.provenance:
            print(f"{'provenance':20s} {json.dumps(cs.provenance, default=str)[:300]}")
        return 0
    from ..importers import ImportSpec, import_long
    from ..store import save

    if args.action == "export":
        if not args.target:
            raise ValueError("harness datasets export NAME OUT: the destination folder OUT is missing")
        cs = load_dataset(args.name, nan_policy=args.nan_policy)
        if args.format == "synetune":
            from ..adapters.blackbox import export_blackbox

            out = export_blackbox(cs, args.target)
        else:
            out = save(cs, args.target)
        print(f"exported {cs.name}: {cs.n_configs} configs x {cs.n_epochs} epochs -> {out} ({args.format})")
        return 0
    src = Path(args.name)
    from ..adapters.blackbox import import_blackbox, is_blackbox

    if is_blackbox(src):
        cs = import_blackbox(src, task=args.task, seed=args.seed, objective=args.objective, mode=args.mode)
        out = save(cs, args.out or Path("datasets") / cs.name)
        print(f"imported Syne Tune blackbox {src} as {cs.name}: {cs.n_configs} configs x {cs.n_epochs} epochs -> {out}")
        return 0
    if not (src / "dataset.json").is_file():
        raise FileNotFoundError(f"{src / 'dataset.json'}: not found (harness datasets import needs a folder holding "
                                "dataset.json, or a Syne Tune blackbox folder)")
    cs = import_long(ImportSpec.from_json(src / "dataset.json"), src)
    out = save(cs, args.out or Path("datasets") / cs.name)
    print(f"imported {cs.name}: {cs.n_configs} configs x {cs.n_epochs} epochs -> {out}")
    return 0
