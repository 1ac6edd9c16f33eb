from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from harness import hb
from harness.algorithms.hyperband import Hyperband, RandomSearch, SuccessiveHalving
from harness.cli import main
from harness.config import AlgorithmConfig
from harness.runner import Cell, parse_seeds, run_cell, run_cells
from harness.scheduler import Decision, Job, Scheduler
from harness.sim import Oracle, simulate
from tests.conftest import make_curveset


@pytest.mark.parametrize("accounting,expected", [("resume", 3213), ("scratch", 4590)])
def test_mlpf_hyperband_epochs_match_spec(mlpf, accounting, expected):
    for seed in range(3):
        _, trace = simulate(mlpf, Hyperband(R=100, eta=2), seed=seed, accounting=accounting)
        assert trace.epochs_used == expected
        assert trace.n_trials == 163


def test_mlpf_hyperband_r300_on_padded_curves(mlpf):
    _, trace = simulate(mlpf.pad_to(300), Hyperband(R=300, eta=2), seed=0)
    assert trace.epochs_used == 15380 and trace.n_trials == 608


def test_rungs_keep_the_best_observed(fake):
    sched = Hyperband(R=20, eta=3)
    oracle, trace = simulate(fake, sched, seed=1)
    # every bracket's survivors at R are the best at the previous rung among those trained there
    assert {r["r_i"] for r in sched.rounds} == {2, 7, 20}  # 20/9 -> 2, 20/3 -> 7
    inc = sched.incumbent()
    reached = [t for t, *_ in trace.reached]
    losses = fake.loss()[[oracle.config(t) for t in reached], 19]
    assert oracle.config(inc) == oracle.config(reached[int(np.argmin(losses))])


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


def test_successive_halving_is_one_bracket(fake):
    _, t = simulate(fake, SuccessiveHalving(R=20, eta=3), seed=0)
    assert t.epochs_used == hb.bracket_epochs(hb.brackets(20, 3)[0])


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


def test_record_metrics_on_min_and_max(fake):
    worse = make_curveset(mode="min")
    for cs in (fake, worse):
        r = run_cell(Cell(cs.name, "hyperband", {"R": 20, "eta": 3}, seed=0), curves=cs)
        assert r.regret >= 0
        assert r.returned_optimum == (r.regret == 0)
        assert (r.returned_final == r.optimum_final) == r.returned_optimum


def test_joblib_backend_matches_sequential(fake, tmp_path):
    from harness.store import save

    path = str(save(fake, tmp_path / "fake"))
    cells = [Cell(path, "hyperband", {"R": 20, "eta": 3}, seed=s) for s in range(4)]
    seq = run_cells(cells, progress=False)
    par = run_cells(cells, backend="joblib", n_jobs=2, progress=False)
    assert [r.to_json() for r in seq] == [r.to_json() for r in par]
    assert len({r.returned_config_id for r in seq}) > 1 or len({tuple(r.anytime) for r in seq}) > 1


def test_parse_seeds():
    assert parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    with pytest.raises(ValueError, match="empty"):
        parse_seeds("5-2")


def test_cli_replay_prints_epochs_and_optimum(mlpf, capsys):
    assert main(["replay", "-d", "swifthb_mlpf_delphes", "--R", "100", "--eta", "2", "--seeds", "0-1", "-q",
                 "--per-seed"]) == 0
    out = capsys.readouterr().out
    assert "epochs=3213" in out and "pool optimum 442.268" in out


def test_cli_bad_dataset_one_line_error(tmp_path, capsys):
    (tmp_path / "metadata.json").write_text("{not json")
    assert main(["replay", "-d", str(tmp_path), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "metadata.json: invalid JSON" in err and "\n" not in err


def test_ab_command_reports_paired_statistics(tmp_path, fake, capsys):
    from harness.store import save

    ds = str(save(fake, tmp_path / "fake"))
    rc = main(["ab", "-d", ds, "--a", "hyperband", "--b", "swift", "--set-b", "d=5", "--R", "20", "--eta", "2",
               "--seeds", "0-5", "-q"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "A = hyperband {'R': 20, 'eta': 2" in out and "B = swift {'R': 20, 'eta': 2, 'n_runs': 1" in out
    assert "'d': 5" in out.splitlines()[1]
    epochs_line = next(line for line in out.splitlines() if line.startswith("epochs"))
    assert "wilcoxon p=" in epochs_line and "A-B +" in epochs_line  # Swift never uses more epochs


def test_per_algorithm_set_applies_to_one_algorithm(mlpf, capsys):
    assert main(["replay", "-d", "swifthb_mlpf_delphes", "-a", "swift", "-a", "fhyperband", "--R", "100", "--eta",
                 "2", "--seeds", "0", "-q", "--set", "swift.d=7", "--set", "fhyperband.d=20"]) == 0
    out = capsys.readouterr().out
    assert "swift[predictor=swift_svr,d=7" in out and "fhyperband[predictor=nusvr,Delta=0.95,d=20" in out
