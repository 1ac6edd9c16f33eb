"""``harness replay`` and ``harness demo``: simulate algorithms over a recorded dataset, one table out."""

from __future__ import annotations

import argparse
from typing import Any

from .common import (
    ALGORITHM_HELP,
    accountings,
    add_run_options,
    algorithm_settings,
    check_run_options,
    run_level,
)

DEMO_DATASET = "digits_cnn"
DEMO_ALGORITHMS = ("hyperband", "swift", "fhyperband", "asha", "random")
# eta=2 gives the 20-epoch curves 5 rungs; 5 consecutive Hyperband iterations (Baker et al. use 40) so the
# predictors get data; f-Hyperband's SRMs need d full curves per rung: 100 (SPEC default) takes ~40
# iterations on this small pool
DEMO_SETTINGS = {"eta": 2, "n_runs": 5, "fhyperband.d": 30}


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("replay", help="simulate HPO algorithms over a recorded dataset")
    r.add_argument("--dataset", "-d", required=True, help="dataset name (harness datasets list) or folder")
    r.add_argument("--algorithm", "-a", action="append", help=ALGORITHM_HELP + " (repeatable)")
    add_replay_only(r)
    add_run_options(r)
    r.set_defaults(func=run)


def add_replay_only(r: argparse.ArgumentParser) -> None:
    r.add_argument("--baseline", default="hyperband", help="algorithm the speed-up is measured against ('' = none)")
    r.add_argument("--per-seed", action="store_true", help="print one line per run")
    r.add_argument("--wide", action="store_true", help="show every column of the summary table")
    r.add_argument("--plot", help="write an anytime plot (PNG)")


class _Demo:
    @staticmethod
    def add_parser(sub: argparse._SubParsersAction) -> None:
        d = sub.add_parser(
            "demo", help=f"compare the built-in algorithms on the embedded '{DEMO_DATASET}' dataset",
            description=f"Replays {', '.join(DEMO_ALGORITHMS)} on the embedded dataset '{DEMO_DATASET}' (200 "
                        "MetaQNN-style CNNs x 20 epochs, trained on scikit-learn digits by this repository's "
                        "generate stage), 10 seeds each, with the demo settings "
                        f"{', '.join(f'{k}={v}' for k, v in DEMO_SETTINGS.items())} (each can be overridden "
                        "with --set or --eta), and prints the summary table against Hyperband.")
        d.add_argument("--dataset", "-d", default=DEMO_DATASET, help=f"dataset (default {DEMO_DATASET})")
        d.add_argument("--algorithm", "-a", action="append",
                       help=f"{ALGORITHM_HELP} (default: {', '.join(DEMO_ALGORITHMS)})")
        add_replay_only(d)
        add_run_options(d)
        d.set_defaults(func=run_demo)


demo_command = _Demo


def run_demo(args: argparse.Namespace) -> int:
    if not args.algorithm:
        args.algorithm = list(DEMO_ALGORITHMS)
    from ..algorithms import resolve

    given = {s.split("=", 1)[0] for s in args.set or []}
    known = set().union(*(resolve(a).Config.names() for a in args.algorithm))
    demo = []
    for k, v in DEMO_SETTINGS.items():  # a demo setting applies where an algorithm of the run has it
        prefix, _, key = k.rpartition(".")
        if k in given or (k == "eta" and args.eta is not None):
            continue
        if (prefix and prefix in args.algorithm) or (not prefix and key in known):
            demo.append(f"{k}={v}")
    args.set = [*demo, *(args.set or [])]
    return run(args)


def make_cells(args: argparse.Namespace, algorithms: list[str], configs: dict[str, Any]) -> list:
    from ..adapters import is_adapter
    from ..runner import Cell, parse_seeds

    seeds = parse_seeds(args.seeds, option="--seeds")
    # adapter configs are generated classes: they travel to workers as plain settings
    params = {a: configs[a].to_dict() if is_adapter(a.split("@")[0]) else configs[a] for a in algorithms}
    return [Cell(dataset=args.dataset, algorithm=a, params=params[a], seed=s, accounting=acc, workers=args.workers,
                 cost=args.cost, nan_policy=args.nan_policy, pad_to=args.pad_to)
            for acc in accountings(args) for a in algorithms for s in seeds]


def run(args: argparse.Namespace) -> int:
    from ..config import parse_set
    from ..datasets import load_dataset
    from ..reporting.replay import legend, plot_anytime, summary_table, to_markdown, write_jsonl
    from ..runner import parse_seeds, remember_dataset, run_cells

    parse_seeds(args.seeds, option="--seeds")
    cs = load_dataset(args.dataset, nan_policy=args.nan_policy)
    remember_dataset(args.dataset, args.nan_policy, cs)
    check_run_options(args, cs.n_epochs)
    algos = list(dict.fromkeys(args.algorithm or ["hyperband"]))
    if args.baseline and args.baseline not in algos:
        algos.insert(0, args.baseline)
    configs = algorithm_settings(algos, parse_set(args.set), run_level(args))
    if args.cost == "seconds" and cs.epoch_seconds is None:
        raise ValueError(f"--cost seconds: dataset {cs.name!r} records no per-epoch seconds")
    import logging

    from ..algorithms import resolve

    T = max(cs.n_epochs, args.pad_to or 0)
    for a in algos:
        for msg in resolve(a)(configs[a]).advice(T):
            logging.getLogger("harness").warning(msg)
    cells = make_cells(args, algos, configs)
    records = run_cells(cells, backend=args.backend, n_jobs=args.jobs, progress=not args.quiet)
    if not records:  # MPI worker rank
        return 0
    if args.per_seed:
        for r in records:
            print(f"{r.algorithm:22s} {r.accounting:7s} seed={r.seed:<3d} epochs={r.epochs:<7d} "
                  f"returned={r.returned_config_id} final={r.returned_final:.5g} regret={r.regret:.4g} "
                  f"optimum={'yes' if r.returned_optimum else 'no'}")
    df = summary_table(records, baseline=args.baseline or "", wide=args.wide)
    opt = records[0].optimum_final
    T = cs.n_epochs if not args.pad_to else args.pad_to
    print(f"\ndataset {cs.label}: {cs.n_configs} configs x {T} epochs, objective {cs.objective} ({cs.mode}), "
          f"pool optimum {opt:.6g}")
    print(to_markdown(df))
    print(legend(df, cost=args.cost, baseline=args.baseline or ""))
    if args.out:
        write_jsonl(records, args.out)
        print(f"\nwrote {len(records)} run records to {args.out}")
    if args.plot:
        print(f"wrote {plot_anytime(records, args.plot, title=cs.name)}")
    return 0
