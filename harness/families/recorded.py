"""The recorded datasets of ``../shared/data/curves`` in this project's long format: the Swift-Hyperband authors'
MLPF and MNIST CNN curves (``swifthb_<task>``), NAS-Bench-NLP on WikiText-2 (``nasbench_nlp_<task>``) and the
DeepOBS baselines (``deepobs_<problem>``, one dataset per test problem). Each folder has a README.txt with its
provenance."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from ..importers import ImportSpec, import_long
from ..store import CurveSet, DatasetError, Feature
from .base import Family, provenance_of


def _f(name: str, kind: str = "hp", type: str = "float", log: bool = False) -> Feature:
    return Feature(name, kind, type, log)


class SwiftHB(Family):
    name = "swifthb"
    kind = "recorded"
    licence = "Apache-2.0"
    source = "JP-Amboage/performance-pred (Wulff et al. 2023, Swift-Hyperband)"
    SPECS: ClassVar[dict[str, ImportSpec]] = {
        "mlpf_delphes": ImportSpec(
            name="swifthb_mlpf_delphes",
            configs="configs.csv",
            curves="curves.csv",
            metrics={"loss": "min"},
            objective="loss",
            features=(_f("bin_size", log=True), _f("dropout"), _f("lr", log=True), _f("n_glayers_id", type="int"),
                      _f("n_glayers_reg", type="int"), _f("output_dim", log=True), _f("weight_decay", log=True)),
            provenance={"readme": "README.txt", "origin": "JP-Amboage/performance-pred (MLPF Delphes)"},
        ),
        "mnist_cnn": ImportSpec(
            name="swifthb_mnist_cnn",
            configs="configs.csv",
            curves="curves.csv",
            metrics={"val_acc": "max", "val_loss": "min"},
            objective="val_acc",
            features=(_f("filters", "ap", "int", log=True), _f("strides", "ap"), _f("max_pool", "ap"),
                      _f("1st_dense", "ap", "int"), _f("lr", log=True), _f("momentum")),
            info_columns=("source_file",),
            provenance={"readme": "README.txt", "origin": "JP-Amboage/performance-pred (MNIST CNN)"},
        ),
    }
    SHAPES: ClassVar[dict[str, tuple[int, int]]] = {"mlpf_delphes": (296, 100), "mnist_cnn": (2100, 12)}

    def tasks(self) -> list[str]:
        return list(self.SPECS)

    def location(self, task: str) -> Path:
        return self.root / "curves" / f"swifthb_{task}"

    def shape(self, task: str) -> tuple[int, int] | None:
        return self.SHAPES.get(task)

    def load(self, task: str, options: dict[str, Any]) -> CurveSet:
        cs = import_long(self.SPECS[task], self.location(task))
        return _with_family(cs, self, task)


class NASBenchNLP(Family):
    """NAS-Bench-NLP: architecture-only search space; AP features derived from the cell graph."""

    name = "nasbench_nlp"
    kind = "recorded"
    licence = "Apache-2.0"
    source = "fmsnew/nas-bench-nlp-release (Klyuchnikov et al. 2022)"

    def tasks(self) -> list[str]:
        return ["wikitext2"]

    def location(self, task: str) -> Path:
        return self.root / "curves" / f"nasbench_nlp_{task}"

    def shape(self, task: str) -> tuple[int, int] | None:
        return (345, 50)

    def load(self, task: str, options: dict[str, Any]) -> CurveSet:
        root = self.location(task)
        spec = ImportSpec(
            name="nasbench_nlp_wikitext2",
            configs="configs.csv",
            curves="curves.csv",
            metrics={"val_loss": "min", "train_loss": "min", "test_loss": "min"},
            objective="val_loss",
            features=(_f("num_params", "ap", "int", log=True),),
            info_columns=("recepie", "status"),
            seconds_column="epoch_wall_s",
            provenance={"readme": "README.txt", "origin": "fmsnew/nas-bench-nlp-release"},
        )
        cs = import_long(spec, root)
        cfg = cs.configs.copy()
        ops = ("linear", "activation_tanh", "activation_sigm", "activation_leaky_relu", "elementwise_prod",
               "elementwise_sum", "blend")
        rows = []
        for rec in cfg["recepie"]:
            try:
                graph = json.loads(rec)
            except (TypeError, json.JSONDecodeError):
                raise DatasetError(f"{root / 'configs.csv'}: column 'recepie' holds invalid JSON: "
                                   f"{str(rec)[:40]!r}") from None
            kinds = [node.get("op", "") for node in graph.values()]
            rows.append({"n_nodes": len(kinds), "n_hidden_states": sum(k.startswith("h_new") for k in graph),
                         **{f"n_{o}": sum(k == o for k in kinds) for o in ops}})
        derived = pd.DataFrame(rows)
        cfg = pd.concat([cfg, derived], axis=1)
        feats = cs.features + tuple(_f(c, "ap", "int") for c in derived.columns)
        cs = CurveSet(name=cs.name, configs=cfg, curves=cs.curves, metrics=cs.metrics, objective=cs.objective,
                      features=feats, epoch_seconds=cs.epoch_seconds, provenance=cs.provenance)
        return _with_family(cs, self, task)


DEEPOBS_PROBLEMS = ("cifar10_3c3d", "cifar100_allcnnc", "svhn_wrn164", "tolstoi_char_rnn", "fmnist_2c2d",
                    "fmnist_vae", "mnist_vae", "quadratic_deep")
_DEEPOBS_HAS_ACC = {"cifar10_3c3d", "cifar100_allcnnc", "svhn_wrn164", "tolstoi_char_rnn", "fmnist_2c2d"}


class DeepOBS(Family):
    name = "deepobs"
    kind = "recorded"
    licence = "MIT"
    source = "fsschneider/DeepOBS_Baselines (Schneider et al. 2019)"

    def tasks(self) -> list[str]:
        return list(DEEPOBS_PROBLEMS)

    def location(self, task: str) -> Path:
        return self.root / "curves" / "deepobs_baselines"

    def shape(self, task: str) -> tuple[int, int] | None:
        return _deepobs_shapes(str(self.location(task))).get(task)

    def load(self, task: str, options: dict[str, Any]) -> CurveSet:
        acc = task in _DEEPOBS_HAS_ACC
        metrics = ({"test_accuracy": "max"} if acc else {}) | {"test_loss": "min", "train_loss": "min"}
        if acc:
            metrics["train_accuracy"] = "max"
        spec = ImportSpec(
            name=f"deepobs_{task}",
            configs="configs.csv",
            curves="curves.parquet",
            metrics=metrics,
            objective="test_accuracy" if acc else "test_loss",
            features=(_f("optimizer", type="categorical"), _f("learning_rate", log=True)),
            info_columns=("random_seed", "testproblem"),
            epoch_base=0,
            drop_epoch0=True,
            filter={"testproblem": task},
            provenance={"readme": "README.txt", "origin": "fsschneider/DeepOBS_Baselines", "problem": task},
        )
        return _with_family(import_long(spec, self.location(task)), self, task)


def _with_family(cs: CurveSet, family: Family, task: str) -> CurveSet:
    from dataclasses import replace

    return replace(cs, provenance={**cs.provenance, **provenance_of(family, task)})


@functools.cache
def _deepobs_shapes(folder: str) -> dict[str, tuple[int, int]]:
    """(runs, epochs) per DeepOBS problem, from the files' index columns only."""
    try:
        cfg = pd.read_csv(Path(folder) / "configs.csv", usecols=["config_id", "testproblem"])
        cur = pd.read_parquet(Path(folder) / "curves.parquet", columns=["config_id", "epoch"])
    except (OSError, ValueError):
        return {}
    cfg["config_id"] = cfg["config_id"].astype(str)
    cur["config_id"] = cur["config_id"].astype(str)
    epochs = cur[cur["epoch"] > 0].groupby("config_id")["epoch"].max()
    out = {}
    for problem, ids in cfg.groupby("testproblem")["config_id"]:
        e = epochs.reindex(ids)
        out[str(problem)] = (len(ids), int(e.max()) if e.notna().any() else 0)
    return out
