"""The replay engine: the recorded table as an oracle, the narrow view schedulers get of it, and the
discrete-event simulator that drives a :class:`~harness.scheduler.Scheduler`.

Jobs run on ``workers`` simulated workers on an explicit clock (an event heap keyed ``(time, seq)``);
wall time is never read, so a seed reproduces a run exactly. The scheduler sees only a
:class:`ReplayView` (paid-for epochs, features, sampling), never the table.

Accounting (SPEC 0.2): ``resume`` charges ``max(0, e - trained[t])`` for training trial ``t`` to epoch
``e``; ``scratch`` charges every requested epoch again. A stopped job is charged only up to the epoch
at which it stopped.
"""

from __future__ import annotations

import heapq
import math
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .hb import ACCOUNTING, stable_top  # noqa: F401  (stable_top: re-exported for old imports)
from .scheduler import Decision, Job, PoolExhausted, Scheduler
from .store import CurveSet

log = logging.getLogger(__name__)


#: (dataset, pool size, sample size) already warned about sampling with replacement
_WARNED: set[tuple[str, int, int]] = set()
#: surrogate mode: configurations a run may propose outside the pool (their rows are allocated up front, so the
#: replay loops keep plain array references)
SURROGATE_CAPACITY = 10_000
#: how pool rows are drawn (SPEC 0.3): "bracket" (the SPEC's choice: distinct within one ``sample``; a row can be
#: drawn again later and is then a new trial from epoch 1), "run" (no row drawn twice in a run, as a continuous
#: space never repeats a configuration; the run ends when the pool has no unused row left for a draw)
DRAWS = ("bracket", "run")


class UnpaidEpochError(LookupError):
    """A scheduler asked for the value of an epoch it has not paid for."""


@dataclass
class Oracle:
    """The recorded table as a training oracle (SPEC 0.2). Losses are to be minimised."""

    curves: CurveSet
    accounting: str = "resume"
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    draws: str = "bracket"

    def __post_init__(self) -> None:
        if self.accounting not in ACCOUNTING:
            raise ValueError(f"accounting is {self.accounting!r}, but must be one of {ACCOUNTING}")
        if self.draws not in DRAWS:
            raise ValueError(f"draws is {self.draws!r}, but must be one of {DRAWS}")
        # the objective as recorded (a view, no copy: a replay adds little memory to the table); losses are
        # sign * y, and +inf where y is not finite (CurveSet.loss() semantics, computed on read)
        self._y = self.curves.curve()
        self._sign = -1.0 if self.curves.mode == "max" else 1.0
        self._finite = self.curves.all_finite()
        self.n_configs, self.n_epochs = self._y.shape
        self.trial_config: list[int] = []
        self.trained: list[int] = []  # furthest epoch paid for (visible prefix)
        self.epochs_used = 0
        # single uniform draws (draw_config) come from a block drawn ahead; numpy's PCG64 gives the same values
        # whether drawn one by one or as a block, and sync_rng() puts the generator exactly where one-by-one
        # draws would have left it before any other use of the stream (tests/test_sim.py)
        self._draws: list[int] = []
        self._drawn = 0
        self._draw_state: dict[str, Any] | None = None
        # draws="run": rows any trial of the run started; draws take the next unused rows of one random order of
        # the pool, made at the first draw (uniform without replacement, whatever rows the algorithm chose itself)
        self.distinct = self.draws == "run"
        self._used = np.zeros(self.n_configs, dtype=bool) if self.distinct else None
        self._order: list[int] | None = None
        self._pos = 0
        self.rows_restarted = 0  # trials started on a row an earlier trial had used (draws="run": the algorithm's own)
        self.pool_exhausted = False
        # surrogate mode (a surrogate benchmark): configurations proposed outside the pool get rows n_configs, ...
        # of an enlarged table; sampling (draw, sample, permutation) stays over the pool
        self.surrogate = self.curves.surrogate
        self.proposed: list[dict[str, Any]] = []
        self._cum: np.ndarray | None = None
        if self.surrogate is not None:
            table = np.full((self.n_configs + SURROGATE_CAPACITY, self.n_epochs), np.nan)
            table[: self.n_configs] = self._y
            self._y, self._finite = table, False

    # --- the table, as losses -----------------------------------------------------------------
    def loss_of(self, config: int, epoch: int) -> float:
        v = self._sign * float(self._y[config, epoch - 1])
        return v if self._finite or (v == v and v not in (np.inf, -np.inf)) else np.inf

    def losses(self, configs: Any, epoch: int) -> np.ndarray:
        """Losses of ``configs`` (pool rows: an integer array or a list) at ``epoch`` (a fresh array)."""
        if isinstance(configs, list):
            configs = np.fromiter(configs, np.intp, len(configs))
        v = self._y[:, epoch - 1][configs]  # one column, then its rows: twice as fast as 2-d fancy indexing
        if self._sign < 0:
            v = np.negative(v, out=v)  # v is a fresh copy (fancy indexing)
        return v if self._finite else np.where(np.isfinite(v), v, np.inf)

    def prefix(self, config: Any, epochs: int) -> np.ndarray:
        """Losses of pool row ``config`` at epochs 1..``epochs`` (a fresh array); of each row, one per array row,
        when ``config`` is an integer array."""
        v = self._y[config, :epochs] * self._sign
        if not self._finite:
            v[~np.isfinite(v)] = np.inf
        return v

    @property
    def loss(self) -> np.ndarray:
        """The whole (N, T) loss table (a cached copy; the replay itself never needs it)."""
        return self.curves.loss()

    # --- surrogate mode ------------------------------------------------------------------------
    def add_config(self, config: Any) -> int:
        """A configuration of the surrogate's space outside the pool: evaluated by the surrogate at every epoch
        (its values checked first) and given the next row. Returns the row."""
        if self.surrogate is None:
            raise ValueError(f"{self.curves.name} is a recorded table: a trial can only start at one of its "
                             f"{self.n_configs} configurations (surrogate mode needs a surrogate benchmark)")
        row = self.n_configs + len(self.proposed)
        if row >= len(self._y):
            raise RuntimeError(f"{self.curves.name}: more than {SURROGATE_CAPACITY} configurations proposed in one run")
        y, seconds = self.surrogate.evaluate(config)
        self._y[row] = y
        if self._cum is not None:
            self._cum[row, 0] = 0.0
            np.cumsum(seconds, out=self._cum[row, 1:])
        self.proposed.append({k: (v.item() if hasattr(v, "item") else v) for k, v in dict(config).items()})
        return row

    def attach_cum(self, cum: np.ndarray) -> np.ndarray:
        """Surrogate mode with ``cost=seconds``: the cumulative-seconds table enlarged like the loss table."""
        big = np.zeros((len(self._y), cum.shape[1]))
        big[: len(cum)] = cum
        self._cum = big
        return big

    def config_id(self, row: int) -> str:
        """The id of a pool row, or ``proposed_<k>`` for the k-th configuration proposed in surrogate mode."""
        return str(self.curves.ids[row]) if row < self.n_configs else f"proposed_{row - self.n_configs}"

    def record_extra(self) -> dict[str, Any]:
        """What a run record says of the mode: nothing on a recorded table drawn per bracket; with distinct draws
        over the run, that, whether the pool ran out, and how many trials the algorithm itself started on a row
        used before; on a surrogate benchmark, that its values are model predictions and every configuration
        proposed outside the pool (evaluated as proposed)."""
        out: dict[str, Any] = {}
        if self.distinct:
            out = {"draws": "run", "pool_exhausted": self.pool_exhausted, "rows_restarted": self.rows_restarted}
        if self.surrogate is None:
            return out
        return {**out, "dataset_kind": "surrogate", "surrogate": self.surrogate.description,
                "mode": "surrogate" if self.proposed else "pool", "proposed": len(self.proposed),
                "proposed_configs": self.proposed}

    # --- trials ----------------------------------------------------------------------------
    def new_trial(self, config: int) -> int:
        if self.distinct and config < self.n_configs:
            if self._used[config]:
                self.rows_restarted += 1
            self._used[config] = True
        self.trial_config.append(int(config))
        self.trained.append(0)
        return len(self.trial_config) - 1

    def unused(self, n: int | None) -> list[int]:
        """draws="run": the next ``n`` (None: all) rows of the run's random order that no trial has used, in that
        order; :class:`PoolExhausted` (and ``pool_exhausted`` set) when fewer than ``n`` are left."""
        if self._order is None:
            self._order = self.rng.permutation(self.n_configs).tolist()
        order, used = self._order, self._used
        while self._pos < len(order) and used[order[self._pos]]:
            self._pos += 1
        if n == 1 and self._pos < len(order):
            return [order[self._pos]]
        rows = [r for r in order[self._pos:] if not used[r]]
        if n is None:
            return rows
        if len(rows) < n:
            self.pool_exhausted = True
            raise PoolExhausted(f"{self.curves.name}: a draw of {n} configurations, but {len(rows)} of the pool's "
                                f"{self.n_configs} are unused (draws=run)")
        return rows[:n]

    def draw_config(self) -> int:
        """A pool row drawn uniformly (with replacement), as ``int(rng.integers(n_configs))`` would give it; with
        draws="run", an unused one."""
        if self.distinct:
            return self.unused(1)[0]
        if self._drawn >= len(self._draws):
            size = min(1024, 16 + 2 * len(self._draws))  # blocks grow: few draws waste little
            self._draw_state = self.rng.bit_generator.state
            self._draws, self._drawn = self.rng.integers(self.n_configs, size=size).tolist(), 0
        v = self._draws[self._drawn]
        self._drawn += 1
        return v

    def sync_rng(self) -> None:
        """Leave the sampling stream where one-by-one draws would have: call before any other use of ``rng``."""
        if self._drawn < len(self._draws):
            self.rng.bit_generator.state = self._draw_state
            if self._drawn:
                self.rng.integers(self.n_configs, size=self._drawn)
            self._draws, self._drawn = [], 0
        elif self._draws:
            self._draws, self._drawn = [], 0

    def sample(self, n: int) -> list[int]:
        """``n`` new trials of uniformly drawn distinct configs (SPEC 0.3; with draws="run", unused ones)."""
        if self.distinct:
            first = len(self.trial_config)
            for row in self.unused(n):
                self.new_trial(row)
            return list(range(first, first + n))
        if self._draws:
            self.sync_rng()
        if n > self.n_configs:
            key = (self.curves.name, self.n_configs, n)
            if key not in _WARNED:  # once per process, not once per seed
                _WARNED.add(key)
                log.warning("%s: asked for %d configs from a pool of %d: sampling with replacement",
                            self.curves.name, n, self.n_configs)
            rows = self.rng.choice(self.n_configs, size=n, replace=True)
        else:
            rows = self.rng.choice(self.n_configs, size=n, replace=False)
        first = len(self.trial_config)
        self.trial_config.extend(rows.tolist())
        self.trained.extend([0] * n)
        return list(range(first, first + n))

    @property
    def n_trials(self) -> int:
        return len(self.trial_config)

    def config(self, trial: int) -> int:
        return self.trial_config[trial]

    # --- observations ----------------------------------------------------------------------
    def value(self, trial: int, epoch: int) -> float:
        """Loss of ``trial`` after ``epoch`` epochs; only paid-for epochs are visible."""
        if not 1 <= epoch <= self.trained[trial]:
            raise UnpaidEpochError(f"trial {trial}: epoch {epoch} read, but only epochs 1..{self.trained[trial]} "
                                   "are paid for")
        return self.loss_of(self.trial_config[trial], epoch)

    def visible(self, trial: int) -> np.ndarray:
        return self.prefix(self.trial_config[trial], self.trained[trial])

    def prefixes(self, trials: Any, epochs: int) -> np.ndarray:
        """Paid-for losses of ``trials`` at epochs 1..``epochs`` as one (n, epochs) array (a fresh one)."""
        trained = self.trained
        short = [t for t in trials if trained[t] < epochs]
        if short:
            raise UnpaidEpochError(f"trial {short[0]}: epochs 1..{epochs} read, but only epochs "
                                   f"1..{trained[short[0]]} are paid for")
        return self.prefix(np.fromiter(map(self.trial_config.__getitem__, trials), np.intp, len(trials)), epochs)

    def charge(self, trial: int, start: int, epoch: int) -> int:
        """Pay epochs ``start+1 .. epoch`` of ``trial``; return the epochs charged."""
        cost = max(0, epoch - start)
        self.epochs_used += cost
        self.trained[trial] = max(self.trained[trial], epoch)
        return cost

    def train(self, trial: int, epoch: int) -> float:
        """Sequential shortcut: train to ``epoch`` (charging per accounting) and return the loss."""
        self._check_epoch(epoch)
        start = self.trained[trial] if self.accounting == "resume" else 0
        self.charge(trial, start, epoch)
        return self.value(trial, epoch)

    def _check_epoch(self, epoch: int) -> None:
        if not 1 <= epoch <= self.n_epochs:
            raise ValueError(f"epoch {epoch} is outside the recorded curves [1, {self.n_epochs}]")


class ReplayView:
    """The :class:`~harness.scheduler.TrialView` of a replay: a scheduler's only access to the table.

    It answers with paid-for epochs only; the table, the oracle and the other trials' unpaid epochs stay
    out of reach (the oracle is held in a name-mangled slot, not as an attribute of the view)."""

    __slots__ = ("__oracle", "__static")

    def __init__(self, oracle: Oracle):
        self.__oracle = oracle
        self.__static: dict[tuple[str, ...], tuple[np.ndarray, list[str]]] = {}

    @property
    def n_configs(self) -> int:
        return self.__oracle.n_configs

    @property
    def n_epochs(self) -> int:
        return self.__oracle.n_epochs

    @property
    def n_trials(self) -> int:
        return len(self.__oracle.trial_config)

    @property
    def epochs_used(self) -> int:
        return self.__oracle.epochs_used

    def sample(self, n: int) -> list[int]:
        return self.__oracle.sample(n)

    def draw(self) -> int:
        o = self.__oracle
        return o.new_trial(o.draw_config())

    def permutation(self) -> np.ndarray:
        o = self.__oracle
        if o.distinct:
            return np.array(o.unused(None), dtype=np.intp)
        o.sync_rng()
        return o.rng.permutation(o.n_configs)

    @property
    def space(self) -> Any:
        """The configuration space (:class:`harness.space.SearchSpace`) of a surrogate benchmark, else None."""
        s = self.__oracle.surrogate
        return None if s is None else s.space

    def new_trial_at(self, config: Any) -> int:
        """Surrogate mode: start a trial at ``config`` (a mapping of the space's parameters), evaluated as given."""
        o = self.__oracle
        return o.new_trial(o.add_config(config))

    def new_trial(self, config: int) -> int:
        if not 0 <= int(config) < self.__oracle.n_configs:
            raise ValueError(f"config is {config}, but must be a pool row in [0, {self.__oracle.n_configs})")
        return self.__oracle.new_trial(config)

    def config(self, trial: int) -> int:
        return self.__oracle.trial_config[trial]

    def trained(self, trial: int) -> int:
        return self.__oracle.trained[trial]

    def observed(self, trial: int) -> np.ndarray:
        return self.__oracle.visible(trial)  # a fresh array: the caller may keep or change it

    def value(self, trial: int, epoch: int) -> float:
        return self.__oracle.value(trial, epoch)

    def prefixes(self, trials: Sequence[int], epochs: int) -> np.ndarray:
        return self.__oracle.prefixes(trials, epochs)

    def hindsight(self, trial: int, epoch: int) -> float:
        """The recorded loss of ``trial`` at any ``epoch``, paid for or not: for the perfect-predictor bounds of the
        studies only (``predictor="oracle"``). An algorithm that reads it is not an algorithm."""
        o = self.__oracle
        return o.loss_of(o.trial_config[trial], epoch)

    def static_features(self, kinds: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
        key = tuple(sorted(k.lower() for k in kinds))
        if key not in self.__static:
            from .predictors.features import static_features

            self.__static[key] = static_features(self.__oracle.curves, key)
        return self.__static[key]


# ---------------------------------------------------------------------------------------------
# the simulator


@dataclass
class Event:
    epochs: int  # cumulative epochs charged when this happened
    time: float  # simulated time
    trial: int
    config: int
    epoch: int
    loss: float


@dataclass
class Trace:
    """What happened in a simulation, for metrics and anytime plots."""

    epochs_used: int
    makespan: float
    n_trials: int
    reached: list[tuple[int, int, float, float]]  # (trial, cum_epochs, sim_time, loss at max_epoch)
    trial_config: list[int]
    busy_time: float
    #: trials a STOP decision ended (for the trial ledger)
    stopped: set[int] = field(default_factory=set)
    #: the epoch budget the run was given (None: the algorithm ended it), and whether the budget ended it
    budget: int | None = None
    budget_hit: bool = False
    #: (cumulative epochs, loss) each time the best value reported to the algorithm, at any epoch, improved: the
    #: incumbent of freeze-thaw papers (DPL, DyHPO: the best value seen so far), for the ledger
    observed: list[tuple[int, float]] = field(default_factory=list)


def simulate(
    curves: CurveSet,
    scheduler: Scheduler,
    *,
    seed: int = 0,
    accounting: str = "resume",
    workers: int = 1,
    cost: str = "epochs",
    max_jobs: int = 10_000_000,
    budget: int | None = None,
    draws: str = "bracket",
) -> tuple[Oracle, Trace]:
    """Run ``scheduler`` over the recorded ``curves`` on ``workers`` simulated workers.

    ``budget`` (epochs): the run ends once that many epochs are charged, whatever the scheduler would do next (the
    equal-budget protocol of the leaderboard); the job or report that crosses it is charged whole, so a run spends
    at most one job's epochs beyond it, and readings at the budget count only what was reached within it. A
    scheduler that finishes earlier ends the run as without a budget.

    ``cost`` is "epochs" (each epoch takes one time unit), "seconds" or "cpu_seconds" (recorded per-epoch wall or
    process CPU seconds;
    needs ``curves.epoch_seconds``; missing values count as the config's median epoch time).

    ``draws`` (:data:`DRAWS`): "bracket" (SPEC 0.3's choice) or "run" (no pool row drawn twice in the run; the run
    ends at the first draw the pool cannot answer, and jobs still running on other workers end uncharged, as at
    the budget).
    """
    if workers < 1:
        raise ValueError(f"workers is {workers}, but must be >= 1")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
        raise ValueError(f"budget is {budget!r}, but must be a number of epochs >= 1 (or None: no budget)")
    # two independent streams (SPEC 0.3): configuration sampling, and the algorithm's own randomness
    sample_rng, algo_rng = np.random.default_rng([seed, 0]), np.random.default_rng([seed, 1])
    oracle = Oracle(curves, accounting=accounting, rng=sample_rng, draws=draws)
    if cost == "epochs":
        cum = None
    elif cost in ("seconds", "cpu_seconds"):
        recorded = curves.epoch_seconds if cost == "seconds" else curves.epoch_cpu_seconds
        if recorded is None:
            raise ValueError(f"cost is {cost!r} but dataset {curves.name!r} has no "
                             f"{'epoch_seconds' if cost == 'seconds' else 'epoch_cpu_seconds'}")
        sec = recorded.copy()
        med = np.nanmedian(np.where(np.isfinite(sec), sec, np.nan), axis=1, keepdims=True)
        sec = np.where(np.isfinite(sec), sec, np.nan_to_num(med, nan=1.0))
        cum = np.concatenate([np.zeros((sec.shape[0], 1)), np.cumsum(sec, axis=1)], axis=1)
    else:
        raise ValueError(f"cost is {cost!r}, but must be 'epochs', 'seconds' or 'cpu_seconds'")
    if cum is not None and oracle.surrogate is not None:
        cum = oracle.attach_cum(cum)

    reached: list[tuple[int, int, float, float]] = []
    observed: list[tuple[int, float]] = []
    stopped: set[int] = set()
    cap = budget if budget is not None else _NO_BUDGET
    now = busy = 0.0
    try:
        try:
            scheduler.start(ReplayView(oracle), algo_rng)
        except PoolExhausted:  # drew more than the pool holds at its start (draws="run"): the run ends at once
            oracle.pool_exhausted = True
            workers = 0
        if workers == 1:
            now, busy = _run_single_worker(oracle, scheduler, accounting, cum, reached, max_jobs, stopped, cap,
                                           observed)
        elif workers:
            now, busy = _run_event_heap(oracle, scheduler, accounting, workers, cum, reached, max_jobs, stopped, cap,
                                        observed)
    finally:
        close = getattr(scheduler, "close", None)  # (a scheduler not derived from Scheduler may lack it)
        if close is not None:
            close()
    trace = Trace(
        epochs_used=oracle.epochs_used,
        makespan=now,
        n_trials=oracle.n_trials,
        reached=reached,
        trial_config=list(oracle.trial_config),
        busy_time=busy,
        stopped=stopped,
        budget=budget,
        budget_hit=budget is not None and oracle.epochs_used >= budget,
        observed=observed,
    )
    return oracle, trace


#: the cap of a run without a budget (no run charges this many epochs: the engine's job limit comes first)
_NO_BUDGET = 1 << 62


def _next_report(job: Job, after: int) -> int:
    if job.every_epoch:
        return after + 1
    for e in job.report_at:
        if e > after:
            return min(e, job.epoch)
    return job.epoch


def _bad_job(name: str, job: Any) -> TypeError:
    return TypeError(f"{name}: suggest() returned {job!r}, but must return a Job(trial, epoch) or None")


def _bad_decision(name: str, decision: Any) -> TypeError:
    return TypeError(f"{name}: on_result() returned {decision!r}, but must return Decision.CONTINUE, PAUSE or STOP")


def _run_single_worker(oracle: Oracle, scheduler: Scheduler, accounting: str, cum: np.ndarray | None,
                       reached: list[tuple[int, int, float, float]], max_jobs: int, stopped: set[int],
                       budget: int = _NO_BUDGET, observed: list[tuple[int, float]] | None = None
                       ) -> tuple[float, float]:
    """One worker: jobs run back to back, so no event heap is needed (same order as the heap).

    Fast path: a scheduler that offers a whole *uniform* batch (every trial to one epoch, no intermediate
    reports; ``take_uniform``) has it run in one tight loop and its results handed back at once
    (``finish_uniform``), the same charges, clock, records and order as job by job
    (tests/test_sim.py::test_fast_path_agrees_with_the_general_path)."""
    trained, trial_config = oracle.trained, oracle.trial_config
    resume = accounting == "resume"
    max_epoch, n_epochs = scheduler.max_epoch, oracle.n_epochs
    reached_set: set[int] = set()
    now = 0.0
    started = 0
    seen = math.inf  # the best value reported so far (``observed``)
    if observed is None:
        observed = []
    take = getattr(scheduler, "take_uniform", None)
    take_checkpointed = getattr(scheduler, "take_checkpointed", None)
    name = scheduler.name
    loss_of, on_result = oracle.loss_of, scheduler.on_result
    CONTINUE, PAUSE, STOP = Decision.CONTINUE, Decision.PAUSE, Decision.STOP
    try:
        while not scheduler.finished and oracle.epochs_used < budget:
            uniform = take() if take is not None else None
            if uniform is not None:
                trials, target = uniform
                if not 1 <= target <= n_epochs:
                    oracle._check_epoch(target)
                started += len(trials)
                if started > max_jobs:
                    raise RuntimeError(f"{name}: more than {max_jobs} jobs; scheduler does not terminate")
                cfgs = np.fromiter(map(trial_config.__getitem__, trials), np.intp, len(trials))
                values = oracle.losses(cfgs, target)
                used = oracle.epochs_used
                top = target >= max_epoch
                if stopped and not stopped.isdisjoint(trials):
                    t = next(t for t in trials if t in stopped)
                    raise RuntimeError(f"{name}: suggested trial {t}, which was stopped (STOP is final)")
                if budget != _NO_BUDGET and used + target * len(trials) > budget:
                    # the batch may cross the budget: its jobs one by one, and the run ends at the one that crosses it
                    now = _run_uniform_to_budget(oracle, trials, cfgs.tolist(), values.tolist(), target, top, resume,
                                                 cum, reached, reached_set, now, budget, observed)
                    seen = observed[-1][1] if observed else seen
                    if oracle.epochs_used >= budget:
                        break
                    scheduler.finish_uniform(trials, target, values)
                    continue
                if cum is None and not top:
                    # nothing is recorded per trial: only the charges (one epoch takes one time unit), and the best
                    # value reported if it improves (at the epochs charged up to its trial)
                    if float(np.min(values, initial=math.inf, where=np.isfinite(values))) < seen:
                        seen = _observe_batch(values, trials, trained, target, resume, used, seen, observed)
                    d = 0 if resume else target * len(trials)
                    for t in trials:
                        b = trained[t]
                        if b < target:
                            if resume:
                                d += target - b
                            trained[t] = target
                    used += d
                    now += d
                else:
                    for t, c, v in zip(trials, cfgs.tolist(), values.tolist()):  # noqa: B905 (equal lengths)
                        begin = trained[t] if resume else 0
                        if begin < target:
                            used += target - begin
                            if cum is None:
                                now += target - begin
                            else:
                                now += float(cum[c, target] - cum[c, begin])
                            if target > trained[t]:
                                trained[t] = target
                        if top and t not in reached_set:
                            reached_set.add(t)
                            reached.append((t, used, now, v))
                        if v < seen:
                            seen = v
                            observed.append((used, v))
                oracle.epochs_used = used
                scheduler.finish_uniform(trials, target, values)
                continue
            checkpointed = take_checkpointed() if take_checkpointed is not None else None
            if checkpointed is not None:
                started += len(checkpointed[0])
                if started > max_jobs:
                    raise RuntimeError(f"{name}: more than {max_jobs} jobs; scheduler does not terminate")
                now = _run_checkpointed(oracle, scheduler, checkpointed, resume, cum, reached, reached_set, stopped, now,
                                        budget, observed)
                seen = observed[-1][1] if observed else seen
                continue
            job = scheduler.suggest()
            if job is None:
                if scheduler.finished:
                    break
                raise RuntimeError(f"{name}: no job running and suggest() returned None (deadlock)")
            try:
                t, target, report_at, every_epoch = job
            except (TypeError, ValueError):
                raise _bad_job(name, job) from None
            if not 1 <= target <= n_epochs:
                oracle._check_epoch(target)
            if t in stopped:
                raise RuntimeError(f"{name}: suggested trial {t}, which was stopped (STOP is final)")
            started += 1
            if started > max_jobs:
                raise RuntimeError(f"{name}: more than {max_jobs} jobs; scheduler does not terminate")
            config = trial_config[t]
            begin = trained[t] if resume else 0
            if begin > target:
                begin = target
            if not report_at and not every_epoch:  # one report, at the target (ASHA's jobs)
                if target > begin:
                    now += (target - begin) if cum is None else float(cum[config, target] - cum[config, begin])
                    oracle.epochs_used += target - begin
                    if target > trained[t]:
                        trained[t] = target
                value = loss_of(config, target)
                if target >= max_epoch and t not in reached_set:
                    reached_set.add(t)
                    reached.append((t, oracle.epochs_used, now, value))
                if value < seen:
                    seen = value
                    observed.append((oracle.epochs_used, value))
                decision = on_result(t, target, value)
                if decision is not CONTINUE:
                    if decision is STOP:
                        stopped.add(t)
                    elif decision is not PAUSE:
                        raise _bad_decision(name, decision)
                continue
            while True:
                epoch = target if begin >= target else _next_report(job, begin)
                if epoch > begin:
                    now += (epoch - begin) if cum is None else float(cum[config, epoch] - cum[config, begin])
                    oracle.epochs_used += epoch - begin
                if epoch > trained[t]:
                    trained[t] = epoch
                value = oracle.loss_of(config, epoch)
                if epoch >= max_epoch and t not in reached_set:
                    reached_set.add(t)
                    reached.append((t, oracle.epochs_used, now, value))
                if value < seen:
                    seen = value
                    observed.append((oracle.epochs_used, value))
                decision = scheduler.on_result(t, epoch, value)
                if epoch >= target or decision is not CONTINUE or oracle.epochs_used >= budget:
                    if decision is STOP:
                        stopped.add(t)
                    elif decision is not CONTINUE and decision is not PAUSE:
                        raise _bad_decision(name, decision)
                    break
                begin = epoch
    except PoolExhausted:  # the pool has no unused row left for a draw (draws="run"): the run ends here
        oracle.pool_exhausted = True
    return now, now


def _observe_batch(values: np.ndarray, trials: list[int], trained: list[int], target: int, resume: bool, used: int,
                   seen: float, observed: list[tuple[int, float]]) -> float:
    """The running best of a uniform batch's values, in trial order, appended to ``observed`` at the epochs
    charged up to each improving trial (as job by job would); returns the new best."""
    if resume:
        charge = target - np.minimum(np.fromiter(map(trained.__getitem__, trials), np.intp, len(trials)), target)
    else:
        charge = np.full(len(trials), target)
    at = used + np.cumsum(charge)
    for i in np.flatnonzero(np.isfinite(values)).tolist():
        v = float(values[i])
        if v < seen:
            seen = v
            observed.append((int(at[i]), v))
    return seen


def _run_uniform_to_budget(oracle: Oracle, trials: list[int], cfgs: list[int], values: list[float], target: int,
                           top: bool, resume: bool, cum: np.ndarray | None,
                           reached: list[tuple[int, int, float, float]], reached_set: set[int], now: float,
                           budget: int, observed: list[tuple[int, float]]) -> float:
    """A uniform batch that may cross the run's budget: its jobs in order, as the fast path charges them, ending
    after the job that reaches the budget; returns the clock."""
    trained = oracle.trained
    seen = observed[-1][1] if observed else math.inf
    for t, c, v in zip(trials, cfgs, values):  # noqa: B905 (equal lengths)
        begin = trained[t] if resume else 0
        if begin < target:
            oracle.epochs_used += target - begin
            now += (target - begin) if cum is None else float(cum[c, target] - cum[c, begin])
            if target > trained[t]:
                trained[t] = target
        if top and t not in reached_set:
            reached_set.add(t)
            reached.append((t, oracle.epochs_used, now, v))
        if v < seen:
            seen = v
            observed.append((oracle.epochs_used, v))
        if oracle.epochs_used >= budget:
            break
    return now


def _run_checkpointed(oracle: Oracle, scheduler: Any, batch: tuple[list[int], int, int, Any], resume: bool,
                      cum: np.ndarray | None, reached: list[tuple[int, int, float, float]], reached_set: set[int],
                      stopped: set[int], now: float, budget: int = _NO_BUDGET,
                      observed: list[tuple[int, float]] | None = None) -> float:
    """The single worker's fast path for a :meth:`Batch.checkpointed` batch: each job in order, as the general
    loop above runs a job with one report at ``report`` and ``SynchronousScheduler.on_result`` calls the batch's
    hook, without a suggest / on_result round per report; returns the clock
    (tests/test_sim.py::test_checkpointed_fast_path_agrees_with_the_general_path)."""
    trials, report, target, hook = batch
    if not 1 <= target <= oracle.n_epochs:
        oracle._check_epoch(target)
    trained, trial_config, loss_of, max_epoch = oracle.trained, oracle.trial_config, oracle.loss_of, scheduler.max_epoch
    CONTINUE, PAUSE, STOP = Decision.CONTINUE, Decision.PAUSE, Decision.STOP
    results: dict[int, tuple[int, float]] = {}
    stops: list[int] = []
    first = min(report, target)
    if observed is None:
        observed = []
    seen = observed[-1][1] if observed else math.inf
    for t in trials:
        if t in stopped:
            raise RuntimeError(f"{scheduler.name}: suggested trial {t}, which was stopped (STOP is final)")
        config = trial_config[t]
        begin = trained[t] if resume else 0
        if begin > target:
            begin = target
        epoch = target if begin >= target or report <= begin else first
        while True:
            if epoch > begin:
                now += (epoch - begin) if cum is None else float(cum[config, epoch] - cum[config, begin])
                oracle.epochs_used += epoch - begin
            if epoch > trained[t]:
                trained[t] = epoch
            value = loss_of(config, epoch)
            if epoch >= max_epoch and t not in reached_set:
                reached_set.add(t)
                reached.append((t, oracle.epochs_used, now, value))
            if value < seen:
                seen = value
                observed.append((oracle.epochs_used, value))
            decision = CONTINUE
            if epoch < target:  # the intermediate report
                if hook is not None:
                    decision = hook(t, epoch, value)
                if decision is CONTINUE:
                    begin, epoch = epoch, target
                    continue
                if decision is not STOP and decision is not PAUSE:
                    raise _bad_decision(f"{scheduler.name} (its Batch.checkpointed hook)", decision)
            results[t] = (epoch, value)
            if decision is STOP:
                stops.append(t)
                stopped.add(t)
            break
        if oracle.epochs_used >= budget:  # the run ends here: the batch's other jobs never start
            return now
    scheduler.finish_checkpointed(results, stops)
    return now


def _run_event_heap(oracle: Oracle, scheduler: Scheduler, accounting: str, workers: int, cum: np.ndarray | None,
                    reached: list[tuple[int, int, float, float]], max_jobs: int, stopped: set[int],
                    budget: int = _NO_BUDGET, observed: list[tuple[int, float]] | None = None) -> tuple[float, float]:
    """``workers`` simulated workers on an event heap keyed (time, seq)."""
    heap: list[tuple[float, int, int]] = []  # (time, seq, worker)
    slots: dict[int, tuple[Job, int, int]] = {}  # worker -> (job, start epoch, next report epoch)
    free = list(range(workers - 1, -1, -1))
    seq = 0
    now = 0.0
    busy = 0.0
    reached_set: set[int] = set()
    max_epoch = scheduler.max_epoch
    started = 0
    if observed is None:
        observed = []
    seen = math.inf

    def duration(config: int, a: int, b: int) -> float:
        if cum is None:
            return float(b - a)
        return float(cum[config, b] - cum[config, a])

    try:
        while oracle.epochs_used < budget:  # at the budget, jobs still running are ended uncharged
            while free and not scheduler.finished:
                job = scheduler.suggest()
                if job is None:
                    break
                if not isinstance(job, Job):
                    raise _bad_job(scheduler.name, job)
                oracle._check_epoch(job.epoch)
                if job.trial in stopped:
                    raise RuntimeError(f"{scheduler.name}: suggested trial {job.trial}, which was stopped (STOP is final)")
                if any(j.trial == job.trial for j, _, _ in slots.values()):
                    raise RuntimeError(f"{scheduler.name}: suggested trial {job.trial} while a job of it is running")
                started += 1
                if started > max_jobs:
                    raise RuntimeError(f"{scheduler.name}: more than {max_jobs} jobs; scheduler does not terminate")
                w = free.pop()
                begin = oracle.trained[job.trial] if accounting == "resume" else 0
                begin = min(begin, job.epoch)
                stop = _next_report(job, begin) if begin < job.epoch else job.epoch
                dt = duration(oracle.trial_config[job.trial], begin, stop)
                slots[w] = (job, begin, stop)
                busy += dt
                heapq.heappush(heap, (now + dt, seq, w))
                seq += 1
            if not heap:
                if scheduler.finished:
                    break
                raise RuntimeError(f"{scheduler.name}: no job running and suggest() returned None (deadlock)")
            t, _, w = heapq.heappop(heap)
            now = t
            job, begin, epoch = slots[w]
            config = oracle.trial_config[job.trial]
            oracle.charge(job.trial, begin, epoch)
            loss = oracle.loss_of(config, epoch)
            if epoch >= max_epoch and job.trial not in reached_set:
                reached_set.add(job.trial)
                reached.append((job.trial, oracle.epochs_used, now, loss))
            if loss < seen:
                seen = loss
                observed.append((oracle.epochs_used, loss))
            decision = scheduler.on_result(job.trial, epoch, loss)
            if decision is not Decision.CONTINUE and decision is not Decision.STOP and decision is not Decision.PAUSE:
                raise _bad_decision(scheduler.name, decision)
            if epoch < job.epoch and decision is Decision.CONTINUE:
                stop = _next_report(job, epoch)
                slots[w] = (job, epoch, stop)
                dt = duration(config, epoch, stop)
                busy += dt
                heapq.heappush(heap, (now + dt, seq, w))
                seq += 1
            else:
                if decision is Decision.STOP:
                    stopped.add(job.trial)
                del slots[w]
                free.append(w)
    except PoolExhausted:  # the pool has no unused row left for a draw (draws="run"): the run ends here
        oracle.pool_exhausted = True
    return now, busy
