"""Cells, fan-out backends and run records."""

from __future__ import annotations

import json

import pytest

from harness.runner import Cell, parse_seeds, run_cell, run_cells
from tests.conftest import make_curveset


def test_record_metrics_on_min_and_max(fake):
    worse = make_curveset(mode="min")
    for cs in (fake, worse):
        r = run_cell(Cell(cs.name, "hyperband", {"R": 20, "eta": 3}, seed=0), curves=cs)
        assert r.regret >= 0
        assert r.returned_optimum == (r.regret == 0)
        assert (r.returned_final == r.optimum_final) == r.returned_optimum


def test_joblib_backend_matches_sequential(fake, tmp_path):
    from harness.store import save

    path = str(save(fake, tmp_path / "fake"))
    cells = [Cell(path, "hyperband", {"R": 20, "eta": 3}, seed=s) for s in range(4)]
    seq = run_cells(cells, progress=False)
    par = run_cells(cells, backend="joblib", n_jobs=2, progress=False)
    assert [json.dumps(r.to_json()) for r in seq] == [json.dumps(r.to_json()) for r in par]  # NaN-safe
    assert len({r.returned_config_id for r in seq}) > 1 or len({tuple(r.anytime) for r in seq}) > 1


def test_parse_seeds():
    assert parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    with pytest.raises(ValueError, match="empty"):
        parse_seeds("5-2")


def test_joblib_chunks_give_the_sequential_records(fake, tmp_path, monkeypatch):
    import harness.runner as runner
    from harness.store import save

    path = str(save(fake, tmp_path / "fake"))
    cells = [Cell(path, "swift", {"R": 20, "eta": 2, "d": 5}, seed=s) for s in range(9)]
    seq = run_cells(cells, progress=False)
    monkeypatch.setattr(runner, "PARALLEL_MIN_SECONDS", 0.0)  # force the workers, whatever the cost
    par = run_cells(cells, backend="joblib", n_jobs=2, progress=False)
    assert [json.dumps(r.to_json()) for r in seq] == [json.dumps(r.to_json()) for r in par]  # NaN-safe
