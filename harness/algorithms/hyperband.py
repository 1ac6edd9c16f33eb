"""Vanilla Hyperband, successive halving and random search (SPEC section 1)."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, ClassVar

from ..config import DEFAULT_ETA, AlgorithmConfig, setting
from ..hb import Bracket, bracket, brackets, check_params, hyperband_epochs, max_bracket, stable_top
from ..scheduler import Batch, Results, SynchronousScheduler, TrialView, UniformResults


@dataclass(frozen=True)
class BudgetConfig(AlgorithmConfig):
    """Settings every Hyperband-family algorithm shares."""

    R: int | None = setting(None, help="max epochs per config (default: the dataset's T)", range=(1, None))
    eta: int = setting(DEFAULT_ETA, help="Hyperband discard rate", range=(2, None))
    n_runs: int = setting(1, help="consecutive Hyperband iterations (fresh samples each)", range=(1, None))


def learning_advice(name: str, d: int, R: int, eta: int, n_runs: int, reset: bool, what: str) -> list[str]:
    """A rung's model needs ``d`` full curves; say so when no rung of the run can collect that many."""
    from ..hb import rung_capacity

    cap = rung_capacity(R, eta, 1 if reset else n_runs)
    top = max((c for r, c in cap.items() if r > 1), default=0)
    if top >= d:
        return []
    return [f"{name}: d={d} full curves are needed before a rung's {what} is trained, but with R={R}, eta={eta} "
            f"and n_runs={n_runs}{' (reset between runs)' if reset else ''} no rung trains more than {top} trials: "
            f"{name} will act exactly like Hyperband; lower d or raise n_runs"]


def resolve_R(R: int | None, view: TrialView, algorithm: str) -> int:
    """``R`` of the run: the configured value, or the dataset's recorded epochs; never beyond them."""
    if R is None:
        return view.n_epochs
    if R > view.n_epochs:
        raise ValueError(f"{algorithm} setting R is {R}, but the curves record only {view.n_epochs} epochs; "
                         f"lower R or extend the curves with --pad-to {R} (repeats each curve's last value)")
    return R


#: what a Hyperband round records (run, bracket, rung index, trials trained, rung epoch, epochs charged so far)
ROUND_KEYS = ("run", "s", "i", "n_trained", "r_i", "epochs")


class Hyperband(SynchronousScheduler):
    """Li et al. Hyperband with the SPEC 1.2 integer-epoch convention; ``n_runs`` consecutive iterations."""

    name = "hyperband"
    summary = "Hyperband (Li et al. 2018): successive halving over brackets of n configurations x r epochs; n_runs iterations"

    @dataclass(frozen=True)
    class Config(BudgetConfig):
        algorithm: ClassVar[str] = "hyperband"
        reset_between_runs: bool = setting(False, help="forget what predictors learned between Hyperband runs")

    def __init__(self, config: AlgorithmConfig | None = None, /, **settings: Any):
        super().__init__(config, **settings)
        if self.config.R is not None:
            check_params(self.config.R, self.config.eta)
        self.eta, self.n_runs = self.config.eta, self.config.n_runs
        self.reset_between_runs = getattr(self.config, "reset_between_runs", False)
        self.R = self.config.R
        self.rounds: list[dict[str, Any] | tuple[int, ...]] = []

    def start(self, view: TrialView, rng: Any) -> None:
        self.R = self.max_epoch = resolve_R(self.config.R, view, self.name)
        self.rounds = []
        super().start(view, rng)

    def params(self) -> dict[str, Any]:
        return {**super().params(), "R": self.R}

    def schedule(self) -> list[Bracket]:
        return brackets(self.R, self.eta)

    def reset_state(self) -> None:
        """Forget what predictors learned (SPEC 1.3 ``--reset-between-runs``); vanilla Hyperband has nothing."""

    def program(self) -> Generator[Batch, Results, None]:
        for run in range(self.n_runs):
            if run and self.reset_between_runs:
                self.reset_state()
            for b in self.schedule():
                trials = self.view.sample(b.n)
                for rung in b.rungs:
                    trials = yield from self.run_rung(run, b, rung.i, trials)

    def run_rung(self, run: int, b: Bracket, i: int, trials: list[int]) -> Generator[Batch, Results, list[int]]:
        """Train ``trials`` to the rung's epoch and return the survivors, best first."""
        rung = b.rungs[i]
        res = yield Batch.uniform(trials, rung.r_i)
        uniform = isinstance(res, UniformResults) and res.trials is trials
        losses = res.values if uniform else [res[t][1] for t in trials]
        self.rounds.append((run, b.s, i, len(trials), rung.r_i, self.view.epochs_used))  # a dict in log_record
        return stable_top(trials, losses, rung.keep)

    def log_record(self) -> list[dict[str, Any]]:
        return [r if isinstance(r, dict) else dict(zip(ROUND_KEYS, r, strict=True)) for r in self.rounds]


class SuccessiveHalving(Hyperband):
    """One Hyperband bracket (default the most aggressive, ``s = s_max``)."""

    name = "successive_halving"
    summary = "one Hyperband bracket: n configurations, keep the best 1/eta at each rung"

    @dataclass(frozen=True)
    class Config(BudgetConfig):
        algorithm: ClassVar[str] = "successive_halving"
        s: int | None = setting(None, help="the bracket (default s_max, the most aggressive)", range=(0, None))

    def start(self, view: TrialView, rng: Any) -> None:
        R = resolve_R(self.config.R, view, self.name)
        s_max = max_bracket(R, self.eta)
        self.s = s_max if self.config.s is None else self.config.s
        if self.s > s_max:
            raise ValueError(f"successive_halving setting s is {self.s}, but must be in [0, {s_max}] for "
                             f"R={R}, eta={self.eta}")
        super().start(view, rng)

    def schedule(self) -> list[Bracket]:
        return [bracket(self.R, self.eta, self.s, max_bracket(self.R, self.eta))]

    def params(self) -> dict[str, Any]:
        return {**super().params(), "s": self.s}


class RandomSearch(SynchronousScheduler):
    """Train ``n`` uniformly sampled configs fully (``n`` defaults to Hyperband's budget in configs)."""

    name = "random"
    summary = "train n uniformly drawn configurations fully (n: Hyperband's budget in configurations)"

    @dataclass(frozen=True)
    class Config(BudgetConfig):
        algorithm: ClassVar[str] = "random"
        n: int | None = setting(None, help="configs trained fully (default: as many as fit in the epochs of "
                                           "n_runs Hyperband iterations at the same R and eta)", range=(1, None))

    def start(self, view: TrialView, rng: Any) -> None:
        cfg = self.config
        self.R = self.max_epoch = resolve_R(cfg.R, view, self.name)
        self.n = cfg.n if cfg.n is not None else max(1, cfg.n_runs * hyperband_epochs(self.R, cfg.eta) // self.R)
        super().start(view, rng)

    def params(self) -> dict[str, Any]:
        return {**super().params(), "R": self.R, "n": self.n}

    def program(self) -> Generator[Batch, Results, None]:
        yield Batch.uniform(self.view.sample(self.n), self.R)
