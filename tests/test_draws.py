"""Pool draws (SPEC 0.3 and the leaderboard's ``draws="run"``): with distinct draws over the run no pool row is
drawn twice, the draws are uniform over the rows left, the run ends when the pool has none left for a draw, and a
row the algorithm itself starts again is counted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest

from harness.budget import budget_epochs, to_spend
from harness.config import AlgorithmConfig
from harness.runner import Cell, build_config, make_scheduler, run_cell
from harness.scheduler import Decision, Job, PoolExhausted, Scheduler
from harness.sim import simulate
from tests.conftest import make_curveset

ALGORITHMS = ["hyperband", "successive_halving", "asha", "random", "swift", "fhyperband", "optuna:MedianPruner",
              "optuna:HyperbandPruner"]


def _cell_params(cs, algorithm: str, budget: int):
    from harness.adapters import is_adapter

    settings = {"eta": 3}
    if algorithm == "fhyperband":
        settings.update(d=5)
    if algorithm == "swift":
        settings.update(d=5)
    cfg = to_spend(build_config(algorithm, settings), budget, cs.n_epochs, cs.n_configs)
    return cfg.to_dict() if is_adapter(algorithm) else cfg


@pytest.mark.parametrize(("algorithm", "workers"), [(a, w) for a in ALGORITHMS for w in (1, 3)
                                                     if w == 1 or a not in ("swift", "fhyperband")])
def test_no_row_is_drawn_twice_and_the_run_ends_when_the_pool_is_used_up(algorithm, workers):
    if algorithm.startswith("optuna"):
        pytest.importorskip("optuna")
    cs = make_curveset(n=40, t=9)
    budget = budget_epochs(100, cs.n_epochs)
    params = _cell_params(cs, algorithm, budget)
    bracket = run_cell(Cell("fake", algorithm, params, seed=3, budget=budget, workers=workers), cs)
    run = run_cell(Cell("fake", algorithm, params, seed=3, budget=budget, workers=workers, draws="run"), cs)
    # per bracket: the pool (40 rows) is far too small for 100 T, so rows come back as new trials
    assert "draws" not in bracket.extra
    if algorithm != "random":  # (random search never trains more than the pool)
        assert bracket.n_trials > cs.n_configs
    # per run: never a row twice; the pool runs out before the budget (random search stops at the pool)
    sched = make_scheduler(cs, algorithm, params)
    oracle, trace = simulate(cs, sched, seed=3, budget=budget, workers=workers, draws="run")
    assert len(set(trace.trial_config)) == len(trace.trial_config) == run.n_trials
    assert run.extra["draws"] == "run" and run.extra["rows_restarted"] == 0
    if algorithm != "random":
        assert run.extra["pool_exhausted"] and run.epochs < budget
    assert run.returned_config_id is not None and np.isfinite(run.regret)
    # the same seed gives the same run
    again = run_cell(Cell("fake", algorithm, params, seed=3, budget=budget, workers=workers, draws="run"), cs)
    assert again == run


def test_draws_are_uniform_over_the_rows_left():
    """First draws over 3,000 seeds on a pool of 12 (chi-square, 11 df: 40 is beyond its 0.9999 quantile), and a
    draw after rows were taken by the algorithm itself never gives one of them."""

    class TakeThenDraw(Scheduler):
        name = "take_then_draw"

        @dataclass(frozen=True)
        class Config(AlgorithmConfig):
            pass

        def start(self, view, rng):
            super().start(view, rng)
            self.max_epoch = 1
            self.taken = [view.new_trial(r) for r in (0, 1, 2)]
            self.drawn = [view.draw() for _ in range(3)] + view.sample(2)
            self.done = False

        def suggest(self):
            if self.done:
                return None
            self.done = True
            return Job(self.drawn[0], 1)

        def on_result(self, trial, epoch, loss):
            return Decision.CONTINUE

        @property
        def finished(self):
            return self.done

    cs = make_curveset(n=12, t=3)
    first: Counter[int] = Counter()
    for seed in range(3000):
        oracle, trace = simulate(cs, TakeThenDraw(), seed=seed, draws="run")
        rows = trace.trial_config
        assert set(rows[3:]).isdisjoint({0, 1, 2}) and len(set(rows)) == len(rows)
        first[rows[3]] += 1
    counts = np.array([first[r] for r in range(3, 12)])
    expected = 3000 / 9
    assert ((counts - expected) ** 2 / expected).sum() < 40


def test_a_row_the_algorithm_starts_again_is_counted_and_a_draw_past_the_pool_ends_the_run():
    class Again(Scheduler):
        name = "again"

        @dataclass(frozen=True)
        class Config(AlgorithmConfig):
            pass

        def start(self, view, rng):
            super().start(view, rng)
            self.max_epoch = 2
            self.queue = [view.new_trial(5), view.new_trial(5)]

        def suggest(self):
            if not self.queue:
                self.queue.append(self.view.draw())  # past the pool: PoolExhausted ends the run
            return Job(self.queue.pop(), 2)

        def on_result(self, trial, epoch, loss):
            return Decision.CONTINUE

        @property
        def finished(self):
            return False

    cs = make_curveset(n=6, t=3)
    oracle, trace = simulate(cs, Again(), seed=0, draws="run")
    assert oracle.rows_restarted == 1 and oracle.pool_exhausted
    # row 5 twice (2 trials), then rows 0-4 each once, then the draw that finds none
    assert Counter(trace.trial_config)[5] == 2 and sorted(trace.trial_config[2:]) == [0, 1, 2, 3, 4]
    assert trace.epochs_used == 2 * 7
    with pytest.raises(ValueError, match="draws is 'every'"):
        simulate(cs, Again(), draws="every")


def test_sample_larger_than_what_is_left_raises_in_the_view():
    cs = make_curveset(n=5, t=3)
    from harness.sim import Oracle, ReplayView

    view = ReplayView(Oracle(cs, draws="run"))
    assert len(view.sample(3)) == 3
    with pytest.raises(PoolExhausted, match="a draw of 3 configurations, but 2 of the pool's 5 are unused"):
        view.sample(3)
    assert sorted(view.permutation().tolist()) == sorted(set(range(5)) - {view.config(t) for t in range(3)})


@pytest.mark.parametrize("algorithm", ["swift_asha", "earlystop"])
def test_an_oracle_predictor_decides_by_the_recorded_truth(algorithm):
    """The perfect-predictor bounds of the leaderboard page: Swift-ASHA pauses exactly the trials whose recorded
    value at the next rung is at or above the rung's quantile, and Baker's early stopping stops exactly those whose
    recorded final value is worse than the reference by delta."""
    cs = make_curveset(n=60, t=9, mode="min")
    settings = {"predictor": "oracle"}
    settings.update({"d": 3} if algorithm == "swift_asha" else {"n_burnin": 5})
    sched = make_scheduler(cs, algorithm, {**settings, "trace": True})
    oracle, trace = simulate(cs, sched, seed=1)
    decisions = sched.decisions
    assert decisions, "the oracle decided nothing"
    loss = oracle.loss
    for d in decisions:
        t = d["trial"]
        truth = loss[trace.trial_config[t], d["target"] - 1]
        if algorithm == "swift_asha":
            assert d["mean"] == truth
            assert (d["decision"] == "pause") == (truth >= d["threshold"])
        else:
            assert d["mean"] == -truth  # (earlystop's trace is in utility: minus the loss)
            assert (d["decision"] == "stop") == (d["p_worse"] >= sched.Delta)
    stopping = [d for d in decisions if d["decision"] in ("pause", "stop")]
    assert stopping, "the oracle stopped nothing"
