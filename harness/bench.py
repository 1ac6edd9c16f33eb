"""``harness bench SUITE``: many algorithms x many datasets x many seeds, resumable, into one table.

A suite (``conf/bench/<name>.yaml`` or a YAML path) names datasets, algorithms with their settings, seeds,
accounting modes and simulated worker counts. Each cell (dataset, algorithm instance, settings, seed,
accounting, workers, cost) is content-addressed: its key hashes the dataset's content hash, the algorithm and
its full checked config, the cell's options and the code version of the engine and the cell's own algorithm
(:func:`harness.codeversion.algorithm_code_hash`: an edit to another algorithm, a writer or a command reruns
nothing).
Records go to ``<out>/records-<shard>-of-<n>.parquet``; a rerun skips every cell whose key is already in any
records file, so an interrupted suite resumes and an added algorithm runs only its own cells. Cells run in
chunks through the usual backends (sequential, joblib, MPI) and each chunk is written atomically before the
next, so a kill loses at most one chunk. ``shard``/``n_shards`` split the cells for hydra launchers
(``python -m harness.bench -m suite=default n_shards=4 shard=0,1,2,3 hydra/launcher=joblib``, or
``submitit_slurm`` on a cluster); the report reads every shard's file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import AlgorithmConfig, is_int_at_least
from .datasets import REPO_ROOT
from .hb import ACCOUNTING
from .metrics import RunRecord
from .runner import BACKENDS, Cell, cached_dataset, check_n_jobs, run_cells

log = logging.getLogger(__name__)
SUITE_DIR = REPO_ROOT / "conf" / "bench"
SUITE_KEYS = ("name", "datasets", "algorithms", "settings", "seeds", "accounting", "workers", "cost", "baseline",
              "out", "chunk", "pad_to", "budget", "read_at", "ledger", "reading", "draws")


@dataclass(frozen=True)
class Suite:
    name: str
    datasets: tuple[str, ...]
    algorithms: dict[str, dict[str, Any]]  # instance name (NAME or NAME@LABEL or module:Class) -> settings
    settings: dict[str, Any] = field(default_factory=dict)  # for every algorithm that has the setting
    seeds: tuple[int, ...] = tuple(range(10))
    accounting: tuple[str, ...] = ("resume",)
    workers: tuple[int, ...] = (1,)
    cost: str = "epochs"
    baseline: str = "hyperband"
    out: str = "results/bench/{name}"
    chunk: int = 50
    pad_to: dict[str, int] = field(default_factory=dict)  # dataset -> epochs
    #: equal-budget protocol: every run gets ``budget`` x T epochs (T: the dataset's epochs) and spends them
    #: (:func:`harness.budget.to_spend`); None: each algorithm ends its run itself
    budget: float | None = None
    #: reading points of the report, in multiples of T (default: the budget alone)
    read_at: tuple[float, ...] = ()
    #: one ledger entry per trial in every record (metrics.trial_ledger)
    ledger: bool = False
    #: what a run's incumbent is at a reading point: "final" (the best configuration trained to full fidelity,
    #: scored by its true final value: the harness's rule) or "observed" (the best value reported to the
    #: algorithm at any epoch, scored as it is: DPL's and DyHPO's protocol; needs the ledger)
    reading: str = "final"
    #: how pool rows are drawn (:data:`harness.sim.DRAWS`): "bracket" (SPEC 0.3's choice: a row can be drawn again in
    #: a later bracket, a new trial from epoch 1) or "run" (no row drawn twice in a run; the run ends when the pool
    #: has no unused row left for a draw)
    draws: str = "bracket"

    @property
    def out_dir(self) -> Path:
        p = Path(self.out.format(name=self.name))
        return p if p.is_absolute() else Path.cwd() / p


def load_suite(spec: str | Path) -> Suite:
    """A suite by name (``conf/bench/<name>.yaml``) or path; one-line errors for unknown keys and bad values."""

    path = Path(spec)
    if not path.suffix:
        path = SUITE_DIR / f"{spec}.yaml"
    if not path.is_file():
        names = sorted(p.stem for p in SUITE_DIR.glob("*.yaml"))
        raise FileNotFoundError(f"suite {spec!r}: no file {path} (suites: {', '.join(names)}, or a YAML path)")
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: must hold a mapping with the keys {', '.join(SUITE_KEYS)}")
    for k in raw:
        if k not in SUITE_KEYS:
            raise ValueError(f"{path}: unknown key {k!r}; valid keys: {', '.join(SUITE_KEYS)}")
    for k in ("datasets", "algorithms"):
        if not raw.get(k):
            raise ValueError(f"{path}: {k!r} is missing or empty")
    algos = raw["algorithms"]
    if isinstance(algos, list):
        algos = {a: {} for a in algos}
    if not isinstance(algos, dict) or not all(isinstance(v, dict) or v is None for v in algos.values()):
        raise ValueError(f"{path}: 'algorithms' must be a list of names or a mapping name -> settings")
    as_tuple = lambda v: tuple(v) if isinstance(v, (list, tuple)) else (v,)  # noqa: E731

    def bad(key: str, value: Any, rule: str) -> ValueError:
        return ValueError(f"{path}: {key} is {value!r}, but must be {rule}")

    seeds = raw.get("seeds", 10)
    if is_int_at_least(seeds, 1):
        seeds = tuple(range(seeds))
    elif isinstance(seeds, list) and seeds and all(is_int_at_least(v, 0) for v in seeds):
        seeds = tuple(seeds)
    else:
        raise bad("seeds", seeds, "a number of seeds >= 1 or a non-empty list of seeds >= 0")
    accounting = as_tuple(raw.get("accounting", "resume"))
    for a in accounting:
        if a not in ACCOUNTING:
            raise bad("accounting", a, f"one of {', '.join(ACCOUNTING)} (or a list of them)")
    workers = as_tuple(raw.get("workers", 1))
    for w in workers:
        if not is_int_at_least(w, 1):
            raise bad("workers", w, "a number of workers >= 1 (or a list of them)")
    cost = raw.get("cost", "epochs")
    if cost not in ("epochs", "seconds", "cpu_seconds"):
        raise bad("cost", cost, "epochs, seconds or cpu_seconds")
    chunk = raw.get("chunk", 50)
    if not is_int_at_least(chunk, 1):
        raise bad("chunk", chunk, "a number of cells >= 1")
    names = [str(k) for k in algos]
    baseline = str(raw.get("baseline", "hyperband" if "hyperband" in names else names[0]))
    if baseline not in names:
        raise bad("baseline", baseline, f"one of the suite's algorithms ({', '.join(names)})")
    datasets = as_tuple(raw["datasets"])
    if datasets == ("catalogue",):  # every dataset of the catalogue whose files are on this machine
        from .datasets import list_datasets

        datasets = tuple(e.alias or e.name for e in list_datasets() if e.available)
    budget = raw.get("budget")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget <= 0):
        raise bad("budget", budget, "a positive multiple of each dataset's epochs T (e.g. 100), or absent")
    read_at = as_tuple(raw.get("read_at", ()))
    for r in read_at:
        if budget is None:
            raise bad("read_at", list(read_at), "absent without a budget (reading points lie within the budget)")
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not 0 < r <= budget:
            raise bad("read_at", r, f"a multiple of T in (0, budget={budget}] (or a list of them)")
    ledger = raw.get("ledger", False)
    if not isinstance(ledger, bool):
        raise bad("ledger", ledger, "true or false")
    reading = raw.get("reading", "final")
    if reading not in ("final", "observed"):
        raise bad("reading", reading, "'final' (best trained to full fidelity) or 'observed' (best value seen at any "
                  "epoch, DPL's protocol)")
    if reading == "observed" and not (ledger and budget):
        raise bad("reading", reading, "used with a budget and ledger: true (the observed values are in the ledger)")
    from .sim import DRAWS

    draws = raw.get("draws", "bracket")
    if draws not in DRAWS:
        raise bad("draws", draws, "'bracket' (SPEC 0.3: distinct within a bracket) or 'run' (no pool row drawn twice "
                  "in a run)")
    pad_to = raw.get("pad_to", {}) or {}
    if not isinstance(pad_to, dict):
        raise bad("pad_to", pad_to, "a mapping dataset -> epochs")
    for ds, n in pad_to.items():
        if ds not in datasets or not is_int_at_least(n, 1):
            raise bad(f"pad_to.{ds}", n, "a number of epochs >= 1 for one of the suite's datasets")
    suite = Suite(name=str(raw.get("name", path.stem)), datasets=tuple(str(d) for d in datasets),
                  algorithms={str(k): dict(v or {}) for k, v in algos.items()}, settings=dict(raw.get("settings", {})),
                  seeds=seeds, accounting=accounting, workers=workers, cost=cost, baseline=baseline,
                  out=str(raw.get("out", "results/bench/{name}")), chunk=chunk, pad_to=dict(pad_to),
                  budget=budget, read_at=tuple(sorted(read_at or ((budget,) if budget else ()))), ledger=ledger,
                  reading=reading, draws=draws)
    check_names(suite, path)
    from .metrics import WILCOXON_MIN_PAIRS, min_wilcoxon_p

    pairs, n_tests = len(suite.datasets) * len(suite.seeds), max(len(suite.algorithms) - 1, 1)
    if min_wilcoxon_p(pairs, n_tests) >= 0.05:
        log.warning("%s: each comparison with the baseline pairs %d runs (%d datasets x %d seeds): a Wilcoxon "
                    "signed-rank test cannot reach p < 0.05 then (smallest p %.3g after Holm over %d comparisons); "
                    "use at least %d seeds", path, pairs, len(suite.datasets), len(suite.seeds),
                    min_wilcoxon_p(pairs, n_tests), n_tests, WILCOXON_MIN_PAIRS)
    try:
        configs(suite)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return suite


def _read_yaml(path: Path) -> Any:
    """The YAML's content; a malformed file is one line naming the file, line and column."""
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        return OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ValueError(f"{path}: malformed YAML{where}: {problem}") from None
    except OmegaConfBaseException as e:
        raise ValueError(f"{path}: {' '.join(str(e).split())[:200]}") from None


def check_names(suite: Suite, path: Path) -> None:
    """Every dataset and algorithm of the suite exists: one line naming the suite file and the name."""
    from .algorithms import resolve
    from .datasets import resolve_name

    for ds in suite.datasets:
        try:
            found = Path(ds).is_dir() or resolve_name(ds) is not None
        except ValueError as e:
            msg = str(e)
            raise ValueError(f"{path}: {msg}" if repr(ds) in msg else f"{path}: dataset {ds!r}: {msg}") from None
        if not found:
            raise ValueError(f"{path}: unknown dataset {ds!r} (harness datasets list shows the names; a folder path "
                             "works too)")
    for a in suite.algorithms:
        try:
            resolve(a)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None


def configs(suite: Suite) -> dict[str, AlgorithmConfig]:
    """Every algorithm instance's checked config (suite settings, then its own)."""
    from .algorithms import build_configs

    names = list(suite.algorithms)
    settings = dict(suite.settings)
    for a, own in suite.algorithms.items():
        settings.update({f"{a}.{k}": v for k, v in own.items()})
    return build_configs(names, settings, option=f"suite {suite.name}")


def cell_key(dataset_hash: str, algorithm: str, cfg: dict[str, Any], cell: Cell, version: str) -> str:
    what = {"dataset": dataset_hash, "algorithm": algorithm, "config": cfg, "seed": cell.seed,
            "accounting": cell.accounting, "workers": cell.workers, "cost": cell.cost, "pad_to": cell.pad_to,
            "code": version}
    if cell.budget is not None:  # (cells without a budget or ledger keep the keys they always had)
        what["budget"] = cell.budget
    if cell.ledger:
        what["ledger"] = True
    if cell.draws != "bracket":
        what["draws"] = cell.draws
    payload = json.dumps(what, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def plan(suite: Suite) -> list[tuple[str, str, Cell]]:
    """(key, instance, cell) of every cell of the suite, in a fixed order."""
    from .adapters import is_adapter
    from .algorithms import resolve
    from .budget import budget_epochs, to_spend
    from .codeversion import algorithm_code_hash

    cfgs = configs(suite)
    # a cell's code version covers the engine and its own algorithm's modules: an edit elsewhere reruns nothing
    versions = {inst: algorithm_code_hash(resolve(inst).__module__) for inst in cfgs}
    out = []
    for ds in suite.datasets:
        cs = cached_dataset(ds)
        pad = suite.pad_to.get(ds)
        padded = cs.pad_to(pad) if pad else cs
        h = padded.content_hash()
        budget = budget_epochs(suite.budget, padded.n_epochs) if suite.budget is not None else None
        for acc in suite.accounting:
            for w in suite.workers:
                for inst, cfg0 in cfgs.items():
                    cfg = cfg0 if budget is None else to_spend(cfg0, budget, padded.n_epochs, padded.n_configs)
                    base = inst.split("@")[0]
                    params = cfg.to_dict() if is_adapter(base) else cfg
                    for s in suite.seeds:
                        cell = Cell(ds, inst, params, seed=s, accounting=acc, workers=w, cost=suite.cost, pad_to=pad,
                                    budget=budget, ledger=suite.ledger, draws=suite.draws)
                        out.append((cell_key(h, inst, cfg.to_dict(), cell, versions[inst]), inst, cell))
    return out


def records_files(out: Path) -> list[Path]:
    return sorted(out.glob("records-*.parquet"))


def read_table(out: Path) -> pd.DataFrame:
    files = records_files(out)
    if not files:
        return pd.DataFrame()
    df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return df.drop_duplicates("key", keep="first").sort_values("order").reset_index(drop=True)


def planned_records(suite: Suite, out: Path | None = None) -> tuple[pd.DataFrame, list[tuple[str, str, Cell]]]:
    """The records in ``out`` (default the suite's folder) of the suite's planned cells at this code version, in
    plan order, and the plan itself (records of other code versions or settings stay in the files, unread)."""
    cells = plan(suite)
    table = read_table(suite.out_dir if out is None else out)
    if table.empty or "key" not in table:
        return pd.DataFrame(), cells
    keys = {k: i for i, (k, _, _) in enumerate(cells)}
    table = table[table.key.isin(keys)]
    return table.assign(order=table.key.map(keys)).sort_values("order").reset_index(drop=True), cells


def to_row(key: str, order: int, instance: str, rec: RunRecord) -> dict[str, Any]:
    d = rec.to_json()
    row: dict[str, Any] = {"key": key, "order": order, "instance": instance}
    for k, v in d.items():
        row[k] = json.dumps(v, default=float) if isinstance(v, (dict, list)) else v
    row["cpu_seconds"] = getattr(rec, "cpu_seconds", None)  # what the cell cost (not part of the record)
    return row


def run_suite(suite: Suite, *, backend: str = "sequential", n_jobs: int = -1, shard: int = 0, n_shards: int = 1,
              progress: bool = True, max_cells: int | None = None) -> pd.DataFrame:
    """Run the suite's missing cells (of this shard) and return the whole table. ``max_cells`` stops after that
    many new cells (for tests of resumption)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend is {backend!r}, but must be one of {BACKENDS}")
    check_n_jobs(n_jobs)
    if not is_int_at_least(n_shards, 1):
        raise ValueError(f"n_shards is {n_shards!r}, but must be an integer >= 1")
    if not 0 <= shard < n_shards:
        raise ValueError(f"shard is {shard}, but must be in [0, n_shards={n_shards})")
    out = suite.out_dir
    out.mkdir(parents=True, exist_ok=True)
    mine = out / f"records-{shard}-of-{n_shards}.parquet"
    from .write import OutputLock

    # one writer per suite folder and shard (under MPI: the client rank; the serving ranks write nothing)
    lock = OutputLock(mine, what=f"suite {suite.name} (shard {shard} of {n_shards}, {out})") \
        if backend != "mpi" or _mpi_rank() == 0 else None
    if lock is not None:
        lock.acquire()
    try:
        cells = plan(suite)
        table = read_table(out)
        done = set(table.get("key", pd.Series(dtype=str)))
        owner = shard_owners(cells, n_shards, out, table) if n_shards > 1 else [0] * len(cells)
        todo = [(i, k, inst, c) for i, (k, inst, c) in enumerate(cells) if owner[i] == shard and k not in done]
        if max_cells is not None:
            todo = todo[:max_cells]
        log.info("suite %s: %d cells, %d done, %d to run (shard %d of %d)", suite.name, len(cells), len(done),
                 len(todo), shard, n_shards)
        return _run_locked(suite, todo, mine, backend, n_jobs, progress, out)
    finally:
        if lock is not None:
            lock.release()


def cost_table(table: pd.DataFrame) -> dict[str, float]:
    """``instance|dataset`` -> median CPU seconds of its cells in a suite's records (those that carry
    ``cpu_seconds``)."""
    if table.empty or "cpu_seconds" not in table:
        return {}
    t = table[table.cpu_seconds.notna()]
    return {f"{a}|{d}": float(v) for (a, d), v in t.groupby(["instance", "dataset"]).cpu_seconds.median().items()}


def cell_costs(cells: list[tuple[str, str, Cell]], costs: dict[str, float]) -> list[float]:
    """Each cell's expected CPU seconds from ``costs`` (:func:`cost_table`): its (algorithm, dataset) median, else
    its algorithm's median over the datasets measured, else the runner's expected cost in units of the measured
    seconds."""
    from .runner import expected_cost

    by_algo: dict[str, list[float]] = {}
    for k, v in costs.items():
        by_algo.setdefault(k.split("|")[0], []).append(v)
    algo_cost = {a: float(np.median(v)) for a, v in by_algo.items()}
    units = [costs[f"{inst}|{c.dataset}"] / expected_cost(c) for _, inst, c in cells if f"{inst}|{c.dataset}" in costs]
    unit = float(np.median(units)) if units else 1.0
    return [costs.get(f"{inst}|{c.dataset}", algo_cost.get(inst, expected_cost(c) * unit)) for _, inst, c in cells]


def shard_owners(cells: list[tuple[str, str, Cell]], n_shards: int, out: Path, table: pd.DataFrame) -> list[int]:
    """The shard of every cell, balanced by cost: the costliest cell first to the least-loaded shard (LPT). A
    cell's cost is the median CPU seconds measured for its (algorithm, dataset) in the suite's records, else its
    algorithm's median over the datasets measured, else the runner's expected cost in units of the measured
    seconds. The split is written to ``shard-costs-<n>.json`` in the suite's folder the first time and read from
    there after, so every shard, started together or resumed later, uses the same one (delete the file, with no
    shard running, to rebalance from the costs measured since)."""
    frozen = out / f"shard-costs-{n_shards}.json"
    costs: dict[str, float] | None = None
    if frozen.is_file():
        try:
            costs = json.loads(frozen.read_text())["costs"]
        except (OSError, ValueError, KeyError, TypeError):
            raise ValueError(f"{frozen}: unreadable; delete it (with no shard running) to rebalance") from None
    if costs is None:
        costs = cost_table(table)
        tmp = frozen.with_name(f"{frozen.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"n_shards": n_shards, "costs": costs}, indent=0, sort_keys=True))
        try:  # the first shard to get here puts its file in place (whole: a hard link is atomic); others read it
            os.link(tmp, frozen)
        except FileExistsError:
            costs = json.loads(frozen.read_text())["costs"]
        finally:
            tmp.unlink(missing_ok=True)
    est = cell_costs(cells, costs)
    load = [0.0] * n_shards
    owner = [0] * len(cells)
    for i in sorted(range(len(cells)), key=lambda i: (-est[i], i)):
        s = min(range(n_shards), key=lambda k: (load[k], k))
        owner[i] = s
        load[s] += est[i]
    return owner


def _mpi_rank() -> int:
    try:
        from mpi4py import MPI
    except ImportError:
        return 0
    return int(MPI.COMM_WORLD.Get_rank())


def _run_locked(suite: Suite, todo: list[tuple[int, str, str, Cell]], mine: Path, backend: str, n_jobs: int,
                progress: bool, out: Path) -> pd.DataFrame:
    rows = pd.read_parquet(mine).to_dict("records") if mine.is_file() else []
    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), desc=f"bench {suite.name}", disable=not progress)
    pending: list[dict[str, Any]] = []

    def write() -> None:
        rows.extend(pending)
        pending.clear()
        tmp = mine.with_suffix(".tmp")
        pd.DataFrame(rows).to_parquet(tmp, index=False, compression="zstd", compression_level=12)
        tmp.replace(mine)  # atomic: a kill loses at most the records not yet written

    def arrived(idx: list[int], recs: list[RunRecord]) -> None:
        for j, r in zip(idx, recs, strict=True):
            i, k, inst, _ = todo[j]
            pending.append(to_row(k, i, inst, r))
        bar.update(len(idx))
        if len(pending) >= suite.chunk:
            write()

    # one pool for the whole suite (balanced by expected cost, costliest first); records are written every
    # ``chunk`` cells as they arrive
    recs = run_cells([c for _, _, _, c in todo], backend=backend, n_jobs=n_jobs, progress=False,
                     on_records=arrived, always_parallel=backend == "joblib")
    bar.close()
    if todo and not recs:  # an MPI worker rank
        return pd.DataFrame()
    if pending:
        write()
    return read_table(out)


def main(cfg: Any) -> None:  # pragma: no cover - exercised through hydra in tests/test_bench.py
    """Hydra entry point: ``python -m harness.bench suite=default shard=0 n_shards=1 [backend=joblib]``. Bad input
    (a suite that cannot load, a bad shard) is one line on stderr and exit status 2, as in ``harness bench``."""
    import sys

    from .errors import user_errors

    try:
        suite = load_suite(cfg.suite)
        run_suite(suite, backend=cfg.backend, n_jobs=cfg.jobs, shard=cfg.shard, n_shards=cfg.n_shards,
                  progress=cfg.progress)
    except user_errors() as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    import hydra

    hydra.main(version_base=None, config_path=str(REPO_ROOT / "conf"), config_name="bench_run")(main)()
