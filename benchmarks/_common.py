"""Shared by the benchmark scripts: synthetic tables and interleaved timing (medians, never best-of)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.store import CurveSet  # noqa: E402


def table(n: int, t: int, seed: int = 0) -> CurveSet:
    """Saturating accuracy curves with noise, ``n`` configs x ``t`` epochs."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.5, 0.95, n), rng.uniform(2, 15, n)
    y = a[:, None] * (1 - np.exp(-np.arange(1, t + 1)[None, :] / b[:, None])) + rng.normal(0, 0.01, (n, t))
    return CurveSet(name=f"synthetic_{n}x{t}", configs=pd.DataFrame({"config_id": [str(i) for i in range(n)]}),
                    curves=y[:, :, None], metrics={"acc": "max"}, objective="acc")


def interleaved(fns: dict[str, Callable[[int], object]], reps: int, warmup: bool = True) -> dict[str, np.ndarray]:
    """Seconds of each function over ``reps`` rounds; in every round each function runs once, in turn, so a
    slow moment of the machine hits all of them alike. Call ``fn(rep)``."""
    if warmup:
        for fn in fns.values():
            fn(0)
    out: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(reps):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn(r)
            out[k].append(time.perf_counter() - t0)
    return {k: np.array(v) for k, v in out.items()}


def ratio(times: dict[str, np.ndarray], a: str, b: str) -> float:
    """Median over rounds of time(a) / time(b) in the same round."""
    return float(np.median(times[a] / times[b]))


def line(label: str, value: float, goal: str = "", ok: bool | None = None) -> str:
    verdict = "" if ok is None else ("  met" if ok else "  NOT met")
    return f"{label:58s} {value:10.3f}  {goal}{verdict}"
