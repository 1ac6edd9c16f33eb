"""Which code made a result: digests of the harness sources that decide results.

``code_hash()`` covers every harness module that can change a number (writers and commands, ``reporting`` and
``cli``, do not): cached reproduce units are reused only by the same code. Bench cells and ``--out`` records use it
as their code version. This module imports nothing of the harness, so both :mod:`harness.bench` and
:mod:`harness.reproduce` can use it without importing each other.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

HARNESS = Path(__file__).resolve().parent


def code_hash() -> str:
    """sha256 of the harness sources (``reporting`` and ``cli`` left out): cached unit results are reused only by
    the same code."""
    h = hashlib.sha256()
    root = HARNESS.parent
    for p in sorted(HARNESS.rglob("*.py")):
        if p.parent.name in ("reporting", "cli"):  # writers and commands do not change unit results
            continue
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


#: registries: they only name classes, whose own modules are hashed; an algorithm added to one does not change
#: the code version of the others
REGISTRIES = ("harness.algorithms", "harness.adapters")
#: registries that import their entries from strings (``"harness.predictors.zoo:NuSVRPred"``): not followed; a
#: cell adds the module of the predictor its settings name (:func:`cell_roots`)
NAMED_BY_STRING = ("harness.predictors",)
#: the engine every cell runs through
ENGINE = ("harness.runner", "harness.metrics", "harness.sim", "harness.budget")
#: writers and commands never change a record; loading and storing data decide only which data a cell sees,
#: and the cell's key holds the data's content hash
NOT_RESULTS = ("harness.reporting", "harness.cli", "harness.datasets", "harness.families.recorded",
               "harness.families.stored", "harness.families.taskset", "harness.importers", "harness.write",
               "harness.errors", "harness.provenance")
#: a surrogate answers the configurations an adapter proposes outside the pool (surrogate mode): its code decides
#: those values, which no content hash covers
SURROGATES = ("harness.families.lcbench",)


def _module_file(module: str) -> Path | None:
    rel = Path(*module.split("."))
    root = HARNESS.parent
    for p in (root / rel.with_suffix(".py"), root / rel / "__init__.py"):
        if p.is_file():
            return p
    return None


def _imports(path: Path, module: str) -> set[str]:
    """harness modules ``path`` imports anywhere in it (inside functions too)."""
    import ast

    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            if base.startswith("harness"):
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    out.add(sub if _module_file(sub) is not None else base)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("harness"))
    return out


def module_closure(roots: tuple[str, ...]) -> list[str]:
    """The harness modules ``roots`` import, directly or not (lazy imports included), without the registries'
    own imports (a registry names every algorithm) and without writers and commands."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        m = todo.pop()
        if m in seen or m.startswith(NOT_RESULTS):
            continue
        path = _module_file(m)
        if path is None:
            continue
        seen.add(m)
        if m in REGISTRIES and m not in roots:
            continue
        todo.extend(_imports(path, m))
    return sorted(seen - (set(REGISTRIES) - set(roots)))


def cell_roots(settings: dict) -> tuple[str, ...] | None:
    """The harness modules a cell's settings bring in beyond its algorithm's: the module of the predictor it names
    (a registry name; every predictor-driven algorithm has one, default or set). None when it names one by import
    path (user code: the whole harness is its version)."""
    pred = settings.get("predictor") if isinstance(settings, dict) else None
    if not isinstance(pred, str):
        return ()
    from .predictors import PREDICTORS

    if pred in PREDICTORS:
        return (PREDICTORS.module_of(pred),)
    return None


def algorithm_code_hash(module: str, extra: tuple[str, ...] | None = ()) -> str:
    """The code version of a cell of an algorithm defined in ``module`` (a harness module; ``extra``: further roots,
    :func:`cell_roots`): sha256 of the engine's and those modules' sources and of every harness module they
    import, the registries aside. An edit elsewhere
    (another algorithm, a writer, a command) leaves it, and the cells it keys, unchanged. An algorithm from
    outside the harness gets :func:`code_hash` (the whole harness)."""
    if not module.startswith("harness.") or _module_file(module) is None or extra is None:
        return code_hash()
    return closure_hash((*ENGINE, module, *extra, *(SURROGATES if module.startswith("harness.adapters") else ())))


def closure_hash(roots: tuple[str, ...]) -> str:
    """sha256 of the sources of ``roots`` and of every harness module they import (:func:`module_closure`)."""
    h = hashlib.sha256()
    root = HARNESS.parent
    for m in module_closure(roots):
        p = _module_file(m)
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]
