"""Issue #29: the populations made here rerun. One configuration of each new population is trained again for 2
epochs from the committed run directory's settings and compared with its stored record.

What holds (README, "Generate"): on the same machine with the same torch thread count, a configuration's curve
is bit-identical (measured here: every value of resnet_00000/00003/00009 and metaqnn_00000/00005 equal). With
another thread count, and so on another CPU, float reductions run in another order and curves drift: measured
here with 2 threads instead of 1, up to 0.041 accuracy and 15% in validation loss for ResNets (batch norm and
high learning rates amplify it) and up to 0.0075 accuracy and 1% validation loss for MetaQNN CNNs within 2 epochs.
The tolerance below (TOL) covers that drift; on the machine that made the data the values are equal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="the generate stage needs torch (pip install '.[generate]')")

REPO = Path(__file__).resolve().parents[2]
#: (run directory, configuration): among each population's cheapest configurations
CASES = [("cifar10_resnet_small", "resnet_00009"), ("cifar10_metaqnn_small", "metaqnn_00005")]
#: the stated tolerance: accuracy within 0.05, losses within 20% (relative)
TOL = {"val_acc": ("abs", 0.05), "val_loss": ("rel", 0.20), "train_loss": ("rel", 0.20)}


@pytest.mark.slow
@pytest.mark.parametrize("run, config_id", CASES)
def test_a_config_regenerates_within_the_stated_tolerance(run, config_id, shared_train, monkeypatch):
    from generate.engine import regenerate

    monkeypatch.chdir(REPO)  # the run's data root is relative to the repository (../shared/data/train)
    stored = json.loads((REPO / "runs" / run / "done" / f"{config_id}.json").read_text())["history"][:2]
    again = regenerate(REPO / "runs" / run, config_id, 2, threads=1)
    exact = True
    for a, b in zip(again, stored, strict=True):
        for key, (kind, tol) in TOL.items():
            diff = abs(a[key] - b[key]) if kind == "abs" else abs(a[key] - b[key]) / abs(b[key])
            assert diff <= tol, f"{run}/{config_id} epoch {b['epoch']}: {key} {a[key]} vs stored {b[key]}"
            exact &= a[key] == b[key]
    print(f"{run}/{config_id}: {'bit-identical' if exact else 'within tolerance, not identical'}")
