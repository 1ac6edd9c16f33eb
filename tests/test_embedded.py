"""The embedded datasets (made by this repository's generate stage) load, verify and replay."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.datasets import EMBEDDED_ROOT, load_dataset
from harness.runner import Cell, run_cell


@pytest.mark.parametrize("name,n,t,objective", [("digits_cnn", 200, 20, "val_acc"),
                                                ("shakespeare_lstm", 48, 15, "val_loss"),
                                                ("cifar10_cudaconvnet_small", 120, 25, "val_acc"),
                                                ("ptb_lstm_small", 120, 30, "val_loss"),
                                                ("cifar10_resnet_small", 120, 20, "val_acc"),
                                                ("cifar10_metaqnn_small", 120, 20, "val_acc")])
def test_embedded_dataset(name, n, t, objective):
    cs = load_dataset(name, nan_policy="error")  # verifies the content hash too
    assert (cs.n_configs, cs.n_epochs, cs.objective) == (n, t, objective)
    assert cs.provenance["command"].startswith(f"python -m generate population={name}")
    assert cs.provenance["generate_settings"]["n_configs"] == n
    assert (EMBEDDED_ROOT / name / "metadata.json").is_file()
    r = run_cell(Cell(name, "swift", {"R": t, "eta": 2, "n_runs": 2}, seed=0), curves=cs)
    assert r.epochs > 0 and r.returned_config_id is not None


def test_demo_main_job_runs(capsys):
    assert main(["demo", "-q", "--seeds", "0-1", "-a", "hyperband", "-a", "swift"]) == 0
    out = capsys.readouterr().out
    assert "dataset digits_cnn: 200 configs x 20 epochs" in out and "| swift[" in out


@pytest.mark.parametrize("name", ["cifar10_cudaconvnet_small", "ptb_lstm_small", "cifar10_resnet_small",
                                  "cifar10_metaqnn_small"])
def test_baker_space_populations_have_full_curves(name, capsys):
    """Issue 16: at least 100 configurations with full curves from Baker's spaces, made by generate on the CPU
    (its settings in provenance), with per-epoch seconds; `harness datasets describe` says so."""
    cs = load_dataset(name, nan_policy="error")
    assert cs.describe()["full_curves"] >= 100
    assert cs.provenance["generate_settings"]["name"] == name and cs.provenance["device"] == "cpu"
    assert cs.epoch_seconds is not None and (cs.epoch_seconds > 0).all()
    assert main(["datasets", "describe", name]) == 0
    assert "full_curves          120" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["cifar10_resnet_small", "cifar10_metaqnn_small"])
def test_issue29_populations_rerun_from_a_clean_commit(name, capsys):
    """Issue 29 (beyond the full curves checked above): made from a clean commit named in the provenance (every
    training session clean), with CPU seconds per epoch beside the wall seconds; describe shows both."""
    cs = load_dataset(name, nan_policy="error")
    prov = cs.provenance
    assert prov["git_clean"] is True and len(prov["git_sha"]) == 40 and not prov["git_dirty_files"]
    assert prov["command"].startswith(f"python -m generate population={name}")
    assert cs.epoch_cpu_seconds is not None and (cs.epoch_cpu_seconds > 0).all()
    assert main(["datasets", "describe", name]) == 0
    out = capsys.readouterr().out
    assert "(clean tree)" in out and "wall + cpu" in out


def test_metaqnn_architectures_vary():
    """The MetaQNN population's point: its AP features differ between configurations (layer count, filters,
    kernel sizes), so Table 2's AP column measures something."""
    cs = load_dataset("cifar10_metaqnn_small")
    varying = ("ap_n_conv", "ap_n_fc", "ap_total_filters", "ap_mean_kernel", "ap_n_weights")
    assert set(varying) <= {f.name for f in cs.features if f.kind == "ap"}
    for name in varying:
        assert cs.configs[name].nunique() >= 3, name
