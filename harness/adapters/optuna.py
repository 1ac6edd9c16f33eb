"""``-a optuna:<Pruner>``: an Optuna pruner replayed through Optuna's own ask/tell interface.

Every trial is asked from one study (in memory, minimising the loss), reports the recorded loss after each
epoch with ``trial.report(loss, epoch)`` and ends when ``trial.should_prune()`` says so (told PRUNED; the
harness stops it) or at R (told its loss). New trials are asked while the epochs charged stay below the
budget (default: one Hyperband iteration at the same R and eta, as many as ``n_runs``), or ``n_trials``.

Samplers: ``sampler=random`` (default) draws each trial's configuration uniformly from the recorded pool
with the run's sampling stream; ``sampler=tpe`` lets Optuna's TPE propose a point of the dataset's
hyperparameter space (its hp columns, log-scaled ones as log10) and answers with the nearest recorded
configuration (the distances are in the run record). On a surrogate benchmark (``lcbench_<task>``) TPE
proposes into the surrogate's own space (its types, ranges and log scales) and every proposal is evaluated as
proposed (surrogate mode; the record lists them under ``proposed_configs``).

R and eta reach the pruners that have them: HyperbandPruner(min_resource=1, max_resource=R,
reduction_factor=eta), SuccessiveHalvingPruner(min_resource=1, reduction_factor=eta). PatientPruner's
``wrapped_pruner`` is a pruner name (its defaults), e.g. ``--set wrapped_pruner=MedianPruner --set patience=3``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, ClassVar

import numpy as np

from ..config import setting
from ..scheduler import Decision, Job, TrialView
from .common import AdapterConfig, ExternalScheduler, NearestRow, PoolExhausted, make_config

PRUNERS = ("HyperbandPruner", "SuccessiveHalvingPruner", "MedianPruner", "PercentilePruner", "PatientPruner",
           "WilcoxonPruner", "ThresholdPruner", "NopPruner")
MAPPED = {"HyperbandPruner": {"min_resource": 1, "max_resource": "R", "reduction_factor": "eta"},
          "SuccessiveHalvingPruner": {"min_resource": 1, "reduction_factor": "eta"}}


@dataclasses.dataclass(frozen=True)
class OptunaConfig(AdapterConfig):
    sampler: str = setting("random", help="random: uniform draws from the recorded pool; tpe: Optuna's TPE "
                                          "proposes a point and the nearest recorded configuration answers",
                           choices=("random", "tpe"))


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ValueError("optuna:<Pruner> needs Optuna (pip install 'lc-harness[optuna]')") from None
    return optuna


@functools.cache
def pruner_scheduler(name: str) -> type[OptunaPruner]:
    optuna = _optuna()
    target = getattr(optuna.pruners, name, None)
    if not (isinstance(target, type) and issubclass(target, optuna.pruners.BasePruner)) or name == "BasePruner":
        valid = [n for n in dir(optuna.pruners) if n.endswith("Pruner") and n != "BasePruner"]
        raise ValueError(f"algorithm 'optuna:{name}': optuna.pruners has no pruner {name!r}; valid: "
                         f"{', '.join('optuna:' + v for v in valid)}")
    cfg = make_config(OptunaConfig, f"optuna:{name}", target, MAPPED.get(name, {}))
    return type(f"Optuna{name}", (OptunaPruner,), {"Config": cfg, "pruner_name": name, "name": f"optuna:{name}",
                                                   "__module__": __name__})


def suggest_in(trial: Any, space: Any) -> dict[str, Any]:
    """An Optuna trial's proposal for every parameter of a :class:`harness.space.SearchSpace`."""
    out: dict[str, Any] = {}
    for p in space.params:
        if p.type == "categorical":
            out[p.name] = trial.suggest_categorical(p.name, list(p.choices))
        elif p.type == "int":
            out[p.name] = trial.suggest_int(p.name, int(p.lower), int(p.upper), log=p.log)
        else:
            out[p.name] = trial.suggest_float(p.name, float(p.lower), float(p.upper), log=p.log)
    return out


def decision_steps(pruner: Any, R: int) -> frozenset[int] | None:
    """The only steps at which ``pruner.prune`` can return True or change the study, when that is known: Optuna's
    SuccessiveHalvingPruner (and HyperbandPruner, whose brackets are SuccessiveHalvingPruners) returns False
    before reading any trial at every step below its next rung's promotion step, min_resource x eta^k. Asking
    ``should_prune`` (a copy of the trial from storage each time) only there gives the same decisions
    (tests/adapters/test_optuna.py compares records) at a fraction of the cost (``benchmarks/optuna_rungs.py``).
    None (ask at every step): any other pruner, or a min_resource / max_resource left to Optuna ("auto")."""
    import optuna

    if not isinstance(pruner, (optuna.pruners.SuccessiveHalvingPruner, optuna.pruners.HyperbandPruner)):
        return None
    r, eta = getattr(pruner, "_min_resource", None), getattr(pruner, "_reduction_factor", None)
    if isinstance(pruner, optuna.pruners.HyperbandPruner) and not isinstance(getattr(pruner, "_max_resource", None),
                                                                              int):
        return None
    if not isinstance(r, int) or not isinstance(eta, int) or r < 1 or eta < 2:
        return None
    steps, s = set(), r
    while s <= R:
        steps.add(s)
        s *= eta
    return frozenset(steps)


class OptunaPruner(ExternalScheduler):
    """Base of the generated ``optuna:<Pruner>`` schedulers."""

    pruner_name: ClassVar[str] = ""

    def start(self, view: TrialView, rng: np.random.Generator) -> None:
        super().start(view, rng)
        optuna = _optuna()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        kwargs = self.config.library_kwargs(self.R)
        if self.pruner_name == "PatientPruner" and isinstance(kwargs.get("wrapped_pruner"), str):
            kwargs["wrapped_pruner"] = pruner_scheduler(kwargs["wrapped_pruner"]) and getattr(
                optuna.pruners, kwargs["wrapped_pruner"])()
        try:
            pruner = getattr(optuna.pruners, self.pruner_name)(**kwargs)
        except (TypeError, ValueError) as e:
            raise ValueError(f"optuna:{self.pruner_name}: {e}") from None
        seed = int(rng.integers(2**31))
        sampler = (optuna.samplers.RandomSampler(seed=seed) if self.config.sampler == "random"
                   else optuna.samplers.TPESampler(seed=seed))
        # a fresh study name per run, as Optuna gives every new study one (HyperbandPruner assigns a trial's
        # bracket by a hash of the study name and the trial number: one fixed name gave every seed the same
        # bracket sequence); drawn from the run's stream, so a seed still reproduces its run
        self.study_name = f"lc-harness-{int(rng.integers(2**62)):016x}"
        self.study = optuna.create_study(study_name=self.study_name, direction="minimize", pruner=pruner,
                                         sampler=sampler)
        self.space = view.space if self.config.sampler == "tpe" else None
        self.nearest = NearestRow(view, self.name, untried=not self.config.repeat_rows) if self.config.sampler == "tpe" and self.space is None else None
        self.trials: dict[int, Any] = {}
        self._pruned_state = optuna.trial.TrialState.PRUNED
        self.decision_steps = decision_steps(pruner, self.R)

    def suggest(self) -> Job | None:
        if not self.may_start():
            return None
        ot = self.study.ask()
        if self.space is not None:
            t = self.view.new_trial_at(suggest_in(ot, self.space))
        elif self.nearest is None:
            t = self.view.draw()
        else:
            nr = self.nearest
            x = [ot.suggest_float(n, float(lo), float(hi)) if hi > lo else float(lo)
                 for n, lo, hi in zip(nr.names, nr.lo, nr.hi, strict=True)]
            try:
                row, dist = nr(np.array(x))
            except PoolExhausted:  # untried rows only, and none is left: the run ends
                self.exhausted = True
                return None
            self.distances.append(dist)
            t = self.view.new_trial(row)
        self.trials[t] = ot
        self.running.add(t)
        self.n_started += 1
        return Job(t, self.R, every_epoch=True)

    def on_result(self, trial: int, epoch: int, loss: float) -> Decision:
        ot = self.trials[trial]
        value = loss if math.isfinite(loss) else float(np.finfo(float).max)
        ot.report(value, epoch)
        if epoch >= self.R:
            self.study.tell(ot, value)
            self.reached.append((trial, loss))
            self.running.discard(trial)
            return Decision.CONTINUE
        if (self.decision_steps is None or epoch in self.decision_steps) and ot.should_prune():
            self.study.tell(ot, state=self._pruned_state)
            self.running.discard(trial)
            self.n_stopped += 1
            return Decision.STOP
        return Decision.CONTINUE
