"""Syne Tune blackboxes in and out: exact round trips, and Syne Tune's own loader reads what we write."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.cli import main
from harness.datasets import load_dataset
from harness.store import load

pytest.importorskip("syne_tune", reason="blackbox export needs syne-tune (see the synetune extra in pyproject)")


def test_round_trip_keeps_the_content_hash(tmp_path, capsys):
    cs = load_dataset("digits_cnn")
    assert main(["datasets", "export", "digits_cnn", "--format", "synetune", str(tmp_path / "bb")]) == 0
    assert main(["datasets", "import", str(tmp_path / "bb"), "--out", str(tmp_path / "back")]) == 0
    back = load(tmp_path / "back")
    assert back.content_hash() == cs.content_hash()
    assert back.metrics == cs.metrics and back.objective == cs.objective and back.features == cs.features


def test_syne_tunes_own_loader_reads_the_export(tmp_path):
    pytest.importorskip("fastparquet", reason="Syne Tune's loader reads parquet with fastparquet")
    pytest.importorskip("huggingface_hub", reason="syne_tune.blackbox_repository imports huggingface_hub")
    from syne_tune.blackbox_repository.blackbox_tabular import deserialize

    cs = load_dataset("digits_cnn")
    assert main(["datasets", "export", "digits_cnn", str(tmp_path / "bb"), "--format", "synetune"]) == 0
    bb = deserialize(str(tmp_path / "bb"))["digits_cnn"]
    assert bb.objectives_names == [*cs.metrics, "epoch_seconds"]
    np.testing.assert_array_equal(bb.objectives_evaluations[:, 0, :, :3], cs.curves)
    np.testing.assert_array_equal(bb.fidelity_values, np.arange(1, cs.n_epochs + 1))
    assert set(bb.configuration_space) <= set(cs.configs.columns)


def test_import_a_blackbox_written_by_syne_tune(tmp_path, capsys):
    pytest.importorskip("fastparquet", reason="Syne Tune's serializer writes parquet with fastparquet")
    pytest.importorskip("huggingface_hub", reason="syne_tune.blackbox_repository imports huggingface_hub")
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular, serialize
    from syne_tune.config_space import choice, loguniform, randint

    rng = np.random.default_rng(0)
    n, t = 30, 6
    hps = pd.DataFrame({"lr": 10 ** rng.uniform(-4, -1, n), "opt": rng.choice(["sgd", "adam"], n)})
    err = np.sort(rng.uniform(0.1, 0.9, (n, 1, t)), axis=2)[:, :, ::-1]  # decreasing error
    elapsed = np.cumsum(rng.uniform(1, 2, (n, 1, t)), axis=2)  # cumulative time, as Syne Tune's benchmarks keep it
    bb = BlackboxTabular(hyperparameters=hps, configuration_space={"lr": loguniform(1e-4, 0.1),
                                                                     "opt": choice(["sgd", "adam"])},
                         fidelity_space={"epoch": randint(1, t)}, objectives_evaluations=np.stack([err, elapsed], axis=3),
                         fidelity_values=np.arange(1, t + 1), objectives_names=["metric_valid_error", "time"])
    serialize({"task0": bb}, str(tmp_path / "bb"), metadata={"metric_elapsed_time": "time"})
    assert main(["datasets", "import", str(tmp_path / "bb"), "--objective", "metric_valid_error", "--mode", "min",
                 "--out", str(tmp_path / "mine")]) == 0
    cs = load(tmp_path / "mine")
    assert cs.curves.shape == (n, t, 2) and cs.objective == "metric_valid_error" and cs.mode == "min"
    np.testing.assert_allclose(cs.curve(), err[:, 0].astype(np.float32))
    np.testing.assert_allclose(cs.epoch_seconds.sum(axis=1), elapsed[:, 0, -1].astype(np.float32), rtol=1e-5)
    assert {f.name: f.type for f in cs.features} == {"lr": "float", "opt": "categorical"}
