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
