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
            doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
            print(f"{name:20s} {cls.__module__}:{cls.__name__}  {doc}")
        print("\nharness algorithms NAME shows its settings (--set KEY=VALUE)")
        return 0
    cls = resolve(args.name)
    print(f"{args.name}: {cls.__module__}:{cls.__name__}, config {cls.Config.__qualname__}")
    for name, typ, default, help_ in cls.Config.describe():
        print(f"  {name:20s} {typ:28s} default {default!r:12s} {help_}")
    return 0
