"""Importers: tidy ``configs.csv`` + long ``curves.csv`` (or parquet) into a :class:`CurveSet`.

Generic long format (what a user brings):

* ``configs.csv``: one row per configuration, a ``config_id`` column plus any HP/AP/info columns.
* ``curves.csv`` (or ``.parquet``): one row per (configuration, epoch): ``config_id``, ``epoch``
  (integers, 1-based unless ``epoch_base=0``), one numeric column per metric, optionally a column of
  per-epoch wall-clock seconds.

Every problem is reported as a one-line :class:`DatasetError` naming the file, the line or column
and the rule that was broken.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .store import METRIC_MODES, CurveSet, DatasetError, Feature

log = logging.getLogger(__name__)


#: every key dataset.json may hold (documented in the README, "Data format")
DATASET_JSON_KEYS = ("name", "configs", "curves", "metrics", "objective", "hp", "ap", "info", "seconds_column",
                     "epoch_base", "drop_epoch0", "filter", "provenance")


@dataclass(frozen=True)
class ImportSpec:
    """How to read one long-format dataset."""

    name: str
    configs: str  # path (relative to root) of configs.csv
    curves: str  # path of curves.csv / curves.parquet
    metrics: dict[str, str]  # column -> "min" | "max"
    objective: str
    features: tuple[Feature, ...] = ()
    info_columns: tuple[str, ...] = ()
    seconds_column: str | None = None
    epoch_base: int = 1  # 0 if the first row of a curve is epoch 0 (evaluation before training)
    drop_epoch0: bool = False  # with epoch_base=0: drop the pre-training evaluation
    filter: dict[str, Any] = field(default_factory=dict)  # configs column -> required value
    provenance: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, path: Path) -> ImportSpec:
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise DatasetError(f"{path}: file not found") from None
        except json.JSONDecodeError as e:
            raise DatasetError(f"{path}: invalid JSON ({e.msg} at line {e.lineno})") from None
        if not isinstance(raw, dict):
            raise DatasetError(f"{path}: must hold a JSON object with the keys {', '.join(DATASET_JSON_KEYS)}")
        for key in raw:
            if key not in DATASET_JSON_KEYS:
                import difflib

                close = difflib.get_close_matches(key, DATASET_JSON_KEYS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise DatasetError(f"{path}: unknown key {key!r}{hint}; valid keys: {', '.join(DATASET_JSON_KEYS)}")
        for key in ("metrics", "objective"):
            if key not in raw:
                raise DatasetError(f"{path}: missing field {key!r}")
        feats = []
        for kind in ("hp", "ap"):
            for name, spec in raw.get(kind, {}).items():
                spec = spec if isinstance(spec, dict) else {}
                feats.append(Feature(name, kind, spec.get("type", "float"), bool(spec.get("log", False))))
        return cls(
            name=raw.get("name", path.parent.name),
            configs=raw.get("configs", "configs.csv"),
            curves=raw.get("curves", "curves.csv"),
            metrics=raw["metrics"],
            objective=raw["objective"],
            features=tuple(feats),
            info_columns=tuple(raw.get("info", ())),
            seconds_column=raw.get("seconds_column"),
            epoch_base=int(raw.get("epoch_base", 1)),
            drop_epoch0=bool(raw.get("drop_epoch0", False)),
            filter=dict(raw.get("filter", {})),
            provenance=raw.get("provenance", {}),
        )


# ---------------------------------------------------------------------------------------------
# CSV reading with precise errors


def _check_truncation(path: Path, text: str) -> None:
    """A file cut mid-write ends without a newline and with a short last row: say so."""
    if not text or text.endswith("\n"):
        return
    lines = text.splitlines()
    if len(lines) < 2:
        return
    header = next(csv.reader([lines[0]]))
    try:
        last = next(csv.reader([lines[-1]]))
    except csv.Error:
        last = []
    filled = sum(1 for x in last if x != "")
    if len(last) != len(header) or filled != len(header):
        raise DatasetError(f"{path}: line {len(lines)} has {filled} of {len(header)} fields and the file does "
                           "not end with a newline (truncated file?)")


def read_table(path: Path, required: Sequence[str]) -> pd.DataFrame:
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    if path.suffix == ".parquet":
        try:
            df = pd.read_parquet(path)
        except Exception as e:
            raise DatasetError(f"{path}: unreadable parquet ({type(e).__name__}: {e})") from None
    else:
        text = path.read_text()
        _check_truncation(path, text)
        try:
            df = pd.read_csv(io.StringIO(text), on_bad_lines="error", low_memory=False)
        except pd.errors.EmptyDataError:
            raise DatasetError(f"{path}: file is empty") from None
        except pd.errors.ParserError as e:
            raise DatasetError(f"{path}: malformed CSV ({str(e).strip()})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DatasetError(f"{path}: missing required column {missing[0]!r} (columns: {list(df.columns)})")
    return df


def _numeric(df: pd.DataFrame, col: str, path: Path, integer: bool = False) -> np.ndarray:
    s = df[col]
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.any():  # a cell that is not a number unless it spells "nan" (only those rows are read as text)
        bad[bad] = s[bad].astype(str).str.strip().str.lower() != "nan"
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DatasetError(f"{path}: column {col!r} must be numeric; data row {i + 1} has {s.iloc[i]!r}")
    if integer:
        if num.isna().any():
            i = int(np.flatnonzero(num.isna().to_numpy())[0])
            raise DatasetError(f"{path}: column {col!r} must be an integer; data row {i + 1} is empty")
        if not np.all(np.asarray(num) == np.round(np.asarray(num))):
            i = int(np.flatnonzero(np.asarray(num) != np.round(np.asarray(num)))[0])
            raise DatasetError(f"{path}: column {col!r} must be an integer; data row {i + 1} has {s.iloc[i]}")
    return num.to_numpy(dtype=np.float64)


def import_long(spec: ImportSpec, root: str | Path) -> CurveSet:
    """Read a long-format dataset described by ``spec`` with files under ``root``."""
    root = Path(root)
    cpath, ypath = root / spec.configs, root / spec.curves
    for mname, mode in spec.metrics.items():
        if mode not in METRIC_MODES:
            raise DatasetError(f"{spec.name}: metric {mname!r} has mode {mode!r}, must be one of {METRIC_MODES}")
    if spec.objective not in spec.metrics:
        raise DatasetError(f"{spec.name}: objective {spec.objective!r} is not one of the metrics {list(spec.metrics)}")

    configs = read_table(cpath, ["config_id", *(f.name for f in spec.features), *spec.info_columns])
    if not len(configs):
        raise DatasetError(f"{cpath}: has a header but no data rows")
    configs["config_id"] = configs["config_id"].astype(str)
    for k, v in spec.filter.items():
        if k not in configs.columns:
            raise DatasetError(f"{cpath}: filter column {k!r} not found")
        configs = configs[configs[k] == v]
    dup = configs["config_id"][configs["config_id"].duplicated()]
    if len(dup):
        raise DatasetError(f"{cpath}: duplicate config_id {dup.iloc[0]!r}")
    for f in spec.features:
        if f.type != "categorical":
            configs[f.name] = _numeric(configs, f.name, cpath)
    keep_cols = ["config_id", *(f.name for f in spec.features), *spec.info_columns]
    configs = configs[list(dict.fromkeys(keep_cols))].reset_index(drop=True)

    value_cols = list(spec.metrics) + ([spec.seconds_column] if spec.seconds_column else [])
    curves = read_table(ypath, ["config_id", "epoch", *value_cols])
    if not len(curves):
        raise DatasetError(f"{ypath}: has a header but no data rows")
    curves["config_id"] = curves["config_id"].astype(str)
    epoch = _numeric(curves, "epoch", ypath, integer=True).astype(int)
    if spec.drop_epoch0:
        keep = epoch != 0
        curves, epoch = curves[keep], epoch[keep]
    first = 1 if spec.drop_epoch0 else spec.epoch_base
    if (epoch < first).any():
        i = int(np.flatnonzero(epoch < first)[0])
        raise DatasetError(f"{ypath}: column 'epoch' must be >= {first}; a row has {epoch[i]}")
    pos = epoch - first
    values = {c: _numeric(curves, c, ypath) for c in value_cols}
    if spec.seconds_column:
        sec = values[spec.seconds_column]
        bad = ~np.isfinite(sec) | (sec < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DatasetError(f"{ypath}: column {spec.seconds_column!r} (seconds_column) must hold per-epoch "
                               f"seconds, finite and >= 0; data row {i + 1} has {sec[i]}")

    known = set(configs["config_id"])
    in_curves = curves["config_id"].to_numpy()
    if spec.filter:
        sel = np.isin(in_curves, list(known))
        in_curves, pos = in_curves[sel], pos[sel]
        values = {c: v[sel] for c, v in values.items()}
    unknown = sorted(set(in_curves) - known)
    if unknown:
        raise DatasetError(f"{ypath}: config_id {unknown[0]!r} has curve rows but no row in {cpath.name} "
                           f"({len(unknown)} such ids)")
    row_of = {cid: i for i, cid in enumerate(configs["config_id"])}
    rows = np.fromiter((row_of[c] for c in in_curves), dtype=int, count=len(in_curves))
    key = rows.astype(np.int64) * (int(pos.max()) + 1) + pos
    if len(np.unique(key)) != len(key):
        _, idx, counts = np.unique(key, return_index=True, return_counts=True)
        j = idx[np.flatnonzero(counts > 1)[0]]
        raise DatasetError(f"{ypath}: duplicate row for config_id {in_curves[j]!r}, epoch {pos[j] + first}")
    no_curve = sorted(known - set(in_curves))
    if no_curve:
        raise DatasetError(f"{cpath}: config_id {no_curve[0]!r} has no rows in {ypath.name} ({len(no_curve)} such ids)")

    n, t = len(configs), int(pos.max()) + 1
    dense = np.full((n, t, len(spec.metrics)), np.nan)
    for j, m in enumerate(spec.metrics):
        dense[rows, pos, j] = values[m]
    present = np.zeros((n, t), bool)
    present[rows, pos] = True
    gaps = np.flatnonzero(~present.any(axis=0))
    if len(gaps):
        raise DatasetError(f"{ypath}: no configuration has a row for epoch {gaps[0] + first} (epochs must run "
                           f"from {first} to {t - 1 + first} without gaps; {len(gaps)} epoch(s) missing)")
    objective = dense[:, :, list(spec.metrics).index(spec.objective)]
    holes = np.flatnonzero(~np.isfinite(objective).any(axis=0))
    if len(holes):
        raise DatasetError(f"{ypath}: every configuration lacks a finite {spec.objective!r} at epoch "
                           f"{holes[0] + first}; every config would be dropped as incomplete")
    seconds = None
    if spec.seconds_column:
        seconds = np.full((n, t), np.nan)
        seconds[rows, pos] = values[spec.seconds_column]
        warn_if_cumulative(seconds, spec.seconds_column, ypath)
    return CurveSet(
        name=spec.name,
        configs=configs,
        curves=dense,
        metrics=dict(spec.metrics),
        objective=spec.objective,
        features=spec.features,
        epoch_seconds=seconds,
        provenance={"source": str(root), **spec.provenance},
    )


def warn_if_cumulative(seconds: np.ndarray, column: str, where: Path | str) -> bool:
    """Warn when per-epoch seconds rise in every configuration, as a running total of wall-clock time does."""
    rising, counted = 0, 0
    for row in seconds:
        v = row[np.isfinite(row)]
        if len(v) >= 3:
            counted += 1
            rising += bool(np.all(np.diff(v) > 0))
    if counted and rising == counted and counted >= 2:
        log.warning("%s: column %r (seconds_column) rises in every configuration, like a cumulative (running "
                    "total) wall-clock time; replay reads it as per-epoch seconds, which makes every makespan many "
                    "times too large. Convert it to per-epoch seconds first, e.g. in pandas: "
                    "df[%r] = df.groupby('config_id')[%r].diff().fillna(df[%r])", where, column, column, column,
                    column)
        return True
    return False
