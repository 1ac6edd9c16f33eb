"""Dataset registry: resolve a name or a path to a :class:`CurveSet`.

Resolution order for ``load_dataset(x)``:

1. ``x`` is a directory holding ``metadata.json`` -> the stored format (:func:`harness.store.load`).
2. ``x`` is a directory holding ``dataset.json`` -> generic long CSV described by that file.
3. ``x`` is a TaskSet task file (``*.json`` holding a list of configurations) -> :mod:`harness.families.taskset`.
4. ``x`` names a dataset stored under ``<repo>/datasets/`` (an embedded default, made here) or imported into the
   data home (``<data home>/datasets``, :mod:`harness.datahome`); an embedded default is never shadowed.
5. ``x`` names a task of a benchmark family (``<family>_<task>[:options]``, :mod:`harness.families`), whose
   files live under the shared data root (``$LC_HARNESS_SHARED_DATA`` or ``<repo>/../shared/data``) or were
   fetched into the data home (``harness datasets fetch``). ``<name>:surrogate=off`` reads a surrogate task's pool
   as a recorded table (:data:`SURROGATE_OPTION`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .importers import ImportSpec, import_long
from .store import DEFAULT_NAN_POLICY, CurveSet, DatasetError, apply_nan_policy, load

REPO_ROOT = Path(__file__).resolve().parents[1]
EMBEDDED_ROOT = REPO_ROOT / "datasets"
DEFAULT_DATASET = "digits_cnn"


def shared_data_root() -> Path:
    """The shared data root (:func:`harness.datahome.shared_data_root`)."""
    from .datahome import shared_data_root as root

    return root()


def shared_curves_root() -> Path:
    return shared_data_root() / "curves"


@dataclass(frozen=True)
class DatasetEntry:
    """One row of the catalogue (``harness datasets list``)."""

    name: str
    family: str
    kind: str  # recorded | surrogate | made here
    shape: str  # "configs x epochs" or "?"
    licence: str
    available: bool
    location: Path
    stored: str = ""  # embedded | imported, for datasets under datasets/
    alias: str = ""  # a short name that loads the same dataset

    @property
    def source(self) -> str:
        return self.stored or "shared"


def _families() -> list[Any]:
    from .datahome import data_roots, imported_root
    from .families import families

    return families(data_roots(), EMBEDDED_ROOT, imported_root())


def list_datasets() -> list[DatasetEntry]:
    """Every dataset the harness can name: stored ones, then each family's tasks (present or not)."""
    out = []
    for fam in _families():
        for task in fam.tasks():
            r = fam.catalogue_row(task)
            out.append(DatasetEntry(r["name"], r["family"], r["kind"], r["shape"], r["licence"], r["present"],
                                    Path(r["location"]), r.get("stored", ""), r.get("alias", "")))
    return out


#: the dataset option the harness itself reads, on any surrogate task: ``<name>:surrogate=off`` reads the task's
#: pool as a recorded table (the surrogate detached), so an adapter searching the hyperparameters is answered by the
#: nearest untried pool row, as on a recorded table, instead of the surrogate's value at the configuration it
#: proposed: every algorithm then draws from the same rows (the leaderboard's like-for-like check on LCBench)
SURROGATE_OPTION = "surrogate"


def split_surrogate_option(name: str) -> tuple[str, bool]:
    """``name`` without the harness's ``surrogate=on|off`` option, and whether the surrogate stays attached. A
    value other than on/off is a one-line :class:`DatasetError`."""
    base, colon, opts = name.partition(":")
    if not colon:
        return name, True
    keep, attached = [], True
    for item in opts.split(","):
        key, eq, val = item.partition("=")
        if key.strip() != SURROGATE_OPTION:
            keep.append(item)
            continue
        if val.strip() not in ("on", "off"):
            raise DatasetError(f"dataset {name!r}: option {SURROGATE_OPTION!r} is on or off (off: the pool read as "
                               f"a recorded table), not {val.strip()!r}")
        attached = val.strip() == "on"
    rest = ",".join(k for k in keep if k)
    return (f"{base}:{rest}" if rest else base), attached


def resolve_name(name: str) -> Any:
    """The :class:`~harness.families.Task` of a dataset name, or None."""
    from .datahome import data_roots, imported_root
    from .families import resolve

    return resolve(split_surrogate_option(name)[0], data_roots(), EMBEDDED_ROOT, imported_root())


def load_dataset(name_or_path: str | Path, nan_policy: str = DEFAULT_NAN_POLICY) -> CurveSet:
    p = Path(name_or_path)
    if (p / "metadata.json").is_file():
        return load(p, nan_policy=nan_policy)
    if (p / "dataset.json").is_file():
        return apply_nan_policy(import_long(ImportSpec.from_json(p / "dataset.json"), p), nan_policy)
    if p.suffix == ".json" and p.is_file():
        from .families.taskset import read_taskset_json

        return apply_nan_policy(read_taskset_json(p), nan_policy)
    name, attached = split_surrogate_option(str(name_or_path))
    task = resolve_name(name)
    if task is not None:
        fam = task.family
        if fam.name != "datasets" and not fam.present(task.task):
            raise FileNotFoundError(f"dataset {task.name!r} ({fam.name} family, {fam.kind}) lives at "
                                    f"{fam.location(task.task)}, which does not exist; set LC_HARNESS_SHARED_DATA to "
                                    "the folder holding curves/ and surrogates/")
        cs = apply_nan_policy(task.load(), nan_policy)
        if (cs.provenance or {}).get("diverged") == "drop":  # a family option (taskset_<task>:diverged=drop)
            from .divergence import drop_diverged

            cs = drop_diverged(cs)
        if not attached:
            from dataclasses import replace

            if cs.surrogate is None:
                raise DatasetError(f"dataset {str(name_or_path)!r}: {SURROGATE_OPTION}=off detaches a surrogate, and "
                                   f"{name!r} has none (a recorded table already)")
            cs = replace(cs, surrogate=None)
        return cs
    entries = list_datasets()
    known = [e.name for e in entries] + [e.alias for e in entries if e.alias]  # short aliases are names too
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise DatasetError(f"unknown dataset {name!r}{hint}: not a folder with metadata.json or dataset.json, not stored "
                       f"under datasets/ and no family's task (families: {', '.join(_family_names())}); "
                       "`harness datasets list` shows every name")


def _family_names() -> list[str]:
    from .families import FAMILIES

    return list(FAMILIES)
