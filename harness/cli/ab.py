"""``harness ab``: paired A/B comparison of two algorithms (or two settings of one) on the same seeds."""

from __future__ import annotations

import argparse

from .common import (
    ALGORITHM_HELP,
    accountings,
    add_run_options,
    algorithm_settings,
    check_run_options,
    run_level,
    run_recorded,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    ab = sub.add_parser("ab", help="paired A/B comparison of two algorithms on the same seeds",
                        description="Runs A and B on the same seeds (so the same configurations are drawn) and "
                                    "reports per-metric paired differences with bootstrap 95%% CIs and Wilcoxon "
                                    "signed-rank tests. --R, --eta and --set apply to both; --set-a / --set-b to "
                                    "one side.")
    from .replay import Once

    ab.add_argument("--dataset", "-d", required=True, action=Once, help="dataset name or folder (one)")
    ab.add_argument("--a", required=True, help=f"algorithm A: {ALGORITHM_HELP}")
    ab.add_argument("--b", required=True, help="algorithm B")
    ab.add_argument("--set-a", action="append", metavar="KEY=VALUE", help="setting of A only")
    ab.add_argument("--set-b", action="append", metavar="KEY=VALUE", help="setting of B only")
    add_run_options(ab, default_seeds="0-19")
    ab.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..config import parse_set
    from ..datasets import load_dataset
    from ..metrics import bootstrap_ci, paired_test, summarize
    from ..reporting.replay import inrun as _inrun
    from ..runner import Cell, parse_seeds, remember_dataset

    seeds = parse_seeds(args.seeds, option="--seeds")
    cs = load_dataset(args.dataset, nan_policy=args.nan_policy)
    remember_dataset(args.dataset, args.nan_policy, cs)
    check_run_options(args, cs.n_epochs)
    a_name, b_name = args.a, args.b if args.b != args.a else f"{args.b}@B"
    if args.a == args.b:
        a_name = f"{args.a}@A"
    shared = parse_set(args.set)
    side = {a_name: parse_set(args.set_a, "--set-a"), b_name: parse_set(args.set_b, "--set-b")}
    settings = {**shared, **{f"{n}.{k}": v for n, kv in side.items() for k, v in kv.items()}}
    configs = algorithm_settings([a_name, b_name], settings, run_level(args))
    import logging

    from ..algorithms import resolve

    for n in (a_name, b_name):
        for msg in resolve(n)(configs[n]).advice(max(cs.n_epochs, args.pad_to or 0)):
            logging.getLogger("harness").warning(msg)
    out = 0
    for acc in accountings(args):
        cells = [Cell(args.dataset, n, configs[n], s, acc, args.workers, args.cost, args.nan_policy, args.pad_to,
                      draws=args.draws)
                 for n in (a_name, b_name) for s in seeds]
        path = None
        if args.out:
            path = args.out if len(accountings(args)) == 1 else args.out.replace(".jsonl", f"_{acc}.jsonl")
        recs, _ = run_recorded(cells, configs, cs, args, path)
        if not recs:  # MPI worker rank
            return 0
        ra, rb = recs[: len(seeds)], recs[len(seeds):]
        print(f"A = {a_name} {ra[0].params}\nB = {b_name} {rb[0].params}\n"
              f"dataset {cs.label}; seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}); accounting {acc}; "
              f"{args.workers} worker(s), cost in {args.cost}")
        for metric in ("epochs", "returned_final", "regret", "makespan", "time_to_best"):
            a = [getattr(r, metric) for r in ra]
            b = [getattr(r, metric) for r in rb]
            d = [x - y for x, y in zip(a, b, strict=True)]
            lo, hi = bootstrap_ci(d, seed=0)
            t = paired_test(a, b)
            stats = f"[{lo:+.4g}, {hi:+.4g}]  wilcoxon p={t['wilcoxon_p']:.3g}" if len(d) > 1 else "(one seed)"
            print(f"{metric:15s} A {summarize(a).fmt(4):>22s}  B {summarize(b).fmt(4):>22s}  "
                  f"A-B {t['mean_diff']:+.4g} {stats}")
        print(f"{'returned_opt':15s} A {sum(r.returned_optimum for r in ra) / len(ra):.2f}  "
              f"B {sum(r.returned_optimum for r in rb) / len(rb):.2f}")
        for key, label in (("r2", "inrun_r2"), ("spearman", "inrun_rho")):
            va, vb = _inrun(ra, key), _inrun(rb, key)
            if va or vb:
                print(f"{label:15s} A {summarize(va).fmt(3) if va else '-':>22s}  "
                      f"B {summarize(vb).fmt(3) if vb else '-':>22s}  (predictions the algorithm acted on)")
        print("(A, B: mean ± standard error over seeds; A-B: mean paired difference [bootstrap 95% CI])"
              if len(seeds) > 1 else "(one seed: no standard error, confidence interval or test; use --seeds 0-9)")
        if path:
            print(f"{len(recs)} run records in {path} (written as each run finished)")
    return out
