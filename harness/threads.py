"""BLAS threads in worker processes: a computation gives the same numbers in a worker as in the parent."""

from __future__ import annotations

from typing import Any


def blas_threads() -> int | None:
    """The BLAS thread count of this process (None without a BLAS that threadpoolctl sees)."""
    from threadpoolctl import threadpool_info

    counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return max(counts) if counts else None


def same_blas(blas: int | None) -> Any:
    """A context with ``blas`` BLAS threads. joblib's workers start with fewer (cores / processes), and LAPACK's
    least squares rounds differently with another thread count (an OLS R^2 in its 16th digit): a worker computes
    with the parent's count, so a cell gives the same numbers in any process."""
    from contextlib import nullcontext

    if blas is None:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=blas, user_api="blas")
