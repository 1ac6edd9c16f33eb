"""What the Optuna and Syne Tune adapters share: a config made from the wrapped class's constructor, the
epoch budget, and answering a proposed point of the hyperparameter space with the nearest recorded row."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, ClassVar

import numpy as np

from ..algorithms.hyperband import BudgetConfig, resolve_R
from ..config import ConfigError, setting
from ..hb import hyperband_epochs
from ..scheduler import PoolExhausted, Scheduler, TrialView


@dataclasses.dataclass(frozen=True)
class AdapterConfig(BudgetConfig):
    """Settings of the harness side of an adapter (the wrapped class's arguments are added per class)."""

    epochs_budget: int | None = setting(None, help="start new trials while fewer epochs than this were charged "
                                                   "(default: n_runs Hyperband iterations at the same R and eta)",
                                        range=(1, None))
    n_trials: int | None = setting(None, help="number of trials instead of an epoch budget", range=(1, None))
    repeat_rows: bool = setting(False, help="searching hyperparameters on a recorded table: answer a proposal with the "
                                            "nearest pool row even when this run already trained it (a restart from "
                                            "epoch 1); default: the nearest row not yet tried (the pool's own "
                                            "configurations, no duplicates, as Syne Tune's restrict_configurations)")

    #: constructor arguments of the wrapped class (names), filled per generated subclass
    library_args: ClassVar[tuple[str, ...]] = ()
    #: those the harness maps from R / eta when not set (name -> "R" | "eta" | constant)
    mapped: ClassVar[dict[str, Any]] = {}

    def library_kwargs(self, R: int) -> dict[str, Any]:
        """The wrapped class's keyword arguments: what the user set, else the harness's mapping of R / eta."""
        out = {}
        for name in self.library_args:
            v = getattr(self, name)
            if v is _UNSET:
                if name not in self.mapped:
                    continue
                m = self.mapped[name]
                v = R if m == "R" else self.eta if m == "eta" else m
            out[name] = v
        return out


class _Unset:
    def __repr__(self) -> str:
        return "(library default)"

    def __reduce__(self) -> str:
        return "_UNSET"


_UNSET = _Unset()


def make_config(base: type[AdapterConfig], algorithm: str, target: Any, mapped: dict[str, Any],
                skip: tuple[str, ...] = ()) -> type[AdapterConfig]:
    """A frozen config class: ``base``'s settings plus every keyword argument of ``target``'s constructor
    (default: the library's own, shown as "(library default)"; R / eta mapped where ``mapped`` says)."""
    params = [p for p in inspect.signature(target).parameters.values()
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in skip]
    taken = set(base.names())
    fields = []
    for p in params:
        if p.name in taken:
            raise ConfigError(f"{algorithm}: argument {p.name!r} clashes with a harness setting")
        fields.append((p.name, Any, dataclasses.field(default=_UNSET, metadata={
            "help": f"{target.__name__} argument" + (f" (harness default: {mapped[p.name]})" if p.name in mapped else ""),
            "choices": None, "range": None, "lo_open": False, "hi_open": False})))
    cls = dataclasses.make_dataclass(f"{target.__name__}Config", fields, bases=(base,), frozen=True,
                                     namespace={"algorithm": algorithm, "library_args": tuple(f[0] for f in fields),
                                                "mapped": dict(mapped)})
    cls.__module__ = base.__module__
    return cls


class ExternalScheduler(Scheduler):
    """A library's algorithm driven one trial at a time: every job trains a new (or resumed) trial towards R
    and reports every epoch; the library decides at each report."""

    def start(self, view: TrialView, rng: np.random.Generator) -> None:
        c = self.config
        self.R = self.max_epoch = resolve_R(c.R, view, self.name)
        self.eta = c.eta
        self.budget = c.epochs_budget or c.n_runs * hyperband_epochs(self.R, c.eta)
        self.running: set[int] = set()
        self.n_started = 0
        self.n_stopped = 0
        self.exhausted = False
        self.distances: list[float] = []
        super().start(view, rng)

    def params(self) -> dict[str, Any]:
        d = {k: v for k, v in super().params().items() if v is not _UNSET}
        return {**d, "R": self.R, "epochs_budget": self.budget}

    def may_start(self) -> bool:
        if self.exhausted:
            return False
        if self.config.n_trials is not None:
            return self.n_started < self.config.n_trials
        return self.view.epochs_used < self.budget

    @property
    def finished(self) -> bool:
        return not self.running and not self.may_start()

    def extra_record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"trials_started": self.n_started, "stopped": self.n_stopped}
        nearest = getattr(self, "nearest", None)
        if nearest is not None:  # every proposal was mapped to a pool row: how
            out["mapped"] = {"proposals": nearest.calls, "to_untried": nearest.untried,
                             "to_a_tried_row": nearest.repeats, "pool_exhausted": bool(nearest.taken.all())}
        if self.distances:
            out["nearest_distance_mean"] = float(np.mean(self.distances))
            out["nearest_distance_max"] = float(np.max(self.distances))
            out["nearest_distances"] = self.distances
        return out


class NearestRow:
    """Answer a point of the dataset's hyperparameter space with the nearest recorded configuration, by
    Euclidean distance after standardising each column over the pool (log-scaled columns as log10)."""

    def __init__(self, view: TrialView, algorithm: str, untried: bool = False):
        self.untried = untried  # answer with the nearest row not answered before (while one is left)
        self.taken = np.zeros(view.n_configs, dtype=bool)
        self.calls = self.repeats = 0
        X, names = view.static_features(("hp",))
        if X.shape[1] == 0:
            X, names = view.static_features(("ap",))
        if X.shape[1] == 0:
            raise ValueError(f"{algorithm}: the dataset has no hp or ap feature columns to search; use sampler=random")
        self.names = names
        self.lo, self.hi = X.min(axis=0), X.max(axis=0)
        sd = X.std(axis=0)
        self.sd = np.where(sd > 0, sd, 1.0)
        self.Xs = X / self.sd

    def __call__(self, x: np.ndarray) -> tuple[int, float]:
        d = np.sqrt(((self.Xs - np.asarray(x, float) / self.sd) ** 2).sum(axis=1))
        self.calls += 1
        if self.untried:
            if self.taken.all():
                raise PoolExhausted(f"every one of the pool's {len(self.taken)} configurations was tried")
            row = int(np.argmin(np.where(self.taken, np.inf, d)))
        else:
            row = int(np.argmin(d))
            self.repeats += bool(self.taken[row])
        self.taken[row] = True
        return row, float(d[row])
