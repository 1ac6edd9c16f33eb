"""The equal-budget protocol: every algorithm of a comparison gets the same epoch budget and spends it.

A run with a budget ends once that many epochs are charged (:func:`harness.sim.simulate`, ``budget=``). For the
algorithm to spend it, its own notion of "done" must lie beyond it; :func:`to_spend` raises the setting each
algorithm ends by:

* ``epochs_budget`` (ASHA and its Swift variant, every library adapter): set to the budget;
* ``n_runs`` (Hyperband, successive halving, Swift, f-Hyperband): enough consecutive iterations to charge the
  budget (iteration-based algorithms keep what they learned across iterations, as their papers do, unless
  ``reset_between_runs`` is set);
* ``n`` (random search): enough configurations, at most the pool (it never trains one twice);
* ``n_configs`` (Baker's early-stopping simulation): the whole pool, in its random order.

An algorithm with none of these settings (a user's own) runs as configured: if it ends before the budget, its
record says so (``epochs`` below ``budget``) and the report marks the share it spent. Settings the user gave
explicitly (an ``n_trials`` instead of an epoch budget) are kept, with the same mark when they end the run early.
"""

from __future__ import annotations

import math
from typing import Any

from .config import AlgorithmConfig


def budget_epochs(multiple: float, n_epochs: int) -> int:
    """The budget of a run, in epochs: ``multiple`` x the dataset's epochs ``T`` (rounded up)."""
    if not (isinstance(multiple, (int, float)) and not isinstance(multiple, bool) and multiple > 0):
        raise ValueError(f"budget is {multiple!r}, but must be a positive multiple of the dataset's epochs T")
    return max(1, math.ceil(multiple * n_epochs))


def to_spend(cfg: AlgorithmConfig, budget: int, n_epochs: int, n_configs: int) -> AlgorithmConfig:
    """``cfg`` with the setting that ends the algorithm's run raised so that the run can charge ``budget`` epochs
    on a table of ``n_configs`` configurations x ``n_epochs`` epochs (module docstring); other settings untouched.
    Every iteration of an iteration-based algorithm trains at least one trial to R, so ``budget / R + 1``
    iterations always suffice; random search gets that many configurations, at most the pool (it never repeats
    one)."""
    names = set(cfg.names())
    d: dict[str, Any] = cfg.to_dict()
    changes: dict[str, Any] = {}
    R = min(int(d.get("R") or n_epochs), n_epochs)
    enough = math.ceil(budget / R) + 1
    if "epochs_budget" in names:
        if d.get("n_trials") is None:
            changes["epochs_budget"] = int(budget)
    elif "n" in names and "n_runs" in names:  # random search: configurations, not iterations
        if d.get("n") is None:
            changes["n"] = min(enough, n_configs)
    elif "n_runs" in names:
        changes["n_runs"] = max(int(d["n_runs"]), enough)
    if "n_configs" in names and "n_burnin" in names:  # Baker's early stopping: the whole pool
        changes["n_configs"] = None
    return cfg.replace(**changes) if changes else cfg
