"""LCBench through YAHPO Gym's surrogate: the reader matches yahpo_gym itself, pools are deterministic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.families.lcbench import CONT, OUTPUTS, LCBench, LCBenchSurrogate, split_outputs
from harness.store import DatasetError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "yahpo_lcbench_reference.json"
REPO = Path(__file__).resolve().parents[2]


def test_reader_matches_yahpo_gym(yahpo_root):
    """240 (task, configuration, epoch) queries over 5 tasks, each answered alone by yahpo_gym 1.0.2's
    objective_function in a throwaway environment (tests/fixtures/make_yahpo_reference.py), and 12 whole curves
    (52 epochs in one call, as a pool is built): equal to 1e-5 relative."""
    ref = json.loads(FIXTURE.read_text())
    rows = ref["queries"]
    assert len(rows) >= 200 and len({r["task"] for r in rows}) >= 3
    model = LCBenchSurrogate(yahpo_root / "lcbench")
    got = np.array([model.query(r["task"], np.array([[r["epoch"] if c == "epoch" else r["config"][c] for c in CONT]]))[0]
                    for r in rows])
    want = np.array([[r["out"][o] for o in OUTPUTS] for r in rows])
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert len(ref["curves"]) >= 12
    for c in ref["curves"]:
        out = model.curves(c["task"], {k: np.array([v]) for k, v in c["config"].items()})[0]
        np.testing.assert_allclose(out, [[o[k] for k in OUTPUTS] for o in c["out"]], rtol=1e-5)


def test_pool_is_a_batched_curve_of_every_configuration(yahpo_root):
    fam = LCBench(yahpo_root.parents[1])
    cs = fam.pool("7593", 30, 4)
    assert cs.curves.shape == (30, 52, 5) and cs.objective == "val_accuracy" and cs.mode == "max"
    assert cs.provenance["kind"] == "surrogate" and "not recorded runs" in cs.provenance["note"]
    # one configuration asked alone gives the pool's row (batching does not change the answer)
    row = {p: cs.configs[p][7] for p in fam.model.space.names}
    x = np.array([[e] + [row[c] for c in CONT[1:]] for e in range(1, 53)])
    alone = split_outputs(fam.model.query("7593", x)[None])[0][0]
    np.testing.assert_allclose(alone, cs.curves[7], rtol=1e-6)
    assert np.all(cs.epoch_seconds >= 0)
    np.testing.assert_allclose(cs.epoch_seconds.sum(axis=1),
                               np.maximum.accumulate(np.maximum(fam.model.curves("7593", {
                                   p: cs.configs[p].to_numpy() for p in fam.model.space.names})[:, :, 0], 0), axis=1)[:, -1])
    # the space is respected
    for p in fam.model.space.params:
        col = cs.configs[p.name].to_numpy(float)
        assert col.min() >= p.lower and col.max() <= p.upper
        if p.type == "int":
            assert np.all(col == np.round(col))


def test_negative_time_steps_cost_nothing_and_are_counted():
    out = np.zeros((1, 4, len(OUTPUTS)))
    out[0, :, 0] = [2.0, 5.0, 4.0, 7.0]  # cumulative time dips at epoch 3
    _, sec, neg = split_outputs(out)
    np.testing.assert_array_equal(sec[0], [2.0, 3.0, 0.0, 2.0])
    assert neg == 1


def _hash_in_subprocess(task: str, n: int, seed: int, cache: Path) -> str:
    code = (f"from harness.families.lcbench import LCBench; from harness.datasets import shared_data_root; "
            f"print(LCBench(shared_data_root()).pool({task!r}, {n}, {seed}).content_hash())")
    env = {**os.environ, "LC_HARNESS_CACHE": str(cache)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_same_task_n_seed_same_hash_in_two_processes(yahpo_root, tmp_path):
    a = _hash_in_subprocess("3945", 200, 1, tmp_path / "a")
    b = _hash_in_subprocess("3945", 200, 1, tmp_path / "b")
    assert a == b and a.startswith("sha256:")
    assert _hash_in_subprocess("3945", 200, 2, tmp_path / "c") != a


def test_by_name_with_options_and_cache(yahpo_root, tmp_path, monkeypatch):
    from harness.datasets import load_dataset

    monkeypatch.setenv("LC_HARNESS_CACHE", str(tmp_path))
    cs = load_dataset("lcbench_3945:n=50,seed=3")
    assert cs.n_configs == 50 and cs.surrogate is not None and cs.provenance["pool_seed"] == 3
    cached = list((tmp_path / "pools").iterdir())
    assert len(cached) == 1 and "n50_seed3" in cached[0].name
    again = load_dataset("lcbench_3945:n=50,seed=3")
    assert again.content_hash() == cs.content_hash() and again.surrogate is not None


@pytest.mark.parametrize("name, message", [
    ("lcbench_99", r"the lcbench family has no task '99'"),
    ("lcbench_3945:n=0", r"option n='0' must be >= 2"),
    ("lcbench_3945:size=5", r"unknown option 'size'; the lcbench family's options: n, seed"),
    ("lcbench_3945:n=abc", r"option n='abc' must be int"),
    ("lcbenc_3945", r"unknown dataset 'lcbenc_3945' \(did you mean 'lcbench_3945'\?\)"),
])
def test_bad_names_are_one_line(name, message, yahpo_root):
    from harness.datasets import load_dataset

    with pytest.raises(DatasetError, match=message) as e:
        load_dataset(name)
    assert "\n" not in str(e.value)


def test_missing_or_corrupt_model_is_one_line(tmp_path, yahpo_root):
    folder = tmp_path / "surrogates" / "yahpo" / "lcbench"
    folder.mkdir(parents=True)
    for f in ("config_space.json", "encoding.json"):
        (folder / f).write_bytes((yahpo_root / "lcbench" / f).read_bytes())
    with pytest.raises(DatasetError, match=r"model.onnx: file not found"):
        LCBenchSurrogate(folder)
    (folder / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(DatasetError, match=r"model.onnx: not a readable ONNX model"):
        LCBench(tmp_path).pool("3945", 5, 0)
