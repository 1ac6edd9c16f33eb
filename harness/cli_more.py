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


def cmd_predict(args: argparse.Namespace) -> int:
    """Baker's R^2 protocol; with --baseline, exit 1 naming every cell whose R^2 fell."""
    from pathlib import Path

    import pandas as pd

    from .datasets import load_dataset
    from .predictors.protocol import regression_check
    from .predictors.tables import FIG3_FRACTIONS, markdown, plot_fig3, run_experiment

    fractions = tuple(float(x) for x in args.fractions.split(",")) if args.fractions else FIG3_FRACTIONS
    frames = []
    for name in args.dataset:
        cs = load_dataset(name)
        frames.append(run_experiment(cs, args.experiment, repeats=args.repeats, n_train=args.n_train,
                                     budget=args.budget, seed=args.seed, swapped=args.r2_swapped,
                                     with_lce=args.with_lce, fractions=fractions, split_column=args.split_column,
                                     progress=not args.quiet, clip="none" if args.no_clip else "observed",
                                     target=args.target, lce_budget=args.lce_budget))
    df = pd.concat(frames, ignore_index=True)
    md = markdown(df, args.experiment)
    print(md)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / args.experiment
    df.to_csv(f"{stem}.csv", index=False)
    Path(f"{stem}.md").write_text(f"# {args.experiment}: 100 x R^2 (mean ± SE over {args.repeats} repeats)\n\n"
                                  + md + "\n")
    print(f"\nwrote {stem}.csv and {stem}.md")
    if args.experiment == "fig3":
        print(f"wrote {plot_fig3(df, f'{stem}.png')}")
    if args.baseline:
        base = pd.read_csv(args.baseline)
        fails = regression_check(df, base, args.tolerance)
        if fails:
            print(f"\nR^2 regression against {args.baseline} (tolerance {args.tolerance}):")
            for f in fails:
                print(f"  FAIL {f}")
            return 1
        print(f"\nno R^2 regression against {args.baseline} (tolerance {args.tolerance})")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    import time

    from .reproduce import EXPERIMENTS, reproduce

    names = args.experiments or list(EXPERIMENTS)
    t0 = time.perf_counter()
    reproduce(names, args.out_dir, quick=args.quick, n_jobs=args.jobs, progress=not args.quiet,
              overrides=args.override, resume=not args.fresh)
    print(f"wrote {args.out_dir}/README.md, manifest.json and {len(names)} experiments in "
          f"{time.perf_counter() - t0:.0f} s")
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

    pr = sub.add_parser("predict", help="Baker's R^2 protocol: table1, table2, fig3, table8; targets")
    pr.add_argument("--dataset", "-d", action="append", required=True)
    pr.add_argument("--experiment", "-e", default="table1", choices=["table1", "table2", "fig3", "table8", "targets"])
    pr.add_argument("--repeats", type=int, default=10)
    pr.add_argument("--n-train", type=int, default=100)
    pr.add_argument("--budget", default="cheap", help="model search draws: paper (1000), cheap (100), tiny (20), N")
    pr.add_argument("--seed", type=int, default=0)
    pr.add_argument("--fractions", help="fig3: comma-separated percentages (default 5,10,20,...,90)")
    pr.add_argument("--with-lce", action="store_true", help="fig3: add Domhan curve extrapolation (slow)")
    pr.add_argument("--lce-budget", default="cheap", choices=["paper", "cheap", "bma"],
                    help="LCE fit: Domhan's MCMC at paper size (100 walkers, 2500 steps) or cheap size (2 ndim + 2 "
                         "walkers, 500 steps), or bma: least squares + BIC model averaging, no MCMC")
    pr.add_argument("--split-column", help="table8: HP/AP column split at its median")
    pr.add_argument("--no-clip", action="store_true",
                    help="keep raw predictions (default: clip to the range observed in the training curves ±10%%)")
    pr.add_argument("--target", default="final", choices=["final", "delta", "auto"],
                    help="what nusvr/ols/blr/rf regress on (feature sets with TS): final = y_T (SPEC), delta = "
                         "y_T - y_tau added back to the last seen value, auto = the better of the two by CV")
    pr.add_argument("--r2-swapped", action="store_true", help="r2_score(y_pred, y_true) as in the ACAT notebooks")
    pr.add_argument("--out-dir", default="results/predict")
    pr.add_argument("--baseline", help="CSV of an earlier run: exit 1 if any cell's R^2 fell")
    pr.add_argument("--tolerance", type=float, default=0.02, help="allowed drop of mean R^2 (R^2 units)")
    pr.add_argument("--quiet", "-q", action="store_true")
    pr.set_defaults(func=cmd_predict)

    rp = sub.add_parser("reproduce", help="rebuild results/: the paper tables and figures (conf/reproduce/*.yaml)")
    rp.add_argument("experiments", nargs="*", help="subset of: swift_mlpf table1 table2 fig3 fig3_lce targets "
                                                    "targets_n400 fig4 fig6 swift_more (default: all)")
    rp.add_argument("--out-dir", default="results")
    rp.add_argument("--quick", action="store_true", help="reduced settings (the CI test)")
    rp.add_argument("--jobs", type=int, default=-1, help="joblib processes (default: all cores)")
    rp.add_argument("--override", action="append", help="hydra override applied to every experiment")
    rp.add_argument("--fresh", action="store_true", help="ignore unit results cached by an earlier run")
    rp.add_argument("--quiet", "-q", action="store_true")
    rp.set_defaults(func=cmd_reproduce)
