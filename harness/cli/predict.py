"""``harness predict``: Baker's R^2 protocol (Table 1/2, Fig. 3, Table 8, targets) with a regression check."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    pr = sub.add_parser("predict", help="Baker's R^2 protocol: table1, table2, fig3, table8; targets; ifBO's "
                                        "extrapolation test (-e extrapolation)")
    pr.add_argument("--dataset", "-d", action="append", required=True)
    pr.add_argument("--experiment", "-e", default="table1", choices=["table1", "table2", "fig3", "table8", "targets", "ablation",
                                                                  "extrapolation"])
    pr.add_argument("--points", default="400,1000,1800",
                    help="extrapolation: context sizes N (observed points of partial curves), comma-separated")
    pr.add_argument("--models", default="last_seen,nusvr,lce,dpl,dyhpo",
                    help="extrapolation: models (last_seen, nusvr, lce, dpl, dyhpo), comma-separated")
    pr.add_argument("--repeats", type=int, default=10)
    pr.add_argument("--n-train", type=int, default=100)
    pr.add_argument("--budget", default="cheap", help="model search draws: paper (1000), cheap (100), tiny (20), N")
    pr.add_argument("--seed", type=int, default=0)
    pr.add_argument("--fractions", help="fig3: comma-separated percentages (default 5,10,20,...,90)")
    pr.add_argument("--with-lce", action="store_true", help="fig3: add Domhan curve extrapolation (slow)")
    pr.add_argument("--with-freezethaw", action="store_true",
                    help="table1, fig3: add DPL's power-law ensemble and DyHPO's deep-kernel GP, trained on every "
                         "observed point (the training curves and the test prefixes); needs torch, slow")
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
    pr.add_argument("--tolerance-se", type=float, default=0.0,
                    help="per-cell tolerance: at least this many standard errors of the baseline cell")
    pr.add_argument("--jobs", type=int, default=-1,
                    help="processes for the repeats (default -1: every core; the numbers are the same with any count)")
    pr.add_argument("--quiet", "-q", action="store_true")
    pr.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Baker's R^2 protocol; with --baseline, exit 1 naming every cell whose R^2 fell."""
    from pathlib import Path

    import pandas as pd

    from ..datasets import load_dataset
    from ..runner import check_n_jobs

    check_n_jobs(args.jobs)
    if args.experiment == "extrapolation":
        return run_extrapolation(args)
    from ..predictors.experiments import ABLATION_FRACTIONS, FIG3_FRACTIONS, run_experiment
    from ..predictors.protocol import regression_check
    from ..reporting.predict import markdown, plot_fig3

    default = ABLATION_FRACTIONS if args.experiment == "ablation" else FIG3_FRACTIONS
    try:
        fractions = tuple(float(x) for x in args.fractions.split(",")) if args.fractions else default
    except ValueError:
        raise ValueError(f"--fractions is {args.fractions!r}, but must be comma-separated percentages, "
                         f"e.g. 25,50,75") from None
    frames, labels = [], []
    for name in args.dataset:
        cs = load_dataset(name)
        labels.append(cs.label)
        frames.append(run_experiment(cs, args.experiment, repeats=args.repeats, n_train=args.n_train,
                                     budget=args.budget, seed=args.seed, swapped=args.r2_swapped,
                                     with_lce=args.with_lce, fractions=fractions, split_column=args.split_column,
                                     progress=not args.quiet, clip="none" if args.no_clip else "observed",
                                     target=args.target, lce_budget=args.lce_budget, n_jobs=args.jobs,
                                     with_freezethaw=args.with_freezethaw))
    df = pd.concat(frames, ignore_index=True)
    md = markdown(df, args.experiment)
    head = (f"{args.experiment}: 100 x R^2 of the predicted final value against the true one (100: perfect; 0: no "
            f"better than the test mean), mean ± SE over {args.repeats} repeats; datasets: {', '.join(labels)}")
    print(head + "\n\n" + md)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / args.experiment
    df.to_csv(f"{stem}.csv", index=False)
    Path(f"{stem}.md").write_text(f"# {head}\n\n" + md + "\n")
    print(f"\nwrote {stem}.csv and {stem}.md")
    if args.experiment == "fig3":
        print(f"wrote {plot_fig3(df, f'{stem}.png')}")
    if args.baseline:
        base = pd.read_csv(args.baseline)
        fails = regression_check(df, base, args.tolerance, args.tolerance_se)
        if fails:
            print(f"\nR^2 regression against {args.baseline} (tolerance {args.tolerance}):")
            for f in fails:
                print(f"  FAIL {f}")
            return 1
        print(f"\nno R^2 regression against {args.baseline} (tolerance {args.tolerance})")
    return 0


def run_extrapolation(args: argparse.Namespace) -> int:
    """ifBO's extrapolation test on each dataset: MSE, log-likelihood and seconds per model and context size,
    mean +- SE over ``--repeats`` contexts, printed beside ifBO's Table 1 and written to ``--out-dir``."""
    from pathlib import Path

    from ..datasets import load_dataset
    from ..predictors.extrapolation import MODELS, evaluate
    from ..reporting.extrapolation import write_extrapolation
    from ..runner import parse_seeds

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            raise ValueError(f"--models {args.models!r}: {m!r} is not one of {', '.join(MODELS)}")
    points = parse_seeds(args.points, option="--points")
    if min(points) < 2:
        raise ValueError(f"--points {args.points!r}: a context needs at least 2 points")
    rows = []
    for ds in args.dataset:
        cs = load_dataset(ds)
        for n in points:
            for m in models:
                for rep in range(args.repeats):
                    rows.append({"dataset": cs.name, **evaluate(cs, n, m, seed=args.seed + rep)})
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_extrapolation({"experiment": "extrapolation"}, rows, out)
    print((out / "extrapolation.md").read_text())
    print(f"wrote {out / 'extrapolation.csv'} and {out / 'extrapolation.md'}")
    return 0
