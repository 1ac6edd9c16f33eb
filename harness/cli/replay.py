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
    run_recorded,
)

DEMO_DATASET = "digits_cnn"
DEMO_ALGORITHMS = ("hyperband", "swift", "fhyperband", "asha", "random")
# eta=2 gives the 20-epoch curves 5 rungs; 5 consecutive Hyperband iterations (Baker et al. use 40) so the
# predictors get data; f-Hyperband's SRMs need d full curves per rung: 100 (SPEC default) takes ~40
# iterations on this small pool
DEMO_SETTINGS = {"eta": 2, "n_runs": 5, "fhyperband.d": 30}


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("replay", help="simulate HPO algorithms over a recorded dataset")
    r.add_argument("--dataset", "-d", required=True, action=Once,
                   help="dataset name (harness datasets list) or folder; one per replay (harness bench for several)")
    r.add_argument("--algorithm", "-a", action="append", help=ALGORITHM_HELP + " (repeatable)")
    add_replay_only(r)
    add_run_options(r)
    r.set_defaults(func=run)


def add_replay_only(r: argparse.ArgumentParser) -> None:
    r.add_argument("--baseline", default="hyperband", help="algorithm the speed-up is measured against ('' = none)")
    r.add_argument("--per-seed", action="store_true", help="print one line per run")
    r.add_argument("--wide", action="store_true", help="show every column of the summary table")
    r.add_argument("--plot", help="write an anytime plot (PNG)")
    r.add_argument("--budget", type=float, metavar="MULTIPLE",
                   help="equal-budget protocol: every run gets MULTIPLE x T epochs and spends them (iteration-based "
                        "algorithms run consecutive iterations; harness.budget); the run ends there")
    r.add_argument("--ledger", action="store_true",
                   help="one ledger row per trial in each record (pool row, epochs trained, how it ended, whether it "
                        "restarted a configuration already trained), printed per run")


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
        d.add_argument("--dataset", "-d", default=DEMO_DATASET, action=Once, help=f"dataset (default {DEMO_DATASET})")
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


class Once(argparse.Action):
    """An option that may be given once (a second ``-d`` used to win silently)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        if getattr(namespace, self.dest, None) not in (None, self.default):
            raise argparse.ArgumentError(self, f"given twice ({getattr(namespace, self.dest)!r} and {values!r}); "
                                               "one dataset per replay (harness bench runs several)")
        setattr(namespace, self.dest, values)


def check_cost(cost: str, cs: Any) -> None:
    """--cost seconds / cpu_seconds need the dataset's recorded seconds."""
    if cost == "seconds" and cs.epoch_seconds is None:
        why = " (TaskSet records none)" if cs.provenance.get("family") == "taskset" else ""
        raise ValueError(f"--cost seconds: dataset {cs.name!r} records no per-epoch seconds{why}")
    if cost == "cpu_seconds" and cs.epoch_cpu_seconds is None:
        raise ValueError(f"--cost cpu_seconds: dataset {cs.name!r} records no per-epoch CPU seconds (populations "
                         "made by generate since issue #29 do); --cost seconds uses its wall seconds")


#: a replay refuses more jobs than this per run (the engine's own limit), before it starts
MAX_JOBS = 10_000_000


def check_run_size(algos: list[str], configs: dict[str, Any], T: int) -> None:
    """Say before running when a run of consecutive Hyperband iterations would exceed the engine's job limit
    (``--set n_runs=1000000`` used to give up after half a minute)."""
    from ..hb import hyperband_configs, max_bracket

    for a in algos:
        c = configs[a]
        n_runs = getattr(c, "n_runs", None)
        eta = getattr(c, "eta", None)
        if not isinstance(n_runs, int) or not isinstance(eta, int) or eta < 2:
            continue
        R = getattr(c, "R", None) or T
        jobs = n_runs * hyperband_configs(R, eta) * (max_bracket(R, eta) + 1)
        if jobs > MAX_JOBS:
            raise ValueError(f"{a}: n_runs={n_runs} at R={R}, eta={eta} would start about {jobs:.2g} jobs per run, "
                             f"more than the engine's limit of {MAX_JOBS:,}; lower n_runs (each Hyperband "
                             f"iteration starts {hyperband_configs(R, eta)} configurations)")


def make_cells(args: argparse.Namespace, algorithms: list[str], configs: dict[str, Any]) -> list:
    from ..adapters import is_adapter
    from ..runner import Cell, parse_seeds

    seeds = parse_seeds(args.seeds, option="--seeds")
    budget = None
    if getattr(args, "budget", None) is not None:
        from ..budget import budget_epochs, to_spend
        from ..runner import cached_dataset

        cs = cached_dataset(args.dataset, args.nan_policy, args.pad_to)
        budget = budget_epochs(args.budget, cs.n_epochs)
        configs = {a: to_spend(c, budget, cs.n_epochs, cs.n_configs) for a, c in configs.items()}
    # adapter configs are generated classes: they travel to workers as plain settings
    params = {a: configs[a].to_dict() if is_adapter(a.split("@")[0]) else configs[a] for a in algorithms}
    return [Cell(dataset=args.dataset, algorithm=a, params=params[a], seed=s, accounting=acc, workers=args.workers,
                 cost=args.cost, nan_policy=args.nan_policy, pad_to=args.pad_to, budget=budget,
                 ledger=bool(getattr(args, "ledger", False)), draws=getattr(args, "draws", "bracket"))
            for acc in accountings(args) for a in algorithms for s in seeds]


def run(args: argparse.Namespace) -> int:
    from ..config import parse_set
    from ..datasets import load_dataset
    from ..reporting.replay import legend, plot_anytime, summary_table, to_markdown
    from ..runner import parse_seeds, remember_dataset

    parse_seeds(args.seeds, option="--seeds")
    cs = load_dataset(args.dataset, nan_policy=args.nan_policy)
    remember_dataset(args.dataset, args.nan_policy, cs)
    check_run_options(args, cs.n_epochs)
    given = args.algorithm or ["hyperband"]
    twice = sorted({a for a in given if given.count(a) > 1})
    if twice:
        raise ValueError(f"--algorithm {twice[0]} is given twice; a second instance with other settings is "
                         f"{twice[0]}@LABEL (settings as --set {twice[0]}@LABEL.key=value)")
    algos = list(given)
    if args.baseline and args.baseline not in algos:
        algos.insert(0, args.baseline)
    configs = algorithm_settings(algos, parse_set(args.set), run_level(args))
    check_cost(args.cost, cs)
    import logging

    from ..algorithms import resolve

    T = max(cs.n_epochs, args.pad_to or 0)
    for a in algos:
        for msg in resolve(a)(configs[a]).advice(T):
            logging.getLogger("harness").warning(msg)
    check_run_size(algos, configs, T)
    cells = make_cells(args, algos, configs)
    records, new = run_recorded(cells, configs, cs, args, args.out)
    if cells and not records:  # MPI worker rank
        return 0
    if args.per_seed:
        for r in records:
            print(f"{r.algorithm:22s} {r.accounting:7s} seed={r.seed:<3d} epochs={r.epochs:<7d} "
                  f"returned={r.returned_config_id} final={r.returned_final:.5g} regret={r.regret:.4g} "
                  f"optimum={'yes' if r.returned_optimum else 'no'}")
    df = summary_table(records, baseline=args.baseline or "", wide=args.wide,
                       show_time=args.workers > 1 or args.cost != "epochs")
    opt = records[0].optimum_final
    T = cs.n_epochs if not args.pad_to else args.pad_to
    dropped = len((cs.info or {}).get("dropped_ids", []))
    diverged = len((cs.info or {}).get("diverged_ids", []))
    left_out = "".join([f"; {dropped} configs dropped (non-finite, nan_policy={cs.info.get('nan_policy')})"
                        if dropped else "",
                        f"; {diverged} dropped as diverged ({cs.provenance.get('divergence')} rule)" if diverged else ""])
    print(f"\ndataset {cs.label}: {cs.n_configs} configs x {T} epochs, objective {cs.objective} ({cs.mode}), "
          f"pool optimum {opt:.6g}{left_out}")
    print(to_markdown(df))
    print(legend(df, cost=args.cost, baseline=args.baseline or ""))
    if getattr(args, "ledger", False):
        print_ledgers(records, cs, per_trial=args.per_seed)
    if args.out:
        print(f"\n{len(records)} run records in {args.out} ({new} new, written as each run finished)")
    if args.plot:
        path = plot_anytime(records, args.plot, title=cs.label, ylabel=f"regret of incumbent ({cs.objective})")
        print(f"wrote {path}")
    return 0


def print_ledgers(records: list[Any], cs: Any, per_trial: bool = False) -> None:
    """Each run's trial ledger: a line of totals, and with ``per_trial`` one line per trial (pool row, config id,
    epochs trained, how it ended, whether it restarted a configuration already trained)."""
    ends = {"f": "full", "s": "stopped", "p": "paused", "u": "unstarted"}
    print("\ntrial ledgers (f: trained to R, s: stopped, p: paused / cut by the budget, u: never trained)")
    for r in records:
        L = r.ledger
        if not L:
            continue
        counts = ", ".join(f"{ends[k]} {L['end'].count(k)}" for k in "fspu" if L["end"].count(k))
        share = L["restart_epochs"] / max(L["trained_epochs"], 1)
        print(f"{r.algorithm} seed {r.seed}: {L['n_trials']} trials, {L['distinct']} distinct configurations; "
              f"{counts}; {L['n_restarted']} restarted a trained configuration ({L['restart_epochs']} of "
              f"{L['trained_epochs']} epochs, {share:.1%})")
        if per_trial:
            restarted = set(L["restarted"])
            for t, (row, ep, end) in enumerate(zip(L["row"], L["epochs"], L["end"], strict=True)):
                cid = str(cs.ids[row]) if row < cs.n_configs else f"proposed_{row - cs.n_configs}"
                print(f"  trial {t:4d}  row {row:5d}  config {cid:>10s}  epochs {ep:4d}  {ends[end]:9s}"
                      f"{'  restart' if t in restarted else ''}")
