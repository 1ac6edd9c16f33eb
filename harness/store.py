"""Recorded learning curves: the in-memory model and the on-disk format.

A dataset ("curve set") is a pool of N configurations, each trained for up to T epochs, with
M recorded metrics per epoch. On disk it is one directory:

    metadata.json        format tag, metrics and their direction, feature schema, provenance, content hash
    configs.parquet      one row per configuration: config_id, HP columns, AP columns, info columns
    curves.npy           float64 (N, T, M), NaN where an epoch was not recorded or the run diverged
    epoch_seconds.npy    float64 (N, T), optional: wall-clock seconds of each epoch
    epoch_cpu_seconds.npy  float64 (N, T), optional: process CPU seconds of each epoch (all threads)

The store keeps curves exactly as recorded. What to do with missing values is a *load-time* policy
(see :data:`NAN_POLICIES`), so the same files serve strict validation and forgiving replay.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

FORMAT = "lc-harness/1"
METRIC_MODES = ("min", "max")
FEATURE_KINDS = ("hp", "ap")
FEATURE_TYPES = ("float", "int", "categorical")
#: error: refuse any non-finite value; drop: remove such configs (SPEC 0.1 default);
#: pad: forward-fill the last finite value (configs with none get the metric's worst value);
#: keep: leave NaN in place, ``CurveSet.mask`` marks it, the oracle treats it as the worst loss.
NAN_POLICIES = ("error", "drop", "pad", "keep")
DEFAULT_NAN_POLICY = "drop"


class DatasetError(ValueError):
    """A dataset file is malformed. The message names the file, the field and the rule."""


@dataclass(frozen=True)
class Feature:
    """Schema of one configuration column used as a predictor feature."""

    name: str
    kind: str  # "hp" or "ap"
    type: str = "float"  # float | int | categorical
    log: bool = False  # give to predictors as log10(value)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "type": self.type, "log": self.log}


@dataclass(frozen=True)
class CurveSet:
    """A pool of recorded learning curves (see module docstring)."""

    name: str
    configs: pd.DataFrame  # column "config_id" (str) + feature and info columns, RangeIndex
    curves: np.ndarray  # (N, T, M) float64
    metrics: dict[str, str]  # metric name -> "min" | "max", in the order of the last axis of curves
    objective: str
    features: tuple[Feature, ...] = ()
    epoch_seconds: np.ndarray | None = None  # (N, T) wall seconds
    provenance: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)  # load-time notes: nan policy, dropped ids, path
    #: (N, T) process CPU seconds of each epoch (all threads): on a shared machine they measure the configuration,
    #: where wall seconds also measure the load. Recorded by ``generate`` since issue #29; None elsewhere.
    epoch_cpu_seconds: np.ndarray | None = None
    #: surrogate benchmarks: the model that answers any configuration of the space (``space``, ``evaluate``,
    #: ``description``; see :class:`harness.families.lcbench.SurrogateTask`); None for recorded tables. Not
    #: stored and not part of the content hash: loading the dataset by name attaches it again.
    surrogate: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        validate(self, where=self.name)

    # --- shape -------------------------------------------------------------------------------
    @property
    def n_configs(self) -> int:
        return int(self.curves.shape[0])

    @property
    def n_epochs(self) -> int:
        return int(self.curves.shape[1])

    @property
    def ids(self) -> np.ndarray:
        return self.configs["config_id"].to_numpy()

    @property
    def mode(self) -> str:
        return self.metrics[self.objective]

    def curve(self, metric: str | None = None) -> np.ndarray:
        """(N, T) values of ``metric`` (default: the objective) as recorded."""
        metric = metric or self.objective
        if metric not in self.metrics:
            raise KeyError(f"{self.name}: unknown metric {metric!r}; known: {sorted(self.metrics)}")
        return self.curves[:, :, list(self.metrics).index(metric)]

    def loss(self, metric: str | None = None) -> np.ndarray:
        """(N, T) values as a loss to MINIMISE (SPEC 0.1: -y for "max" metrics); NaN -> +inf.

        Computed once per metric and cached (read-only); the curve set is immutable."""
        metric = metric or self.objective
        cache = self.__dict__.setdefault("_loss_cache", {})
        if metric not in cache:
            y = self.curve(metric)
            loss = -y if self.metrics[metric] == "max" else y.copy()
            loss[~np.isfinite(loss)] = np.inf
            loss.flags.writeable = False
            cache[metric] = loss
        return cache[metric]

    def all_finite(self, metric: str | None = None) -> bool:
        """Whether every recorded value of ``metric`` (default: the objective) is finite (cached)."""
        metric = metric or self.objective
        cache = self.__dict__.setdefault("_finite_cache", {})
        if metric not in cache:
            cache[metric] = bool(np.isfinite(self.curve(metric)).all())
        return cache[metric]

    @property
    def mask(self) -> np.ndarray:
        """(N, T) True where the objective was recorded and finite."""
        return np.isfinite(self.curve())

    def hp_features(self) -> tuple[Feature, ...]:
        return tuple(f for f in self.features if f.kind == "hp")

    def ap_features(self) -> tuple[Feature, ...]:
        return tuple(f for f in self.features if f.kind == "ap")

    def subset(self, rows: np.ndarray | list[int], name: str | None = None) -> CurveSet:
        rows = np.asarray(rows, dtype=int)
        return replace(
            self,
            name=name or self.name,
            configs=self.configs.iloc[rows].reset_index(drop=True),
            curves=self.curves[rows],
            epoch_seconds=None if self.epoch_seconds is None else self.epoch_seconds[rows],
            epoch_cpu_seconds=None if self.epoch_cpu_seconds is None else self.epoch_cpu_seconds[rows],
        )

    def truncate(self, n_epochs: int) -> CurveSet:
        if not 1 <= n_epochs <= self.n_epochs:
            raise ValueError(f"n_epochs is {n_epochs}, but must be in [1, {self.n_epochs}]")
        return replace(
            self,
            curves=self.curves[:, :n_epochs],
            epoch_seconds=None if self.epoch_seconds is None else self.epoch_seconds[:, :n_epochs],
            epoch_cpu_seconds=None if self.epoch_cpu_seconds is None else self.epoch_cpu_seconds[:, :n_epochs],
        )

    def pad_to(self, n_epochs: int) -> CurveSet:
        """Extend every curve to ``n_epochs`` by repeating its last value (SPEC 0.1 "pad"), e.g. to replay
        R=300 on a 100-epoch table. Padded epochs cost the config's last recorded epoch time."""
        if n_epochs < self.n_epochs:
            raise ValueError(f"pad_to({n_epochs}) is shorter than the recorded {self.n_epochs} epochs")
        extra = n_epochs - self.n_epochs
        curves = np.concatenate([self.curves, np.repeat(self.curves[:, -1:], extra, axis=1)], axis=1)
        def pad(sec: np.ndarray | None) -> np.ndarray | None:
            return None if sec is None else np.concatenate([sec, np.repeat(sec[:, -1:], extra, axis=1)], axis=1)

        return replace(self, curves=curves, epoch_seconds=pad(self.epoch_seconds),
                       epoch_cpu_seconds=pad(self.epoch_cpu_seconds), info=dict(self.info, padded_to=n_epochs))

    @property
    def kind(self) -> str:
        """recorded (real training runs), surrogate (a model's predictions) or made here (this project's generate)."""
        if self.surrogate is not None or self.provenance.get("kind") == "surrogate":
            return "surrogate"
        if "generate_settings" in self.provenance:
            return "made here"
        return str(self.provenance.get("kind", "recorded"))

    @property
    def label(self) -> str:
        """The name, with a warning when the curves are a surrogate's predictions (for every table's header)."""
        return self.name + (" [surrogate: model predictions, not recorded runs]" if self.kind == "surrogate" else "")

    def content_hash(self) -> str:
        """sha256 of configs, curves and seconds (computed once; the curve set is immutable)."""
        if "_content_hash" not in self.__dict__:
            self.__dict__["_content_hash"] = content_hash(self.configs, self.curves, self.epoch_seconds,
                                                          self.epoch_cpu_seconds)
        return self.__dict__["_content_hash"]

    def describe(self) -> dict[str, Any]:
        final = self.curve()[:, -1]
        finite = final[np.isfinite(final)]
        best = (np.max if self.mode == "max" else np.min)(finite) if finite.size else float("nan")
        return {
            "name": self.name,
            "configs": self.n_configs,
            "epochs": self.n_epochs,
            "metrics": ", ".join(f"{m}({d})" for m, d in self.metrics.items()),
            "objective": f"{self.objective} ({self.mode})",
            "hp": ", ".join(f.name for f in self.hp_features()) or "-",
            "ap": ", ".join(f.name for f in self.ap_features()) or "-",
            "epoch_seconds": ("wall + cpu" if self.epoch_cpu_seconds is not None else "wall")
            if self.epoch_seconds is not None else "no",
            "best_final": float(best),
            "full_curves": int(self.mask.all(axis=1).sum()),  # configs with a finite objective at every epoch
            "non_finite_configs": int((~self.mask).any(axis=1).sum()),
            "hash": self.content_hash()[:19],
        }


# ---------------------------------------------------------------------------------------------
# validation


def validate(cs: CurveSet, where: str) -> None:
    """Structural checks shared by constructors and the loader. Raises DatasetError."""
    if cs.curves.ndim != 3:
        raise DatasetError(f"{where}: curves must be 3-D (configs, epochs, metrics), got shape {cs.curves.shape}")
    n, t, m = cs.curves.shape
    if n == 0 or t == 0:
        raise DatasetError(f"{where}: empty curve set (shape {cs.curves.shape})")
    if m != len(cs.metrics):
        raise DatasetError(f"{where}: curves has {m} metrics on its last axis but metrics lists {len(cs.metrics)}")
    for name, mode in cs.metrics.items():
        if mode not in METRIC_MODES:
            raise DatasetError(f"{where}: metric {name!r} has mode {mode!r}, but must be one of {METRIC_MODES}")
    if cs.objective not in cs.metrics:
        raise DatasetError(f"{where}: objective {cs.objective!r} is not a recorded metric; known: {list(cs.metrics)}")
    if len(cs.configs) != n:
        raise DatasetError(f"{where}: configs has {len(cs.configs)} rows but curves has {n} configs")
    if "config_id" not in cs.configs.columns:
        raise DatasetError(f"{where}: configs has no 'config_id' column")
    dup = cs.configs["config_id"][cs.configs["config_id"].duplicated()]
    if len(dup):
        raise DatasetError(f"{where}: duplicate config_id {dup.iloc[0]!r} ({len(dup)} duplicates)")
    for f in cs.features:
        if f.kind not in FEATURE_KINDS:
            raise DatasetError(f"{where}: feature {f.name!r} has kind {f.kind!r}, must be one of {FEATURE_KINDS}")
        if f.type not in FEATURE_TYPES:
            raise DatasetError(f"{where}: feature {f.name!r} has type {f.type!r}, must be one of {FEATURE_TYPES}")
        if f.name not in cs.configs.columns:
            raise DatasetError(f"{where}: feature {f.name!r} is declared but configs has no such column")
        if f.type != "categorical" and not pd.api.types.is_numeric_dtype(cs.configs[f.name]):
            raise DatasetError(f"{where}: feature {f.name!r} is declared {f.type} but its column is not numeric")
    for key in ("epoch_seconds", "epoch_cpu_seconds"):
        sec = getattr(cs, key)
        if sec is not None and sec.shape != (n, t):
            raise DatasetError(f"{where}: {key} has shape {sec.shape}, expected {(n, t)}")


def apply_nan_policy(cs: CurveSet, policy: str = DEFAULT_NAN_POLICY) -> CurveSet:
    """Return ``cs`` with non-finite objective values handled according to ``policy``."""
    if policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy is {policy!r}, but must be one of {NAN_POLICIES}")
    y = cs.curve()
    bad_rows = np.flatnonzero(~np.isfinite(y).all(axis=1))
    info = dict(cs.info, nan_policy=policy, non_finite_ids=[str(i) for i in cs.ids[bad_rows]])
    if len(bad_rows) == 0 or policy == "keep":
        return replace(cs, info=info)
    if policy == "error":
        r = bad_rows[0]
        e = int(np.flatnonzero(~np.isfinite(y[r]))[0]) + 1
        raise DatasetError(
            f"{cs.name}: config_id {cs.ids[r]!r} has a non-finite {cs.objective!r} at epoch {e} "
            f"({len(bad_rows)} such configs); load with nan_policy drop|pad|keep to accept them"
        )
    if policy == "drop":
        if len(bad_rows) == cs.n_configs:
            raise DatasetError(f"{cs.name}: every one of its {cs.n_configs} configurations has a non-finite "
                               f"{cs.objective!r} (nan_policy=drop would leave none); nothing to replay")
        keep = np.setdiff1d(np.arange(cs.n_configs), bad_rows)
        log.warning("%s: dropped %d config(s) with non-finite %r (nan_policy=drop): %s",
                    cs.name, len(bad_rows), cs.objective, ", ".join(info["non_finite_ids"][:10]))
        return replace(cs.subset(keep), info=dict(info, dropped_ids=info["non_finite_ids"]))
    # pad: forward fill each metric; leading gaps get the metric's worst finite value
    y_bad = y[bad_rows]
    kinds = [k for k, m in (("NaN", np.isnan(y_bad)), ("+inf", y_bad == np.inf), ("-inf", y_bad == -np.inf)) if m.any()]
    log.warning("%s: padded %d config(s) with non-finite %r (%s; nan_policy=pad repeats the last finite value): %s",
                cs.name, len(bad_rows), cs.objective, ", ".join(kinds), ", ".join(info["non_finite_ids"][:10]))
    curves = cs.curves.copy()
    for j, (_, mode) in enumerate(cs.metrics.items()):
        c = curves[:, :, j]
        finite = np.isfinite(c)
        worst = (np.nanmin if mode == "max" else np.nanmax)(np.where(finite, c, np.nan)) if finite.any() else 0.0
        idx = np.where(finite, np.arange(c.shape[1])[None, :], -1)
        np.maximum.accumulate(idx, axis=1, out=idx)
        filled = np.take_along_axis(c, np.maximum(idx, 0), axis=1)
        curves[:, :, j] = np.where(idx < 0, worst, filled)
    return replace(cs, curves=curves, info=dict(info, padded_ids=info["non_finite_ids"]))


# ---------------------------------------------------------------------------------------------
# hashing and IO


def content_hash(configs: pd.DataFrame, curves: np.ndarray, epoch_seconds: np.ndarray | None,
                 epoch_cpu_seconds: np.ndarray | None = None) -> str:
    """sha256 of the data; a dataset without CPU seconds hashes as it did before they existed."""
    h = hashlib.sha256()
    h.update(configs.to_csv(index=False, float_format="%.17g").encode())
    h.update(np.ascontiguousarray(curves, dtype="<f8").tobytes())
    if epoch_seconds is not None:
        h.update(np.ascontiguousarray(epoch_seconds, dtype="<f8").tobytes())
    if epoch_cpu_seconds is not None:
        h.update(b"cpu")
        h.update(np.ascontiguousarray(epoch_cpu_seconds, dtype="<f8").tobytes())
    return "sha256:" + h.hexdigest()


def save(cs: CurveSet, directory: str | Path) -> Path:
    """Write ``cs`` to ``directory`` atomically enough: metadata.json is written last."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    configs = cs.configs.copy()
    configs["config_id"] = configs["config_id"].astype(str)
    configs.to_parquet(d / "configs.parquet", index=False)
    np.save(d / "curves.npy", np.ascontiguousarray(cs.curves, dtype=np.float64), allow_pickle=False)
    if cs.epoch_seconds is not None:
        np.save(d / "epoch_seconds.npy", np.ascontiguousarray(cs.epoch_seconds, dtype=np.float64),
                allow_pickle=False)
    elif (d / "epoch_seconds.npy").exists():
        (d / "epoch_seconds.npy").unlink()
    if cs.epoch_cpu_seconds is not None:
        np.save(d / "epoch_cpu_seconds.npy", np.ascontiguousarray(cs.epoch_cpu_seconds, dtype=np.float64),
                allow_pickle=False)
    elif (d / "epoch_cpu_seconds.npy").exists():
        (d / "epoch_cpu_seconds.npy").unlink()
    meta = {
        "format": FORMAT,
        "name": cs.name,
        "n_configs": cs.n_configs,
        "n_epochs": cs.n_epochs,
        "metrics": dict(cs.metrics),
        "objective": cs.objective,
        "features": {f.name: f.to_json() for f in cs.features},
        "has_epoch_seconds": cs.epoch_seconds is not None,
        **({"has_epoch_cpu_seconds": True} if cs.epoch_cpu_seconds is not None else {}),
        "provenance": cs.provenance,
        "content_hash": content_hash(configs, cs.curves, cs.epoch_seconds, cs.epoch_cpu_seconds),
    }
    tmp = d / "metadata.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, default=str) + "\n")
    tmp.replace(d / "metadata.json")
    return d


def _require(meta: Mapping[str, Any], key: str, types: type | tuple[type, ...], path: Path) -> Any:
    if key not in meta:
        raise DatasetError(f"{path}: missing field {key!r}")
    if not isinstance(meta[key], types):
        raise DatasetError(f"{path}: field {key!r} must be {types}, got {type(meta[key]).__name__}")
    return meta[key]


def load(directory: str | Path, nan_policy: str = DEFAULT_NAN_POLICY, verify_hash: bool = True) -> CurveSet:
    """Load a stored curve set, validate it and apply ``nan_policy``."""
    d = Path(directory)
    mpath = d / "metadata.json"
    if not mpath.is_file():
        raise DatasetError(f"{mpath}: file not found (not a stored curve set)")
    try:
        meta = json.loads(mpath.read_text())
    except json.JSONDecodeError as e:
        raise DatasetError(f"{mpath}: invalid JSON ({e.msg} at line {e.lineno})") from None
    fmt = _require(meta, "format", str, mpath)
    if fmt != FORMAT:
        raise DatasetError(f"{mpath}: field 'format' is {fmt!r}, this version reads {FORMAT!r}")
    metrics = _require(meta, "metrics", dict, mpath)
    objective = _require(meta, "objective", str, mpath)
    n = _require(meta, "n_configs", int, mpath)
    t = _require(meta, "n_epochs", int, mpath)
    feats = meta.get("features", {})
    if not isinstance(feats, dict):
        raise DatasetError(f"{mpath}: field 'features' must be an object")
    features = []
    for name, spec in feats.items():
        if not isinstance(spec, dict) or "kind" not in spec:
            raise DatasetError(f"{mpath}: features.{name} must be an object with a 'kind'")
        features.append(Feature(name, spec["kind"], spec.get("type", "float"), bool(spec.get("log", False))))
    cpath, ypath, spath = d / "configs.parquet", d / "curves.npy", d / "epoch_seconds.npy"
    for p in (cpath, ypath):
        if not p.is_file():
            raise DatasetError(f"{p}: file not found")
    try:
        configs = pd.read_parquet(cpath)
    except Exception as e:  # pyarrow raises several types for corrupt files
        raise DatasetError(f"{cpath}: unreadable parquet ({type(e).__name__}: {e})") from None
    try:
        curves = np.load(ypath, allow_pickle=False)
    except Exception as e:
        raise DatasetError(f"{ypath}: unreadable npy ({type(e).__name__}: {e})") from None
    if curves.dtype.kind != "f":
        raise DatasetError(f"{ypath}: dtype {curves.dtype} is not floating point")
    if curves.shape != (n, t, len(metrics)):
        raise DatasetError(f"{ypath}: shape {curves.shape} does not match metadata (n_configs={n}, "
                           f"n_epochs={t}, metrics={len(metrics)})")
    seconds = None
    if meta.get("has_epoch_seconds"):
        if not spath.is_file():
            raise DatasetError(f"{spath}: file not found but metadata has_epoch_seconds is true")
        seconds = np.load(spath, allow_pickle=False).astype(np.float64)
    cpu = None
    if meta.get("has_epoch_cpu_seconds"):
        cpath2 = d / "epoch_cpu_seconds.npy"
        if not cpath2.is_file():
            raise DatasetError(f"{cpath2}: file not found but metadata has_epoch_cpu_seconds is true")
        cpu = np.load(cpath2, allow_pickle=False).astype(np.float64)
    configs["config_id"] = configs["config_id"].astype(str)
    if verify_hash and "content_hash" in meta:
        got = content_hash(configs, curves, seconds, cpu)
        if got != meta["content_hash"]:
            raise DatasetError(f"{mpath}: content_hash {meta['content_hash'][:19]} does not match the data "
                               f"({got[:19]}); files were modified after saving")
    try:
        cs = CurveSet(
            name=str(meta.get("name", d.name)),
            configs=configs,
            curves=curves.astype(np.float64, copy=False),
            metrics={str(k): str(v) for k, v in metrics.items()},
            objective=objective,
            features=tuple(features),
            epoch_seconds=seconds,
            epoch_cpu_seconds=cpu,
            provenance=meta.get("provenance", {}),
            info={"path": str(d)},
        )
    except DatasetError as e:
        raise DatasetError(f"{d}: {e}") from None
    return apply_nan_policy(cs, nan_policy)
