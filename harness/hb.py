"""Hyperband bracket arithmetic (Li et al.), as pure functions (SPEC section 1).

Conventions (SPEC 1.1-1.2): ``s_max`` is the largest integer ``s`` with ``eta**s <= R`` (integer
arithmetic, no floating log); ``r_i = max(1, round_half_even(R / eta**(s-i)))`` and the last rung is
exactly ``R``; each round keeps ``max(floor(n_i / eta), 1)`` trials.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

ACCOUNTING = ("resume", "scratch")


@dataclass(frozen=True)
class Rung:
    i: int
    n_i: int  # floor(n * eta**-i) (Li et al.)
    r_i: int  # integer epoch budget of this rung
    n_trained: int  # |T| actually trained in this round (n for i=0, else the previous keep)
    keep: int  # survivors promoted: max(floor(n_i / eta), 1)


@dataclass(frozen=True)
class Bracket:
    s: int
    n: int
    r: float
    rungs: tuple[Rung, ...]


def check_params(R: int, eta: int) -> None:
    if isinstance(R, bool) or not isinstance(R, int) or R < 1:
        raise ValueError(f"R is {R!r}, but must be an integer >= 1")
    if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
        raise ValueError(f"eta is {eta!r}, but must be an integer >= 2")


def max_bracket(R: int, eta: int) -> int:
    """Largest ``s`` with ``eta**s <= R``."""
    check_params(R, eta)
    s = 0
    while eta ** (s + 1) <= R:
        s += 1
    return s


def rung_epoch(R: int, eta: int, s: int, i: int) -> int:
    if i == s:
        return R
    return max(1, round(R / eta ** (s - i)))


def bracket(R: int, eta: int, s: int, s_max: int | None = None) -> Bracket:
    s_max = max_bracket(R, eta) if s_max is None else s_max
    if not 0 <= s <= s_max:
        raise ValueError(f"bracket s is {s}, but must be in [0, {s_max}]")
    n = -(-((s_max + 1) * eta**s) // (s + 1))  # ceil((B/R) * eta^s / (s+1)) in integers
    rungs = []
    trained = n
    for i in range(s + 1):
        n_i = n // eta**i
        keep = max(n_i // eta, 1)
        rungs.append(Rung(i=i, n_i=n_i, r_i=rung_epoch(R, eta, s, i), n_trained=trained, keep=keep))
        trained = keep
    return Bracket(s=s, n=n, r=R / eta**s, rungs=tuple(rungs))


def brackets(R: int, eta: int) -> list[Bracket]:
    """All brackets of one Hyperband iteration, in execution order ``s_max .. 0``."""
    return list(_brackets(R, eta))


@lru_cache(maxsize=256)
def _brackets(R: int, eta: int) -> tuple[Bracket, ...]:
    s_max = max_bracket(R, eta)
    return tuple(bracket(R, eta, s, s_max) for s in range(s_max, -1, -1))


def bracket_epochs(b: Bracket, accounting: str = "resume") -> int:
    if accounting not in ACCOUNTING:
        raise ValueError(f"accounting is {accounting!r}, but must be one of {ACCOUNTING}")
    total, prev = 0, 0
    for rung in b.rungs:
        total += rung.n_trained * (rung.r_i - prev if accounting == "resume" else rung.r_i)
        prev = rung.r_i
    return total


def hyperband_epochs(R: int, eta: int, accounting: str = "resume") -> int:
    """Epochs one vanilla Hyperband iteration charges (exact, no sampling involved)."""
    return sum(bracket_epochs(b, accounting) for b in brackets(R, eta))


def rung_capacity(R: int, eta: int, n_runs: int = 1) -> dict[int, int]:
    """Trials trained to each rung epoch over ``n_runs`` Hyperband iterations: the most full rung curves a
    learning algorithm (f-Hyperband's D[r], Swift's CURVES[r]) can collect per rung in a run."""
    out: dict[int, int] = {}
    for b in brackets(R, eta):
        for rung in b.rungs:
            out[rung.r_i] = out.get(rung.r_i, 0) + rung.n_trained * n_runs
    return out


def hyperband_configs(R: int, eta: int) -> int:
    return sum(b.n for b in brackets(R, eta))


def table(R: int, eta: int) -> str:
    """Human-readable bracket table, e.g. ``s=4: (81,1)(27,3)(9,9)(3,27)(1,81)``."""
    return "\n".join(
        f"s={b.s}: " + "".join(f"({r.n_trained},{r.r_i})" for r in b.rungs) for b in brackets(R, eta)
    )


def stable_top(trials: Iterable[int], losses: Iterable[float], k: int) -> list[int]:
    """The ``k`` trials with the smallest losses, best first; ties keep the input order.

    ``losses`` may be a list or a numpy array (ordered by numpy's stable argsort, the same order as Python's
    stable sort of the same values; NaN sorts last in numpy, and is not a loss the engine reports)."""
    trials = trials if isinstance(trials, list) else list(trials)
    if isinstance(losses, np.ndarray):
        return [trials[j] for j in losses.argsort(kind="stable")[:k].tolist()]
    vals = losses if isinstance(losses, list) else [float(v) for v in losses]
    order = sorted(range(len(vals)), key=vals.__getitem__)  # Python's sort is stable
    return [trials[j] for j in order[:k]]


def quantile(values: Iterable[float], q: float) -> float:
    """``float(np.quantile(values, q))`` (the default linear method), bit for bit, for the short lists of a
    rung's losses: numpy's call overhead (about 25 us) dominated Swift's and ASHA's decisions. The same
    operations in the same order as numpy's ``_quantile`` and ``_lerp``, including NaN for a NaN value and
    the same inf arithmetic (tests/test_hb.py compares the two on random lists)."""
    s = sorted(values)
    n = len(s)
    if n == 0:
        raise ValueError("quantile of no values")
    if any(x != x for x in s):
        return math.nan
    v = (n - 1) * q
    if v >= n - 1:  # numpy takes the last value, with its previous index set to -1
        i = j = n - 1
        prev = -1.0
    elif v < 0:
        i = j = 0
        prev = 0.0
    else:
        prev = float(math.floor(v))
        i = int(prev)
        j = i + 1
    t = v - prev
    a, b = s[i], s[j]
    d = b - a
    return b - d * (1 - t) if t >= 0.5 else a + d * t


def asha_rungs(R: int, eta: int, r_min: int = 1) -> list[int]:
    """ASHA's rung epochs ``r_min * eta**k`` below ``R``, then ``R``."""
    check_params(R, eta)
    if not 1 <= r_min <= R:
        raise ValueError(f"r_min is {r_min}, but must be in [1, R={R}]")
    out, r = [], r_min
    while r < R:
        out.append(r)
        r *= eta
    return out + [R]
