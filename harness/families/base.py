"""The benchmark-family contract: one module per family knows its format, its tasks, its licence and its kind.

A dataset name is ``<family>_<task>`` (``taskset_<task>``, ``lcbench_3945``, ``deepobs_<problem>``), optionally
followed by the family's options, ``lcbench_3945:n=500,seed=1``. A :class:`Family` answers

* ``tasks()``: every task it defines (known whether or not its files are present here);
* ``present(task)`` / ``location(task)``: whether its files are on this machine, and where;
* ``load(task, options)``: the task as a :class:`~harness.store.CurveSet` (options already checked);
* ``shape(task)``: configurations x epochs without loading, where that is cheap.

Its class attributes say what every table must carry: ``kind`` (recorded runs, a surrogate model's
predictions, or populations made here by ``generate``), ``licence`` and ``source``. Options are typed
:class:`Option` s with defaults; a wrong name or value is a one-line error naming the dataset, the option and
the rule. Families are registered by name in :data:`harness.families.FAMILIES` (nothing registers itself).
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..store import CurveSet, DatasetError

#: recorded: curves of real training runs; surrogate: a model's predictions (any configuration of the space can
#: be asked); made here: populations trained by this project's ``generate`` (CPU-sized)
KINDS = ("recorded", "surrogate", "made here")


@dataclass(frozen=True)
class Option:
    """One option of a family's datasets (``name:key=value``)."""

    default: Any
    type: type
    help: str
    lo: float | None = None  # inclusive lower bound for numbers
    hi: float | None = None  # inclusive upper bound for numbers

    def parse(self, dataset: str, key: str, text: str) -> Any:
        try:
            if self.type is int:
                f = float(text)
                if f != int(f):
                    raise ValueError(text)
                v: Any = int(f)
            else:
                v = self.type(text)
        except ValueError:
            raise DatasetError(f"{dataset}: option {key}={text!r} must be {self.type.__name__}") from None
        if self.lo is not None and v < self.lo:
            raise DatasetError(f"{dataset}: option {key}={text!r} must be >= {self.lo:g}")
        if self.hi is not None and v > self.hi:
            raise DatasetError(f"{dataset}: option {key}={text!r} must be <= {self.hi:g}")
        return v


@dataclass(frozen=True)
class Task:
    """A resolved dataset name: family, task and options (defaults filled in)."""

    family: Family
    task: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def name(self) -> str:
        return self.family.dataset_name(self.task)

    @property
    def full_name(self) -> str:
        """The name with every non-default option (the name a cache or a record keys on)."""
        changed = [(k, v) for k, v in self.options if v != self.family.options[k].default]
        return self.name + (":" + ",".join(f"{k}={v}" for k, v in changed) if changed else "")

    def load(self) -> CurveSet:
        return self.family.load(self.task, dict(self.options))


class Family(ABC):
    """A benchmark family (see the module docstring). ``root`` is the shared data root (``../shared/data``)."""

    #: dataset names are ``<name>_<task>``
    name: ClassVar[str]
    kind: ClassVar[str]
    licence: ClassVar[str]
    #: one line: where the data come from (paper, repository)
    source: ClassVar[str]
    #: options a dataset name may carry after ':'
    options: ClassVar[dict[str, Option]] = {}
    #: the optional dependency a family needs to load (pip extra), if any
    needs: ClassVar[str | None] = None

    def __init__(self, root: Path):
        self.root = Path(root)

    # --- what a subclass provides --------------------------------------------------------------
    @abstractmethod
    def tasks(self) -> list[str]:
        """Every task of the family (those whose files are absent included, where the family knows them)."""

    @abstractmethod
    def location(self, task: str) -> Path:
        """Where the task's files are (or would be)."""

    @abstractmethod
    def load(self, task: str, options: dict[str, Any]) -> CurveSet:
        """The task as a curve set (``options``: every option, defaults filled in)."""

    def shape(self, task: str) -> tuple[int, int] | None:
        """(configurations, epochs) without loading, where the family knows it; else None."""
        return None

    def aliases(self) -> dict[str, str]:
        """Short task names -> task."""
        return {}

    # --- shared --------------------------------------------------------------------------------
    def present(self, task: str) -> bool:
        return self.location(task).exists()

    def dataset_name(self, task: str) -> str:
        return f"{self.name}_{task}"

    def match(self, name: str) -> Task | None:
        """The :class:`Task` a dataset name refers to, or None when it is not this family's. A name of this
        family with an unknown task or a bad option is a one-line :class:`DatasetError`."""
        base, _, opts = name.partition(":")
        prefix = f"{self.name}_"
        if not base.startswith(prefix):
            return None
        task = base[len(prefix):]
        known = self.tasks()
        task = self.aliases().get(task, task)
        if task not in known:
            close = difflib.get_close_matches(task, known + list(self.aliases()), n=1, cutoff=0.6)
            hint = f" (did you mean {self.dataset_name(close[0])!r}?)" if close else ""
            listing = ", ".join(known[:8]) + (f", ... ({len(known)} in all)" if len(known) > 8 else "")
            raise DatasetError(f"dataset {base!r}: the {self.name} family has no task {task!r}{hint}; its tasks: "
                               f"{listing or '(none found under ' + str(self.root) + ')'}")
        return Task(self, task, self.parse_options(base, opts))

    def parse_options(self, dataset: str, text: str) -> tuple[tuple[str, Any], ...]:
        values = {k: o.default for k, o in self.options.items()}
        given: set[str] = set()
        for item in filter(None, text.split(",")):
            key, eq, val = item.partition("=")
            key = key.strip()
            if key in given:
                raise DatasetError(f"dataset {dataset!r}: option {key!r} is given twice; give each option once")
            given.add(key)
            if key not in self.options:
                valid = ", ".join(self.options) or "none"
                raise DatasetError(f"dataset {dataset!r}: unknown option {key!r}; the {self.name} family's options: "
                                   f"{valid}")
            if not eq:
                raise DatasetError(f"dataset {dataset!r}: option {item!r} must be KEY=VALUE")
            values[key] = self.options[key].parse(dataset, key, val.strip())
        return tuple(values.items())

    def catalogue_row(self, task: str) -> dict[str, Any]:
        """One row of ``harness datasets list``."""
        shape = self.shape(task)
        return {"name": self.dataset_name(task), "family": self.name, "kind": self.kind,
                "shape": f"{shape[0]} x {shape[1]}" if shape else "?", "licence": self.licence,
                "present": self.present(task), "location": str(self.location(task))}


def provenance_of(family: Family, task: str, **more: Any) -> dict[str, Any]:
    """The provenance every dataset of a family carries: family, kind, licence, source."""
    return {"family": family.name, "kind": family.kind, "licence": family.licence, "source": family.source,
            "task": task, **more}
