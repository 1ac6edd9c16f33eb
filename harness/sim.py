"""Replay oracle, the scheduler interface and the discrete-event simulator.

Every HPO algorithm is a :class:`Scheduler`: the simulator asks it for work with ``suggest()`` and
reports observed losses with ``on_result(trial, epoch, loss) -> Decision``. Jobs run on ``workers``
simulated workers on an explicit clock (an event heap keyed ``(time, seq)``); wall time is never read,
so a seed reproduces a run exactly.

Accounting (SPEC 0.2): ``resume`` charges ``max(0, e - trained[t])`` for training trial ``t`` to epoch
``e``; ``scratch`` charges every requested epoch again. A stopped job is charged only up to the epoch
at which it stopped.
"""

from __future__ import annotations

import enum
import heapq
import logging
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .hb import ACCOUNTING
from .store import CurveSet

log = logging.getLogger(__name__)


class Decision(enum.Enum):
    CONTINUE = "continue"  # keep training towards the job's target epoch
    PAUSE = "pause"  # end this job here; the trial may be resumed later
    STOP = "stop"  # end this job and terminate the trial


class Job(NamedTuple):
    """Train ``trial`` up to ``epoch`` (absolute, 1-based); immutable and cheap to create."""

    trial: int
    epoch: int
    report_at: tuple[int, ...] = ()  # intermediate epochs at which on_result is called too
    every_epoch: bool = False  # call on_result after every epoch


@dataclass
class Oracle:
    """The recorded table as a training oracle (SPEC 0.2). Losses are to be minimised."""

    curves: CurveSet
    accounting: str = "resume"
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def __post_init__(self) -> None:
        if self.accounting not in ACCOUNTING:
            raise ValueError(f"accounting is {self.accounting!r}, but must be one of {ACCOUNTING}")
        self.loss = self.curves.loss()  # (N, T), +inf where non-finite
        self.n_configs, self.n_epochs = self.loss.shape
        self.trial_config: list[int] = []
        self.trained: list[int] = []  # furthest epoch paid for (visible prefix)
        self.epochs_used = 0

    # --- trials ----------------------------------------------------------------------------
    def new_trial(self, config: int) -> int:
        self.trial_config.append(int(config))
        self.trained.append(0)
        return len(self.trial_config) - 1

    def sample(self, n: int) -> list[int]:
        """``n`` new trials of uniformly drawn distinct configs (SPEC 0.3)."""
        if n > self.n_configs:
            log.warning("asked for %d configs from a pool of %d: sampling with replacement", n, self.n_configs)
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
        if epoch > self.trained[trial]:
            raise RuntimeError(f"trial {trial}: epoch {epoch} read before it was trained ({self.trained[trial]})")
        return float(self.loss[self.trial_config[trial], epoch - 1])

    def visible(self, trial: int) -> np.ndarray:
        return self.loss[self.trial_config[trial], : self.trained[trial]]

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


class Scheduler(ABC):
    """One small interface for every algorithm (Syne Tune / Optuna style)."""

    name = "scheduler"
    #: the resource at which trials count as fully trained (for incumbent and anytime curves)
    max_epoch: int

    def start(self, oracle: Oracle, rng: np.random.Generator) -> None:
        self.oracle = oracle
        self.rng = rng
        self.reached: list[tuple[int, float]] = []  # (trial, loss at max_epoch) in the order reached
        self.stopped: set[int] = set()

    @abstractmethod
    def suggest(self) -> Job | None:
        """Next job to start, or None if nothing can start until a running job reports."""

    @abstractmethod
    def on_result(self, trial: int, epoch: int, loss: float) -> Decision:
        """Observed ``loss`` of ``trial`` after ``epoch`` epochs."""

    @property
    @abstractmethod
    def finished(self) -> bool: ...

    def incumbent(self) -> int | None:
        """Trial with the lowest loss at ``max_epoch`` among those that reached it (first wins ties)."""
        if not self.reached:
            return None
        losses = np.array([v for _, v in self.reached])
        return self.reached[int(np.argmin(losses))][0]

    def params(self) -> dict[str, Any]:
        return {}

    def log_record(self) -> list[dict[str, Any]]:
        return []


@dataclass(frozen=True)
class Batch:
    """A set of jobs run to completion before the program continues (a synchronous barrier)."""

    jobs: list[Job]
    on_checkpoint: Callable[[int, int, float], Decision] | None = None


class SynchronousScheduler(Scheduler):
    """Scheduler written as a generator program that yields :class:`Batch` es.

    ``program()`` yields batches and receives ``{trial: (epoch_reached, loss)}`` once every job of the
    batch has ended. Jobs of a batch are handed out in order; intermediate reports go to the batch's
    ``on_checkpoint``.
    """

    def start(self, oracle: Oracle, rng: np.random.Generator) -> None:
        super().start(oracle, rng)
        self._gen: Generator[Batch, dict[int, tuple[int, float]], None] = self.program()
        self._queue: deque[Job] = deque()
        self._running: dict[int, Job] = {}
        self._results: dict[int, tuple[int, float]] = {}
        self._batch: Batch | None = None
        self._done = False
        self._advance(None)

    @abstractmethod
    def program(self) -> Generator[Batch, dict[int, tuple[int, float]], None]: ...

    def _advance(self, results: dict[int, tuple[int, float]] | None) -> None:
        try:
            batch = self._gen.send(results) if results is not None else next(self._gen)
            while not batch.jobs:  # an empty batch completes at once
                batch = self._gen.send({})
        except StopIteration:
            self._done = True
            self._batch = None
            return
        self._batch = batch
        self._queue = deque(batch.jobs)
        self._results = {}

    def suggest(self) -> Job | None:
        if self._queue:
            job = self._queue.popleft()
            self._running[job.trial] = job
            return job
        return None

    def on_result(self, trial: int, epoch: int, loss: float) -> Decision:
        decision = Decision.CONTINUE
        if epoch < self._running[trial].epoch:  # an intermediate report
            hook = self._batch.on_checkpoint if self._batch is not None else None
            if hook is not None:
                decision = hook(trial, epoch, loss)
            if decision is Decision.CONTINUE:
                return decision
        # the job ends here (target reached, paused or stopped)
        del self._running[trial]
        self._results[trial] = (epoch, loss)
        if decision is Decision.STOP:
            self.stopped.add(trial)
        if epoch >= self.max_epoch:
            self.reached.append((trial, loss))
        if not self._queue and not self._running:
            self._advance(self._results)
        return decision

    @property
    def finished(self) -> bool:
        return self._done


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


def simulate(
    curves: CurveSet,
    scheduler: Scheduler,
    *,
    seed: int = 0,
    accounting: str = "resume",
    workers: int = 1,
    cost: str = "epochs",
    max_jobs: int = 10_000_000,
) -> tuple[Oracle, Trace]:
    """Run ``scheduler`` over the recorded ``curves`` on ``workers`` simulated workers.

    ``cost`` is "epochs" (each epoch takes one time unit) or "seconds" (recorded per-epoch seconds;
    needs ``curves.epoch_seconds``; missing values count as the config's median epoch time).
    """
    if workers < 1:
        raise ValueError(f"workers is {workers}, but must be >= 1")
    # two independent streams (SPEC 0.3): configuration sampling, and the algorithm's own randomness
    sample_rng, algo_rng = np.random.default_rng([seed, 0]), np.random.default_rng([seed, 1])
    oracle = Oracle(curves, accounting=accounting, rng=sample_rng)
    if cost == "epochs":
        cum = None
    elif cost == "seconds":
        if curves.epoch_seconds is None:
            raise ValueError(f"cost is 'seconds' but dataset {curves.name!r} has no epoch_seconds")
        sec = curves.epoch_seconds.copy()
        med = np.nanmedian(np.where(np.isfinite(sec), sec, np.nan), axis=1, keepdims=True)
        sec = np.where(np.isfinite(sec), sec, np.nan_to_num(med, nan=1.0))
        cum = np.concatenate([np.zeros((sec.shape[0], 1)), np.cumsum(sec, axis=1)], axis=1)
    else:
        raise ValueError(f"cost is {cost!r}, but must be 'epochs' or 'seconds'")

    scheduler.start(oracle, algo_rng)
    reached: list[tuple[int, int, float, float]] = []
    if workers == 1:
        now, busy = _run_single_worker(oracle, scheduler, accounting, cum, reached, max_jobs)
    else:
        now, busy = _run_event_heap(oracle, scheduler, accounting, workers, cum, reached, max_jobs)
    trace = Trace(
        epochs_used=oracle.epochs_used,
        makespan=now,
        n_trials=oracle.n_trials,
        reached=reached,
        trial_config=list(oracle.trial_config),
        busy_time=busy,
    )
    return oracle, trace


def _next_report(job: Job, after: int) -> int:
    if job.every_epoch:
        return after + 1
    for e in job.report_at:
        if e > after:
            return min(e, job.epoch)
    return job.epoch


def _run_single_worker(oracle: Oracle, scheduler: Scheduler, accounting: str, cum: np.ndarray | None,
                       reached: list[tuple[int, int, float, float]], max_jobs: int) -> tuple[float, float]:
    """One worker: jobs run back to back, so no event heap is needed (same order as the heap)."""
    loss, trained, trial_config = oracle.loss, oracle.trained, oracle.trial_config
    resume = accounting == "resume"
    max_epoch, n_epochs = scheduler.max_epoch, oracle.n_epochs
    reached_set: set[int] = set()
    now = 0.0
    started = 0
    while not scheduler.finished:
        job = scheduler.suggest()
        if job is None:
            if scheduler.finished:
                break
            raise RuntimeError(f"{scheduler.name}: no job running and suggest() returned None (deadlock)")
        if not 1 <= job.epoch <= n_epochs:
            oracle._check_epoch(job.epoch)
        started += 1
        if started > max_jobs:
            raise RuntimeError(f"{scheduler.name}: more than {max_jobs} jobs; scheduler does not terminate")
        t, target = job.trial, job.epoch
        config = trial_config[t]
        begin = trained[t] if resume else 0
        if begin > target:
            begin = target
        plain = not job.report_at and not job.every_epoch
        while True:
            epoch = target if plain or begin >= target else _next_report(job, begin)
            if epoch > begin:
                now += (epoch - begin) if cum is None else float(cum[config, epoch] - cum[config, begin])
                oracle.epochs_used += epoch - begin
            if epoch > trained[t]:
                trained[t] = epoch
            value = float(loss[config, epoch - 1])
            if epoch >= max_epoch and t not in reached_set:
                reached_set.add(t)
                reached.append((t, oracle.epochs_used, now, value))
            decision = scheduler.on_result(t, epoch, value)
            if epoch >= target or decision is not Decision.CONTINUE:
                break
            begin = epoch
    return now, now


def _run_event_heap(oracle: Oracle, scheduler: Scheduler, accounting: str, workers: int, cum: np.ndarray | None,
                    reached: list[tuple[int, int, float, float]], max_jobs: int) -> tuple[float, float]:
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

    def duration(config: int, a: int, b: int) -> float:
        if cum is None:
            return float(b - a)
        return float(cum[config, b] - cum[config, a])

    while True:
        while free and not scheduler.finished:
            job = scheduler.suggest()
            if job is None:
                break
            oracle._check_epoch(job.epoch)
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
        loss = float(oracle.loss[config, epoch - 1])
        if epoch >= max_epoch and job.trial not in reached_set:
            reached_set.add(job.trial)
            reached.append((job.trial, oracle.epochs_used, now, loss))
        decision = scheduler.on_result(job.trial, epoch, loss)
        if epoch < job.epoch and decision is Decision.CONTINUE:
            stop = _next_report(job, epoch)
            slots[w] = (job, epoch, stop)
            dt = duration(config, epoch, stop)
            busy += dt
            heapq.heappush(heap, (now + dt, seq, w))
            seq += 1
        else:
            del slots[w]
            free.append(w)
    return now, busy


def stable_top(trials: Iterable[int], losses: Iterable[float], k: int) -> list[int]:
    """The ``k`` trials with the smallest losses, best first; ties keep the input order."""
    trials = list(trials)
    vals = [float(v) for v in losses]
    order = sorted(range(len(vals)), key=vals.__getitem__)  # Python's sort is stable
    return [trials[j] for j in order[:k]]
