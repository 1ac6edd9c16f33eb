"""TaskSet JSON (DyHPO / DPL format) by name and by file: epoch 0, diverged values, HP features, bad files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from harness.families.taskset import alias, read_taskset_json
from harness.store import DatasetError

GRU = "FixedTextRNNClassification_imdb_patch32_GRU64_avg_bs128"


def _write(path, recs):
    path.write_text(json.dumps(recs))
    return path


def _rec(lr=0.01, valid=(0.69, 0.5, 0.4), **kw):
    hp = {"learning_rate": lr, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "l1": 1e-6, "l2": 1e-5,
          "linear_decay": 1e-6, "exponential_decay": 1e-4}
    rec = {"hp": hp, "train": {"loss": list(valid)}, "valid": {"loss": list(valid)}, "test": {"loss": list(valid)}}
    rec.update(kw)
    return rec


def test_epoch0_is_dropped_and_kept_as_initial_value(tmp_path):
    recs = [_rec(valid=(0.7, 0.6, 0.5)), _rec(lr=0.1, valid=(0.69, None, 0.3)), _rec(valid=(0.7, 1e9, 0.2)),
            _rec(valid=(0.7, float("nan"), 0.1))]
    p = tmp_path / "Task_x.json"
    p.write_text(json.dumps(recs).replace("NaN", "NaN"))
    cs = read_taskset_json(p)
    assert cs.name == "taskset_Task_x" and cs.curves.shape == (4, 2, 3)
    np.testing.assert_allclose(cs.curve()[0], [0.6, 0.5])
    assert np.isnan(cs.curve()[1, 0]) and np.isnan(cs.curve()[3, 0])  # null and NaN
    assert np.isnan(cs.curve()[2, 0])  # 1e9 > 1000 x the median initial loss (0.7)
    np.testing.assert_allclose(cs.configs["init_valid_loss"], [0.7, 0.69, 0.7, 0.7])
    assert cs.provenance["diverged_configs"]["valid"] == 3 and cs.epoch_seconds is None
    assert {f.name for f in cs.hp_features()} == {"learning_rate", "one_minus_beta1", "one_minus_beta2", "epsilon",
                                                  "l1", "l2", "linear_decay", "exponential_decay"}
    assert all(f.log for f in cs.hp_features())
    assert math.isclose(cs.configs["one_minus_beta2"][0], 0.001, rel_tol=1e-9)


@pytest.mark.parametrize("recs, message", [
    ([_rec(), {"hp": {}, "train": {"loss": [1, 2]}, "valid": {"loss": [1, 2]}}], r"configuration 1 has no key 'test'"),
    ([_rec(), _rec(valid=(0.7, 0.6))], r"configuration 1 has 2 valid.loss values, configuration 0 has 3 \(a ragged"),
    ([_rec(lr="fast")], r"configuration 0 has hp.learning_rate = 'fast'; it must be a finite number"),
    ({"not": "a list"}, r"holds a non-empty JSON list of configurations"),
    ([_rec(valid=("x", 0.5, 0.4))], r"configuration 0 has a non-numeric valid.loss value 'x'"),
])
def test_bad_files_are_one_line(tmp_path, recs, message):
    p = _write(tmp_path / "bad.json", recs)
    with pytest.raises(DatasetError, match=message) as e:
        read_taskset_json(p)
    assert str(e.value).startswith(str(p)) and "\n" not in str(e.value)


def test_by_name_and_alias(shared_curves):
    from harness.datasets import load_dataset

    cs = load_dataset(f"taskset_{GRU}", nan_policy="keep")
    assert cs.curves.shape == (1000, 50, 3) and cs.objective == "valid_loss"
    assert cs.provenance["kind"] == "recorded" and cs.provenance["licence"] == "Apache-2.0"
    short = load_dataset("taskset_imdb_p32_gru64_avg", nan_policy="keep")
    assert short.content_hash() == cs.content_hash()
    assert alias(GRU) == "imdb_p32_gru64_avg"
    # the raw file: index 0 is the initial evaluation
    raw = json.loads((shared_curves / "taskset_imdb_rnn" / f"{GRU}.json").read_text())
    v = np.array([np.nan if x is None else x for x in raw[5]["valid"]["loss"]], float)
    got = cs.curve()[5]
    ok = np.isfinite(got)
    np.testing.assert_array_equal(got[ok], v[1:][ok])
    assert cs.configs["init_valid_loss"][5] == v[0]
    dropped = load_dataset("taskset_imdb_p32_gru64_avg")  # nan-policy drop, as every dataset
    assert dropped.n_configs == 1000 - cs.provenance["diverged_configs"]["valid"]
    with pytest.raises(DatasetError, match=r"the taskset family has no task 'imdb_gru'.*did you mean"):
        load_dataset("taskset_imdb_gru")


def test_hyperband_epochs_on_a_taskset_task(shared_curves):
    """Acceptance: harness replay -d <a taskset task> -a hyperband -a asha -a swift --R 50 --eta 3 runs, and
    Hyperband's epochs equal an independent bracket count."""
    from harness.cli import main

    code = main(["replay", "-d", "taskset_imdb_p32_gru64_avg", "-a", "hyperband", "-a", "asha", "-a", "swift",
                 "--R", "50", "--eta", "3", "--seeds", "0-1", "-q"])
    assert code == 0
    from harness.algorithms import Hyperband
    from harness.datasets import load_dataset
    from harness.sim import simulate

    cs = load_dataset("taskset_imdb_p32_gru64_avg")
    _, trace = simulate(cs, Hyperband(R=50, eta=3), seed=0, accounting="resume")
    # independent count (Li et al.): s_max = floor(log_3 50) = 3; bracket s trains n_i = floor(n eta^-i)
    # configs to r_i = r eta^i, rounded as SPEC 1.2 does; with resume accounting a promoted config pays r_i - r_{i-1}
    R, eta = 50, 3
    s_max = int(math.floor(math.log(R) / math.log(eta) + 1e-9))
    total = 0
    for s in range(s_max, -1, -1):
        n = int(math.ceil((s_max + 1) / (s + 1) * eta**s))
        r = R * eta ** (-s)
        prev = 0
        for i in range(s + 1):
            n_i = int(math.floor(n * eta ** (-i)))
            r_i = int(round(r * eta**i))
            total += n_i * (r_i - prev)
            prev = r_i
    assert trace.epochs_used == total
