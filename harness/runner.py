"""Build schedulers from plain specs and fan (dataset, algorithm, seed) cells out.

A :class:`Cell` is plain data (picklable), so the same cells run sequentially, with joblib processes
on one machine, or with ``mpi4py.futures`` across the ranks of an MPI job. Results come back in cell
order whatever the backend, so output is identical for a given set of seeds.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from .config import AlgorithmConfig
from .datasets import load_dataset
from .metrics import RunRecord, make_record
from .scheduler import Scheduler
from .sim import simulate
from .store import CurveSet
from .threads import blas_threads, worker_blas

log = logging.getLogger(__name__)

BACKENDS = ("sequential", "joblib", "mpi")


def make_scheduler(cs: CurveSet | None, algorithm: str, params: Mapping[str, Any] | AlgorithmConfig) -> Scheduler:
    """Build a scheduler from its name (or ``module:Class``) and its settings (a mapping or a built config)."""
    from .algorithms import resolve

    cls = resolve(algorithm)
    if isinstance(params, AlgorithmConfig):
        if not isinstance(params, cls.Config):
            raise ValueError(f"algorithm {algorithm!r} takes a {cls.Config.__name__}, got {type(params).__name__}")
        return cls(params)
    return cls(cls.Config.from_dict(params))


def build_config(algorithm: str, params: Mapping[str, Any], where: str = "") -> AlgorithmConfig:
    """The checked config of ``algorithm`` (one-line error for an unknown key, a wrong type or a bad value)."""
    from .algorithms import resolve

    return resolve(algorithm).Config.from_dict(params, where=where)


@dataclass(frozen=True)
class Cell:
    dataset: str
    algorithm: str  # registry name or module:Class
    params: Mapping[str, Any] | AlgorithmConfig = field(default_factory=dict)
    seed: int = 0
    accounting: str = "resume"
    workers: int = 1
    cost: str = "epochs"
    nan_policy: str = "drop"
    pad_to: int | None = None  # extend curves by repeating the last value (replay R > T)
    budget: int | None = None  # epochs: the run ends once they are charged (equal-budget protocol)
    ledger: bool = False  # one entry per trial in the record (metrics.trial_ledger)
    draws: str = "bracket"  # how pool rows are drawn (harness.sim.DRAWS)


_CACHE: dict[tuple[str, str, int | None], CurveSet] = {}


def cached_dataset(name: str, nan_policy: str = "drop", pad_to: int | None = None) -> CurveSet:
    """Loaded (and padded) once per process: its loss, finiteness and content hash are cached on it (and a
    warning about its data is said once)."""
    key = (name, nan_policy, pad_to)
    if key not in _CACHE:
        base = _CACHE.get((name, nan_policy, None)) or load_dataset(name, nan_policy=nan_policy)
        _CACHE[(name, nan_policy, None)] = base
        _CACHE[key] = base.pad_to(pad_to) if pad_to and pad_to > base.n_epochs else base
    return _CACHE[key]


def remember_dataset(name: str, nan_policy: str, cs: CurveSet) -> None:
    """Let cells of ``name`` use ``cs``, already loaded by the caller (so it is read, and warned about, once)."""
    _CACHE.setdefault((name, nan_policy, None), cs)


def run_cell(cell: Cell, curves: CurveSet | None = None) -> RunRecord:
    """The cell's record. Its CPU seconds ride along as the attribute ``cpu_seconds`` (not a field: two runs of a
    cell give equal records), for suites that balance shards by measured cost (``harness.bench.cost_table``)."""
    import time

    t0 = time.process_time()
    cs = curves if curves is not None else cached_dataset(cell.dataset, cell.nan_policy, cell.pad_to)
    sched = make_scheduler(cs, cell.algorithm, cell.params)
    try:
        oracle, trace = simulate(cs, sched, seed=cell.seed, accounting=cell.accounting, workers=cell.workers,
                                 cost=cell.cost, budget=cell.budget, draws=cell.draws)
    except Exception as e:  # a user's plug-in failing inside its own code is named, with its traceback
        err = _plugin_error(e, cell)
        if err is None:
            raise
        raise err from e
    rec = make_record(cs, oracle, trace, sched, seed=cell.seed, accounting=cell.accounting,
                      workers=cell.workers, extra=sched.extra_record(), algorithm=cell.algorithm, ledger=cell.ledger)
    rec.cpu_seconds = time.process_time() - t0  # type: ignore[attr-defined]
    return rec


def _plugin_error(e: Exception, cell: Cell) -> Exception | None:
    """A :class:`~harness.errors.PluginError` when ``e`` came from the cell's own algorithm or predictor given by
    import path (``module:Class``), else None."""
    from .errors import plugin_error

    err = plugin_error(e, "algorithm", cell.algorithm.split("@")[0])
    if err is None:
        params = cell.params.to_dict() if isinstance(cell.params, AlgorithmConfig) else dict(cell.params)
        pred = params.get("predictor")
        if isinstance(pred, str):
            err = plugin_error(e, "predictor", pred)
            if err is not None:
                err = type(err)(f"{err} (algorithm {cell.algorithm})")
    return err


#: joblib is used only when the cells would take longer than this sequentially (seconds): starting worker
#: processes and loading the dataset in each costs about a second
PARALLEL_MIN_SECONDS = 3.0


def _key(cell: Cell) -> tuple[str, str, int | None]:
    return cell.dataset, cell.nan_policy, cell.pad_to


def _run_chunk(cells: Sequence[Cell], curves: dict[tuple[str, str, int | None], CurveSet],
               blas: int | None = None) -> list[RunRecord]:
    """A worker's chunk: one BLAS thread, the parent's count where it changes numbers (:func:`worker_blas`)."""
    with worker_blas(blas):
        return [run_cell(c, curves[_key(c)]) for c in cells]


#: relative cost of one cell by algorithm (measured on the default suite: the predictor-driven algorithms refit
#: searched models, the others replay in milliseconds); used to balance the joblib backend's chunks
ALGORITHM_COST = {"fhyperband": 40.0, "earlystop": 40.0, "swift": 4.0, "swift_asha": 4.0}
ADAPTER_COST = 15.0


def expected_cost(cell: Cell) -> float:
    """A cell's expected cost in arbitrary units: its algorithm's weight (the part before ``@``)."""
    name = cell.algorithm.split("@", 1)[0]
    if ":" in name and name.split(":", 1)[0] in ("optuna", "synetune", "smac"):
        return ADAPTER_COST
    return ALGORITHM_COST.get(name, 1.0)


def balanced_chunks(cells: Sequence[Cell], workers: int) -> list[list[int]]:
    """Cell indices in chunks of one dataset each, about ``1 / (6 workers)`` of the total expected cost, the
    costliest first: the pool's dynamic dispatch then finishes the workers together."""
    by_ds: dict[tuple[str, str, int | None], list[int]] = {}
    for i, c in enumerate(cells):
        by_ds.setdefault(_key(c), []).append(i)
    total = sum(expected_cost(c) for c in cells)
    target = max(total / (6 * max(workers, 1)), 1.0)
    chunks: list[tuple[float, list[int]]] = []
    for idx in by_ds.values():
        idx = sorted(idx, key=lambda i: -expected_cost(cells[i]))
        cur: list[int] = []
        cost = 0.0
        for i in idx:
            cur.append(i)
            cost += expected_cost(cells[i])
            if cost >= target:
                chunks.append((cost, cur))
                cur, cost = [], 0.0
        if cur:
            chunks.append((cost, cur))
    chunks.sort(key=lambda x: -x[0])
    return [c for _, c in chunks]


def check_n_jobs(n_jobs: Any) -> None:
    """joblib's process count: >= 1, or negative (-1: every core); 0 means nothing."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs (--jobs) is {n_jobs!r}, but must be a number of processes >= 1, or negative as "
                         f"in joblib (-1: every core, -2: all but one)")


def run_cells(cells: Sequence[Cell], *, backend: str = "sequential", n_jobs: int = -1, progress: bool = True,
              desc: str = "replay", on_records: Callable[[list[int], list[RunRecord]], None] | None = None,
              always_parallel: bool = False) -> list[RunRecord]:
    """Run ``cells`` and return their records in cell order (the same records whatever the backend).

    ``joblib`` runs the costliest cell here to time it (:func:`expected_cost`) and stays sequential when the whole
    would take less than :data:`PARALLEL_MIN_SECONDS` (unless ``always_parallel``); otherwise the cells go to the
    workers in chunks of one dataset balanced by expected cost, costliest first (:func:`balanced_chunks`), so a
    process start and a dataset transfer are paid per chunk, not per cell, and the workers finish together.
    ``on_records(indices, records)`` is called as records arrive (a suite writes them as it goes)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend is {backend!r}, but must be one of {BACKENDS}")
    check_n_jobs(n_jobs)
    cells = list(cells)
    disable = not progress
    got: list[RunRecord | None] = [None] * len(cells)

    def done(idx: list[int], recs: list[RunRecord]) -> None:
        for i, r in zip(idx, recs, strict=True):
            got[i] = r
        if on_records is not None:
            on_records(idx, recs)

    if backend == "mpi" and len(cells) > 1:
        return run_cells_mpi(cells, progress=progress, desc=desc, on_records=on_records)
    todo = list(range(len(cells)))
    if backend == "joblib" and len(cells) > 1 and not always_parallel:
        import time

        first = max(todo, key=lambda i: expected_cost(cells[i]))
        t0 = time.perf_counter()
        done([first], [run_cell(cells[first])])
        todo.remove(first)
        per_unit = (time.perf_counter() - t0) / expected_cost(cells[first])
        if per_unit * sum(expected_cost(cells[i]) for i in todo) < PARALLEL_MIN_SECONDS:
            backend = "sequential"
    if backend != "joblib" or len(todo) <= 1:
        for i in tqdm(todo, desc=desc, disable=disable):
            done([i], [run_cell(cells[i])])
        return [r for r in got if r is not None]
    from joblib import Parallel, delayed, effective_n_jobs

    workers = effective_n_jobs(n_jobs)
    chunks = [[todo[k] for k in ch] for ch in balanced_chunks([cells[i] for i in todo], workers)]
    # the parent's loaded curve sets travel with the chunks: a worker never re-imports a dataset
    loaded = {_key(cells[i]): cached_dataset(*_key(cells[i])) for i in todo}
    par = Parallel(n_jobs=workers, return_as="generator", batch_size=1, pre_dispatch="n_jobs")
    blas = blas_threads()
    jobs = (delayed(_run_chunk)([cells[i] for i in ch], {_key(cells[ch[0]]): loaded[_key(cells[ch[0]])]}, blas)
            for ch in chunks)
    bar = tqdm(total=len(todo), desc=desc, disable=disable)
    for ch, recs in zip(chunks, par(jobs), strict=True):
        done(ch, recs)
        bar.update(len(ch))
    bar.close()
    return [r for r in got if r is not None]


def run_cells_mpi(cells: Sequence[Cell], *, progress: bool = True, desc: str = "replay",
                  on_records: Callable[[list[int], list[RunRecord]], None] | None = None) -> list[RunRecord]:
    """Fan cells out over MPI ranks with ``mpi4py.futures`` (run under ``mpiexec -n K python -m mpi4py.futures``
    or plain ``mpiexec -n K``: rank 0 is the client, the others serve). ``on_records`` gets each record as it
    arrives (in cell order), so a suite writes them as they finish and a kill loses only the cells running."""
    try:
        from mpi4py import MPI
        from mpi4py.futures import MPICommExecutor
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise RuntimeError("backend 'mpi' needs mpi4py (pip install 'lc-harness[mpi]')") from e
    with MPICommExecutor(MPI.COMM_WORLD, root=0) as ex:
        if ex is None:  # worker ranks serve until the client finishes
            return []
        if MPI.COMM_WORLD.Get_size() == 1:
            log.warning("MPI backend with a single rank: running sequentially")
            it = (run_cell(c) for c in cells)
        else:
            it = ex.map(run_cell, cells)
        out = []
        for i, rec in enumerate(tqdm(it, total=len(cells), desc=desc, disable=not progress)):
            out.append(rec)
            if on_records is not None:
                on_records([i], [rec])
        return out


def parse_seeds(text: str, option: str = "seeds") -> list[int]:
    """"0-9" -> 0..9, "1,3,5" -> [1,3,5], "4" -> [4]; anything else is a one-line error naming ``option``."""
    forms = "N, N-M or a comma list such as 0-9 or 1,3,5 (non-negative integers)"
    out: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part[1:]:
                a, b = part.split("-", 1)
                lo, hi = int(a), int(b)
                if hi < lo:
                    raise ValueError(f"{option} {text!r}: the range {part!r} is empty (write low-high)")
                out.extend(range(lo, hi + 1))
            else:
                out.append(int(part))
        except ValueError as e:
            if "is empty" in str(e):
                raise
            raise ValueError(f"{option} {text!r}: cannot read {part!r}; expected {forms}") from None
    if not out:
        raise ValueError(f"{option} {text!r}: no seeds; expected {forms}")
    dup = sorted({s for s in out if out.count(s) > 1})
    if dup:
        raise ValueError(f"{option} {text!r}: seed {dup[0]} is given more than once (a repeated seed is the same run, "
                         "and would be counted as another)")
    if min(out) < 0:
        raise ValueError(f"{option} {text!r}: seeds must be >= 0; expected {forms}")
    return out


def default_jobs() -> int:
    return max(1, (os.cpu_count() or 1))
