"""LCBench (Zimmer et al. 2021) through YAHPO Gym's surrogate: ``lcbench_<openml_task_id>`` for each of its 34 tasks.

The surrogate (``../shared/data/surrogates/yahpo/lcbench/model.onnx``, YAHPO Gym's data folder) is a neural
network trained on LCBench's recorded runs. It is read here with onnxruntime alone and queried as yahpo_gym 1.0.2
does (``BenchmarkSet._config_to_xs``): the task as an int32 code from ``encoding.json`` (input ``x_cat``), and
``epoch, batch_size, learning_rate, momentum, weight_decay, num_layers, max_units, max_dropout`` as raw float32
values in that order (input ``x_cont``); the output columns are ``time, val_accuracy, val_cross_entropy,
val_balanced_accuracy, test_cross_entropy, test_balanced_accuracy``. tests/families/test_lcbench.py checks 240
queries against yahpo_gym itself (made by tests/fixtures/make_yahpo_reference.py in a throwaway environment:
yahpo_gym needs numpy < 2).

A dataset is a task's **pool**: ``n`` configurations (option ``n``, default 2000) drawn from the space with
``seed`` (default 0; log-uniform where the space is log-scaled, integers rounded), every one at epochs 1..52, in
one batched inference. Pools are deterministic, content-hashed and cached on disk (``$LC_HARNESS_CACHE``, default
``~/.cache/lc-harness``; the key holds the model file's sha256). Per-epoch seconds are the differences of the
cumulative ``time`` output; where it decreases (a known surrogate quirk) the epoch costs 0 s and the running
maximum continues (the count is in the provenance). The objective is ``val_accuracy`` (max, 0-100).

Its curves are a model's predictions, not recorded runs: the kind is ``surrogate`` in every listing, record and
table. On top of the pool, a scheduler may start a trial at any configuration of the space (surrogate mode,
``view.new_trial_at``): the surrogate answers the configuration asked for.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..space import Param, SearchSpace
from ..store import CurveSet, DatasetError, Feature, load, save
from .base import Family, Option, provenance_of

CONT = ("epoch", "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units", "max_dropout")
OUTPUTS = ("time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy", "test_cross_entropy",
           "test_balanced_accuracy")
METRICS = {"val_accuracy": "max", "val_cross_entropy": "min", "val_balanced_accuracy": "max",
           "test_cross_entropy": "min", "test_balanced_accuracy": "max"}
EPOCHS = 52
#: configurations per inference call when a pool is built (rows are answered independently of the batch's other
#: rows once it holds more than one: tests/families/test_lcbench.py)
CHUNK = 8
FILES = ("model.onnx", "config_space.json", "encoding.json")


def cache_root() -> Path:
    from ..datahome import cache_root as root

    return root()


#: the largest pool (100,000 configurations x 52 epochs x 6 outputs: 250 MB of float64, about a minute to evaluate)
MAX_POOL = 100_000


class LCBenchSurrogate:
    """YAHPO Gym's LCBench model: the space, the task codes and batched inference (onnxruntime, one thread).

    Picklable (the inference session is reopened lazily), so a surrogate benchmark fans out like any dataset."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        for f in FILES:
            if not (self.folder / f).is_file():
                raise DatasetError(f"{self.folder / f}: file not found (YAHPO Gym's lcbench folder needs "
                                   f"{', '.join(FILES)})")
        try:
            cs = json.loads((self.folder / "config_space.json").read_text())
            enc = json.loads((self.folder / "encoding.json").read_text())
            params = {p["name"]: p for p in cs["hyperparameters"]}
            self.codes: dict[str, int] = {str(k): int(v) for k, v in enc["OpenML_task_id"].items()}
            self.tasks = [str(t) for t in params["OpenML_task_id"]["choices"]]
            space = []
            for name in CONT[1:]:
                p = params[name]
                space.append(Param(name, "int" if p["type"] == "uniform_int" else "float", float(p["lower"]),
                                   float(p["upper"]), bool(p.get("log", False))))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise DatasetError(f"{self.folder}: config_space.json / encoding.json are not YAHPO Gym's lcbench files "
                               f"({type(e).__name__}: {e})") from None
        self.space = SearchSpace(tuple(space))
        self._session: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_session": None}

    @cached_property
    def model_sha256(self) -> str:
        return hashlib.sha256((self.folder / "model.onnx").read_bytes()).hexdigest()

    @property
    def session(self) -> Any:
        if self._session is None:
            try:
                import onnxruntime as rt
            except ImportError:
                raise DatasetError("the lcbench family reads YAHPO Gym's surrogate with onnxruntime: pip install "
                                   "'lc-harness[surrogate]'") from None
            opts = rt.SessionOptions()
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            try:
                self._session = rt.InferenceSession(str(self.folder / "model.onnx"), sess_options=opts,
                                                    providers=["CPUExecutionProvider"])
            except Exception as e:  # onnxruntime raises its own exception types for a corrupt file
                raise DatasetError(f"{self.folder / 'model.onnx'}: not a readable ONNX model "
                                   f"({type(e).__name__}: {str(e).splitlines()[0][:120]})") from None
        return self._session

    def code(self, task: str) -> int:
        if str(task) not in self.tasks:
            raise DatasetError(f"lcbench: no task {task!r}; tasks: {', '.join(self.tasks)}")
        return self.codes[str(task)]

    def query(self, task: str, x_cont: np.ndarray) -> np.ndarray:
        """Outputs (rows, 6) for rows of ``CONT`` values (epoch first), as yahpo_gym's ``objective_function``."""
        x = np.ascontiguousarray(x_cont, dtype=np.float32)
        cat = np.full((len(x), 1), self.code(task), dtype=np.int32)
        s = self.session
        names = [i.name for i in s.get_inputs()]
        return s.run(None, {names[0]: cat, names[1]: x})[0].astype(np.float64)

    def curves(self, task: str, configs: dict[str, np.ndarray]) -> np.ndarray:
        """(n, 52, 6) outputs of every configuration (columns of the space's parameters) at epochs 1..52."""
        n = len(next(iter(configs.values())))
        x = np.empty((n, EPOCHS, len(CONT)), dtype=np.float32)
        x[:, :, 0] = np.arange(1, EPOCHS + 1, dtype=np.float32)
        for j, name in enumerate(CONT[1:], start=1):
            x[:, :, j] = np.asarray(configs[name], dtype=np.float32)[:, None]
        flat = x.reshape(-1, len(CONT))
        step = CHUNK * EPOCHS  # chunks of whole curves: faster than one huge batch, and the same numbers
        out = np.concatenate([self.query(task, flat[i:i + step]) for i in range(0, len(flat), step)])
        return out.reshape(n, EPOCHS, len(OUTPUTS))


def split_outputs(out: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(curves (n, T, 5) in METRICS order, per-epoch seconds (n, T), number of negative time steps)."""
    curves = out[:, :, [OUTPUTS.index(m) for m in METRICS]]
    cum = out[:, :, OUTPUTS.index("time")]
    steps = np.diff(np.concatenate([np.zeros((len(cum), 1)), cum], axis=1), axis=1)
    negative = int((steps < 0).sum())
    run_max = np.maximum.accumulate(np.maximum(cum, 0.0), axis=1)
    seconds = np.diff(np.concatenate([np.zeros((len(cum), 1)), run_max], axis=1), axis=1)
    return curves, seconds, negative


class SurrogateTask:
    """What surrogate mode needs of one task: the space and one configuration's curve (attached to the pool's
    :class:`CurveSet` as ``surrogate``)."""

    kind = "surrogate"

    def __init__(self, model: LCBenchSurrogate, task: str, objective: str = "val_accuracy"):
        self.model, self.task, self.objective = model, str(task), objective

    @property
    def space(self) -> SearchSpace:
        return self.model.space

    @property
    def description(self) -> str:
        return f"YAHPO Gym LCBench surrogate, task {self.task} (model sha256 {self.model.model_sha256[:12]})"

    def evaluate(self, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """The objective at epochs 1..52 (metric units) and per-epoch seconds of ``config`` (checked first)."""
        c = self.space.check(config, where=f"lcbench_{self.task}")
        out = self.model.curves(self.task, {k: np.array([v]) for k, v in c.items()})
        curves, seconds, _ = split_outputs(out)
        return curves[0, :, list(METRICS).index(self.objective)], seconds[0]


class LCBench(Family):
    name = "lcbench"
    kind = "surrogate"
    licence = "Apache-2.0 (LCBench data and YAHPO Gym surrogate)"
    source = "Zimmer et al. 2021 (LCBench) via YAHPO Gym's surrogate (Pfisterer et al. 2022), slds-lmu/yahpo_data"
    needs = "surrogate"
    options = {"n": Option(2000, int, f"configurations in the pool (at most {MAX_POOL:,}: the pool is evaluated at "
                                      "every epoch and held in memory)", lo=2, hi=MAX_POOL),
               "seed": Option(0, int, "seed of the pool's draw", lo=0)}

    @property
    def folder(self) -> Path:
        return self.root / "surrogates" / "yahpo" / "lcbench"

    @cached_property
    def model(self) -> LCBenchSurrogate:
        return LCBenchSurrogate(self.folder)

    def tasks(self) -> list[str]:
        try:
            cs = json.loads((self.folder / "config_space.json").read_text())
            return [str(t) for t in next(p for p in cs["hyperparameters"] if p["name"] == "OpenML_task_id")["choices"]]
        except (OSError, json.JSONDecodeError, StopIteration, KeyError):
            return list(LCBENCH_TASKS)

    def location(self, task: str) -> Path:
        return self.folder / "model.onnx"

    def shape(self, task: str) -> tuple[int, int] | None:
        return (int(self.options["n"].default), EPOCHS)

    def load(self, task: str, options: dict[str, Any]) -> CurveSet:
        n, seed = int(options["n"]), int(options["seed"])
        model = self.model
        key = f"lcbench_{task}_n{n}_seed{seed}_{model.model_sha256[:16]}"
        folder = cache_root() / "pools" / key
        if (folder / "metadata.json").is_file():
            try:
                cs = load(folder, nan_policy="keep")
            except DatasetError:
                cs = None  # a damaged cache entry is rebuilt
            if cs is not None:
                return _attach(cs, model, task)
        cs = self.pool(task, n, seed)
        try:
            save(cs, folder)
        except OSError:
            pass  # a read-only cache: the pool is rebuilt next time
        return _attach(cs, model, task)

    def pool(self, task: str, n: int, seed: int) -> CurveSet:
        """The pool of ``n`` configurations drawn with ``seed``, evaluated at every epoch (no cache)."""
        model = self.model
        cols = model.space.sample(n, seed)
        out = model.curves(task, cols)
        curves, seconds, negative = split_outputs(out)
        configs = pd.DataFrame({"config_id": [f"{i:05d}" for i in range(n)]})
        for p in model.space.params:
            configs[p.name] = cols[p.name].astype(np.int64) if p.type == "int" else cols[p.name].astype(float)
        feats = tuple(Feature(p.name, "hp", p.type, p.log) for p in model.space.params)
        prov = provenance_of(self, task, model_sha256=model.model_sha256, pool_n=n, pool_seed=seed,
                             surrogate="YAHPO Gym lcbench model.onnx (yahpo_data efdab907), read with onnxruntime",
                             sampling="uniform in the space (log-uniform where log), integers rounded",
                             epoch_seconds="differences of the surrogate's cumulative time; negative steps cost 0 s",
                             negative_time_steps=negative, note="curves are surrogate predictions, not recorded runs")
        return CurveSet(name=self.dataset_name(task), configs=configs, curves=curves, metrics=dict(METRICS),
                        objective="val_accuracy", features=feats, epoch_seconds=seconds, provenance=prov)


def _attach(cs: CurveSet, model: LCBenchSurrogate, task: str) -> CurveSet:
    from dataclasses import replace

    return replace(cs, surrogate=SurrogateTask(model, task, cs.objective))


#: the surrogate's tasks (used when its files are absent, so that listings still name them)
LCBENCH_TASKS = ("3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104", "167149", "167152",
                 "167161", "167168", "167181", "167184", "167185", "167190", "167200", "167201", "168329", "168330",
                 "168331", "168335", "168868", "168908", "168910", "189354", "189862", "189865", "189866", "189873",
                 "189905", "189906", "189908", "189909")
