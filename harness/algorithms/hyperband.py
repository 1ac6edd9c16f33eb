"""Vanilla Hyperband, successive halving and random search (SPEC section 1)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..hb import Bracket, bracket, brackets, check_params, max_bracket
from ..sim import Batch, Job, SynchronousScheduler, stable_top

Results = dict[int, tuple[int, float]]


class Hyperband(SynchronousScheduler):
    """Li et al. Hyperband with the SPEC 1.2 integer-epoch convention.

    ``n_runs`` consecutive Hyperband iterations (fresh samples each); ``brackets_only`` restricts the
    iteration to the listed bracket indices (successive halving is ``brackets_only=(s,)``).
    """

    name = "hyperband"

    def __init__(self, *, R: int, eta: int = 3, n_runs: int = 1, brackets_only: tuple[int, ...] | None = None,
                 reset_between_runs: bool = False):
        check_params(R, eta)
        if n_runs < 1:
            raise ValueError(f"n_runs is {n_runs}, but must be >= 1")
        self.R, self.eta, self.n_runs = R, eta, n_runs
        self.reset_between_runs = reset_between_runs
        self.brackets_only = brackets_only
        self.max_epoch = R
        self.rounds: list[dict[str, Any]] = []

    def params(self) -> dict[str, Any]:
        return {"R": self.R, "eta": self.eta, "n_runs": self.n_runs}

    def schedule(self) -> list[Bracket]:
        if self.brackets_only is None:
            return brackets(self.R, self.eta)
        s_max = max_bracket(self.R, self.eta)
        return [bracket(self.R, self.eta, s, s_max) for s in self.brackets_only]

    def reset_state(self) -> None:
        """Forget what predictors learned (SPEC 1.3 ``--reset-between-runs``); vanilla Hyperband has nothing."""

    def program(self) -> Generator[Batch, Results, None]:
        for run in range(self.n_runs):
            if run and self.reset_between_runs:
                self.reset_state()
            for b in self.schedule():
                trials = self.oracle.sample(b.n)
                for rung in b.rungs:
                    trials = yield from self.run_rung(run, b, rung.i, trials)

    def run_rung(self, run: int, b: Bracket, i: int, trials: list[int]) -> Generator[Batch, Results, list[int]]:
        """Train ``trials`` to the rung's epoch and return the survivors, best first."""
        rung = b.rungs[i]
        res = yield Batch([Job(t, rung.r_i) for t in trials])
        losses = [res[t][1] for t in trials]
        self.rounds.append({"run": run, "s": b.s, "i": i, "n_trained": len(trials), "r_i": rung.r_i,
                            "epochs": self.oracle.epochs_used})
        return stable_top(trials, losses, rung.keep)

    def log_record(self) -> list[dict[str, Any]]:
        return self.rounds


class SuccessiveHalving(Hyperband):
    """One Hyperband bracket (default the most aggressive, ``s = s_max``)."""

    name = "successive_halving"

    def __init__(self, *, R: int, eta: int = 3, s: int | None = None, n_runs: int = 1):
        s = max_bracket(R, eta) if s is None else s
        super().__init__(R=R, eta=eta, n_runs=n_runs, brackets_only=(s,))
        self.s = s

    def params(self) -> dict[str, Any]:
        return {**super().params(), "s": self.s}


class RandomSearch(SynchronousScheduler):
    """Train ``n`` uniformly sampled configs fully (``n`` defaults to Hyperband's budget in configs)."""

    name = "random"

    def __init__(self, *, R: int, n: int):
        if n < 1:
            raise ValueError(f"n is {n}, but must be >= 1")
        self.R, self.n, self.max_epoch = R, n, R

    def params(self) -> dict[str, Any]:
        return {"R": self.R, "n": self.n}

    def program(self) -> Generator[Batch, Results, None]:
        yield Batch([Job(t, self.R) for t in self.oracle.sample(self.n)])
