"""Issue #29: provenance that reruns (commit + clean tree, dirty exports refused), CPU seconds beside wall seconds,
down-sampled images, and the small populations' settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from generate.export import export
from harness.provenance import describe_git, git_state
from harness.store import load, save

REPO = Path(__file__).resolve().parents[2]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    (r / "generate").mkdir(parents=True)
    (r / "conf").mkdir()
    (r / "generate" / "a.py").write_text("x = 1\n")
    (r / "conf" / "p.yaml").write_text("n: 1\n")
    _git(r, "init", "-q")
    _git(r, "add", ".")
    _git(r, "commit", "-q", "-m", "init")
    return r


def test_git_state_clean_then_dirty(repo):
    st = git_state(repo / "generate")
    assert st["git_clean"] is True and len(st["git_sha"]) == 40 and st["git_diff_sha256"] is None
    (repo / "runs").mkdir()
    (repo / "runs" / "progress.json").write_text("{}")  # progress records never make the tree dirty
    assert git_state(repo)["git_clean"] is True
    (repo / "generate" / "a.py").write_text("x = 2\n")
    d1 = git_state(repo)
    assert d1["git_clean"] is False and d1["git_dirty_files"] == ["generate/a.py"]
    (repo / "conf" / "new.yaml").write_text("n: 2\n")  # an uncommitted population YAML (the 38f6614 flaw)
    d2 = git_state(repo)
    assert d2["git_dirty_files"] == ["conf/new.yaml", "generate/a.py"]
    assert d2["git_diff_sha256"] != d1["git_diff_sha256"]
    (repo / "conf" / "new.yaml").write_text("n: 3\n")  # the untracked file's content is part of the hash
    assert git_state(repo)["git_diff_sha256"] != d2["git_diff_sha256"]
    assert "uncommitted changes" in describe_git(d2) and "conf/new.yaml" in describe_git(d2)
    assert describe_git(git_state(repo.parent)) == "no git checkout (tree state not recorded)"


def _fake_run(tmp_path: Path, clean: bool | None, resumed: list[dict] | None = None) -> Path:
    d = tmp_path / "run"
    (d / "done").mkdir(parents=True)
    space = {"family": "metaqnn"}
    meta = {"settings": {"name": "fake", "space": space, "epochs": 2},
            "provenance": {"git_sha": "a" * 40, "git_clean": clean, "git_dirty_files": ["generate/engine.py"],
                           "git_diff_sha256": "f" * 64}}
    if resumed:
        meta["resumed"] = resumed
    (d / "run.json").write_text(json.dumps(meta))
    (d / "configs.jsonl").write_text(json.dumps({"config_id": "c0", "hp": {"lr": 0.1}, "arch": {}}) + "\n" +
                                     json.dumps({"config_id": "c1", "hp": {"lr": 0.2}, "arch": {}}) + "\n")
    for i in range(2):
        hist = [{"epoch": e + 1, "val_acc": 0.1 * (e + i + 1), "val_loss": 1.0, "train_loss": 1.0,
                 "seconds": 2.0 + e, "cpu_seconds": 1.0 + e} for e in range(2)]
        (d / "done" / f"c{i}.json").write_text(json.dumps({"config_id": f"c{i}", "status": "ok", "ap": {"n_weights": i},
                                                            "history": hist}))
    return d


def test_dirty_export_is_refused_unless_allowed(tmp_path):
    d = _fake_run(tmp_path, clean=False)
    with pytest.raises(ValueError, match=r"run.json: 1 training session\(s\) ran from a tree with uncommitted changes to "
                                         r"generate/engine.py \(commit aaaaaaaaaa\); commit and regenerate, or export "
                                         r"with allow_dirty=true"):
        export(d)
    cs = export(d, allow_dirty=True)
    assert cs.provenance["git_clean"] is False and cs.provenance["git_diff_sha256"] == "f" * 64
    # a clean first session but a dirty resume is refused too
    d2 = _fake_run(tmp_path / "b", clean=True, resumed=[{"git_sha": "b" * 40, "git_clean": False}])
    with pytest.raises(ValueError, match="1 training session"):
        export(d2)
    # records made before the flag existed (git_clean absent) export as before
    assert export(_fake_run(tmp_path / "c", clean=None)).n_configs == 2


def test_cli_export_names_the_flag(tmp_path):
    d = _fake_run(tmp_path, clean=False)
    proc = subprocess.run([sys.executable, "-m", "generate.export", str(d), "--out", str(tmp_path / "out")],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--allow-dirty" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_cpu_seconds_are_stored_beside_wall_seconds(tmp_path):
    cs = export(_fake_run(tmp_path, clean=True))
    np.testing.assert_array_equal(cs.epoch_seconds, [[2.0, 3.0], [2.0, 3.0]])
    np.testing.assert_array_equal(cs.epoch_cpu_seconds, [[1.0, 2.0], [1.0, 2.0]])
    assert "process CPU seconds" in cs.provenance["epoch_cpu_seconds"]
    back = load(save(cs, tmp_path / "ds"))
    np.testing.assert_array_equal(back.epoch_cpu_seconds, cs.epoch_cpu_seconds)
    assert back.content_hash() == cs.content_hash()
    assert back.describe()["epoch_seconds"] == "wall + cpu"
    # CPU seconds are part of the content: changing them changes the hash; a dataset without them hashes as before
    from dataclasses import replace

    assert replace(cs, epoch_cpu_seconds=cs.epoch_cpu_seconds * 2).content_hash() != cs.content_hash()
    assert replace(cs, epoch_cpu_seconds=None).describe()["epoch_seconds"] == "wall"
    assert back.subset([1]).epoch_cpu_seconds.shape == (1, 2) and back.pad_to(4).epoch_cpu_seconds.shape == (2, 4)


def test_embedded_populations_keep_their_hashes():
    """CPU seconds are optional: datasets stored before them load with their recorded content hash."""
    for name in ("digits_cnn", "cifar10_cudaconvnet_small", "ptb_lstm_small"):
        cs = load(REPO / "datasets" / name)
        assert cs.epoch_cpu_seconds is None and cs.epoch_seconds is not None


torch = pytest.importorskip("torch", reason="the generate stage needs torch (pip install '.[generate]')")


def test_generate_records_cpu_seconds_and_resumes(tmp_path):
    from generate.engine import DataConfig, GenerateConfig, Run
    from generate.spaces import SpaceConfig

    space = SpaceConfig(family="metaqnn", max_conv=1, conv_filters=(4,), max_fc=0, batch_sizes=(64,))
    cfg = dict(name="tiny", space=space, data=DataConfig(source="digits"), n_configs=2, epochs=2, seed=1,
               out_dir=str(tmp_path / "run"), threads=1, progress=False)
    run = Run(GenerateConfig(**cfg))
    run.dir.mkdir(parents=True)
    (run.dir / "STOP").touch()
    run.execute()  # one config, then stop
    Run(GenerateConfig(**cfg)).execute()  # the resume trains the other one and is recorded
    meta = json.loads((run.dir / "run.json").read_text())
    assert len(meta.get("resumed", [])) == 1 and "git_clean" in meta["provenance"] and meta["provenance"]["threads"] == 1
    Run(GenerateConfig(**cfg)).execute()  # nothing left to train: not a session
    assert len(json.loads((run.dir / "run.json").read_text())["resumed"]) == 1
    cs = export(run.dir, allow_dirty=True)
    assert cs.epoch_cpu_seconds is not None and np.all(cs.epoch_cpu_seconds > 0)
    assert cs.provenance["resumed"] and "git_shas" in cs.provenance


def test_downsampled_images_are_block_means(shared_train):
    from generate.data import load_images

    full = np.load(shared_train / "cifar10_subset_10k_2k.npz")["x_train"][:1].transpose(0, 3, 1, 2) / 255.0
    d = load_images("cifar10_subset", shared_train, n_train=64, n_val=32, downsample=2)
    assert d.x_train.shape == (64, 3, 16, 16) and d.x_val.shape == (32, 3, 16, 16)
    blocks = full.reshape(1, 3, 16, 2, 16, 2).mean(axis=(3, 5))
    assert np.allclose(blocks[0, 0, 0, 0], full[0, 0, :2, :2].mean())
    with pytest.raises(ValueError, match="data.downsample is 0, but must be an integer >= 1"):
        load_images("cifar10_subset", shared_train, n_train=8, n_val=8, downsample=0)


def test_dirty_tree_is_refused_before_training_unless_allowed(repo):
    """python -m generate with an export refuses a dirty checkout at once (one line); allow_dirty=true runs."""
    from generate.__main__ import check_clean_tree

    check_clean_tree(False, repo)  # clean: fine
    (repo / "generate" / "a.py").write_text("x = 3\n")
    with pytest.raises(ValueError, match=r"^the code has uncommitted changes \(generate/a.py\); a dataset exported "
                                         r"from it could not be regenerated from its commit"):
        check_clean_tree(False, repo)
    check_clean_tree(True, repo)
