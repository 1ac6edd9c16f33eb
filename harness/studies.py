"""The cells of the study experiments of ``harness reproduce``, below both :mod:`harness.reproduce` (which runs
them) and :mod:`harness.reporting` (which reports them), so that each depends on this one way."""

from __future__ import annotations

from typing import Any

from .datasets import load_dataset
from .runner import Cell


def fhb_study_cells(cfg: dict[str, Any]) -> list[tuple[str, Cell]]:
    """(variant, cell): f-Hyperband (trace on), then Hyperband at matching eta / R / runs / accounting, per
    dataset, variant and seed."""
    cells = []
    for ds in cfg["datasets"]:
        lim = cfg.get("limits", {}).get(ds, {})
        names = lim.get("variants", cfg.get("variant_names") or list(cfg["variants"]))
        for name in names:
            v = {**cfg["base"], **cfg["variants"][name]}
            acc = v.pop("accounting", cfg["accounting"])
            pad = v.pop("pad", None)
            pad_to = None
            if pad:
                pad_to = int(pad * load_dataset(ds).n_epochs)
                v["R"] = pad_to
            hb = {k: v[k] for k in ("eta", "n_runs", "R") if k in v}
            for s in range(lim.get("seeds", cfg["seeds"])):
                cells.append((name, Cell(ds, "fhyperband", {**v, "trace": True}, seed=s, accounting=acc,
                                         pad_to=pad_to)))
                cells.append((name, Cell(ds, "hyperband", hb, seed=s, accounting=acc, pad_to=pad_to)))
    return cells


def swift_oracle_cells(cfg: dict[str, Any]) -> list[tuple[str, Cell]]:
    """(name, cell) triples per dataset and seed: Swift with its predictor, Swift with a perfect predictor (the
    recorded truth at its decision points), and Hyperband at the same settings (``cfg["swift"]``; none when the
    experiment has no ``swift`` key)."""
    sw = cfg.get("swift")
    if not sw:
        return []
    settings = dict(sw.get("settings", {}))
    acc = sw.get("accounting", "resume")
    hb = {k: settings[k] for k in ("eta", "n_runs", "R") if k in settings}
    cells = []
    for ds in sw.get("datasets", cfg["datasets"]):
        for s in range(sw.get("seeds", cfg["seeds"])):
            cells.append(("swift", Cell(ds, "swift", {**settings, "trace": True}, seed=s, accounting=acc)))
            cells.append(("swift_oracle", Cell(ds, "swift", {**settings, "predictor": "oracle"}, seed=s,
                                               accounting=acc)))
            cells.append(("hyperband", Cell(ds, "hyperband", hb, seed=s, accounting=acc)))
    return cells
