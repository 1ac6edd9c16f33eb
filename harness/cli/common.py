"""Options and settings shared by the replay-like commands (replay, demo, ab)."""

from __future__ import annotations

import argparse
from typing import Any

from .datasets import NAN_POLICIES


def algorithm_settings(algorithms: list[str], settings: dict[str, Any], run_level: dict[str, Any],
                       option: str = "--set") -> dict[str, Any]:
    from ..algorithms import build_configs

    return build_configs(algorithms, settings, run_level, option=option)

ALGORITHM_HELP = ("hyperband, successive_halving, random, swift, fhyperband, earlystop, asha, swift_asha, or "
                  "module:Class for your own scheduler; NAME@LABEL runs another instance (settings as "
                  "--set NAME@LABEL.key=value)")


def add_run_options(r: argparse.ArgumentParser, *, default_seeds: str = "0-9") -> None:
    """Options of a replay run: data, budget, seeds, simulated workers, fan-out and output."""
    r.add_argument("--R", type=int, help="max epochs per config, for every algorithm (default: the dataset's T)")
    r.add_argument("--eta", type=int, help="Hyperband discard rate, for every algorithm (default 3)")
    r.add_argument("--seeds", default=default_seeds, help=f"e.g. 0-9, 1,3,5 or 4 (default {default_seeds})")
    r.add_argument("--accounting", default="resume", choices=["resume", "scratch", "both"],
                   help="resume: a promoted trial continues from its last epoch; scratch: it retrains from epoch 1")
    r.add_argument("--draws", default="bracket", choices=["bracket", "run"],
                   help="pool rows: bracket (SPEC 0.3: distinct within a bracket, a row drawn again later is a new "
                        "trial from epoch 1) or run (no row drawn twice in a run; the run ends when none is left)")
    r.add_argument("--workers", type=int, default=1, help="simulated parallel workers")
    r.add_argument("--cost", default="epochs", choices=["epochs", "seconds", "cpu_seconds"],
                   help="simulated time of an epoch: 1 unit, the recorded wall seconds, or the recorded CPU seconds "
                        "(populations made by generate: on a shared machine they measure the configuration, wall "
                        "seconds also the load)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="algorithm setting, e.g. --set d=15 (every algorithm that has d) or --set swift.d=15 "
                        "(one algorithm); see harness algorithms NAME")
    r.add_argument("--backend", default="sequential", choices=["sequential", "joblib", "mpi"])
    r.add_argument("--jobs", type=int, default=-1, help="joblib processes (default: all cores)")
    r.add_argument("--nan-policy", default="drop", choices=NAN_POLICIES)
    r.add_argument("--pad-to", type=int, help="extend curves to this many epochs by repeating the last value")
    r.add_argument("--out", help="write run records (JSON lines)")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress bars (warnings are still shown)")


def check_run_options(args: argparse.Namespace, n_epochs: int) -> None:
    """One-line errors for run options that cannot work with this dataset."""
    if args.workers < 1:
        raise ValueError(f"--workers is {args.workers}, but must be >= 1")
    if args.pad_to is not None and args.pad_to < n_epochs:
        raise ValueError(f"--pad-to is {args.pad_to}, but the curves already record {n_epochs} epochs; "
                         "--pad-to can only extend them")
    T = max(n_epochs, args.pad_to or 0)
    if args.R is not None and args.R > T:
        hint = f"; extend the curves with --pad-to {args.R} (repeats each curve's last value)" if not args.pad_to \
            else f"; raise --pad-to to at least {args.R}"
        raise ValueError(f"--R is {args.R}, but the curves record only {T} epochs{hint}")
    if args.R is not None and args.R < 1:
        raise ValueError(f"--R is {args.R}, but must be >= 1")
    check_output_paths(args)


def check_output_paths(args: argparse.Namespace) -> None:
    """Before the run, not after it: ``--out`` must be a writable file path and ``--plot`` an image format
    matplotlib writes (matplotlib is imported only when --plot is given)."""
    import os
    from pathlib import Path

    for option in ("out", "plot"):
        value = getattr(args, option, None)
        if not value:
            continue
        path = Path(value)
        if path.is_dir():
            raise ValueError(f"--{option} {value}: is a directory, but must be a file path")
        parent = next((p for p in path.absolute().parents if p.exists()), None)
        if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise ValueError(f"--{option} {value}: cannot create it ({parent} is not a writable directory)")
    if getattr(args, "plot", None):
        from matplotlib.backend_bases import FigureCanvasBase

        formats = sorted(FigureCanvasBase.get_supported_filetypes())
        suffix = Path(args.plot).suffix.lstrip(".").lower()
        if suffix not in formats:
            raise ValueError(f"--plot {args.plot}: the file name must end in an image format matplotlib writes "
                             f"({', '.join(formats)})")


def run_level(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.R is not None:
        out["R"] = args.R
    if args.eta is not None:
        out["eta"] = args.eta
    return out


def accountings(args: argparse.Namespace) -> list[str]:
    return ["resume", "scratch"] if args.accounting == "both" else [args.accounting]


def run_recorded(cells: list[Any], configs: dict[str, Any], cs: Any, args: argparse.Namespace,
                 out: str | None) -> tuple[list[Any], int]:
    """Run ``cells`` (records in cell order, and how many ran now). With ``out``, every record is appended to it
    as its run finishes (flushed), under a lock taken before the run, and the runs already in it (same dataset
    content, settings, seed and code: a bench cell's key) are skipped and said."""
    from pathlib import Path

    from ..runner import run_cells

    writer, done, keys = None, {}, []
    if out and args.backend == "mpi":
        from ..bench import _mpi_rank

        if _mpi_rank() != 0:  # a serving rank: rank 0 (the client) writes
            out = None
    if out:
        from ..algorithms import resolve
        from ..bench import cell_key
        from ..codeversion import algorithm_code_hash, cell_roots
        from ..reporting.replay import RecordWriter, read_keyed_jsonl

        pad = args.pad_to
        h = (cs.pad_to(pad) if pad and pad > cs.n_epochs else cs).content_hash()
        version = {a: algorithm_code_hash(resolve(a).__module__, cell_roots(configs[a].to_dict()))
                   for a in {c.algorithm for c in cells}}
        keys = [cell_key(h, c.algorithm, configs[c.algorithm].to_dict(), c, version[c.algorithm]) for c in cells]
        if Path(out).is_file():
            done = {k: r for k, r in read_keyed_jsonl(out) if k is not None}
        writer = RecordWriter(out)  # locked and opened before the run: a second writer is refused now
        have = sum(k in done for k in keys)
        if have:
            print(f"{out}: {have} of {len(cells)} runs already there (same dataset, settings, seed and code); "
                  f"running the other {len(cells) - have}")
    todo = [i for i in range(len(cells)) if not keys or keys[i] not in done]

    def arrived(idx: list[int], recs: list[Any]) -> None:
        for j, r in zip(idx, recs, strict=True):
            writer.write(keys[todo[j]], r)  # type: ignore[union-attr]

    try:
        new = run_cells([cells[i] for i in todo], backend=args.backend, n_jobs=args.jobs, progress=not args.quiet,
                        on_records=arrived if writer is not None else None)
    finally:
        if writer is not None:
            writer.close()
    if todo and not new:  # MPI worker rank
        return [], 0
    got = dict(zip(todo, new, strict=True))
    return [got[i] if i in got else done[keys[i]] for i in range(len(cells))], len(new)
