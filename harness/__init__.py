"""lc-harness: offline replay and benchmarking of HPO algorithms over recorded learning curves.

Public names (imported on first use, so ``import harness`` stays cheap)::

    from harness import simulate, Scheduler, SynchronousScheduler, Decision, Job, Batch, TrialView
    from harness.algorithms import Hyperband, SuccessiveHalving, RandomSearch, FHyperband, SwiftHyperband, \\
        ASHA, SwiftASHA, EarlyStopSim
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_PUBLIC = {"simulate": "sim", "ReplayView": "sim", "Scheduler": "scheduler", "SynchronousScheduler": "scheduler",
           "Decision": "scheduler", "Job": "scheduler", "Batch": "scheduler", "TrialView": "scheduler",
           "AlgorithmConfig": "config", "setting": "config", "load_dataset": "datasets", "CurveSet": "store"}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
