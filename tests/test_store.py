from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from harness.store import DatasetError, apply_nan_policy, load, save
from tests.conftest import make_curveset


def test_roundtrip_preserves_everything(tmp_path, fake):
    save(fake, tmp_path / "ds")
    back = load(tmp_path / "ds")
    assert back.content_hash() == fake.content_hash()
    np.testing.assert_array_equal(back.curves, fake.curves)
    np.testing.assert_array_equal(back.epoch_seconds, fake.epoch_seconds)
    assert back.features == fake.features
    assert list(back.ids) == list(fake.ids)


def test_modified_file_is_detected(tmp_path, fake):
    d = save(fake, tmp_path / "ds")
    y = np.load(d / "curves.npy")
    y[0, 0, 0] += 1
    np.save(d / "curves.npy", y)
    with pytest.raises(DatasetError, match=r"metadata.json: content_hash .* does not match"):
        load(d)


def test_shape_mismatch_names_file(tmp_path, fake):
    d = save(fake, tmp_path / "ds")
    np.save(d / "curves.npy", np.zeros((3, 2, 1)))
    with pytest.raises(DatasetError, match=r"curves.npy: shape \(3, 2, 1\) does not match metadata"):
        load(d)


def test_missing_metadata_field(tmp_path, fake):
    d = save(fake, tmp_path / "ds")
    meta = json.loads((d / "metadata.json").read_text())
    del meta["objective"]
    (d / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match=r"metadata.json: missing field 'objective'"):
        load(d)


def test_unknown_metric_mode_and_objective(fake):
    with pytest.raises(DatasetError, match="mode 'up'"):
        replace(fake, metrics={"acc": "up"})
    with pytest.raises(DatasetError, match="objective 'f1' is not a recorded metric"):
        replace(fake, objective="f1")


def test_duplicate_ids_rejected(fake):
    cfg = fake.configs.copy()
    cfg.loc[3, "config_id"] = cfg.loc[1, "config_id"]
    with pytest.raises(DatasetError, match="duplicate config_id 'c1'"):
        replace(fake, configs=cfg)


def _with_nan(cs):
    y = cs.curves.copy()
    y[2, 5:, 0] = np.nan  # diverged at epoch 6
    y[4, :, 0] = np.nan  # nothing recorded
    return replace(cs, curves=y)


def test_nan_policies():
    cs = _with_nan(make_curveset(n=10, t=8))
    with pytest.raises(DatasetError, match=r"config_id 'c2' has a non-finite 'acc' at epoch 6 \(2 such configs\)"):
        apply_nan_policy(cs, "error")
    dropped = apply_nan_policy(cs, "drop")
    assert dropped.n_configs == 8 and "c2" not in set(dropped.ids)
    padded = apply_nan_policy(cs, "pad")
    assert np.isfinite(padded.curves).all()
    assert np.all(padded.curves[2, 5:, 0] == cs.curves[2, 4, 0])  # last finite value repeated
    assert np.all(padded.curves[4, :, 0] == np.nanmin(cs.curves[:, :, 0]))  # worst value for "max"
    kept = apply_nan_policy(cs, "keep")
    assert (~kept.mask).sum() == 3 + 8
    assert np.isinf(kept.loss()[4]).all()
    with pytest.raises(ValueError, match="nan_policy is 'zap'"):
        apply_nan_policy(cs, "zap")


def test_pad_to_extends_with_last_value(fake):
    p = fake.pad_to(30)
    assert p.n_epochs == 30
    np.testing.assert_array_equal(p.curves[:, 20:, 0], np.repeat(fake.curves[:, -1:, 0], 10, axis=1))
