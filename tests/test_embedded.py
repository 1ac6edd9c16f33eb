"""The embedded datasets (made by this repository's generate stage) load, verify and replay."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.datasets import EMBEDDED_ROOT, load_dataset
from harness.runner import Cell, run_cell


@pytest.mark.parametrize("name,n,t,objective", [("digits_cnn", 200, 20, "val_acc"),
                                                ("shakespeare_lstm", 48, 15, "val_loss")])
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
