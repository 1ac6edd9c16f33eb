"""The catalogue (harness datasets list / describe), Syne Tune's repository by name, and exports Syne Tune's own
loader reads (repeated configurations get a seed column)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.cli import main


def test_list_groups_by_family_with_kind_shape_licence_presence(capsys, shared_curves):
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    for header in ("generate  (made here;", "swifthb  (recorded;", "taskset  (recorded; 8 datasets",
                   "deepobs  (recorded;", "lcbench  (surrogate; 34 datasets"):
        assert header in out
    assert "digits_cnn" in out and "[embedded]" in out
    assert "taskset_imdb_p32_gru64_avg" in out and "1000 x 50" in out
    assert "swifthb_mlpf_delphes     296 x 100  present" in out
    assert "surrogate = a model's predictions" in out
    assert main(["datasets", "list", "--family", "nope"]) == 2
    assert "--family 'nope': no such family" in capsys.readouterr().err


def test_describe_says_family_kind_and_licence(capsys, shared_curves):
    assert main(["datasets", "describe", "swifthb_mlpf_delphes"]) == 0
    out = capsys.readouterr().out
    assert "family               swifthb" in out and "kind                 recorded" in out
    assert "licence              Apache-2.0" in out
    assert main(["datasets", "describe", "digits_cnn"]) == 0
    out = capsys.readouterr().out
    assert "kind                 made here" in out and "stored               embedded" in out and "code " in out


def test_describe_a_surrogate_says_so(capsys, yahpo_root):
    assert main(["datasets", "describe", "lcbench_3945:n=20"]) == 0
    out = capsys.readouterr().out
    assert "surrogate (model predictions, not recorded runs)" in out and "YAHPO Gym LCBench surrogate" in out


def test_import_taskset_file_and_folder(tmp_path, capsys, shared_curves):
    src = shared_curves / "taskset_imdb_rnn" / "FixedTextRNNClassification_imdb_patch32_GRU64_avg_bs128.json"
    assert main(["datasets", "import", str(src), "--out", str(tmp_path / "one")]) == 0
    from harness.store import load

    cs = load(tmp_path / "one", nan_policy="keep")
    assert cs.curves.shape == (1000, 50, 3)
    assert main(["datasets", "import", str(src), "--out", str(tmp_path / "one")]) == 2  # no silent replacement
    assert "already holds a dataset; pass --overwrite" in capsys.readouterr().err
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "A_task.json").write_bytes(src.read_bytes())
    assert main(["datasets", "import", str(folder), "--out", str(tmp_path / "x")]) == 0


def _repository(root, pytest_mod=pytest):
    """A Syne Tune blackbox repository as Syne Tune's serializer writes it: a tabular 'fcnet' with two tasks."""
    pytest_mod.importorskip("fastparquet", reason="Syne Tune's serializer writes parquet with fastparquet")
    pytest_mod.importorskip("huggingface_hub", reason="syne_tune.blackbox_repository imports huggingface_hub")
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular, serialize
    from syne_tune.config_space import loguniform, randint

    rng = np.random.default_rng(1)
    n, t = 25, 8
    hps = pd.DataFrame({"lr": 10 ** rng.uniform(-4, -1, n), "units": rng.integers(16, 256, n)})
    bbs = {}
    for k, task in enumerate(("protein", "naval")):
        err = np.sort(rng.uniform(0.1, 0.9, (n, 2, t)), axis=2)[:, :, ::-1] + k
        elapsed = np.cumsum(rng.uniform(1, 2, (n, 2, t)), axis=2)
        bbs[task] = BlackboxTabular(hyperparameters=hps, configuration_space={"lr": loguniform(1e-4, 0.1),
                                                                              "units": randint(16, 255)},
                                    fidelity_space={"hp_epoch": randint(1, t)},
                                    objectives_evaluations=np.stack([err, elapsed], axis=3),
                                    fidelity_values=np.arange(1, t + 1),
                                    objectives_names=["metric_valid_loss", "metric_elapsed_time"])
    (root / "fcnet").mkdir(parents=True)
    serialize(bbs, str(root / "fcnet"), metadata={"metric_elapsed_time": "metric_elapsed_time"})
    return bbs


def test_import_from_syne_tunes_repository_by_name(tmp_path, monkeypatch, capsys):
    pytest.importorskip("syne_tune")
    bbs = _repository(tmp_path / "repo")
    monkeypatch.setenv("SYNETUNE_BLACKBOX_REPOSITORY", str(tmp_path / "repo"))
    assert main(["datasets", "import", "synetune:fcnet", "--task", "naval", "--seed", "1",
                 "--objective", "metric_valid_loss", "--mode", "min", "--out", str(tmp_path / "naval")]) == 0
    from harness.store import load

    cs = load(tmp_path / "naval")
    np.testing.assert_allclose(cs.curve(), bbs["naval"].objectives_evaluations[:, 1, :, 0].astype(np.float32))
    np.testing.assert_allclose(cs.epoch_seconds.sum(axis=1),
                               bbs["naval"].objectives_evaluations[:, 1, -1, 1].astype(np.float32), rtol=1e-5)
    assert main(["datasets", "import", "synetune:nasbench201", "--task", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "synetune:nasbench201:" in err and "holds fcnet" in err and "load_blackbox" in err


def test_mlpf_export_is_read_by_syne_tunes_loader(tmp_path, mlpf):
    """146 of MLPF's 296 rows share their hyperparameters with another row (113 repeats): the export puts the
    repeats on Syne Tune's seed axis (183 configurations x 5 seeds, no tunable seed column), and the round trip
    keeps the content hash."""
    pytest.importorskip("fastparquet", reason="Syne Tune's loader reads parquet with fastparquet")
    pytest.importorskip("huggingface_hub", reason="syne_tune.blackbox_repository imports huggingface_hub")
    from syne_tune.blackbox_repository.blackbox_tabular import deserialize

    from harness.store import load

    assert main(["datasets", "export", "swifthb_mlpf_delphes", str(tmp_path / "bb"), "--format", "synetune"]) == 0
    bb = deserialize(str(tmp_path / "bb"))["swifthb_mlpf_delphes"]
    assert "seed" not in bb.configuration_space and len(bb.hyperparameters) == 183
    assert not bb.hyperparameters.duplicated().any() and bb.objectives_evaluations.shape[1] == 5
    filled = np.isfinite(bb.objectives_evaluations[:, :, 0, 0])
    assert int(filled.sum()) == mlpf.n_configs and int(filled[:, 1:].sum()) == 113  # the repeats
    assert main(["datasets", "import", str(tmp_path / "bb"), "--out", str(tmp_path / "back")]) == 0
    assert load(tmp_path / "back").content_hash() == mlpf.content_hash()


def test_pd1_style_per_task_layout(tmp_path):
    """PD1 in Syne Tune's repository keeps one set of files per task (<task>-hyperparameters.parquet, ...)."""
    import json

    from harness.adapters.blackbox import import_blackbox, is_blackbox

    d = tmp_path / "pd1"
    d.mkdir()
    hps = pd.DataFrame({"lr": [0.1, 0.01, 0.001]})
    hps.to_parquet(d / "imagenet-hyperparameters.parquet")
    ev = np.arange(3 * 1 * 4 * 1, dtype=float).reshape(3, 1, 4, 1)
    np.save(d / "imagenet-objectives_evaluations.npy", ev)
    (d / "metadata.json").write_text(json.dumps({"objectives_names": ["valid_error"], "task_names": ["imagenet"]}))
    assert is_blackbox(d)
    cs = import_blackbox(d, task="imagenet")
    assert cs.curves.shape == (3, 4, 1) and cs.curve()[2, 3] == 11.0
