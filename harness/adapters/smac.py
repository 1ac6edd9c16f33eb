"""``-a smac:<Intensifier or Facade>``: SMAC3's multi-fidelity optimisers driven through SMAC's own ask/tell.

* ``smac:Hyperband``: ``HyperbandFacade`` (random configurations) with SMAC's Hyperband intensifier;
* ``smac:SuccessiveHalving``: the same facade with SMAC's SuccessiveHalving intensifier;
* ``smac:MultiFidelityFacade``: SMAC's BOHB-like facade (a random-forest model proposes configurations) with its
  Hyperband intensifier.

Each ``ask()`` gives a configuration and a budget; the budget is in epochs (``min_budget=1``, ``max_budget=R``,
rounded to the nearest epoch), and the harness trains that configuration's trial to it on its own accounting,
clock and workers (a configuration asked again continues its trial, as ``--accounting resume`` charges it) and
``tell()``s SMAC the loss there. New configurations are asked while the epochs charged stay below the budget
(default: ``n_runs`` Hyperband iterations at the same R and eta, as the other adapters; or ``n_trials`` asks).

Configurations: ``space=pool`` (default) lets SMAC choose a pool row (an integer hyperparameter); ``space=hp``
gives it the dataset's hp ranges (log-scaled ones as log10) and answers with the nearest recorded row; on a
surrogate benchmark ``space=hp`` searches the surrogate's own space and every proposal is evaluated as proposed.
``--set`` reaches the intensifier's constructor (eta from ``--eta``); a wrong name is a one-line error listing
the valid ones. SMAC's output folder is a temporary one, removed after the run.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import shutil
import tempfile
import weakref
from typing import Any, ClassVar

import numpy as np

from ..config import setting
from ..scheduler import Decision, Job, TrialView
from .common import AdapterConfig, ExternalScheduler, NearestRow, PoolExhausted, make_config

log = logging.getLogger(__name__)

#: name -> (facade, intensifier) class names of smac
CLASSES = {"Hyperband": ("HyperbandFacade", "Hyperband"), "SuccessiveHalving": ("HyperbandFacade", "SuccessiveHalving"),
           "MultiFidelityFacade": ("MultiFidelityFacade", "Hyperband")}
MAPPED: dict[str, Any] = {}
#: set by the adapter (never by the user); eta is the harness's --eta
MANAGED = ("scenario", "seed", "eta")


@dataclasses.dataclass(frozen=True)
class SMACConfig(AdapterConfig):
    space: str = setting("pool", help="pool: SMAC picks pool rows; hp: it searches the dataset's hp ranges and the "
                                      "nearest recorded configuration answers (a surrogate's own space on a surrogate "
                                      "benchmark)", choices=("pool", "hp"))

    def check(self) -> None:
        from .common import _UNSET

        super().check()
        if getattr(self, "incumbent_selection", _UNSET) is not _UNSET:
            self.fail(f"incumbent_selection={self.incumbent_selection!r} is not read: the harness returns the trial "
                      "with the best observed loss at R (as for every algorithm), not SMAC's incumbent; leave it unset")


_HASH_WARNED: list[bool] = []


def _warn_hash_seed() -> None:
    """Once a process: SMAC's candidate order depends on Python's string hashing, random unless PYTHONHASHSEED
    is set (the harness command sets it; a library caller may not have)."""
    import os

    if os.environ.get("PYTHONHASHSEED") in (None, "", "random") and not _HASH_WARNED:
        _HASH_WARNED.append(True)
        import logging

        logging.getLogger(__name__).warning(
            "smac: this process hashes strings with a random seed (PYTHONHASHSEED unset) and SMAC orders candidate "
            "configurations by it, so a seed's run can differ from another process's; the harness command sets "
            "PYTHONHASHSEED=0, set it yourself when calling the library")


def _smac() -> Any:
    try:
        import smac
    except ImportError:
        raise ValueError("smac:<Intensifier> needs SMAC3 (pip install 'lc-harness[smac]')") from None
    return smac


@functools.cache
def smac_scheduler(name: str) -> type[SMACScheduler]:
    if name not in CLASSES:
        raise ValueError(f"algorithm 'smac:{name}': no SMAC optimiser {name!r}; valid: "
                         f"{', '.join('smac:' + n for n in CLASSES)}")
    _smac()
    from smac import intensifier

    target = getattr(intensifier, CLASSES[name][1])
    cfg = make_config(SMACConfig, f"smac:{name}", target, MAPPED, skip=MANAGED)
    return type(f"SMAC{name}", (SMACScheduler,), {"Config": cfg, "smac_name": name, "name": f"smac:{name}",
                                                   "__module__": __name__})


class SMACScheduler(ExternalScheduler):
    """Base of the generated ``smac:<Name>`` schedulers."""

    smac_name: ClassVar[str] = ""

    def start(self, view: TrialView, rng: np.random.Generator) -> None:
        super().start(view, rng)
        _warn_hash_seed()
        smac = _smac()
        from ConfigSpace import ConfigurationSpace, Float, Integer

        seed = int(rng.integers(2**31))
        space = ConfigurationSpace(seed=seed)
        self.surrogate_space = view.space if self.config.space == "hp" else None
        self.nearest = NearestRow(view, self.name, untried=not self.config.repeat_rows) if self.config.space == "hp" and self.surrogate_space is None \
            else None
        if self.surrogate_space is not None:
            for p in self.surrogate_space.params:
                if p.type == "categorical":
                    from ConfigSpace import Categorical

                    space.add(Categorical(p.name, list(p.choices)))
                elif p.type == "int":
                    space.add(Integer(p.name, (int(p.lower), int(p.upper)), log=p.log))
                else:
                    space.add(Float(p.name, (float(p.lower), float(p.upper)), log=p.log))
        elif self.nearest is not None:
            nr = self.nearest
            for n, lo, hi in zip(nr.names, nr.lo, nr.hi, strict=True):
                if hi > lo:
                    space.add(Float(n, (float(lo), float(hi))))
        else:
            space.add(Integer("row", (0, view.n_configs - 1)))
        self._dir = tempfile.mkdtemp(prefix="lc-harness-smac-")
        weakref.finalize(self, shutil.rmtree, self._dir, True)  # removed even when the run does not finish
        facade_name, _ = CLASSES[self.smac_name]
        facade = getattr(smac, facade_name)
        scenario = smac.Scenario(space, deterministic=True, n_trials=10**9, min_budget=1, max_budget=self.R,
                                 seed=seed, output_directory=self._dir)
        kwargs = self.config.library_kwargs(self.R)
        target = getattr(__import__("smac.intensifier", fromlist=["x"]), CLASSES[self.smac_name][1])
        try:
            intensifier = target(scenario, eta=self.eta, seed=seed, **kwargs)
            # logging_level=False: SMAC's own setup would reconfigure every logger of the process (dictConfig)
            logging.getLogger("smac").setLevel(logging.ERROR)
            self.smac = facade(scenario, target_function=_never_called, intensifier=intensifier, overwrite=True,
                               logging_level=False)
        except (TypeError, ValueError, AssertionError) as e:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise ValueError(f"smac:{self.smac_name}: {e}") from None
        self._TrialValue = __import__("smac.runhistory.dataclasses", fromlist=["TrialValue"]).TrialValue
        self.trial_of: dict[tuple[Any, ...], int] = {}
        self.pending: dict[int, Any] = {}
        self.asked = 0
        self.budgets: list[tuple[int, int]] = []  # (trial, epoch) of every ask, in order
        self.space_exhausted = False
        self._closed = False
        self._exhausted_error = __import__("smac.main.exceptions", fromlist=["x"]).ConfigurationSpaceExhaustedException

    @staticmethod
    def _one_thread() -> Any:
        """SMAC's random forest fits and predicts its trees with joblib threads on every core (n_jobs=-1); in a
        replay, where cells already run one per core, those threads only contend (a MultiFidelityFacade run
        spent 27 of 37 s waiting on them). Trees are seeded one by one, so the asks are the same on one thread
        (tests/adapters/test_smac.py compares with SMAC's own loop at its defaults)."""
        from joblib import parallel_config

        return parallel_config(backend="sequential")

    def suggest(self) -> Job | None:
        if not self.may_start():
            return None
        try:
            with self._one_thread():
                info = self.smac.ask()
        except self._exhausted_error:  # SMAC found no configuration it has not evaluated: the run ends here
            self.exhausted = True
            self.space_exhausted = True
            return None
        key = tuple(sorted(dict(info.config).items()))
        epoch = min(max(1, int(round(info.budget))), self.R) if info.budget is not None else self.R
        t = self.trial_of.get(key)
        if t is None or t in self.pending:
            cfg = dict(info.config)
            if self.surrogate_space is not None:
                t = self.view.new_trial_at(cfg)
            elif self.nearest is None:
                t = self.view.new_trial(int(cfg["row"]))
            else:
                nr = self.nearest
                try:
                    row, dist = nr(np.array([cfg.get(n, lo) for n, lo in zip(nr.names, nr.lo, strict=True)]))
                except PoolExhausted:  # untried rows only, and none is left: the run ends
                    self.exhausted = True
                    return None
                self.distances.append(dist)
                t = self.view.new_trial(row)
            if key not in self.trial_of:
                self.trial_of[key] = t
            self.n_started += 1
        self.pending[t] = info
        self.running.add(t)
        self.asked += 1
        self.budgets.append((t, epoch))
        return Job(t, epoch)

    def on_result(self, trial: int, epoch: int, loss: float) -> Decision:
        info = self.pending.pop(trial)
        cost = loss if math.isfinite(loss) else float(np.finfo(float).max)
        with self._one_thread():
            self.smac.tell(info, self._TrialValue(cost=cost), save=False)
        self.running.discard(trial)
        if epoch >= self.R:
            self.reached.append((trial, loss))
        return Decision.PAUSE  # SMAC may ask this configuration again at a higher budget

    def may_start(self) -> bool:
        if self.exhausted:
            return False
        if self.config.n_trials is not None:
            return self.asked < self.config.n_trials
        return self.view.epochs_used < self.budget

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        shutil.rmtree(getattr(self, "_dir", ""), ignore_errors=True)
        if not self.reached:
            log.warning("%s: no configuration reached R=%d within the budget of %d epochs (SMAC's brackets spend "
                        "it on lower budgets first); raise --set epochs_budget= or n_runs=", self.name, self.R,
                        self.budget)

    def extra_record(self) -> dict[str, Any]:
        self._close()  # the run is over: SMAC's folder goes, and a run that never reached R says so
        return {**super().extra_record(), "asks": self.asked, "reached_R": len(self.reached),
                "space_exhausted": self.space_exhausted}


def _never_called(config: Any, budget: float = 0.0, seed: int = 0) -> float:  # pragma: no cover
    raise RuntimeError("the harness answers SMAC's asks itself (ask/tell); the target function is not used")
