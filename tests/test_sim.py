"""The replay engine: oracle, accounting, simulated clock, workers."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest

from harness import hb
from harness.algorithms.hyperband import Hyperband, RandomSearch
from harness.algorithms.swift import SwiftHyperband
from harness.config import AlgorithmConfig
from harness.runner import Cell, make_scheduler, run_cell
from harness.scheduler import Decision, Job, Scheduler
from harness.sim import Oracle, simulate
from tests.conftest import make_curveset


def test_seconds_cost_with_workers_shows_stragglers(shared_curves):
    from harness.datasets import load_dataset

    cs = load_dataset("nasbench_nlp_wikitext2")
    _, t = simulate(cs, make_scheduler(cs, "hyperband", {"R": 50, "eta": 3}), seed=0, workers=8, cost="seconds")
    assert t.busy_time / 8 < t.makespan  # idle workers waiting at rung barriers


def test_same_seed_same_run_other_seed_other_run(fake):
    a = run_cell(Cell("fake", "hyperband", {"R": 20, "eta": 3}, seed=5), curves=fake)
    b = run_cell(Cell("fake", "hyperband", {"R": 20, "eta": 3}, seed=5), curves=fake)
    c = run_cell(Cell("fake", "hyperband", {"R": 20, "eta": 3}, seed=6), curves=fake)
    assert a.to_json() == b.to_json()
    assert a.anytime != c.anytime


def test_workers_shorten_makespan_not_epochs(fake):
    _, t1 = simulate(fake, Hyperband(R=20, eta=3), seed=0, workers=1)
    _, t4 = simulate(fake, Hyperband(R=20, eta=3), seed=0, workers=4)
    assert t1.epochs_used == t4.epochs_used == hb.hyperband_epochs(20, 3)
    assert t1.makespan == t1.epochs_used
    assert t4.makespan < t1.makespan / 2
    assert t4.busy_time == t1.busy_time


def test_seconds_cost_uses_recorded_epoch_times(fake):
    _, t = simulate(fake, RandomSearch(R=20, n=5), seed=0, cost="seconds")
    _, te = simulate(fake, RandomSearch(R=20, n=5), seed=0)
    assert te.makespan == 100
    assert t.makespan == pytest.approx(sum(fake.epoch_seconds[c].sum() for c in t.trial_config))
    with pytest.raises(ValueError, match="has no epoch_seconds"):
        from dataclasses import replace

        simulate(replace(fake, epoch_seconds=None), RandomSearch(R=20, n=5), cost="seconds")


def test_oracle_hides_unpaid_epochs(fake):
    o = Oracle(fake, "resume")
    t = o.new_trial(3)
    o.train(t, 4)
    assert len(o.visible(t)) == 4
    with pytest.raises(LookupError, match="epoch 5 read, but only epochs 1..4 are paid for"):
        o.value(t, 5)
    o.train(t, 2)  # already paid: free
    assert o.epochs_used == 4
    o2 = Oracle(fake, "scratch")
    t2 = o2.new_trial(3)
    o2.train(t2, 4)
    o2.train(t2, 6)
    assert o2.epochs_used == 10


class _Stuck(Scheduler):
    name = "stuck"
    max_epoch = 5

    @dataclass(frozen=True)
    class Config(AlgorithmConfig):
        pass

    def suggest(self):
        return None

    def on_result(self, trial, epoch, loss):
        return Decision.CONTINUE

    @property
    def finished(self):
        return False


def test_deadlock_is_reported(fake):
    with pytest.raises(RuntimeError, match="stuck: no job running"):
        simulate(fake, _Stuck())


def test_job_beyond_recorded_curve_is_rejected(fake):
    class Far(_Stuck):
        def suggest(self):
            return Job(self.view.new_trial(0), 99)

    with pytest.raises(ValueError, match=r"epoch 99 is outside the recorded curves \[1, 20\]"):
        simulate(fake, Far())


class _Once(_Stuck):
    """One job (the shape ``job`` gives it); its result answered with ``answer``."""

    job = staticmethod(lambda view: Job(view.new_trial(0), 3))
    answer = Decision.CONTINUE

    def start(self, view, rng):
        super().start(view, rng)
        self.sent = self.done = False

    def suggest(self):
        if self.sent:
            return None
        self.sent = True
        return self.job(self.view)

    def on_result(self, trial, epoch, loss):
        self.done = True
        return self.answer

    @property
    def finished(self):
        return self.done


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("every_epoch", [False, True])
def test_a_broken_contract_is_named(fake, workers, every_epoch):
    """A plain tuple from suggest() was an unpacking error ('expected 4, got 2'); a None from on_result() (a
    forgotten return) was silently taken for PAUSE."""

    class Tuple(_Once):
        job = staticmethod(lambda view: (view.new_trial(0), 3))

    class NoAnswer(_Once):
        job = staticmethod(lambda view: Job(view.new_trial(0), 3, every_epoch=every_epoch))
        answer = None

    with pytest.raises(TypeError, match=r"stuck: suggest\(\) returned \(0, 3\), but must return a Job\(trial, epoch\)"):
        simulate(fake, Tuple(), workers=workers)
    with pytest.raises(TypeError, match=r"stuck: on_result\(\) returned None, but must return Decision.CONTINUE, "
                                        r"PAUSE or STOP"):
        simulate(fake, NoAnswer(), workers=workers)
    for answer in Decision:
        ok = type("Ok", (_Once,), {"answer": answer})()
        assert simulate(fake, ok, workers=workers)[1].epochs_used == 3


def test_a_checkpointed_hook_must_answer_with_a_decision(fake, monkeypatch):
    from harness import scheduler as sch

    real = sch.Batch.checkpointed.__func__

    def forgetful(cls, trials, epoch, report, hook):
        return real(cls, trials, epoch, report, lambda t, e, v: None)

    monkeypatch.setattr(sch.Batch, "checkpointed", classmethod(forgetful))
    with pytest.raises(TypeError, match=r"swift \(its Batch.checkpointed hook\): on_result\(\) returned None"):
        simulate(fake, make_scheduler(fake, "swift", {"eta": 2}))


class _NoFastPath(Hyperband):
    take_uniform = None  # the engine then runs every job through suggest / on_result


@pytest.mark.parametrize("accounting", ["resume", "scratch"])
@pytest.mark.parametrize("cost", ["epochs", "seconds"])
def test_fast_path_agrees_with_the_general_path(accounting, cost):
    cs = make_curveset(n=50, t=27, seed=4)
    y = cs.curves.copy()
    y[3, 5:, 0] = np.nan  # a diverged run: +inf loss from epoch 6
    cs = replace(cs, curves=y)
    for seed in range(3):
        fast = run_cell(Cell("x", "hyperband", {"R": 27, "eta": 3, "n_runs": 2}, seed=seed, accounting=accounting,
                             cost=cost, ledger=True), curves=cs)
        slow = run_cell(Cell("x", "tests.test_sim:_NoFastPath", {"R": 27, "eta": 3, "n_runs": 2}, seed=seed,
                             accounting=accounting, cost=cost, ledger=True), curves=cs)
        a, b = fast.to_json(), slow.to_json()
        a.pop("algorithm"), b.pop("algorithm")
        assert a == b


@pytest.mark.parametrize("n_configs", [1, 7, 296, 2**31 + 5])
def test_block_draws_leave_the_stream_as_single_draws_would(n_configs):
    """ReplayView.draw serves single uniform draws from a block drawn ahead: every value and the generator's
    state before any other use of the stream (sample, permutation) equal those of one-by-one draws."""
    from harness.sim import ReplayView

    pool = make_curveset(n=3, t=4)  # the oracle's table is not read by the draws
    oracle = Oracle(pool, rng=np.random.default_rng([11, 0]))
    oracle.n_configs = n_configs
    view, ref = ReplayView(oracle), np.random.default_rng([11, 0])
    got, want = [], []
    for burst in (5, 1, 40, 0, 17, 300):
        got += [oracle.trial_config[view.draw()] for _ in range(burst)]
        want += [int(ref.integers(n_configs)) for _ in range(burst)]
        oracle.sync_rng()  # as sample() and permutation() do
        assert oracle.rng.bit_generator.state == ref.bit_generator.state
        got.append(int(oracle.rng.integers(1000)))
        want.append(int(ref.integers(1000)))
    assert got == want
    n = len(oracle.trial_config)
    assert [view.draw() for _ in range(3)] == [n, n + 1, n + 2] and oracle.trained == [0] * (n + 3)


class _NoCheckpointedFastPath(SwiftHyperband):
    take_checkpointed = None  # the engine then runs every job through suggest / on_result


@pytest.mark.parametrize("accounting", ["resume", "scratch"])
@pytest.mark.parametrize("cost", ["epochs", "seconds"])
def test_checkpointed_fast_path_agrees_with_the_general_path(accounting, cost):
    """Swift-Hyperband's rungs (Batch.checkpointed: every trial to r_i with one report at the decision point)
    run in one loop on a single worker: the records equal those of job by job, predictions and decisions
    included."""
    cs = make_curveset(n=60, t=27, seed=5)
    params = {"R": 27, "eta": 3, "n_runs": 3, "d": 4, "trace": True}
    for seed in range(3):
        fast = run_cell(Cell("x", "swift", params, seed=seed, accounting=accounting, cost=cost, ledger=True),
                        curves=cs)
        slow = run_cell(Cell("x", "tests.test_sim:_NoCheckpointedFastPath", params, seed=seed,
                             accounting=accounting, cost=cost, ledger=True), curves=cs)
        a, b = fast.to_json(), slow.to_json()
        a.pop("algorithm"), b.pop("algorithm")
        assert a["extra"]["predictions"] > 0 and a == b


@pytest.mark.parametrize("budget", [None, 700])
@pytest.mark.parametrize("algorithm", ["hyperband", "asha", "tests.test_sim:_NoFastPath"])
def test_observed_trace_is_the_running_best_of_what_was_reported(algorithm, budget):
    """The ledger's ``observed`` (the freeze-thaw papers' incumbent: best value seen at any epoch) is the running
    minimum of the values the algorithm was told, in the order it was told them, at the epochs charged then:
    recomputed here from a wrapper that sees every report, on the fast paths and the general one."""
    import math

    from harness import algorithms
    from harness.runner import build_config
    from harness.sim import simulate

    cs = make_curveset(n=80, t=27, seed=8)
    name = algorithm.rsplit(":", 1)[-1]
    cls = _NoFastPath if name == "_NoFastPath" else algorithms.resolve(algorithm)
    seen: list[tuple[int, float]] = []

    class Spy(cls):  # every report, through whichever path the engine takes
        def start(self, view, rng):
            self._v = view
            super().start(view, rng)

        def on_result(self, trial, epoch, loss):
            seen.append((self._v.epochs_used, loss))
            return super().on_result(trial, epoch, loss)

        def finish_uniform(self, trials, target, values):
            seen.extend((-1, float(v)) for v in values)  # the batch's values, in trial order
            return super().finish_uniform(trials, target, values)

    cfg = build_config(name if cls is not _NoFastPath else "hyperband", {"R": 27, "eta": 3})
    sched = Spy(cfg)
    oracle, trace = simulate(cs, sched, seed=3, budget=budget)
    best, want = math.inf, []
    for _, v in seen:
        if v < best:
            best = v
            want.append(v)
    assert [v for _, v in trace.observed] == want and want
    eps = [e for e, _ in trace.observed]
    assert eps == sorted(eps) and eps[-1] <= oracle.epochs_used and eps[0] >= 1
