"""The scheduler contract: the narrow view, and CONTINUE / PAUSE / STOP semantics called directly."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from harness import Decision, Scheduler, SynchronousScheduler, simulate
from harness.algorithms import ALGORITHMS, Hyperband
from harness.config import AlgorithmConfig
from harness.scheduler import Batch, Job, TrialView
from harness.sim import Oracle, ReplayView, UnpaidEpochError
from tests.conftest import make_curveset


@pytest.fixture(scope="module")
def pool():
    return make_curveset(n=30, t=10, seed=5)


def test_view_answers_only_paid_epochs(pool):
    oracle = Oracle(pool, "resume", rng=np.random.default_rng(0))
    view = ReplayView(oracle)
    assert isinstance(view, TrialView)
    (t,) = view.sample(1)
    assert view.trained(t) == 0 and len(view.observed(t)) == 0
    with pytest.raises(UnpaidEpochError, match="epoch 1 read, but only epochs 1..0 are paid for"):
        view.value(t, 1)
    oracle.train(t, 3)
    obs = view.observed(t)
    assert len(obs) == 3 and view.value(t, 3) == obs[2]
    for e in (0, 4, 10):
        with pytest.raises(UnpaidEpochError):
            view.value(t, e)
    obs[:] = -1.0  # a copy: the scheduler cannot write into the table
    assert view.value(t, 1) != -1.0
    # prefixes: the stacked paid-for prefixes of several trials, a copy, and nothing unpaid
    (u,) = view.sample(1)
    oracle.train(u, 5)
    P = view.prefixes([u, t], 3)
    np.testing.assert_array_equal(P, np.stack([view.observed(u)[:3], view.observed(t)]))
    P[:] = -1.0
    assert view.value(t, 1) != -1.0 and view.prefixes([], 2).shape == (0, 2)
    with pytest.raises(UnpaidEpochError, match=f"trial {t}: epochs 1..4 read, but only epochs 1..3 are paid for"):
        view.prefixes([u, t], 4)
    # nothing on the view leads to the table: no public attribute holds the oracle or the curves
    public = [a for a in dir(view) if not a.startswith("_")]
    assert set(public) == {"n_configs", "n_epochs", "n_trials", "epochs_used", "sample", "draw", "permutation",
                           "new_trial", "config", "trained", "observed", "value", "prefixes", "static_features",
                           "space", "new_trial_at", "hindsight"}
    assert not hasattr(view, "__dict__") and not hasattr(view, "oracle") and not hasattr(view, "curves")


class Peeker(SynchronousScheduler):
    """Tries to read epoch 5 of a trial after paying for 2."""

    name = "peeker"

    @dataclass(frozen=True)
    class Config(AlgorithmConfig):
        algorithm: ClassVar[str] = "peeker"

    max_epoch = 10

    def program(self) -> Generator[Batch, dict, None]:
        (t,) = self.view.sample(1)
        yield Batch([Job(t, 2)])
        self.view.value(t, 5)


def test_a_scheduler_cannot_read_an_unpaid_epoch(pool):
    with pytest.raises(UnpaidEpochError, match="epoch 5 read, but only epochs 1..2 are paid for"):
        simulate(pool, Peeker(), seed=0)


class Scripted(Scheduler):
    """Hand-driven scheduler: jobs and decisions are scripted by the test."""

    name = "scripted"
    max_epoch = 10

    @dataclass(frozen=True)
    class Config(AlgorithmConfig):
        algorithm: ClassVar[str] = "scripted"

    def __init__(self, jobs, decisions):
        super().__init__()
        self.jobs, self.decisions, self.seen = list(jobs), dict(decisions), []

    def start(self, view, rng):
        super().start(view, rng)
        self.trials = view.sample(2)

    def suggest(self):
        return self.jobs.pop(0) if self.jobs else None

    def on_result(self, trial, epoch, loss):
        self.seen.append((trial, epoch))
        return self.decisions.pop((trial, epoch), Decision.CONTINUE)  # each scripted decision is taken once

    @property
    def finished(self):
        return not self.jobs


def test_pause_resumes_where_it_stopped_and_stop_is_final(pool):
    # trial 0: a job to 6 reporting every epoch, paused at 3; a later job to 6 resumes at 4 (resume accounting)
    s = Scripted([Job(0, 6, every_epoch=True), Job(0, 6, every_epoch=True)], {(0, 3): Decision.PAUSE})
    oracle, trace = simulate(pool, s, seed=0, accounting="resume")
    assert s.seen == [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (0, 6)]
    assert trace.epochs_used == 6 and oracle.trained[0] == 6
    # scratch accounting: the second job retrains from epoch 1
    s = Scripted([Job(0, 6, every_epoch=True), Job(0, 6, every_epoch=True)], {(0, 3): Decision.PAUSE})
    _, trace = simulate(pool, s, seed=0, accounting="scratch")
    assert s.seen == [(0, 1), (0, 2), (0, 3), (0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (0, 6)]
    assert trace.epochs_used == 3 + 6
    # STOP at 2, then a job for the stopped trial: the engine refuses to run it
    s = Scripted([Job(0, 6, every_epoch=True), Job(0, 6)], {(0, 2): Decision.STOP})
    with pytest.raises(RuntimeError, match="suggested trial 0, which was stopped"):
        simulate(pool, s, seed=0)
    # with two workers, the second job of trial 0 would run beside the first: refused too
    s = Scripted([Job(0, 6, every_epoch=True), Job(0, 6)], {})
    with pytest.raises(RuntimeError, match="suggested trial 0 while a job of it is running"):
        simulate(pool, s, seed=0, workers=2)


def test_synchronous_scheduler_called_directly(pool):
    """suggest/on_result without the simulator: a rung's jobs come out in order, the program continues only
    when all of them have ended, and the survivors are the best observed."""
    hb = Hyperband(R=9, eta=3)
    oracle = Oracle(pool, "resume", rng=np.random.default_rng(1))
    hb.start(ReplayView(oracle), np.random.default_rng(2))
    first = [hb.suggest() for _ in range(9)]
    assert [j.epoch for j in first] == [1] * 9 and hb.suggest() is None
    losses = {}
    for j in first:
        oracle.train(j.trial, j.epoch)
        losses[j.trial] = oracle.value(j.trial, 1)
        assert hb.on_result(j.trial, 1, losses[j.trial]) is Decision.CONTINUE
    nxt = [hb.suggest() for _ in range(3)]
    assert [j.epoch for j in nxt] == [3, 3, 3]
    assert [j.trial for j in nxt] == sorted(losses, key=losses.get)[:3]


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_every_algorithm_declares_a_checked_config(name):
    cls = ALGORITHMS[name]
    cfg = cls.Config()
    assert cls(cfg).config is cfg and cls().config == cfg
    with pytest.raises(ValueError, match=f"{cfg.algorithm} has no setting 'nope'; valid settings: "):
        cls.Config.from_dict({"nope": 1})
    with pytest.raises(TypeError, match="pass a config or keyword settings, not both"):
        cls(cfg, R=5)
