"""Benchmark families: the registry that turns a dataset name into a curve set, and the catalogue.

``FAMILIES`` maps a family name (the prefix of its dataset names) to its class; nothing registers itself on
import. Adding a family is one module (a :class:`~harness.families.base.Family` subclass that knows its
format) and one line below. The datasets stored under ``datasets/`` (made here, or imported) are looked up
first, by folder name.

=============  ===========  ==============================================================================
family         kind         datasets
=============  ===========  ==============================================================================
swifthb        recorded     ``swifthb_mlpf_delphes``, ``swifthb_mnist_cnn`` (Swift-Hyperband authors)
nasbench_nlp   recorded     ``nasbench_nlp_wikitext2``
deepobs        recorded     ``deepobs_<problem>`` (8 DeepOBS test problems)
taskset        recorded     ``taskset_<task>`` (TaskSet JSON as DyHPO / DPL ship it; short aliases)
lcbench        surrogate    ``lcbench_<openml_task_id>`` (34 tasks, YAHPO Gym's surrogate; ``:n=,seed=``)
generate       made here    the populations under ``datasets/`` (``harness datasets list``)
=============  ===========  ==============================================================================
"""

from __future__ import annotations

from pathlib import Path

from .base import KINDS, Family, Option, Task
from .lcbench import LCBench
from .recorded import DeepOBS, NASBenchNLP, SwiftHB
from .stored import EMBEDDED_DEFAULTS, Stored
from .taskset import TaskSet

FAMILIES: dict[str, type[Family]] = {
    "swifthb": SwiftHB,
    "nasbench_nlp": NASBenchNLP,
    "deepobs": DeepOBS,
    "taskset": TaskSet,
    "lcbench": LCBench,
}

__all__ = ["EMBEDDED_DEFAULTS", "FAMILIES", "KINDS", "Family", "Option", "Task", "families", "resolve"]


def families(roots: Path | list[Path], stored_root: Path, imported_root: Path | None = None) -> list[Family]:
    """Every family, the stored datasets first (their names win). A family reads its files from the first of
    ``roots`` where any of its tasks is present (the last root when none is: where ``datasets fetch`` puts them)."""
    roots = [roots] if isinstance(roots, Path) else list(roots)
    out: list[Family] = [Stored(stored_root, imported_root)]
    for cls in FAMILIES.values():
        chosen = None
        for r in roots:
            fam = cls(r)
            if any(fam.present(t) for t in fam.tasks()):
                chosen = fam
                break
        out.append(chosen if chosen is not None else cls(roots[-1]))
    return out


def resolve(name: str, roots: Path | list[Path], stored_root: Path, imported_root: Path | None = None) -> Task | None:
    """The task a dataset name refers to; None when no family claims it. A name a family claims with an unknown
    task or a bad option is a one-line :class:`~harness.store.DatasetError`."""
    for fam in families(roots, stored_root, imported_root):
        task = fam.match(name)
        if task is not None:
            return task
    return None
