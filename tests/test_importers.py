from __future__ import annotations

import json

import numpy as np
import pytest

from harness.datasets import load_dataset
from harness.importers import ImportSpec, import_long
from harness.store import DatasetError, Feature

SPEC = ImportSpec(name="toy", configs="configs.csv", curves="curves.csv", metrics={"loss": "min"},
                  objective="loss", features=(Feature("lr", "hp", log=True),))
CONFIGS = "config_id,lr\na,0.1\nb,0.01\n"
CURVES = "config_id,epoch,loss\na,1,0.9\na,2,0.5\nb,1,0.8\nb,2,0.7\n"


def write(tmp_path, configs=CONFIGS, curves=CURVES):
    (tmp_path / "configs.csv").write_text(configs)
    (tmp_path / "curves.csv").write_text(curves)
    return tmp_path


def test_good_file(tmp_path):
    cs = import_long(SPEC, write(tmp_path))
    assert cs.curves.shape == (2, 2, 1)
    assert cs.curve()[1].tolist() == [0.8, 0.7]


@pytest.mark.parametrize(
    "curves,msg",
    [
        (CURVES[:-4], r"curves.csv: line 5 has 2 of 3 fields and the file does not end with a newline \(truncated"),
        ("config_id,epoch\na,1\n", r"curves.csv: missing required column 'loss'"),
        (CURVES.replace("0.5", "abc"), r"curves.csv: column 'loss' must be numeric; data row 2 has 'abc'"),
        (CURVES.replace("a,2,", "a,2.5,"), r"curves.csv: column 'epoch' must be an integer; data row 2 has 2.5"),
        (CURVES + "z,1,0.3\n", r"curves.csv: config_id 'z' has curve rows but no row in configs.csv"),
        (CURVES + "a,1,0.3\n", r"curves.csv: duplicate row for config_id 'a', epoch 1"),
        (CURVES.replace("a,1,", "a,0,"), r"curves.csv: column 'epoch' must be >= 1; a row has 0"),
        ("", r"curves.csv: file is empty"),
    ],
)
def test_bad_curves_file(tmp_path, curves, msg):
    write(tmp_path, curves=curves)
    with pytest.raises(DatasetError, match=msg) as e:
        import_long(SPEC, tmp_path)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "configs,msg",
    [
        ("config_id\na\nb\n", r"configs.csv: missing required column 'lr'"),
        ("config_id,lr\na,0.1\nb,fast\n", r"configs.csv: column 'lr' must be numeric; data row 2 has 'fast'"),
        ("config_id,lr\na,0.1\na,0.01\n", r"configs.csv: duplicate config_id 'a'"),
        ("config_id,lr\na,0.1\nb,0.01\nc,1\n", r"configs.csv: config_id 'c' has no rows in curves.csv"),
    ],
)
def test_bad_configs_file(tmp_path, configs, msg):
    write(tmp_path, configs=configs)
    with pytest.raises(DatasetError, match=msg):
        import_long(SPEC, tmp_path)


def test_nan_curve_is_an_error_under_strict_policy(tmp_path):
    write(tmp_path, curves=CURVES.replace("0.5", "nan"))
    (tmp_path / "dataset.json").write_text(json.dumps({"metrics": {"loss": "min"}, "objective": "loss",
                                                       "hp": {"lr": {"log": True}}}))
    with pytest.raises(DatasetError, match=r"config_id 'a' has a non-finite 'loss' at epoch 2"):
        load_dataset(tmp_path, nan_policy="error")
    assert load_dataset(tmp_path).n_configs == 1  # default policy drops it


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match=r"configs.csv: file not found"):
        import_long(SPEC, tmp_path)


def test_dataset_json_errors(tmp_path):
    write(tmp_path)
    (tmp_path / "dataset.json").write_text('{"metrics": {"loss": "min"}')
    with pytest.raises(DatasetError, match=r"dataset.json: invalid JSON"):
        load_dataset(tmp_path)
    (tmp_path / "dataset.json").write_text('{"metrics": {"loss": "min"}}')
    with pytest.raises(DatasetError, match=r"dataset.json: missing field 'objective'"):
        load_dataset(tmp_path)


@pytest.mark.parametrize(
    "name,n,t,objective",
    [
        ("swifthb_mlpf_delphes", 296, 100, "loss"),
        ("swifthb_mnist_cnn", 2100, 12, "val_acc"),
        ("nasbench_nlp_wikitext2", 341, 50, "val_loss"),  # 4 runs stopped early are dropped
        ("deepobs_cifar10_3c3d", 135, 100, "test_accuracy"),
    ],
)
def test_real_datasets(shared_curves, name, n, t, objective):
    cs = load_dataset(name)
    assert (cs.n_configs, cs.n_epochs, cs.objective) == (n, t, objective)
    assert np.isfinite(cs.curve()).all()


def test_real_mlpf_values(shared_curves):
    cs = load_dataset("swifthb_mlpf_delphes")
    assert cs.curve()[:, -1].min() == pytest.approx(442.2677307128906)
    assert cs.curve()[0, 0] == pytest.approx(484.08880615234375)


def test_nasbench_epoch_seconds_and_derived_ap(shared_curves):
    cs = load_dataset("nasbench_nlp_wikitext2")
    assert cs.epoch_seconds is not None and np.nanmin(cs.epoch_seconds) > 0
    assert {"num_params", "n_nodes", "n_linear"} <= {f.name for f in cs.ap_features()}
    assert load_dataset("nasbench_nlp_wikitext2", nan_policy="keep").n_configs == 345


SEC = ImportSpec(name="toy", configs="configs.csv", curves="curves.csv", metrics={"loss": "min"}, objective="loss",
                 seconds_column="sec")


@pytest.mark.parametrize(
    "curves,msg",
    [
        ("config_id,epoch,loss\n", r"curves.csv: has a header but no data rows"),
        ("config_id,epoch,loss\na,1,0.9\na,3,0.5\nb,1,0.8\nb,3,0.7\n",
         r"curves.csv: no configuration has a row for epoch 2 \(epochs must run from 1 to 3 without gaps"),
        ("config_id,epoch,loss\na,1,0.9\na,2,nan\nb,1,0.8\nb,2,nan\n",
         r"curves.csv: every configuration lacks a finite 'loss' at epoch 2"),
    ],
)
def test_empty_and_gapped_curves(tmp_path, curves, msg):
    write(tmp_path, curves=curves)
    with pytest.raises(DatasetError, match=msg):
        import_long(SPEC, tmp_path)


@pytest.mark.parametrize("bad", ["-1.5", "inf", "nan"])
def test_seconds_must_be_finite_and_non_negative(tmp_path, bad):
    write(tmp_path, curves=f"config_id,epoch,loss,sec\na,1,0.9,2\na,2,0.5,{bad}\nb,1,0.8,2\nb,2,0.7,2\n")
    with pytest.raises(DatasetError, match=r"column 'sec' \(seconds_column\) must hold per-epoch seconds, finite "
                                           r"and >= 0; data row 2 has"):
        import_long(SEC, tmp_path)


def test_cumulative_seconds_get_a_warning(tmp_path, caplog):
    rows = "".join(f"{c},{e},{1 / e},{10 * e + (c == 'b')}\n" for c in "ab" for e in range(1, 5))
    write(tmp_path, curves="config_id,epoch,loss,sec\n" + rows)
    with caplog.at_level("WARNING"):
        import_long(SEC, tmp_path)
    assert "cumulative" in caplog.text and "groupby('config_id')['sec'].diff()" in caplog.text
    caplog.clear()
    per_epoch = "".join(f"{c},{e},{1 / e},{10 + (e % 2)}\n" for c in "ab" for e in range(1, 5))
    write(tmp_path, curves="config_id,epoch,loss,sec\n" + per_epoch)
    with caplog.at_level("WARNING"):
        import_long(SEC, tmp_path)
    assert "cumulative" not in caplog.text


def test_unknown_dataset_json_key_is_named(tmp_path):
    write(tmp_path)
    (tmp_path / "dataset.json").write_text(json.dumps({"metrics": {"loss": "min"}, "objective": "loss",
                                                       "seconds_colum": "sec"}))
    with pytest.raises(DatasetError, match=r"dataset.json: unknown key 'seconds_colum' \(did you mean "
                                           r"'seconds_column'\?\); valid keys: name, configs, curves"):
        ImportSpec.from_json(tmp_path / "dataset.json")


def test_cli_quiet_keeps_warnings(tmp_path, caplog):
    """-q hides progress bars, never warnings: a bracket larger than the pool samples with replacement."""
    from harness.cli import main

    rows = "".join(f"c{i},{e},{1 / e + i / 100}\n" for i in range(5) for e in range(1, 10))
    (tmp_path / "configs.csv").write_text("config_id\n" + "".join(f"c{i}\n" for i in range(5)))
    (tmp_path / "curves.csv").write_text("config_id,epoch,loss\n" + rows)
    (tmp_path / "dataset.json").write_text(json.dumps({"metrics": {"loss": "min"}, "objective": "loss"}))
    with caplog.at_level("WARNING"):
        assert main(["replay", "-d", str(tmp_path), "--seeds", "0-4", "-q", "--eta", "3"]) == 0
    assert caplog.text.count("sampling with replacement") == 1  # said once, not once per seed


def test_replay_reads_a_folder_once(tmp_path, caplog):
    """The replay command loads a dataset folder once: a warning about its data is said once."""
    from harness.cli import main

    rows = "".join(f"{c},{e},{1 / e + (c == 'b')},{10 * e}\n" for c in "ab" for e in range(1, 4))
    write(tmp_path, curves="config_id,epoch,loss,sec\n" + rows)
    (tmp_path / "dataset.json").write_text(json.dumps({"metrics": {"loss": "min"}, "objective": "loss",
                                                       "seconds_column": "sec"}))
    with caplog.at_level("WARNING"):
        assert main(["replay", "-d", str(tmp_path), "--seeds", "0-3", "-q", "--R", "3", "--eta", "3"]) == 0
    assert caplog.text.count("cumulative") == 1
