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


def test_the_page_separates_surrogate_tasks_where_searchers_search_the_whole_space(tmp_path, yahpo_root):
    """Issue #35 (a reviewer's reading of the 100 T board): on a surrogate task the searchers in hyperparameter space
    propose any configuration while the pool algorithms draw from the pool, so the searchers can beat every pool row
    (a negative regret). The page names those searchers, gives the share of their runs that beat the pool's best
    (recomputed here from the readings), ranks recorded tables and surrogate tasks apart, and says what not to
    conclude."""
    pytest.importorskip("syne_tune")
    from harness.bench import load_suite, read_table, run_suite
    from harness.reporting.budgeted import (
        dataset_scales,
        readings,
        space_searchers,
        write_budgeted,
    )

    (tmp_path / "s.yaml").write_text(
        "name: s\ndatasets: [digits_cnn, 'lcbench_7593:n=60']\nalgorithms:\n  hyperband: {}\n"
        "  synetune:ASHA: {space: hp}\nbaseline: hyperband\nseeds: 3\nbudget: 4\nread_at: [2, 4]\nledger: true\n"
        "draws: run\n" + f"out: {tmp_path}/o\n")
    suite = load_suite(tmp_path / "s.yaml")
    run_suite(suite, backend="sequential", progress=False)
    table = read_table(suite.out_dir)
    scales = dataset_scales(list(dict.fromkeys(table.dataset)))
    sur = next(d for d in scales if d.startswith("lcbench_7593"))
    assert scales[sur]["surrogate"] and not scales["digits_cnn"]["surrogate"]
    assert space_searchers(table, scales) == ["synetune:ASHA"]
    text = write_budgeted(suite, table, tmp_path / "page.md", wall_seconds=1.0, command="test", code={}).read_text()
    read = readings(table, scales, (4,))
    share = float((read[(read.algorithm == "synetune:ASHA") & (read.dataset == sur)]
                   .norm_regret < 0).mean())
    section = text.split("## At 4 T epochs")[1].split("## ")[0]
    assert ("On the surrogate tasks `synetune:ASHA` propose any configuration of the space" in section
            and f"`synetune:ASHA` {share:.0%})" in section), section
    assert "(On the recorded tables, where every algorithm draws the same rows: 1 dataset, too few for ranks.)" \
        in section
    assert "**On the surrogate tasks the searchers search a larger space.**" in text


def test_rank_line_ranks_datasets_by_mean_regret():
    import pandas as pd

    from harness.reporting.budgeted import plural, rank_line

    wide = pd.DataFrame({"a": [0.0, 0.1, 0.0, 0.2, 0.0, 0.1], "b": [0.5, 0.6, 0.4, 0.9, 0.3, 0.7]},
                        index=[f"d{i}" for i in range(6)])
    line = rank_line(wide, "Here")
    assert line.startswith("Here (6 datasets): a 1.00, b 2.00 (Friedman p = ")
    assert rank_line(wide.iloc[:4], "Few") == "(Few: 4 datasets, too few for ranks.)"
    assert (plural(1, "dataset"), plural(2, "task"), plural(1000, "run")) == ("1 dataset", "2 tasks", "1,000 runs")


def test_surrogate_off_reads_a_surrogate_pool_as_a_recorded_table(yahpo_root):
    """``<task>:surrogate=off``: the same pool (curves, configurations) without its surrogate, so a searcher in
    hyperparameter space is answered by untried pool rows; a bad value, or the option on a recorded table, is a
    one-line error naming the dataset."""
    pytest.importorskip("syne_tune")
    from harness.datasets import load_dataset, split_surrogate_option
    from harness.runner import Cell, run_cell
    from harness.store import DatasetError

    on, off = load_dataset("lcbench_7593:n=60"), load_dataset("lcbench_7593:n=60,surrogate=off")
    assert on.surrogate is not None and off.surrogate is None
    assert np.array_equal(on.curves, off.curves) and on.configs.equals(off.configs)
    assert split_surrogate_option("lcbench_7593:surrogate=off,n=60") == ("lcbench_7593:n=60", False)
    assert split_surrogate_option("lcbench_7593") == ("lcbench_7593", True)
    rec = run_cell(Cell("lcbench_7593:n=60,surrogate=off", "synetune:ASHA", {"space": "hp", "R": 27, "eta": 3}),
                   off)
    assert "proposed" not in rec.extra and rec.extra["mapped"]["to_a_tried_row"] == 0
    with pytest.raises(DatasetError, match=r"'lcbench_7593:surrogate=maybe'.*on or off"):
        load_dataset("lcbench_7593:surrogate=maybe")
    with pytest.raises(DatasetError, match=r"'digits_cnn:surrogate=off'.*has none"):
        load_dataset("digits_cnn:surrogate=off")


def test_the_page_checks_the_surrogate_ranks_with_every_algorithm_on_the_same_rows(tmp_path, yahpo_root):
    """The like-for-like section: the searchers' runs on the surrogate task read as a recorded table replace
    their whole-space runs; their IQM there is recomputed from those records, and none beats the pool's best."""
    pytest.importorskip("syne_tune")
    from harness.bench import load_suite, read_table, run_suite
    from harness.reporting.bench import iqm_ci
    from harness.reporting.budgeted import dataset_scales, readings, write_budgeted

    common = "seeds: 2\nbudget: 4\nread_at: [2, 4]\nledger: true\ndraws: run\nsettings: {eta: 3}\n"
    (tmp_path / "m.yaml").write_text("name: m\ndatasets: ['lcbench_7593:n=60']\nalgorithms:\n  hyperband: {}\n"
                                     "  synetune:ASHA: {space: hp}\nbaseline: hyperband\n" + common
                                     + f"out: {tmp_path}/m\n")
    (tmp_path / "s.yaml").write_text("name: s\ndatasets: ['lcbench_7593:n=60,surrogate=off']\nalgorithms:\n"
                                     "  synetune:ASHA: {space: hp}\nbaseline: synetune:ASHA\n" + common
                                     + f"out: {tmp_path}/s\n")
    m, s = load_suite(tmp_path / "m.yaml"), load_suite(tmp_path / "s.yaml")
    for x in (m, s):
        run_suite(x, backend="sequential", progress=False)
    table, same = read_table(m.out_dir), read_table(s.out_dir)
    text = write_budgeted(m, table, tmp_path / "p.md", wall_seconds=1.0, command="test", code={},
                          samerows=same).read_text()
    section = text.split("## On the surrogate tasks, every algorithm on the same rows")[1].split("\n## ")[0]
    sread = readings(same, dataset_scales(list(dict.fromkeys(same.dataset))), (4,))
    assert (sread.norm_regret >= 0).all()
    m4, _, _ = iqm_ci([x.to_numpy(float) for _, x in sread.groupby("dataset").norm_regret])
    row = next(line for line in section.splitlines() if line.startswith("| synetune:ASHA |"))
    assert f"| {m4:.4f} [" in row and "untried pool rows" in row and "(whole space: " in row
    assert next(line for line in section.splitlines() if line.startswith("| hyperband |")).count("whole space") == 0
