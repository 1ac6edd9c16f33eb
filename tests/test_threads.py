"""BLAS threads in workers (harness.threads): one thread, the parent's count where it changes the numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness import threads


def test_a_worker_computes_with_one_thread_and_exact_blas_restores_the_parent_count():
    pytest.importorskip("threadpoolctl")
    if threads.blas_threads() is None:
        pytest.skip("no BLAS library that threadpoolctl sees")
    before = threads.blas_threads()
    with threads.worker_blas(3):
        assert threads.blas_threads() == 1
        with threads.exact_blas():
            assert threads.blas_threads() == 3
        assert threads.blas_threads() == 1
    assert threads.blas_threads() == before
    with threads.exact_blas():  # outside a worker: nothing changes
        assert threads.blas_threads() == before
    with threads.worker_blas(None):  # no BLAS seen in the parent: nothing changes
        assert threads.blas_threads() == before


def test_predict_repeats_in_two_processes_give_the_sequential_numbers(shared_curves):
    """OLS's least squares (LAPACK gelsd) rounds by the thread count: on MLPF an R^2 differed in its 16th digit
    when workers computed with one thread throughout. Repeats in 2 processes equal the sequential run, all
    columns but the timings."""
    from harness.datasets import load_dataset
    from harness.predictors.protocol import Task, run_protocol

    cs = load_dataset("swifthb_mlpf_delphes")
    tasks = [Task("ols", "TS+HP", 40), Task("blr", "TS+HP", 40), Task("nusvr", "TS+HP", 40)]
    kw = {"repeats": 2, "budget": "tiny", "progress": False}
    one = run_protocol(cs, tasks, n_jobs=1, **kw)
    two = run_protocol(cs, tasks, n_jobs=2, **kw)
    drop = [c for c in one.columns if "seconds" in c]
    pd.testing.assert_frame_equal(one.drop(columns=drop), two.drop(columns=drop), check_exact=True)
    assert np.isfinite(one.r2).all()
