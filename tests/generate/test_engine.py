"""Generate stage on CPU: tiny populations, kill + resume with nothing lost or duplicated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the generate stage needs torch (pip install '.[generate]')")

from generate.engine import DataConfig, GenerateConfig, Run  # noqa: E402
from generate.export import export  # noqa: E402
from generate.spaces import SpaceConfig, sample_configs  # noqa: E402
from harness.store import load, save  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _export(run_dir, **kw):
    """Export a run trained by a test: the developer's tree may hold uncommitted changes (CI's does not)."""
    return export(run_dir, allow_dirty=True, **kw)


TINY = SpaceConfig(family="metaqnn", max_conv=2, conv_filters=(4, 8), max_fc=1, fc_units=(16,), batch_sizes=(64,))


def _cfg(tmp_path: Path, **kw) -> GenerateConfig:
    base = dict(name="tiny", space=TINY, data=DataConfig(source="digits"), n_configs=4, epochs=3, seed=1,
                out_dir=str(tmp_path / "run"), threads=1, progress=False)
    base.update(kw)
    return GenerateConfig(**base)


def test_sampling_is_deterministic_and_stable_under_n():
    a = sample_configs(TINY, 5, seed=3)
    b = sample_configs(TINY, 8, seed=3)
    assert a == b[:5]
    assert sample_configs(TINY, 5, seed=4) != a
    for fam in ("resnet", "lstm", "cudaconvnet"):
        assert len(sample_configs(SpaceConfig(family=fam), 3, seed=0)) == 3
    with pytest.raises(ValueError, match="family is 'mlp'"):
        sample_configs(SpaceConfig(family="mlp"), 3, seed=0)


def test_tiny_population_trains_and_exports(tmp_path):
    run = Run(_cfg(tmp_path))
    assert run.execute() == 12
    cs = _export(run.dir)
    assert cs.curves.shape == (4, 3, 3) and np.isfinite(cs.curves).all()
    assert cs.objective == "val_acc" and cs.metrics["val_acc"] == "max"
    assert (cs.curve()[:, -1] > 0.15).any()  # something learned beyond chance on digits
    assert {"ap_n_weights", "ap_n_layers"} <= {f.name for f in cs.ap_features()}
    assert np.all(cs.epoch_seconds > 0)
    assert run.execute() == 0  # rerun: nothing left to do, nothing duplicated
    back = load(save(cs, tmp_path / "ds"))
    assert back.content_hash() == cs.content_hash()


def test_kill_and_resume_loses_nothing(tmp_path):
    """A process killed after 5 epochs resumes to exactly the curves of an uninterrupted run."""
    cmd = [sys.executable, "-m", "generate", "population=digits_cnn", "n_configs=4", "epochs=3", "seed=1",
           "threads=1", "progress=false", "export=false",
           "population.space.max_conv=2", "population.space.conv_filters=[4,8]", "population.space.max_fc=1",
           "population.space.fc_units=[16]", "population.space.batch_sizes=[64]", "population.name=tiny"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    ref = subprocess.run([*cmd, f"out_dir={tmp_path / 'ref'}"], cwd=REPO, env=env, capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr[-2000:]
    expected = _export(tmp_path / "ref")
    cmd.append(f"out_dir={tmp_path / 'killed'}")
    first = subprocess.run([*cmd, "kill_after_epochs=5"], cwd=REPO, env=env, capture_output=True, text=True)
    assert first.returncode == 75, first.stderr[-2000:]
    done = list((tmp_path / "killed" / "done").glob("*.json"))
    states = list((tmp_path / "killed" / "state").glob("*.pt"))
    assert len(done) == 1 and len(states) == 1  # 3 epochs of config 0 finished, config 1 has 2 durable epochs
    second = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr[-2000:]
    got = _export(tmp_path / "killed")
    assert list(got.ids) == list(expected.ids)
    np.testing.assert_allclose(got.curve("val_acc"), expected.curve("val_acc"), atol=1e-6)
    np.testing.assert_allclose(got.curve("train_loss"), expected.curve("train_loss"), rtol=1e-5)
    assert not list((tmp_path / "killed" / "state").glob("*.pt"))


def test_changed_settings_are_refused(tmp_path):
    Run(_cfg(tmp_path, n_configs=1, epochs=1)).execute()
    with pytest.raises(ValueError, match=r"run.json: the run was started with epochs=1, now epochs=2"):
        Run(_cfg(tmp_path, n_configs=1, epochs=2)).execute()


def test_diverged_run_is_recorded_not_crashed(tmp_path):
    space = SpaceConfig(family="metaqnn", max_conv=1, conv_filters=(4,), max_fc=0, batch_sizes=(64,),
                        lr_range=(1e6, 1e7), weight_decay_range=(1e-6, 1e-6), lr_schedules=("constant",))
    run = Run(_cfg(tmp_path, space=space, n_configs=2, epochs=3))
    run.execute()
    recs = [json.loads(p.read_text()) for p in sorted((run.dir / "done").glob("*.json"))]
    assert {r["status"] for r in recs} == {"diverged"}
    cs = _export(run.dir)
    assert np.isnan(cs.curve()).any()
    assert cs.curve().shape == (2, 3)


def test_text_lstm_population(tmp_path, shared_train):
    space = SpaceConfig(family="lstm", lstm_layers=(1,), lstm_hidden=(16,), lstm_embed=(8,), optimizer="adam",
                        lr_range=(1e-3, 1e-2))
    cfg = _cfg(tmp_path, space=space, n_configs=2, epochs=2,
               data=DataConfig(source="shakespeare", root=str(shared_train), n_train=6000, n_val=2000, seq_len=32))
    Run(cfg).execute()
    cs = _export(Path(cfg.out_dir))
    assert cs.objective == "val_loss" and "val_ppl" in cs.metrics
    assert np.all(cs.curve()[:, 1] < np.log(70))  # better than uniform over the character vocabulary


def test_cifar_subset_and_resnet_build(shared_train):
    from generate.data import load_images
    from generate.models import arch_features, build

    data = load_images("cifar10_subset", shared_train, n_train=64, n_val=32)
    assert data.x_train.shape == (64, 3, 32, 32) and data.classes == 10
    for fam in ("resnet", "cudaconvnet", "metaqnn"):
        c = sample_configs(SpaceConfig(family=fam), 1, seed=2)[0]
        model = build(c, data.shape)
        out = model(data.x_train[:4])
        assert out.shape == (4, 10)
        assert arch_features(c, model)["n_weights"] > 0


def test_shards_write_one_run_dir_and_merge(tmp_path):
    for shard in (0, 1):
        Run(_cfg(tmp_path, n_configs=4, epochs=1, n_shards=2, shard=shard)).execute()
        if shard == 0:
            with pytest.raises(ValueError, match="2 of 4 configs are unfinished"):
                _export(tmp_path / "run")
            assert _export(tmp_path / "run", allow_partial=True).n_configs == 2
    cs = _export(tmp_path / "run")
    assert list(cs.ids) == [f"metaqnn_{i:05d}" for i in range(4)]


def test_ptb_word_level_loader(shared_train):
    from generate.data import load_text

    d = load_text("ptb", shared_train, level="word", n_train=5000, n_val=1000, seq_len=35)
    assert len(d.train) == 5000 and len(d.val) == 1000 and 1000 < d.vocab <= 10_001
    with pytest.raises(FileNotFoundError, match="ptb.valid.txt: Penn Treebank text not found"):
        load_text("ptb", shared_train / "nowhere")


def test_second_run_on_a_directory_is_refused(tmp_path):
    from generate.engine import RunLocked

    first = Run(_cfg(tmp_path, n_configs=1, epochs=1))
    held = first.lock()
    try:
        with pytest.raises(RunLocked, match=r"another generate run is writing this directory \(shard 0\): pid "
                                            rf"{os.getpid()} on "):
            Run(_cfg(tmp_path, n_configs=1, epochs=1)).execute()
    finally:
        held.release()
    assert Run(_cfg(tmp_path, n_configs=1, epochs=1)).execute() == 1  # released: runs


def test_stop_file_ends_the_run_cleanly(tmp_path):
    run = Run(_cfg(tmp_path, n_configs=3, epochs=2))
    run.dir.mkdir(parents=True)
    (run.dir / "STOP").touch()
    assert run.execute() == 2  # the config in flight finishes, then the run stops
    assert len(list((run.dir / "done").glob("*.json"))) == 1 and not (run.dir / "STOP").exists()
    assert not list((run.dir / "state").glob("*.pt"))  # nothing half-trained is left behind
    assert Run(_cfg(tmp_path, n_configs=3, epochs=2)).execute() == 4


def test_export_never_replaces_an_embedded_dataset(tmp_path):
    before = (REPO / "datasets" / "digits_cnn" / "curves.npy").stat().st_mtime_ns
    cmd = [sys.executable, "-m", "generate", "population=digits_cnn", "n_configs=2", "epochs=1", "threads=1",
           "progress=false", f"out_dir={tmp_path / 'run'}"]
    proc = subprocess.run(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: datasets/digits_cnn already holds a dataset; this run would "
                                          "replace it on export. Pass overwrite=true")
    assert not (tmp_path / "run" / "done").exists()  # refused before any training
    assert (REPO / "datasets" / "digits_cnn" / "curves.npy").stat().st_mtime_ns == before


CCN = SpaceConfig(family="cudaconvnet", lr_range=(0.001, 0.05), batch_sizes=(64,))


def test_stacked_training_equals_one_by_one(tmp_path):
    """Cuda-convnet configs share an architecture: trained as one vmapped stack they give the curves of
    one-by-one training with the same seeds, to float tolerance."""
    kw = dict(space=CCN, n_configs=4, epochs=3, data=DataConfig(source="digits"))
    alone = Run(_cfg(tmp_path / "alone", **kw))
    alone.execute()
    stacked = Run(_cfg(tmp_path / "stacked", group_size=4, stack="on", **kw))
    stacked.execute()
    a, b = _export(alone.dir), _export(stacked.dir)
    assert np.isfinite(a.curve("val_loss")).all()
    np.testing.assert_allclose(b.curve("val_loss"), a.curve("val_loss"), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b.curve("train_loss"), a.curve("train_loss"), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(b.curve("val_acc"), a.curve("val_acc"))


def test_grouped_training_records_per_member_seconds(tmp_path):
    """Interleaved group training records what each member costs on one worker: the sum over members stays
    within 40% of the same members timed alone (the old clock, started once for the group, gave about
    (G + 1) / 2 = 2.5 times for G = 4). Medians of three interleaved repetitions."""
    kw = dict(n_configs=4, epochs=2, space=TINY)
    ratios = []
    for rep in range(3):
        alone = Run(_cfg(tmp_path / f"a{rep}", **kw))
        alone.execute()
        grouped = Run(_cfg(tmp_path / f"g{rep}", group_size=4, stack="off", **kw))
        grouped.execute()
        ratios.append(np.nansum(_export(grouped.dir).epoch_seconds) / np.nansum(_export(alone.dir).epoch_seconds))
    assert 1 / 1.4 < float(np.median(ratios)) < 1.4, ratios
