"""``harness bench SUITE``: a benchmark suite (conf/bench/<name>.yaml or a YAML path), resumable, with a report."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("bench", help="run a benchmark suite: datasets x algorithms x seeds, with statistics",
                       description="Runs the suite's missing cells (a rerun skips finished ones: an interrupted "
                                   "suite resumes, an added algorithm runs only its cells), then writes "
                                   "<out>/report.md with IQM and stratified bootstrap CIs, ranks, a Friedman test "
                                   "and critical-difference diagram, Holm-corrected tests against the baseline, a "
                                   "performance profile and anytime curves.")
    b.add_argument("suite", help="a suite name under conf/bench/ or a YAML path")
    b.add_argument("--backend", default="joblib", choices=["sequential", "joblib", "mpi"],
                   help="joblib (default): every core, cells balanced by expected cost; the records are the same "
                        "with every backend")
    b.add_argument("--jobs", type=int, default=-1)
    b.add_argument("--shard", type=int, default=0)
    b.add_argument("--n-shards", type=int, default=1)
    b.add_argument("--report-only", action="store_true", help="write the report from the records already there")
    b.add_argument("--quiet", "-q", action="store_true")
    b.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..bench import load_suite, planned_records, run_suite
    from ..reporting.bench import write_report

    suite = load_suite(args.suite)
    if not args.report_only:
        table = run_suite(suite, backend=args.backend, n_jobs=args.jobs, shard=args.shard, n_shards=args.n_shards,
                          progress=not args.quiet)
        if table.empty:  # an MPI worker rank
            return 0
    table, cells = planned_records(suite)
    missing = len(cells) - len(table)
    if table.empty:
        raise ValueError(f"suite {suite.name}: no records in {suite.out_dir} yet; run harness bench {args.suite}")
    if suite.budget is not None:  # an equal-budget suite: the leaderboard's report (readings, marks, ledgers)
        from ..codeversion import code_hash
        from ..reporting.budgeted import write_budgeted
        from ..reproduce import _git_sha

        path = write_budgeted(suite, table, suite.out_dir / "report.md", wall_seconds=float("nan"),
                              command=f"harness bench {args.suite}",
                              code={"git_sha": _git_sha(), "code_hash": code_hash()})
    else:
        path = write_report(suite, table, suite.out_dir)
    print(f"suite {suite.name}: {len(table)} runs in {suite.out_dir}" + (f" ({missing} cells not run yet)"
                                                                        if missing else "") + f"; report {path}")
    return 0
