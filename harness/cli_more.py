"""Sub-commands beyond datasets/replay: demo (the main job) and ab (paired A/B comparison)."""

from __future__ import annotations

import argparse

from .datasets import DEFAULT_DATASET

DEMO_ALGORITHMS = ("hyperband", "swift", "fhyperband", "asha", "random")
# 5 consecutive Hyperband iterations (Baker et al. use 40) so the predictors get data; f-Hyperband's
# SRMs need d full curves per rung: 100 (SPEC default) takes ~40 iterations on this small pool
DEMO_SETTINGS = {"n_runs": 5, "fhyperband.d": 30}


def cmd_demo(args: argparse.Namespace) -> int:
    from .cli import cmd_replay
    from .runner import ALGORITHMS, _ensure_registered

    _ensure_registered()
    if not args.algorithm:
        args.algorithm = [a for a in DEMO_ALGORITHMS if a in ALGORITHMS]
    given = {s.split("=", 1)[0] for s in args.set or []}
    args.set = [*(args.set or []), *(f"{k}={v}" for k, v in DEMO_SETTINGS.items() if k not in given)]
    return cmd_replay(args)


def cmd_ab(args: argparse.Namespace) -> int:
    """A/B-test two algorithms (or two parameter settings) on the same seeds."""
    from .cli import parse_sets
    from .metrics import bootstrap_ci, paired_test, summarize
    from .runner import Cell, parse_seeds, run_cells

    seeds = parse_seeds(args.seeds)
    base = {"R": args.R} if args.R else {}
    if args.eta:
        base["eta"] = args.eta
    pa, pb = {**base, **parse_sets(args.set_a)}, {**base, **parse_sets(args.set_b)}
    cells = [Cell(args.dataset, args.a, pa, s, args.accounting, args.workers) for s in seeds]
    cells += [Cell(args.dataset, args.b, pb, s, args.accounting, args.workers) for s in seeds]
    recs = run_cells(cells, backend=args.backend, n_jobs=args.jobs, progress=not args.quiet, desc="ab")
    if not recs:
        return 0
    ra, rb = recs[: len(seeds)], recs[len(seeds):]
    print(f"A = {args.a} {pa}\nB = {args.b} {pb}\nseeds {seeds[0]}..{seeds[-1]} ({len(seeds)}), "
          f"accounting {args.accounting}")
    for metric in ("epochs", "returned_final", "regret", "makespan", "time_to_best"):
        a = [getattr(r, metric) for r in ra]
        b = [getattr(r, metric) for r in rb]
        d = [x - y for x, y in zip(a, b, strict=True)]
        lo, hi = bootstrap_ci(d, seed=0)
        t = paired_test(a, b)
        print(f"{metric:15s} A {summarize(a).fmt(4):>22s}  B {summarize(b).fmt(4):>22s}  "
              f"A-B {t['mean_diff']:+.4g} [{lo:+.4g}, {hi:+.4g}]  wilcoxon p={t['wilcoxon_p']:.3g}")
    print(f"{'returned_opt':15s} A {sum(r.returned_optimum for r in ra) / len(ra):.2f}  "
          f"B {sum(r.returned_optimum for r in rb) / len(rb):.2f}")
    return 0


def add_more_commands(sub: argparse._SubParsersAction) -> None:
    from .cli import add_replay_args

    d = sub.add_parser("demo", help=f"the main job: compare the algorithms on the embedded '{DEFAULT_DATASET}'")
    add_replay_args(d, default_dataset=DEFAULT_DATASET)
    d.set_defaults(func=cmd_demo, plot=None, default_eta=2)

    ab = sub.add_parser("ab", help="paired A/B comparison of two algorithms on the same seeds")
    ab.add_argument("--dataset", "-d", required=True)
    ab.add_argument("--a", required=True, help="algorithm A")
    ab.add_argument("--b", required=True, help="algorithm B")
    ab.add_argument("--set-a", action="append", metavar="KEY=VALUE")
    ab.add_argument("--set-b", action="append", metavar="KEY=VALUE")
    ab.add_argument("--R", type=int)
    ab.add_argument("--eta", type=int)
    ab.add_argument("--seeds", default="0-19")
    ab.add_argument("--accounting", default="resume", choices=["resume", "scratch"])
    ab.add_argument("--workers", type=int, default=1)
    ab.add_argument("--backend", default="sequential", choices=["sequential", "joblib", "mpi"])
    ab.add_argument("--jobs", type=int, default=-1)
    ab.add_argument("--quiet", "-q", action="store_true")
    ab.set_defaults(func=cmd_ab)
