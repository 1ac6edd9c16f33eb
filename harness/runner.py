"""Build schedulers from plain specs and fan (dataset, algorithm, seed) cells out.

A :class:`Cell` is plain data (picklable), so the same cells run sequentially, with joblib processes
on one machine, or with ``mpi4py.futures`` across the ranks of an MPI job. Results come back in cell
order whatever the backend, so output is identical for a given set of seeds.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from .datasets import load_dataset
from .metrics import RunRecord, make_record
from .sim import Scheduler, simulate
from .store import CurveSet

log = logging.getLogger(__name__)

BACKENDS = ("sequential", "joblib", "mpi")


def _hyperband(cs: CurveSet, p: dict[str, Any]) -> Scheduler:
    from .algorithms.hyperband import Hyperband

    return Hyperband(R=p.get("R", cs.n_epochs), eta=p.get("eta", 3), n_runs=p.get("n_runs", 1))


def _sh(cs: CurveSet, p: dict[str, Any]) -> Scheduler:
    from .algorithms.hyperband import SuccessiveHalving

    return SuccessiveHalving(R=p.get("R", cs.n_epochs), eta=p.get("eta", 3), s=p.get("s"), n_runs=p.get("n_runs", 1))


def _random(cs: CurveSet, p: dict[str, Any]) -> Scheduler:
    from .algorithms.hyperband import RandomSearch
    from .hb import hyperband_epochs

    R = p.get("R", cs.n_epochs)
    # default: as many full trainings as fit in the epochs of n_runs Hyperband iterations
    n = p.get("n", max(1, p.get("n_runs", 1) * hyperband_epochs(R, p.get("eta", 3)) // R))
    return RandomSearch(R=R, n=n)


#: algorithm name -> factory(curves, params) -> Scheduler. Extended by other modules via ``register``.
ALGORITHMS: dict[str, Callable[[CurveSet, dict[str, Any]], Scheduler]] = {
    "hyperband": _hyperband,
    "successive_halving": _sh,
    "random": _random,
}


def register(name: str, factory: Callable[[CurveSet, dict[str, Any]], Scheduler]) -> None:
    ALGORITHMS[name] = factory


def _ensure_registered() -> None:
    # algorithms that live in modules with heavier imports register themselves on import
    for mod in ("harness.algorithms.fhyperband", "harness.algorithms.swift", "harness.algorithms.asha"):
        importlib.import_module(mod)


def make_scheduler(cs: CurveSet, algorithm: str, params: dict[str, Any]) -> Scheduler:
    _ensure_registered()
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm is {algorithm!r}, but must be one of {sorted(ALGORITHMS)}")
    return ALGORITHMS[algorithm](cs, dict(params))


@dataclass(frozen=True)
class Cell:
    dataset: str
    algorithm: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    accounting: str = "resume"
    workers: int = 1
    cost: str = "epochs"
    nan_policy: str = "drop"
    pad_to: int | None = None  # extend curves by repeating the last value (replay R > T)


_CACHE: dict[tuple[str, str], CurveSet] = {}


def _dataset(name: str, nan_policy: str, pad_to: int | None = None) -> CurveSet:
    key = (name, nan_policy)
    if key not in _CACHE:
        _CACHE[key] = load_dataset(name, nan_policy=nan_policy)
    cs = _CACHE[key]
    return cs.pad_to(pad_to) if pad_to and pad_to > cs.n_epochs else cs


def run_cell(cell: Cell, curves: CurveSet | None = None) -> RunRecord:
    cs = curves if curves is not None else _dataset(cell.dataset, cell.nan_policy, cell.pad_to)
    sched = make_scheduler(cs, cell.algorithm, cell.params)
    oracle, trace = simulate(cs, sched, seed=cell.seed, accounting=cell.accounting, workers=cell.workers,
                             cost=cell.cost)
    extra = getattr(sched, "extra_record", lambda: {})()
    return make_record(cs, oracle, trace, sched, seed=cell.seed, accounting=cell.accounting,
                       workers=cell.workers, extra=extra)


def run_cells(cells: Sequence[Cell], *, backend: str = "sequential", n_jobs: int = -1, progress: bool = True,
              desc: str = "replay") -> list[RunRecord]:
    """Run ``cells`` and return their records in cell order."""
    if backend not in BACKENDS:
        raise ValueError(f"backend is {backend!r}, but must be one of {BACKENDS}")
    cells = list(cells)
    disable = not progress
    if backend == "sequential" or len(cells) <= 1:
        return [run_cell(c) for c in tqdm(cells, desc=desc, disable=disable)]
    if backend == "joblib":
        from joblib import Parallel, delayed

        par = Parallel(n_jobs=n_jobs, return_as="generator")
        return list(tqdm(par(delayed(run_cell)(c) for c in cells), total=len(cells), desc=desc, disable=disable))
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


def parse_seeds(text: str) -> list[int]:
    """"0-9" -> 0..9, "1,3,5" -> [1,3,5], "4" -> [4]."""
    out: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part[1:]:
            a, b = part.split("-", 1)
            lo, hi = int(a), int(b)
            if hi < lo:
                raise ValueError(f"seed range {part!r} is empty")
            out.extend(range(lo, hi + 1))
        else:
            out.append(int(part))
    if not out:
        raise ValueError(f"no seeds in {text!r}")
    return out


def default_jobs() -> int:
    return max(1, (os.cpu_count() or 1))
