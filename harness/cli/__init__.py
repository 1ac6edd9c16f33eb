"""``harness`` command line: one module per command, each adding its parser and its ``run``.

Commands: ``datasets`` (list, describe, validate, import), ``replay``, ``demo``, ``ab``, ``algorithms``,
``predict``, ``reproduce``. Heavy libraries are imported inside the commands that use them, so
``harness --help`` starts at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from .. import __version__
from ..errors import PluginError, UserError, user_errors  # noqa: F401  (re-exported)
from . import ab, algorithms, bench, datasets, predict, replay, reproduce

COMMANDS = (datasets, replay, replay.demo_command, ab, bench, algorithms, predict, reproduce)
DESCRIPTION = """\
Simulate and benchmark learning-curve-based hyperparameter optimisation offline: replay Hyperband,
f-Hyperband, Swift-Hyperband, ASHA, Optuna's pruners and Syne Tune's schedulers over recorded (or surrogate)
learning curves, score learning-curve predictors, and rebuild the papers' tables.

Start with:  harness demo              (the built-in algorithms on the embedded dataset)
             harness datasets list     (every benchmark dataset, by family)
             harness COMMAND --help    (one command's options)"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harness", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"lc-harness {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for mod in COMMANDS:
        mod.add_parser(sub)
    return p


#: Python's string-hash seed of every harness command (and the workers it starts, which inherit it): SMAC orders
#: candidate configurations by ``list(set(...))``, so without a fixed seed one seed's run differs between processes
HASH_SEED = "0"


def fixed_hash_seed() -> None:
    """Run this command again, at once, under ``PYTHONHASHSEED=0`` when the process has randomised string hashing
    (a console-script start with the variable unset): a seed then reproduces its run in any process. A value the
    user set is kept."""
    if os.environ.get("PYTHONHASHSEED") not in (None, "", "random") or os.environ.get("LC_HARNESS_NO_REEXEC"):
        return
    env = dict(os.environ, PYTHONHASHSEED=HASH_SEED)
    code = "import sys; from harness.cli import main; sys.exit(main())"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-c", code, *sys.argv[1:]], env)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        fixed_hash_seed()
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # "datasets export NAME --format synetune OUT": a positional after an option
        if args.command == "datasets" and getattr(args, "target", None) is None and len(extra) == 1 \
                and not extra[0].startswith("-"):
            args.target = extra[0]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if "" not in sys.path and os.getcwd() not in sys.path:  # -a mymodule:MyScheduler from the working folder
        sys.path.append(os.getcwd())
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except PluginError as e:  # a user's own algorithm or predictor failed: its traceback, then one line
        cause = e.__cause__
        if cause is not None:
            traceback.print_exception(type(cause), cause, cause.__traceback__)
        print(f"error: {e}", file=sys.stderr)
        return 3
    except user_errors() as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug (ours or a plug-in's), not bad input: say so, with the traceback
        traceback.print_exc()
        print(f"internal error: {type(e).__name__}: {e} (a bug in lc-harness or in a plug-in; the traceback is "
              "above)", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
