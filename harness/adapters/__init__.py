"""Other libraries' algorithms in the simulator, behind the same scheduler contract.

* ``optuna:<Pruner>``: any ``optuna.pruners`` class, driven through Optuna's ask/tell interface
  (:mod:`.optuna`);
* ``synetune:<Scheduler>``: a Syne Tune baseline scheduler, driven directly through its ``suggest`` /
  ``on_trial_result`` / ``on_trial_complete`` calls, with no Tuner, backend or sleeping (:mod:`.synetune`);
* ``smac:<Intensifier>``: SMAC3's Hyperband / SuccessiveHalving intensifiers and its multi-fidelity facade,
  driven through SMAC's ask/tell with budgets in epochs (:mod:`.smac`);
* :mod:`.blackbox`: Syne Tune's blackbox format in and out (``harness datasets export/import``).

``resolve("optuna:MedianPruner")`` returns a scheduler class whose ``Config`` holds the adapter's
settings plus the wrapped class's constructor arguments, so ``--set`` reaches the library's constructor
and a setting it does not take is a one-line error naming the valid ones.
"""

from __future__ import annotations

from ..scheduler import Scheduler

PREFIXES = ("optuna", "synetune", "smac")


def is_adapter(name: str) -> bool:
    return name.split(":", 1)[0] in PREFIXES and ":" in name


def resolve(name: str) -> type[Scheduler]:
    prefix, _, cls = name.partition(":")
    if prefix == "optuna":
        from .optuna import pruner_scheduler

        return pruner_scheduler(cls)
    if prefix == "smac":
        from .smac import smac_scheduler

        return smac_scheduler(cls)
    from .synetune import synetune_scheduler

    return synetune_scheduler(cls)
