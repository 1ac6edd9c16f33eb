"""``harness reproduce``: rebuild results/ (the paper tables and figures) from conf/reproduce/*.yaml."""

from __future__ import annotations

import argparse

#: the experiments of conf/reproduce (kept here so that --help imports nothing heavy; a test checks it against
#: harness.reproduce.EXPERIMENTS)
EXPERIMENT_NAMES = ("swift_mlpf", "table1", "table2", "fig3", "fig3_lce", "targets", "targets_n400", "fig4", "fig6",
                    "swift_more", "ablation", "predict_check", "fhyperband_study", "adapters", "fhb_mlpf", "table1_taskset")


def add_parser(sub: argparse._SubParsersAction) -> None:
    rp = sub.add_parser("reproduce", help="rebuild results/: the paper tables and figures (conf/reproduce/*.yaml)")
    rp.add_argument("experiments", nargs="*", help=f"subset of: {' '.join(EXPERIMENT_NAMES)} (default: all); "
                                                   "'leaderboard' runs the leaderboard across the catalogue, "
                                                   "'extrapolation' ifBO's extrapolation test (neither is part of the "
                                                   "default)")
    rp.add_argument("--out-dir", default="results")
    rp.add_argument("--quick", action="store_true", help="reduced settings (the CI test)")
    rp.add_argument("--jobs", type=int, default=-1, help="joblib processes (default: all cores)")
    rp.add_argument("--override", action="append", help="hydra override applied to every experiment")
    rp.add_argument("--fresh", action="store_true", help="ignore unit results cached by an earlier run")
    rp.add_argument("--why", help="with a subset of the experiments rebuilt into a full run's folder: the reason, "
                                   "recorded in manifest.json (reruns) and shown in README.md")
    rp.add_argument("--report-only", action="store_true", help="leaderboard: write the page from the records already "
                                                               "there (a partial run's page says it is partial)")
    rp.add_argument("--quiet", "-q", action="store_true")
    rp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from ..reproduce import EXPERIMENTS, reproduce

    names = args.experiments or list(EXPERIMENTS)
    t0 = time.perf_counter()
    if "leaderboard" in names:
        from ..reproduce import run_leaderboard
        from ..runner import check_n_jobs

        check_n_jobs(args.jobs)
        path = run_leaderboard(args.out_dir, quick=args.quick, n_jobs=args.jobs, progress=not args.quiet,
                               command="harness reproduce leaderboard" + (" --quick" if args.quick else ""),
                               report_only=args.report_only)
        print(f"wrote {path}")
        names = [n for n in names if n != "leaderboard"]
        if not names:
            return 0
    reproduce(names, args.out_dir, quick=args.quick, n_jobs=args.jobs, progress=not args.quiet,
              overrides=args.override, resume=not args.fresh, why=args.why)
    print(f"wrote {args.out_dir}/README.md, manifest.json and {len(names)} experiments in "
          f"{time.perf_counter() - t0:.0f} s")
    return 0
