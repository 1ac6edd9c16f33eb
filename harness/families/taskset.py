"""TaskSet (Metz et al. 2020) learning curves in the JSON format that the DyHPO and DPL papers ship:
``taskset_<task>``, one dataset per ``<task>.json`` of ``../shared/data/curves/taskset_*/``.

A file is a list of configurations, each ``{"hp": {8 optimiser settings}, "train": {"loss": [...]},
"valid": {"loss": [...]}, "test": {"loss": [...]}}`` with one value per evaluation. Here:

* **Index 0 is the evaluation before training and is not an epoch**: the curves start at index 1 (epoch 1), and
  index 0 is kept as the info columns ``init_<split>_loss`` (not a feature: every configuration of a task starts
  from nearly the same value).
* **Diverged values**: null, NaN, +-inf, and values above ``diverged_above`` (choice: 1000 x the task's median
  initial validation loss; the IMDB tasks reach 4.7e34) are stored as NaN, so ``--nan-policy`` decides what
  happens to them (``drop`` by default, as for every dataset).
* **HP features**: learning_rate, epsilon, l1, l2, linear_decay and exponential_decay span decades and are
  log-scaled; beta1 and beta2 are given as ``one_minus_beta1`` / ``one_minus_beta2`` (log-scaled, as TaskSet
  samples them), the raw values kept as info columns.
* **No recorded seconds**: TaskSet records none (``--cost seconds`` is refused).

The objective is the validation loss (min); train and test losses are further metrics. A short alias is made
from the task name: ``FixedTextRNNClassification_imdb_patch32_GRU64_avg_bs128`` is also ``taskset_imdb_p32_gru64_avg``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..store import CurveSet, DatasetError, Feature
from .base import Family, Option, provenance_of

SPLITS = ("valid", "train", "test")
#: the tasks DPL and DyHPO ship (harness.fetch has their files' URLs and checksums)
KNOWN_TASKS = ("FixedTextRNNClassification_imdb_patch128_LSTM128_avg_bs64",
               "FixedTextRNNClassification_imdb_patch128_LSTM128_bs64",
               "FixedTextRNNClassification_imdb_patch32_GRU64_avg_bs128",
               "FixedTextRNNClassification_imdb_patch32_IRNN64_relu_avg_bs128",
               "FixedTextRNNClassification_imdb_patch32_LSTM128_E128_bs128",
               "FixedTextRNNClassification_imdb_patch32_LSTM128_bs128",
               "FixedTextRNNClassification_imdb_patch32_VRNN128_tanh_bs128",
               "FixedTextRNNClassification_imdb_patch32_VRNN64_tanh_avg_bs128")
HPS = ("learning_rate", "beta1", "beta2", "epsilon", "l1", "l2", "linear_decay", "exponential_decay")
LOG_HPS = ("learning_rate", "epsilon", "l1", "l2", "linear_decay", "exponential_decay")


def alias(task: str) -> str:
    """``FixedTextRNNClassification_imdb_patch32_GRU64_avg_bs128`` -> ``imdb_p32_gru64_avg``."""
    a = re.sub(r"^Fixed[A-Za-z]*?(Classification|LM|Regression)?_", "", task).lower()
    a = re.sub(r"patch(\d+)", r"p\1", a)
    return re.sub(r"_bs\d+$", "", a)


def read_taskset_json(path: Path, *, name: str | None = None, diverged_above: float | None = None,
                      diverged_factor: float = 1000.0) -> CurveSet:
    """One TaskSet task file as a curve set (see the module docstring). Every problem is a one-line
    :class:`DatasetError` naming the file, the configuration and the key."""
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: invalid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(raw, list) or not raw:
        raise DatasetError(f"{path}: a TaskSet task file holds a non-empty JSON list of configurations")
    n = len(raw)
    length = None
    hp = {k: np.empty(n) for k in HPS}
    curves = {s: None for s in SPLITS}
    for i, rec in enumerate(raw):
        if not isinstance(rec, dict):
            raise DatasetError(f"{path}: configuration {i} is not an object")
        for key in ("hp", *SPLITS):
            if key not in rec:
                raise DatasetError(f"{path}: configuration {i} has no key {key!r} (a TaskSet record has hp, "
                                   f"{', '.join(SPLITS)})")
        for k in HPS:
            v = rec["hp"].get(k) if isinstance(rec["hp"], dict) else None
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not np.isfinite(v):
                raise DatasetError(f"{path}: configuration {i} has hp.{k} = {v!r}; it must be a finite number")
            hp[k][i] = v
        for s in SPLITS:
            loss = rec[s].get("loss") if isinstance(rec[s], dict) else None
            if not isinstance(loss, list):
                raise DatasetError(f"{path}: configuration {i} has no list {s}.loss")
            if length is None:
                length = len(loss)
                if length < 2:
                    raise DatasetError(f"{path}: {s}.loss has {length} value(s); a curve needs the initial "
                                       "evaluation and at least one more")
                for s2 in SPLITS:
                    curves[s2] = np.full((n, length), np.nan)
            if len(loss) != length:
                raise DatasetError(f"{path}: configuration {i} has {len(loss)} {s}.loss values, configuration 0 has "
                                   f"{length} (a ragged curve)")
            try:
                curves[s][i] = [np.nan if v is None else float(v) for v in loss]
            except (TypeError, ValueError):
                bad = next(v for v in loss if v is not None and not isinstance(v, (int, float)))
                raise DatasetError(f"{path}: configuration {i} has a non-numeric {s}.loss value {bad!r}") from None
    if n < 2:  # (after the records' own checks: their errors say more)
        raise DatasetError(f"{path}: holds {n} configuration; a pool to search needs at least 2")
    init = {s: curves[s][:, 0].copy() for s in SPLITS}
    finite_init = init["valid"][np.isfinite(init["valid"])]
    bound = diverged_above if diverged_above is not None else (
        diverged_factor * float(np.median(np.abs(finite_init))) if finite_init.size else np.inf)
    n_diverged = {}
    for s in SPLITS:
        c = curves[s][:, 1:]
        bad = ~np.isfinite(c) | (np.abs(c) > bound)
        n_diverged[s] = int(bad.any(axis=1).sum())
        c[bad] = np.nan
        curves[s] = c
    task = Path(path).stem
    configs = pd.DataFrame({"config_id": [f"{i:04d}" for i in range(n)]})
    for k in HPS:
        if k in ("beta1", "beta2"):
            configs[f"one_minus_{k}"] = np.clip(1.0 - hp[k], 1e-12, None)
        else:
            configs[k] = hp[k]
    for k in ("beta1", "beta2"):
        configs[k] = hp[k]
    for s in SPLITS:
        configs[f"init_{s}_loss"] = init[s]
    feats = tuple(Feature(c, "hp", "float", True) for c in
                  ("learning_rate", "one_minus_beta1", "one_minus_beta2", "epsilon", "l1", "l2", "linear_decay",
                   "exponential_decay"))
    dense = np.stack([curves[s] for s in SPLITS], axis=2)
    return CurveSet(
        name=name or f"taskset_{task}", configs=configs, curves=dense,
        metrics={"valid_loss": "min", "train_loss": "min", "test_loss": "min"}, objective="valid_loss",
        features=feats, epoch_seconds=None,
        provenance={"format": "TaskSet JSON (DyHPO / DPL data/taskset)", "file": str(path), "task": task,
                    "epoch0": "index 0 (evaluation before training) dropped from the curves, kept as init_<split>_loss",
                    "diverged_above": bound, "diverged_configs": n_diverged,
                    "seconds": "none recorded (TaskSet records no wall-clock times)"})


class TaskSet(Family):
    name = "taskset"
    kind = "recorded"
    licence = "Apache-2.0"
    source = "Metz et al. 2020 (TaskSet), as shipped by releaunifreiburg/DPL and DyHPO data/taskset"
    options = {"diverged_above": Option(float("nan"), float, "loss above which a value counts as diverged (NaN: "
                                                             "1000 x the task's median initial loss)"),
               "diverged": Option("keep", str, "configurations DPL's rule calls diverged (harness.divergence): keep "
                                               "them in the pool (out of the regret scale only) or drop them")}

    def _files(self) -> dict[str, Path]:
        return _task_files(self.root / "curves")

    def tasks(self) -> list[str]:
        return sorted(set(self._files()) | set(KNOWN_TASKS))  # the known ones are listed (and fetchable) when absent

    def aliases(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for t in self.tasks():
            a = alias(t)
            if a != t:
                out[a] = None if a in out else t  # type: ignore[assignment]
        return {a: t for a, t in out.items() if t is not None}

    def location(self, task: str) -> Path:
        return self._files().get(task, self.root / "curves" / "taskset_imdb_rnn" / f"{task}.json")

    def shape(self, task: str) -> tuple[int, int] | None:
        return _shape(str(self.location(task))) if self.present(task) else None

    def catalogue_row(self, task: str) -> dict[str, Any]:
        a = alias(task)
        return {**super().catalogue_row(task), **({"alias": self.dataset_name(a)} if a in self.aliases() else {})}

    def load(self, task: str, options: dict[str, Any]) -> CurveSet:
        bound = options.get("diverged_above", float("nan"))
        what = options.get("diverged", "keep")
        if what not in ("keep", "drop"):
            raise DatasetError(f"{self.dataset_name(task)}: option diverged={what!r} must be keep or drop")
        cs = read_taskset_json(self.location(task), name=self.dataset_name(task),
                               diverged_above=None if bound != bound else bound)
        from dataclasses import replace

        # DPL's rule (harness.divergence): the regret scale leaves these configurations out; diverged=drop drops them
        return replace(cs, provenance={**cs.provenance, **provenance_of(self, task, alias=alias(task)),
                                       "divergence": "dpl", "diverged": what})


@cache
def _scan(curves_root: str) -> dict[str, str]:
    out: dict[str, str] = {}
    root = Path(curves_root)
    if root.is_dir():
        for d in sorted(root.glob("taskset*")):
            if d.is_dir():
                for f in sorted(d.glob("*.json")):
                    out.setdefault(f.stem, str(f))
    return out


def _task_files(curves_root: Path) -> dict[str, Path]:
    return {k: Path(v) for k, v in _scan(str(curves_root)).items()}


@cache
def _shape(path: str) -> tuple[int, int] | None:
    """(configurations, epochs) of a task file, without building the curve set."""
    try:
        raw = json.loads(Path(path).read_text())
        return len(raw), len(raw[0]["valid"]["loss"]) - 1
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
