"""``harness`` command line: datasets, replay, ab, predict, reproduce, demo."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .store import NAN_POLICIES, DatasetError

log = logging.getLogger("harness")


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or ():
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = _value(v.strip())
    return out


# ---------------------------------------------------------------------------------------------
# datasets


def cmd_datasets(args: argparse.Namespace) -> int:
    from .datasets import list_datasets, load_dataset

    if args.action == "list":
        for e in list_datasets():
            status = "ok" if e.available else "missing"
            print(f"{e.name:32s} {e.source:9s} {status:8s} {e.location}")
        return 0
    if args.action in ("describe", "validate"):
        if not args.name:
            raise ValueError(f"harness datasets {args.action} needs a dataset name or path")
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
    if args.action == "import":
        from .importers import ImportSpec, import_long
        from .store import save

        if not args.name:
            raise ValueError("harness datasets import needs the folder holding dataset.json")
        src = Path(args.name)
        cs = import_long(ImportSpec.from_json(src / "dataset.json"), src)
        out = save(cs, args.out or Path("datasets") / cs.name)
        print(f"imported {cs.name}: {cs.n_configs} configs x {cs.n_epochs} epochs -> {out}")
        return 0
    raise ValueError(f"unknown action {args.action!r}")


# ---------------------------------------------------------------------------------------------
# replay


def _cells(args: argparse.Namespace) -> list:
    from .runner import Cell, parse_seeds

    seeds = parse_seeds(args.seeds)
    accountings = ["resume", "scratch"] if args.accounting == "both" else [args.accounting]
    params = parse_sets(args.set)
    if args.R is not None:
        params["R"] = args.R
    # one eta for every algorithm of a comparison (the factories' own defaults differ)
    params["eta"] = args.eta if args.eta is not None else args.default_eta
    algos = list(args.algorithm or ["hyperband"])
    if args.baseline and args.baseline not in algos:
        algos.insert(0, args.baseline)
    cells = []
    for acc in accountings:
        for a in algos:
            # "algo.key=value" applies to that algorithm only
            p = {k: v for k, v in params.items() if "." not in k}
            p.update({k.split(".", 1)[1]: v for k, v in params.items() if k.startswith(a + ".")})
            for s in seeds:
                cells.append(Cell(dataset=args.dataset, algorithm=a, params=dict(p), seed=s, accounting=acc,
                                  workers=args.workers, cost=args.cost, nan_policy=args.nan_policy,
                                  pad_to=args.pad_to))
    return cells


def cmd_replay(args: argparse.Namespace) -> int:
    from .datasets import load_dataset
    from .report import plot_anytime, summary_table, to_markdown, write_jsonl
    from .runner import run_cells

    cs = load_dataset(args.dataset, nan_policy=args.nan_policy)
    cells = _cells(args)
    records = run_cells(cells, backend=args.backend, n_jobs=args.jobs, progress=not args.quiet)
    if not records:  # MPI worker rank
        return 0
    if args.per_seed:
        for r in records:
            print(f"{r.algorithm:22s} {r.accounting:7s} seed={r.seed:<3d} epochs={r.epochs:<7d} "
                  f"returned={r.returned_config_id} final={r.returned_final:.5g} regret={r.regret:.4g} "
                  f"optimum={'yes' if r.returned_optimum else 'no'}")
    df = summary_table(records, baseline=args.baseline or "hyperband")
    opt = records[0].optimum_final
    print(f"\ndataset {cs.name}: {cs.n_configs} configs x {cs.n_epochs} epochs, objective {cs.objective} "
          f"({cs.mode}), pool optimum {opt:.6g}")
    print(to_markdown(df))
    if args.out:
        write_jsonl(records, args.out)
        print(f"\nwrote {len(records)} run records to {args.out}")
    if args.plot:
        print(f"wrote {plot_anytime(records, args.plot, title=cs.name)}")
    return 0


# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harness", description=__doc__)
    p.add_argument("--version", action="version", version=f"lc-harness {__version__}")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("datasets", help="list, describe, validate or import datasets")
    d.add_argument("action", choices=["list", "describe", "validate", "import"])
    d.add_argument("name", nargs="?", help="dataset name or folder")
    d.add_argument("--nan-policy", default="drop", choices=NAN_POLICIES)
    d.add_argument("--strict", action="store_true", help="validate: any non-finite objective value is an error")
    d.add_argument("--out", help="import: destination folder (default datasets/<name>)")
    d.set_defaults(func=cmd_datasets)

    r = sub.add_parser("replay", help="simulate HPO algorithms over a recorded dataset")
    add_replay_args(r)
    r.set_defaults(func=cmd_replay)

    from .cli_more import add_more_commands

    add_more_commands(sub)
    return p


def add_replay_args(r: argparse.ArgumentParser, default_dataset: str | None = None) -> None:
    r.add_argument("--dataset", "-d", required=default_dataset is None, default=default_dataset)
    r.add_argument("--algorithm", "-a", action="append",
                   help="hyperband, successive_halving, random, fhyperband, swift, asha, swift_asha, earlystop "
                        "(repeatable)")
    r.add_argument("--R", type=int, help="max epochs per config (default: the dataset's T)")
    r.add_argument("--eta", type=int, help="Hyperband discard rate for every algorithm (default 3; demo 2)")
    r.set_defaults(default_eta=3)
    r.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 1,3,5")
    r.add_argument("--accounting", default="resume", choices=["resume", "scratch", "both"])
    r.add_argument("--workers", type=int, default=1, help="simulated parallel workers")
    r.add_argument("--cost", default="epochs", choices=["epochs", "seconds"],
                   help="simulated time of an epoch: 1 unit, or the recorded seconds")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="algorithm parameter, e.g. --set d=15 (all) or --set swift.d=15 (one algorithm)")
    r.add_argument("--baseline", default="hyperband", help="algorithm the speed-up is measured against ('' = none)")
    r.add_argument("--backend", default="sequential", choices=["sequential", "joblib", "mpi"])
    r.add_argument("--jobs", type=int, default=-1, help="joblib processes")
    r.add_argument("--nan-policy", default="drop", choices=NAN_POLICIES)
    r.add_argument("--pad-to", type=int, help="extend curves to this many epochs by repeating the last value")
    r.add_argument("--per-seed", action="store_true", help="print one line per run")
    r.add_argument("--out", help="write run records (JSON lines)")
    r.add_argument("--plot", help="write an anytime plot (PNG)")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (DatasetError, ValueError, FileNotFoundError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
