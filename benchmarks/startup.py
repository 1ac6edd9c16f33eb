"""Command start-up (issue #15): a replay command with one Hyperband seed vs ``python -c "import numpy,
pandas"`` (goal <= 2x), and ``harness --help`` vs ``python -c "import numpy"`` (goal <= 2x). Wall time of
fresh processes, medians of interleaved repetitions.

    python benchmarks/startup.py [--reps 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _common import interleaved, line

PY = sys.executable


def run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=7)
    a = p.parse_args()
    t = interleaved({
        "replay": lambda _: run([PY, "-m", "harness", "replay", "-d", "digits_cnn", "--seeds", "0", "-q"]),
        "numpy_pandas": lambda _: run([PY, "-c", "import numpy, pandas"]),
        "help": lambda _: run([PY, "-m", "harness", "--help"]),
        "numpy": lambda _: run([PY, "-c", "import numpy"]),
    }, a.reps)
    import numpy as np

    r1 = float(np.median(t["replay"] / t["numpy_pandas"]))
    r2 = float(np.median(t["help"] / t["numpy"]))
    print(line("replay one Hyperband seed / import numpy, pandas", r1, "goal <= 2", r1 <= 2))
    print(line("harness --help / import numpy", r2, "goal <= 2", r2 <= 2))
    print("   medians: " + ", ".join(f"{k} {np.median(v):.2f} s" for k, v in t.items()))


if __name__ == "__main__":
    main()
