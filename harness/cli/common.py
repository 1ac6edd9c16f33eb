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
