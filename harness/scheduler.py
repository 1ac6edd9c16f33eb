"""The scheduler contract: what an HPO algorithm implements, and the narrow view it gets of its trials.

An algorithm is a :class:`Scheduler`. A driver (the replay simulator in :mod:`harness.sim`, or anything
else that trains configurations) calls

* ``start(view, rng)`` once, with a :class:`TrialView` and the algorithm's own random generator;
* ``suggest() -> Job | None`` whenever a worker is free: train ``job.trial`` up to ``job.epoch``
  (``None``: nothing can start until a running job reports);
* ``on_result(trial, epoch, loss) -> Decision`` at every reporting epoch of a job: ``CONTINUE`` keeps
  training towards the job's target, ``PAUSE`` ends the job (the trial may be resumed by a later job, and
  resumes where it stopped), ``STOP`` ends the trial for good (it never runs again);
* ``finished`` to know when the run is over, and ``incumbent()`` for the trial it returns;
* ``close()`` once when the run has ended (however it ended).

A scheduler never sees the recorded table. :class:`TrialView` offers what a real tuner has: start trials
of configurations drawn from the pool (on a surrogate benchmark also at any configuration of its ``space``), the losses a trial has paid for (never a later epoch), its
hyperparameter / architecture features, and the epoch budget. Losses are to be minimised (the view turns
a maximised metric into its negative).

:class:`SynchronousScheduler` lets an algorithm be written as a generator program that yields
:class:`Batch` es (synchronous barriers), the natural form of Hyperband-style algorithms.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from .config import AlgorithmConfig


class PoolExhausted(LookupError):
    """The run asked for a configuration the pool no longer has: with distinct draws over the run
    (``draws="run"``) every row was drawn or started already, or an adapter that may not restart a row found none
    untried. The engine ends the run there (its incumbent stands; the record says ``pool_exhausted``)."""


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


@runtime_checkable
class TrialView(Protocol):
    """What a scheduler may know and do. Implemented by the simulator's ``ReplayView``."""

    @property
    def n_configs(self) -> int:
        """Number of configurations in the pool (rows ``0 .. n_configs - 1``)."""

    @property
    def n_epochs(self) -> int:
        """Largest epoch a trial can be trained to."""

    @property
    def n_trials(self) -> int:
        """Trials started so far (trial ids are ``0 .. n_trials - 1``)."""

    @property
    def epochs_used(self) -> int:
        """Epochs charged so far (accounting of the run)."""

    def sample(self, n: int) -> list[int]:
        """Start ``n`` trials of distinct configurations drawn uniformly from the pool (with ``draws="run"``: from
        the rows no trial of the run has used; :class:`PoolExhausted` when fewer than ``n`` are left)."""

    def draw(self) -> int:
        """Start one trial of a configuration drawn uniformly from the pool (with replacement; with
        ``draws="run"``: from the rows no trial of the run has used, :class:`PoolExhausted` when none is left)."""

    def permutation(self) -> np.ndarray:
        """A uniformly random order of the pool's rows (from the run's sampling stream; with ``draws="run"``: of
        the rows no trial of the run has used)."""

    def new_trial(self, config: int) -> int:
        """Start a trial of pool row ``config``."""

    def config(self, trial: int) -> int:
        """Pool row of ``trial``."""

    def trained(self, trial: int) -> int:
        """Epochs of ``trial`` paid for so far."""

    def observed(self, trial: int) -> np.ndarray:
        """Losses of ``trial`` at epochs ``1 .. trained(trial)`` (a read-only copy)."""

    def value(self, trial: int, epoch: int) -> float:
        """Loss of ``trial`` after ``epoch`` epochs; an epoch not yet paid for raises ``LookupError``."""

    def prefixes(self, trials: Sequence[int], epochs: int) -> np.ndarray:
        """Losses of each of ``trials`` at epochs ``1 .. epochs``, one row per trial (a fresh array; the rows of
        ``observed(t)[:epochs]`` stacked); every trial must have paid for them, else ``LookupError``."""

    def static_features(self, kinds: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
        """Numeric matrix (one row per pool row) of the ``hp`` and/or ``ap`` feature columns, and their names."""

    @property
    def space(self) -> Any:
        """Surrogate benchmarks: their configuration space (:class:`harness.space.SearchSpace`: names, types,
        ranges, log scale); None on a recorded table."""

    def new_trial_at(self, config: Mapping[str, Any]) -> int:
        """Surrogate mode: start a trial at any configuration of ``space`` (evaluated as given, not answered by the
        nearest pool row); a recorded table raises ``ValueError``."""


class Scheduler(ABC):
    """One small interface for every algorithm (Syne Tune / Optuna style).

    Subclasses declare ``Config`` (a frozen :class:`~harness.config.AlgorithmConfig` dataclass) and are
    built from it: ``Hyperband(R=100, eta=2)`` or ``Hyperband(Hyperband.Config(R=100, eta=2))``.
    """

    name = "scheduler"
    #: one line for ``harness algorithms`` (default: the docstring's first line)
    summary = ""
    Config: type[AlgorithmConfig]
    #: the resource at which trials count as fully trained (for incumbent and anytime curves); set by start()
    max_epoch: int

    def __init__(self, config: AlgorithmConfig | None = None, /, **settings: Any):
        if config is not None and settings:
            raise TypeError(f"{type(self).__name__}: pass a config or keyword settings, not both")
        if config is None:
            config = self.Config(**settings)
        elif not isinstance(config, self.Config):
            raise TypeError(f"{type(self).__name__} takes a {self.Config.__name__}, got {type(config).__name__}")
        self.config = config

    def start(self, view: TrialView, rng: np.random.Generator) -> None:
        """Called once before the run. Sets what the contract needs: ``view``, ``rng``, ``reached``, ``stopped``
        and, unless the algorithm set its own before calling this, ``max_epoch = view.n_epochs``."""
        self.view = view
        self.rng = rng
        self.reached: list[tuple[int, float]] = []  # (trial, loss at max_epoch) in the order reached
        self.stopped: set[int] = set()
        if "max_epoch" not in self.__dict__:
            self.max_epoch = view.n_epochs

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

    def close(self) -> None:  # noqa: B027  (an optional hook: nothing to release by default)
        """Called once when the run ends, however it ends (finished, budget spent, or an error): release what
        ``start`` took (an adapter gives back the global random states it owned during the run). Nothing by
        default."""

    def advice(self, n_epochs: int) -> list[str]:
        """Warnings about settings with which the algorithm's mechanism cannot act on a table of ``n_epochs``
        epochs (shown before a replay runs); none by default."""
        return []

    def params(self) -> dict[str, Any]:
        """The settings of this run, as stored in its run record."""
        return self.config.to_dict()

    def log_record(self) -> list[dict[str, Any]]:
        """Per-round log stored in the run record (``rounds``)."""
        return []

    def extra_record(self) -> dict[str, Any]:
        """Algorithm-specific counters stored in the run record (``extra``)."""
        return {}

    def predictions(self) -> list[dict[str, Any]]:
        """Predictions the algorithm acted on (``trial``, ``epoch`` seen, ``target`` epoch, ``mean``,
        optional ``std``, ``decision``, ``predictor``), scored against the table by the engine after the run."""
        return []


class UniformJobs(Sequence[Job]):
    """The jobs "train each of ``trials`` to ``epoch``", without building a Job per trial until asked."""

    __slots__ = ("trials", "epoch")
    report_at: tuple[int, ...] = ()

    def __init__(self, trials: list[int], epoch: int):
        self.trials, self.epoch = trials, epoch

    def __len__(self) -> int:
        return len(self.trials)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [Job(t, self.epoch, self.report_at) for t in self.trials[i]]
        return Job(self.trials[i], self.epoch, self.report_at)

    def __iter__(self) -> Iterator[Job]:
        e, r = self.epoch, self.report_at
        return (Job(t, e, r) for t in self.trials)


class CheckpointJobs(UniformJobs):
    """The jobs "train each of ``trials`` to ``epoch``, reporting at ``report`` on the way", without building a
    Job per trial until asked."""

    __slots__ = ("report", "report_at")

    def __init__(self, trials: list[int], epoch: int, report: int):
        super().__init__(trials, epoch)
        self.report, self.report_at = report, (report,)


class Batch(NamedTuple):
    """A set of jobs run to completion before the program continues (a synchronous barrier); immutable."""

    jobs: Sequence[Job]
    on_checkpoint: Callable[[int, int, float], Decision] | None = None

    @classmethod
    def uniform(cls, trials: list[int], epoch: int) -> Batch:
        """Train every one of ``trials`` to ``epoch``, with no intermediate report (a Hyperband rung). The
        engine may run such a batch in one go (``SynchronousScheduler.take_uniform``)."""
        return _new_batch(cls, (UniformJobs(trials if type(trials) is list else list(trials), epoch), None))

    @classmethod
    def checkpointed(cls, trials: list[int], epoch: int, report: int,
                     on_checkpoint: Callable[[int, int, float], Decision]) -> Batch:
        """Train every one of ``trials`` to ``epoch`` with one intermediate report at ``report``, where
        ``on_checkpoint`` decides (a Swift-Hyperband rung). A single worker may run it in one loop
        (``SynchronousScheduler.take_checkpointed``)."""
        return _new_batch(cls, (CheckpointJobs(list(trials), epoch, report), on_checkpoint))


_new_batch = tuple.__new__


Results = Mapping[int, tuple[int, float]]


class UniformResults(Mapping[int, tuple[int, float]]):
    """Results of a uniform batch: ``{trial: (epoch, loss)}``, with the losses also in batch order (aligned
    with ``.trials``: ``.values``, a numpy array, and ``.losses``, a list) for programs that want them without a
    lookup per trial."""

    __slots__ = ("trials", "epoch", "values", "_losses", "_index")

    def __init__(self, trials: list[int], epoch: int, losses: Sequence[float] | np.ndarray):
        self.trials, self.epoch = trials, epoch
        self.values = np.asarray(losses, dtype=float)
        self._losses: list[float] | None = losses if isinstance(losses, list) else None
        self._index: dict[int, int] | None = None

    @property
    def losses(self) -> list[float]:
        if self._losses is None:
            self._losses = self.values.tolist()
        return self._losses

    def __getitem__(self, trial: int) -> tuple[int, float]:
        if self._index is None:
            self._index = {t: i for i, t in enumerate(self.trials)}
        return self.epoch, self.losses[self._index[trial]]

    def __iter__(self) -> Iterator[int]:
        return iter(self.trials)

    def __len__(self) -> int:
        return len(self.trials)


#: the queue of a batch handed out whole by ``take_uniform`` (nothing left to suggest)
_TAKEN: tuple[Job, ...] = ()


class SynchronousScheduler(Scheduler):
    """Scheduler written as a generator program that yields :class:`Batch` es.

    ``program()`` yields batches and receives ``{trial: (epoch_reached, loss)}`` once every job of the
    batch has ended. Jobs of a batch are handed out in order; intermediate reports go to the batch's
    ``on_checkpoint``.
    """

    def start(self, view: TrialView, rng: np.random.Generator) -> None:
        super().start(view, rng)
        self._gen: Generator[Batch, Results, None] = self.program()
        self._queue: deque[Job] | tuple[Job, ...] | None = None  # the batch's jobs not yet handed out (lazily)
        self._running: dict[int, Job] = {}
        self._results: Results = {}
        self._batch: Batch | None = None
        self._done = False
        self._advance(None)

    @abstractmethod
    def program(self) -> Generator[Batch, Results, None]: ...

    def _advance(self, results: Results | None) -> None:
        try:
            batch = self._gen.send(results) if results is not None else next(self._gen)
            while not batch.jobs:  # an empty batch completes at once
                batch = self._gen.send({})
        except StopIteration:
            self._done = True
            self._batch = None
            return
        self._batch = batch
        self._queue = None
        self._results = {}

    def suggest(self) -> Job | None:
        if self._queue is None:
            self._queue = deque(self._batch.jobs) if self._batch is not None else deque()
        if self._queue:  # (_TAKEN, a taken uniform batch, is empty)
            job = self._queue.popleft()
            self._running[job.trial] = job
            return job
        return None

    def take_uniform(self) -> tuple[list[int], int] | None:
        """The whole current batch as ``(trials, epoch)`` when it is uniform and nothing of it was handed out
        yet; the caller runs it and reports with :meth:`finish_uniform` (the engine's fast path)."""
        b = self._batch
        if self._queue is None and b is not None and b.on_checkpoint is None and type(b.jobs) is UniformJobs:
            self._queue = _TAKEN
            return b.jobs.trials, b.jobs.epoch
        return None

    def finish_uniform(self, trials: list[int], epoch: int, losses: Sequence[float] | np.ndarray) -> None:
        """Results of a batch taken with :meth:`take_uniform`: as if each job had reported ``(epoch, loss)``
        (``losses`` aligned with ``trials``, a list or a numpy array)."""
        if epoch >= self.max_epoch:
            vals = losses.tolist() if isinstance(losses, np.ndarray) else losses
            self.reached.extend(zip(trials, vals))  # noqa: B905
        self._advance(UniformResults(trials, epoch, losses))

    def take_checkpointed(self) -> tuple[list[int], int, int, Callable[[int, int, float], Decision]] | None:
        """The whole current batch as ``(trials, report, epoch, on_checkpoint)`` when it was made by
        :meth:`Batch.checkpointed` and nothing of it was handed out yet; a single-worker engine runs the jobs in
        order, calls ``on_checkpoint`` at each intermediate report as :meth:`on_result` would, and reports with
        :meth:`finish_checkpointed`."""
        b = self._batch
        if self._queue is None and b is not None and type(b.jobs) is CheckpointJobs:
            self._queue = _TAKEN
            j = b.jobs
            return j.trials, j.report, j.epoch, b.on_checkpoint
        return None

    def finish_checkpointed(self, results: dict[int, tuple[int, float]], stopped: list[int]) -> None:
        """Results of a batch taken with :meth:`take_checkpointed`: ``{trial: (epoch, loss)}`` in the order the
        jobs ended, and the trials a decision stopped; as if each job had ended through :meth:`on_result`."""
        self.stopped.update(stopped)
        top = self.max_epoch
        self.reached.extend((t, v) for t, (e, v) in results.items() if e >= top)
        self._advance(results)

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
