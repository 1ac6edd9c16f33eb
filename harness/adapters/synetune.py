"""``-a synetune:<Scheduler>``: a Syne Tune baseline driven directly by the simulator.

No Tuner, backend or sleeping: the harness calls the scheduler's ``suggest()`` when a simulated worker is
free (a new trial, or a paused one to resume), ``on_trial_add``, ``on_trial_result(trial, {loss, epoch})``
after every epoch (CONTINUE / PAUSE / STOP) and ``on_trial_complete`` at R. Trials run on the harness's
clock, accounting and workers; a resumed trial continues from its last paid epoch.

Config space: ``space=pool`` (default) lets the scheduler choose a pool row (``{"row": randint}``);
``space=hp`` gives it the dataset's hp columns as uniform ranges (log-scaled ones as log10) and answers
each proposal with the nearest recorded configuration (distances in the run record); on a surrogate benchmark
``space=hp`` searches the surrogate's own space and every proposal is evaluated as proposed (surrogate mode).

Syne Tune 0.16 (current) has ``ASHA`` and model-based multi-fidelity schedulers such as ``BOHB``,
``ASHABORE`` and ``ASHACQR``. Its ``HyperbandScheduler`` (type promotion / stopping) and ``MOBSTER`` /
``DyHPO`` were removed after 0.14.2, and 0.14.2 requires numpy < 1.27, which conflicts with this project's
numpy 2: they cannot be installed here.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from typing import Any, ClassVar

import numpy as np

from ..config import setting
from ..scheduler import Decision, Job, TrialView
from . import fast_scipy
from .common import AdapterConfig, ExternalScheduler, NearestRow, PoolExhausted, make_config

MAPPED = {"max_t": "R", "reduction_factor": "eta", "grace_period": 1, "time_attr": "epoch", "metric": "loss",
          "do_minimize": True}
#: set by the adapter, never by the user
MANAGED = ("config_space", "metric", "time_attr", "do_minimize", "mode", "random_seed", "max_t")
_EPOCH0 = datetime.datetime(2000, 1, 1)  # trials' creation time: fixed, so a seed reproduces a run


@dataclasses.dataclass(frozen=True)
class SyneTuneConfig(AdapterConfig):
    space: str = setting("pool", help="pool: the scheduler picks pool rows; hp: it searches the dataset's hp "
                                      "ranges and the nearest recorded configuration answers",
                         choices=("pool", "hp"))


def _baselines() -> Any:
    try:
        from syne_tune.optimizer import baselines
    except ImportError:
        raise ValueError("synetune:<Scheduler> needs Syne Tune (pip install 'lc-harness[synetune]')") from None
    return baselines


def scheduler_names() -> list[str]:
    b = _baselines()
    return sorted(n for n in getattr(b, "baselines_dict", {}) or dir(b) if n[0].isupper())


@functools.cache
def synetune_scheduler(name: str) -> type[SyneTuneScheduler]:
    b = _baselines()
    target = getattr(b, name, None)
    valid = [n for n in dir(b) if n[0].isupper() and isinstance(getattr(b, n), type) and n not in ("Any",)]
    if not isinstance(target, type) or name not in valid:
        raise ValueError(f"algorithm 'synetune:{name}': syne_tune.optimizer.baselines has no scheduler {name!r}; "
                         f"valid: {', '.join('synetune:' + v for v in valid)}")
    cfg = make_config(SyneTuneConfig, f"synetune:{name}", target, MAPPED, skip=MANAGED)
    return type(f"SyneTune{name}", (SyneTuneScheduler,), {"Config": cfg, "target_name": name,
                                                           "name": f"synetune:{name}", "__module__": __name__})


def synetune_space(space: Any) -> dict[str, Any]:
    """Syne Tune's config space for a :class:`harness.space.SearchSpace` (same types, ranges and log scales)."""
    from syne_tune.config_space import choice, lograndint, loguniform, randint, uniform

    out: dict[str, Any] = {}
    for p in space.params:
        if p.type == "categorical":
            out[p.name] = choice(list(p.choices))
        elif p.type == "int":
            out[p.name] = (lograndint if p.log else randint)(int(p.lower), int(p.upper))
        else:
            out[p.name] = (loguniform if p.log else uniform)(float(p.lower), float(p.upper))
    return out


class SyneTuneScheduler(ExternalScheduler):
    """Base of the generated ``synetune:<Scheduler>`` schedulers."""

    target_name: ClassVar[str] = ""

    def start(self, view: TrialView, rng: np.random.Generator) -> None:
        super().start(view, rng)
        from syne_tune.backend.trial_status import Trial
        from syne_tune.config_space import randint, uniform

        self._Trial = Trial
        self.surrogate_space = view.space if self.config.space == "hp" else None
        self.nearest = NearestRow(view, self.name, untried=not self.config.repeat_rows) if self.config.space == "hp" and self.surrogate_space is None \
            else None
        if self.surrogate_space is not None:
            space: dict[str, Any] = synetune_space(self.surrogate_space)
        elif self.nearest is None:
            space = {"row": randint(0, view.n_configs - 1)}
        else:
            nr = self.nearest
            space = {n: uniform(float(lo), float(hi)) for n, lo, hi in zip(nr.names, nr.lo, nr.hi, strict=True)
                     if hi > lo}
        import logging

        logging.getLogger("syne_tune").setLevel(logging.ERROR)  # chatty about defaults we did not set
        cls = getattr(_baselines(), self.target_name)
        accepted = set(__import__("inspect").signature(cls).parameters)
        kw = {"config_space": space, "metric": "loss", "time_attr": "epoch", "do_minimize": True, "mode": "min",
              "max_t": self.R, "random_seed": int(rng.integers(2**31))}
        kw = {k: v for k, v in kw.items() if k in accepted}
        kw.update(self.config.library_kwargs(self.R))
        # Syne Tune draws some choices from numpy's and Python's global generators (e.g. pandas sample without
        # a seed): the run owns those generators, seeded here, from start() to close() (the engine calls close()
        # when the run ends, and the caller's states come back); nothing else of a replay draws from them, so
        # this gives the records that swapping the states around every call gave, at a fraction of the cost
        import random

        self._np_state = np.random.RandomState(int(rng.integers(2**31))).get_state()
        self._py_state = random.Random(int(rng.integers(2**31))).getstate()
        self._outer = (np.random.get_state(), random.getstate())
        np.random.set_state(self._np_state)
        random.setstate(self._py_state)
        try:
            self.st = cls(**kw)
        except (TypeError, ValueError, AssertionError) as e:
            self.close()
            raise ValueError(f"synetune:{self.target_name}: {e}") from None
        self.trials: dict[int, Any] = {}
        self.paused: set[int] = set()
        self.n_paused = 0
        self.clipped: dict[str, int] = {}
        self.fast_kde = fast_scipy.install_kde_truncnorm()

    def close(self) -> None:
        """The run is over: the caller's global generator states come back (the run's are kept)."""
        outer = self.__dict__.pop("_outer", None)
        if outer is not None:
            import random

            self._np_state, self._py_state = np.random.get_state(), random.getstate()
            np.random.set_state(outer[0])
            random.setstate(outer[1])

    def _call(self, fn: Any, *args: Any, **kw: Any) -> Any:
        """``fn`` on this run's generator states: between start() and close() they are the global ones already;
        after close() (a caller driving the scheduler further) they are swapped in around the call."""
        if "_outer" in self.__dict__:
            return fn(*args, **kw)
        import random

        np_state, py_state = np.random.get_state(), random.getstate()
        np.random.set_state(self._np_state)
        random.setstate(self._py_state)
        try:
            return fn(*args, **kw)
        finally:
            self._np_state, self._py_state = np.random.get_state(), random.getstate()
            np.random.set_state(np_state)
            random.setstate(py_state)

    def suggest(self) -> Job | None:
        if not self.may_start():
            return None
        sug = self._call(self.st.suggest)
        if sug is None:
            self.exhausted = True
            return None
        if sug.spawn_new_trial_id:
            cfg = dict(sug.config)
            if self.surrogate_space is not None:
                row = -1
                # Syne Tune 0.16's KDE maps an integer feature back over [1, upper], whatever the lower bound
                # (kde_searcher._from_feature), so BOHB proposes e.g. max_units 28 in [64, 1024]: moved into the
                # range, counted in the record, and the library told the configuration that was evaluated
                cfg, moved = self.surrogate_space.clip(cfg)
                for n in moved:
                    self.clipped[n] = self.clipped.get(n, 0) + 1
            elif self.nearest is None:
                row = int(cfg["row"])
            else:
                try:
                    row, dist = self.nearest(np.array([cfg.get(n, lo) for n, lo in zip(self.nearest.names, self.nearest.lo,
                                                                                           strict=True)]))
                except PoolExhausted:  # untried rows only, and none is left: the run ends
                    self.exhausted = True
                    return None
                self.distances.append(dist)
            t = self.view.new_trial_at(cfg) if row < 0 else self.view.new_trial(row)
            trial = self._Trial(trial_id=t, config=cfg, creation_time=_EPOCH0)
            self.trials[t] = trial
            self._call(self.st.on_trial_add, trial)
            self.n_started += 1
        else:
            t = int(sug.checkpoint_trial_id)
            if t not in self.paused:
                raise RuntimeError(f"synetune:{self.target_name} resumed trial {t}, which is not paused")
            self.paused.discard(t)
        self.running.add(t)
        return Job(t, self.R, every_epoch=True)

    def on_result(self, trial: int, epoch: int, loss: float) -> Decision:
        result = {"loss": loss if np.isfinite(loss) else float(np.finfo(float).max), "epoch": epoch}
        st_trial = self.trials[trial]
        decision = str(self._call(self.st.on_trial_result, st_trial, result)).upper()
        if epoch >= self.R:
            self._call(self.st.on_trial_complete, st_trial, result)
            self.reached.append((trial, loss))
            self.running.discard(trial)
            return Decision.CONTINUE
        if decision == "STOP":
            self.running.discard(trial)
            self.n_stopped += 1
            return Decision.STOP
        if decision == "PAUSE":
            self.running.discard(trial)
            self.paused.add(trial)
            self.n_paused += 1
            return Decision.PAUSE
        return Decision.CONTINUE

    def extra_record(self) -> dict[str, Any]:
        out = {**super().extra_record(), "paused": self.n_paused}
        if self.clipped:  # proposals outside the space, moved into it (surrogate mode): how many, per parameter
            out["clipped_proposals"] = dict(sorted(self.clipped.items()))
        return out
