"""Build schedulers from plain specs and fan (dataset, algorithm, seed) cells out.

A :class:`Cell` is plain data (picklable), so the same cells run sequentially, with joblib processes
on one machine, or with ``mpi4py.futures`` across the ranks of an MPI job. Results come back in cell
order whatever the backend, so output is identical for a given set of seeds.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from .config import AlgorithmConfig
from .datasets import load_dataset
from .metrics import RunRecord, make_record
from .scheduler import Scheduler
from .sim import simulate
from .store import CurveSet

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
    cs = curves if curves is not None else cached_dataset(cell.dataset, cell.nan_policy, cell.pad_to)
    sched = make_scheduler(cs, cell.algorithm, cell.params)
    oracle, trace = simulate(cs, sched, seed=cell.seed, accounting=cell.accounting, workers=cell.workers,
                             cost=cell.cost)
    return make_record(cs, oracle, trace, sched, seed=cell.seed, accounting=cell.accounting,
                       workers=cell.workers, extra=sched.extra_record(), algorithm=cell.algorithm)


#: joblib is used only when the cells would take longer than this sequentially (seconds): starting worker
#: processes and loading the dataset in each costs about a second
PARALLEL_MIN_SECONDS = 3.0


def _key(cell: Cell) -> tuple[str, str, int | None]:
    return cell.dataset, cell.nan_policy, cell.pad_to


def _run_chunk(cells: Sequence[Cell], curves: dict[tuple[str, str, int | None], CurveSet]) -> list[RunRecord]:
    return [run_cell(c, curves[_key(c)]) for c in cells]


def check_n_jobs(n_jobs: Any) -> None:
    """joblib's process count: >= 1, or negative (-1: every core); 0 means nothing."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs (--jobs) is {n_jobs!r}, but must be a number of processes >= 1, or negative as "
                         f"in joblib (-1: every core, -2: all but one)")


def run_cells(cells: Sequence[Cell], *, backend: str = "sequential", n_jobs: int = -1, progress: bool = True,
              desc: str = "replay") -> list[RunRecord]:
    """Run ``cells`` and return their records in cell order (the same records whatever the backend).

    ``joblib`` runs the first cell here to time it and stays sequential when the whole would take less than
    :data:`PARALLEL_MIN_SECONDS`; otherwise the other cells go to the workers in chunks (a few per worker),
    so a process start and a dataset load are paid per chunk, not per cell."""
    if backend not in BACKENDS:
        raise ValueError(f"backend is {backend!r}, but must be one of {BACKENDS}")
    check_n_jobs(n_jobs)
    cells = list(cells)
    disable = not progress
    if backend == "sequential" or len(cells) <= 1:
        return [run_cell(c) for c in tqdm(cells, desc=desc, disable=disable)]
    if backend == "joblib":
        import time

        from joblib import Parallel, delayed, effective_n_jobs

        t0 = time.perf_counter()
        first = run_cell(cells[0])
        rest = cells[1:]
        if (time.perf_counter() - t0) * len(rest) < PARALLEL_MIN_SECONDS:
            return [first, *(run_cell(c) for c in tqdm(rest, desc=desc, disable=disable))]
        workers = effective_n_jobs(n_jobs)
        size = max(1, -(-len(rest) // (4 * workers)))
        chunks = [rest[i:i + size] for i in range(0, len(rest), size)]
        # the parent's loaded curve sets travel with the chunks: a worker never re-imports a dataset
        loaded = {_key(c): cached_dataset(*_key(c)) for c in rest}
        par = Parallel(n_jobs=workers, return_as="generator")
        jobs = (delayed(_run_chunk)(c, {k: loaded[k] for k in {_key(x) for x in c}}) for c in chunks)
        out = [first]
        for recs in tqdm(par(jobs), total=len(chunks), desc=desc, disable=disable):
            out.extend(recs)
        return out
    return run_cells_mpi(cells, progress=progress, desc=desc)


def run_cells_mpi(cells: Sequence[Cell], *, progress: bool = True, desc: str = "replay") -> list[RunRecord]:
    """Fan cells out over MPI ranks with ``mpi4py.futures`` (run under ``mpiexec -n K python -m mpi4py.futures``
    or plain ``mpiexec -n K``: rank 0 is the client, the others serve)."""
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
            return [run_cell(c) for c in tqdm(cells, desc=desc, disable=not progress)]
        return list(tqdm(ex.map(run_cell, cells), total=len(cells), desc=desc, disable=not progress))


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
    if min(out) < 0:
        raise ValueError(f"{option} {text!r}: seeds must be >= 0; expected {forms}")
    return out


def default_jobs() -> int:
    return max(1, (os.cpu_count() or 1))
