"""Commands import only what they use (issue #26): a settings check no scikit-learn, a Hyperband or ASHA replay
neither scikit-learn nor scipy; the tables that replace those imports equal what the libraries compute."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _modules(code: str) -> dict[str, bool]:
    probe = code + "\nimport sys, json\nprint(json.dumps({m: m in sys.modules for m in ('sklearn', 'scipy', " \
                   "'sklearn.ensemble', 'torch', 'onnxruntime')}))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_settings_check_imports_no_sklearn():
    got = _modules("from harness.algorithms import build_configs\n"
                   "build_configs(['swift', 'fhyperband', 'earlystop', 'swift_asha'], {'predictor': 'blr', "
                   "'predictor_options': {'halflife': 3}, 'Delta': 0.9}, {'R': 20})")
    assert not got["sklearn"] and not got["torch"]


def test_hyperband_and_asha_replays_import_neither_sklearn_nor_scipy():
    got = _modules("from harness.runner import Cell, run_cell\n"
                   "for a in ('hyperband', 'asha', 'successive_halving', 'random'):\n"
                   "    run_cell(Cell('digits_cnn', a, {'eta': 2}, 0))")
    assert not got["sklearn"] and not got["scipy"] and not got["torch"] and not got["onnxruntime"]


def test_a_predictor_replay_does_not_import_the_forest():
    got = _modules("from harness.runner import Cell, run_cell\n"
                   "run_cell(Cell('digits_cnn', 'fhyperband', {'eta': 2, 'd': 20, 'n_runs': 2}, 0))")
    assert got["sklearn"] and not got["sklearn.ensemble"]


def test_t_table_equals_scipy():
    from scipy import stats

    from harness.metrics import T975

    assert T975 == {df: float(stats.t.ppf(0.975, df)) for df in range(1, 10)}


def test_registry_args_equal_the_signatures():
    from harness.predictors import PREDICTORS
    from harness.predictors.contract import REGISTRY_ARGS, constructor_args

    assert set(REGISTRY_ARGS) == set(PREDICTORS)
    for name, args in REGISTRY_ARGS.items():
        assert args == constructor_args(PREDICTORS[name]), name
