"""BLAS threads in worker processes: fast, and the same numbers in a worker as in the parent.

K workers with the parent's BLAS thread count each run K x N spinning BLAS threads on N cores: a searched BLR at
80% of a curve took 4.4-36.8 s that way against 1.6-2.0 s with one thread (issue #26). One thread per worker is
right for everything that gives the same numbers at any thread count, which is all of this project's arithmetic
but one kind: LAPACK's least squares and linear solves (``LinearRegression``'s gelsd, ``KernelRidge``'s solve)
round differently with another thread count (an OLS R^2 in its 16th digit on MLPF). Those run inside
:func:`exact_blas`, which gives them back the parent's count.

    with worker_blas(parent):   # a worker's whole job: one BLAS thread ...
        ...
        with exact_blas():      # ... but this fit computes as the parent would have
            ...

Outside a worker (a sequential run, the parent) both are no-ops.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

#: in a worker, the parent's BLAS thread count (None: not in a worker, or no BLAS that threadpoolctl sees)
_PARENT: int | None = None
_CONTROLLER: tuple[int, Any] = (-1, None)


def _controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries, scanned again when modules were imported since (scipy
    loads its own OpenBLAS beside numpy's, possibly after a worker started)."""
    global _CONTROLLER
    n = len(sys.modules)
    if _CONTROLLER[0] != n:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = (len(sys.modules), ThreadpoolController())
    return _CONTROLLER[1]


def blas_threads() -> int | None:
    """The BLAS thread count of this process (None without a BLAS that threadpoolctl sees)."""
    counts = [i["num_threads"] for i in _controller().info() if i.get("user_api") == "blas"]
    return max(counts) if counts else None


@contextmanager
def worker_blas(parent: int | None) -> Iterator[None]:
    """A worker's job: one BLAS thread, :func:`exact_blas` restoring ``parent`` (the parent's count) where the
    thread count changes the numbers."""
    global _PARENT
    if parent is None:
        yield
        return
    old = _PARENT
    _PARENT = parent
    try:
        with _controller().limit(limits=1, user_api="blas"):
            yield
    finally:
        _PARENT = old


def exact_blas() -> Any:
    """A context computing with the parent's BLAS thread count in a worker (a no-op elsewhere): for the LAPACK
    calls whose rounding depends on the thread count, so a cell gives the same numbers in any process."""
    if _PARENT is None:
        return nullcontext()
    return _controller().limit(limits=_PARENT, user_api="blas")
