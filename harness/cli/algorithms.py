"""``harness algorithms [NAME]``: the registered algorithms and their settings."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("algorithms", help="list the algorithms, or one algorithm's settings")
    p.add_argument("name", nargs="?", help="an algorithm name or module:Class")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..algorithms import ALGORITHMS, resolve

    if not args.name:
        for name, cls in ALGORITHMS.items():
            print(f"{name:20s} {describe(cls)}")
        print(f"{'optuna:<Pruner>':20s} an Optuna pruner (HyperbandPruner, SuccessiveHalvingPruner, MedianPruner, ...) "
              "through Optuna's ask/tell")
        print(f"{'synetune:<Scheduler>':20s} a Syne Tune scheduler (ASHA, BOHB, ...) driven by the simulator")
        print(f"{'module:Class':20s} your own harness.Scheduler (README: Add an algorithm)")
        print("\nharness algorithms NAME shows its settings (--set KEY=VALUE)")
        return 0
    cls = resolve(args.name)
    print(f"{args.name}: {cls.__module__}:{cls.__name__}, config {cls.Config.__qualname__}")
    for name, typ, default, help_ in cls.Config.describe():
        print(f"  {name:20s} {typ:28s} default {default!r:12s} {help_}")
    return 0


def describe(cls: type) -> str:
    """One line: the class's ``summary``, else its docstring's first line."""
    text = getattr(cls, "summary", "") or ((cls.__doc__ or "").strip().splitlines() or [""])[0]
    return text.replace("``", "")
