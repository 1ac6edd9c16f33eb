"""The predictor regression check (issue #18): rerun conf/reproduce/predict_check.yaml exactly and compare with
the committed baseline results/predict_check.csv; a cell whose mean R^2 fell by more than
max(tolerance, tolerance_se x SE) fails."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.predictors.protocol import regression_check
from harness.reproduce import _unit_predict, load_config, predict_spec

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "results" / "predict_check.csv"


CFG = load_config("predict_check")


def test_baseline_covers_the_check():
    base = pd.read_csv(BASELINE)
    assert set(base.dataset) == set(CFG["datasets"]), "baseline out of date: harness reproduce predict_check"


@pytest.mark.slow
@pytest.mark.parametrize("dataset", CFG["datasets"])
def test_predictors_have_not_regressed(dataset, shared_curves):
    """One test per dataset (the same settings and rows as harness reproduce predict_check's units), so that
    pytest-xdist spreads them over the cores."""
    base = pd.read_csv(BASELINE)
    base = base[base.dataset == dataset]
    current = pd.concat([_unit_predict(predict_spec(CFG), dataset, r) for r in range(CFG["repeats"])],
                        ignore_index=True)
    assert len(current) == len(base)
    fails = regression_check(current, base, CFG["tolerance"], CFG["tolerance_se"])
    assert not fails, "\n".join(fails)


def test_check_fails_on_a_drop_larger_than_the_cell_tolerance():
    rows = [{"dataset": "d", "method": "nusvr", "features": "TS", "fraction": 25, "r2": r} for r in (0.80, 0.82, 0.84)]
    base = pd.DataFrame(rows)  # mean 0.82, SE 0.0115
    worse = base.assign(r2=base.r2 - 0.05)
    slightly = base.assign(r2=base.r2 - 0.02)
    assert regression_check(worse, base, 0.03, 3.0)[0].startswith("d/nusvr/TS/25: R^2 0.7700 < baseline 0.8200 - 0.0346")
    assert regression_check(slightly, base, 0.03, 3.0) == []
