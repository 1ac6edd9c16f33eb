"""Surrogate mode: on a surrogate benchmark a scheduler may start a trial at any configuration of the space, and
gets exactly what it asked for; recorded tables behave as before."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from harness.scheduler import Decision, Job, Scheduler
from harness.sim import simulate
from harness.space import Param, SearchSpace
from tests.conftest import make_curveset


class FakeSurrogate:
    """y(e) = a (1 - exp(-e / b)) for a config {a, b}; 2 s an epoch."""

    kind = "surrogate"
    description = "fake surrogate"
    space = SearchSpace((Param("a", "float", 0.1, 1.0), Param("b", "float", 1.0, 10.0, log=True)))

    def evaluate(self, config):
        c = self.space.check(config, where="fake")
        e = np.arange(1, 21)
        return c["a"] * (1 - np.exp(-e / c["b"])), np.full(20, 2.0)


class ProposeThree(Scheduler):
    """Starts three trials at given configurations and trains each to the end."""

    name = "propose_three"
    from harness.algorithms.hyperband import RandomSearch as _R
    Config = _R.Config

    def start(self, view, rng):
        super().start(view, rng)
        self.max_epoch = view.n_epochs
        self.todo = [{"a": 0.99, "b": 1.5}, {"a": 0.2, "b": 2.0}, {"a": 0.5, "b": 9.0}]
        self.live = 0

    def suggest(self):
        if not self.todo:
            return None
        t = self.view.new_trial_at(self.todo.pop(0))
        self.live += 1
        return Job(t, self.max_epoch)

    def on_result(self, trial, epoch, loss):
        self.reached.append((trial, loss))
        self.live -= 1
        return Decision.CONTINUE

    @property
    def finished(self):
        return not self.todo and self.live == 0


def test_proposals_are_evaluated_as_proposed():
    cs = replace(make_curveset(n=40, t=20), surrogate=FakeSurrogate())
    for workers, cost in ((1, "epochs"), (2, "seconds")):
        oracle, trace = simulate(cs, ProposeThree(), seed=0, workers=workers, cost=cost)
        assert trace.trial_config == [40, 41, 42] and trace.epochs_used == 60
        assert oracle.value(0, 20) == pytest.approx(-0.99 * (1 - np.exp(-20 / 1.5)))
        assert oracle.record_extra()["proposed_configs"][1] == {"a": 0.2, "b": 2.0}
        assert oracle.config_id(41) == "proposed_1"
        if cost == "seconds":
            assert trace.makespan == pytest.approx(80.0)  # 3 trials x 20 epochs x 2 s on 2 workers
    from harness.metrics import make_record

    sched = ProposeThree()
    oracle, trace = simulate(cs, sched, seed=0)
    rec = make_record(cs, oracle, trace, sched, seed=0, accounting="resume", workers=1)
    assert rec.returned_config_id == "proposed_0" and rec.extra["mode"] == "surrogate"
    assert rec.returned_final == pytest.approx(0.99 * (1 - np.exp(-20 / 1.5)))


def test_recorded_table_refuses_and_a_bad_proposal_is_named():
    with pytest.raises(ValueError, match=r"fake is a recorded table: a trial can only start at one of its 40"):
        simulate(make_curveset(n=40, t=20), ProposeThree(), seed=0)

    class Bad(ProposeThree):
        def start(self, view, rng):
            super().start(view, rng)
            self.todo = [{"a": 2.0, "b": 1.5}]

    cs = replace(make_curveset(n=40, t=20), surrogate=FakeSurrogate())
    with pytest.raises(ValueError, match=r"fake: a is 2.0, but must be in \[0.1, 1\]"):
        simulate(cs, Bad(), seed=0)


def test_pool_algorithms_unchanged_on_a_surrogate_pool():
    """Hyperband on a surrogate pool samples the pool only: same epochs and records as on the bare table."""
    from harness.algorithms import Hyperband

    cs = make_curveset(n=80, t=20)
    a = simulate(cs, Hyperband(R=20, eta=3), seed=3)[1]
    b = simulate(replace(cs, surrogate=FakeSurrogate()), Hyperband(R=20, eta=3), seed=3)[1]
    assert (a.epochs_used, a.trial_config, a.reached) == (b.epochs_used, b.trial_config, b.reached)


def test_tpe_proposals_on_lcbench_are_evaluated_as_proposed(yahpo_root):
    """Acceptance: harness replay -d lcbench_3945 -a hyperband -a optuna:HyperbandPruner --set sampler=tpe ...: the
    record lists TPE's proposals, and each trial's values are the surrogate's for exactly that configuration."""
    pytest.importorskip("optuna")
    from harness.datasets import load_dataset
    from harness.runner import Cell, run_cell

    cs = load_dataset("lcbench_3945:n=100")
    rec = run_cell(Cell("lcbench_3945:n=100", "optuna:HyperbandPruner", {"sampler": "tpe", "R": 52, "eta": 3}), cs)
    ex = rec.extra
    assert ex["dataset_kind"] == "surrogate" and ex["mode"] == "surrogate" and ex["proposed"] == rec.n_trials
    if rec.returned_config_id.startswith("proposed_"):
        k = int(rec.returned_config_id.split("_")[1])
        y, _ = cs.surrogate.evaluate(ex["proposed_configs"][k])
        assert rec.returned_final == pytest.approx(y[-1], rel=1e-12)
    for cfg in ex["proposed_configs"]:
        cs.surrogate.space.check(cfg)


def test_synetune_searches_the_surrogate_space(yahpo_root):
    pytest.importorskip("syne_tune")
    from harness.datasets import load_dataset
    from harness.runner import Cell, run_cell

    cs = load_dataset("lcbench_7593:n=60")
    rec = run_cell(Cell("lcbench_7593:n=60", "synetune:ASHA", {"space": "hp", "R": 27, "eta": 3}), cs)
    assert rec.extra["mode"] == "surrogate" and rec.extra["proposed"] == rec.n_trials > 5
    ints = {p.name for p in cs.surrogate.space.params if p.type == "int"}
    for cfg in rec.extra["proposed_configs"]:
        assert all(float(cfg[k]).is_integer() for k in ints)


def test_bohb_proposals_outside_the_space_are_moved_into_it_and_counted(yahpo_root):
    """Syne Tune 0.16's KDE maps integer features back over [1, upper] whatever the lower bound, so BOHB proposes
    e.g. max_units 28 in [64, 1024] (the leaderboard's LCBench cells stopped on it): the adapter moves such values
    into the range, counts them per parameter, and every configuration evaluated is in the space."""
    pytest.importorskip("syne_tune")
    from harness.datasets import load_dataset
    from harness.runner import Cell, run_cell

    cs = load_dataset("lcbench_3945:n=60")
    space, clipped = cs.surrogate.space, {}
    for seed in range(4):  # the leaderboard's setting: 100 T (about one proposal in 250 is outside)
        rec = run_cell(Cell("lcbench_3945:n=60", "synetune:BOHB", {"space": "hp", "eta": 3, "epochs_budget": 5200},
                            seed=seed, budget=5200), cs)
        for cfg in rec.extra["proposed_configs"]:
            space.check(cfg)  # in range, integers integral
        for k, v in rec.extra.get("clipped_proposals", {}).items():
            clipped[k] = clipped.get(k, 0) + v
    assert set(clipped) <= {p.name for p in space.params if p.type == "int"} and sum(clipped.values()) > 0


def test_clip_moves_numbers_into_the_range_only():
    space = SearchSpace((Param("u", "int", 64, 1024, log=True), Param("lr", "float", 1e-4, 1e-1, log=True),
                         Param("act", "categorical", choices=("relu", "tanh"))))
    out, moved = space.clip({"u": 28, "lr": 0.5, "act": "tanh"})
    assert out == {"u": 64, "lr": 0.1, "act": "tanh"} and moved == ["u", "lr"]
    assert space.clip({"u": 100, "lr": 0.01, "act": "relu"}) == ({"u": 100, "lr": 0.01, "act": "relu"}, [])
