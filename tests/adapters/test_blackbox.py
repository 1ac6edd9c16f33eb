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


def test_exports_keep_meaning_repeats_log_scale_architecture(tmp_path, shared_curves):
    """Issue #37: MLPF's repeated trainings go on Syne Tune's seed axis (no tunable 'seed'); Syne Tune's own loader
    answers each configuration at each of its seeds with the recorded curve (NaN where it has fewer runs); log-scaled
    integers stay lograndint over the surrogate's own range; architecture columns are not tuned."""
    pytest.importorskip("fastparquet", reason="Syne Tune's loader reads parquet with fastparquet")
    pytest.importorskip("huggingface_hub", reason="syne_tune.blackbox_repository imports huggingface_hub")
    from syne_tune.blackbox_repository.blackbox_tabular import deserialize

    cs = load_dataset("swifthb_mlpf_delphes")
    assert main(["datasets", "export", "swifthb_mlpf_delphes", str(tmp_path / "mlpf"), "--format", "synetune"]) == 0
    bb = deserialize(str(tmp_path / "mlpf"))["swifthb_mlpf_delphes"]
    hp = [f.name for f in cs.hp_features()]
    assert sorted(bb.configuration_space) == sorted(hp) and "seed" not in bb.hyperparameters.columns
    n_unique = len(cs.configs[hp].drop_duplicates())
    assert bb.objectives_evaluations.shape[:2] == (n_unique, 5) and len(bb.hyperparameters) == n_unique
    seen: dict[tuple, int] = {}
    for i in range(cs.n_configs):  # the k-th run of a configuration is its seed k, through Syne Tune's lookup
        row = cs.configs.iloc[i]
        key = tuple(row[h] for h in bb._hp_cols)
        k = seen.get(key, 0)
        seen[key] = k + 1
        got = bb.objective_function({h: row[h] for h in bb._hp_cols}, seed=k)
        np.testing.assert_array_equal(got[:, 0], cs.curves[i, :, 0])
    counts = np.bincount(list(seen.values()))
    assert counts[5] == 24 and np.isnan(bb.objectives_evaluations).any()  # 24 of 183 configurations have 5 runs
    # Syne Tune's searchers restricted to the blackbox's configurations (its all_configurations(), what
    # restrict_configurations takes) propose only existing ones, each answered by the blackbox
    from syne_tune.optimizer.schedulers.searchers.random_searcher import RandomSearcher

    allowed = bb.all_configurations()
    assert len(allowed) == n_unique
    searcher = RandomSearcher(bb.configuration_space, points_to_evaluate=allowed, random_seed=0)
    for _ in range(n_unique):
        proposal = searcher.suggest()
        assert proposal in allowed
        assert np.isfinite(bb.objective_function(proposal, seed=0)).all()


def test_surrogate_and_architecture_spaces(tmp_path, shared_curves):
    pytest.importorskip("fastparquet", reason="Syne Tune's loader reads parquet with fastparquet")
    pytest.importorskip("huggingface_hub", reason="syne_tune.blackbox_repository imports huggingface_hub")
    pytest.importorskip("onnxruntime")
    from syne_tune.blackbox_repository.blackbox_tabular import deserialize
    from syne_tune.config_space import to_dict

    assert main(["datasets", "export", "lcbench_3945:n=40", str(tmp_path / "lc"), "--format", "synetune"]) == 0
    space = deserialize(str(tmp_path / "lc"))["lcbench_3945"].configuration_space
    bs = to_dict(space["batch_size"])  # lograndint(16, 512), the surrogate's own range: not the pool's 16-511
    assert (bs["domain_cls"], bs["domain_kwargs"], bs["sampler_cls"]) == ("Integer", {"lower": 16, "upper": 512},
                                                                          "LogUniform")
    cs = load_dataset("cifar10_metaqnn_small")
    ap = [f.name for f in cs.ap_features()]
    assert ap
    assert main(["datasets", "export", "cifar10_metaqnn_small", str(tmp_path / "mq"), "--format", "synetune"]) == 0
    assert not set(ap) & set(deserialize(str(tmp_path / "mq"))["cifar10_metaqnn_small"].configuration_space)
    assert main(["datasets", "export", "cifar10_metaqnn_small", str(tmp_path / "mq2"), "--format", "synetune",
                 "--tunable-ap"]) == 0
    assert set(ap) <= set(deserialize(str(tmp_path / "mq2"))["cifar10_metaqnn_small"].configuration_space)
