"""Where the harness keeps data it did not ship: the data home.

One folder, ``$LC_HARNESS_HOME`` or platformdirs' user data folder for ``lc-harness`` (``~/.local/share/lc-harness``
on Linux), holds

* ``families/``: benchmark families fetched by ``harness datasets fetch`` (laid out as ``../shared/data``:
  ``curves/...``, ``surrogates/...``);
* ``datasets/``: datasets imported by ``harness datasets import`` (never the package's own ``datasets/``, which
  holds only the embedded defaults made by ``generate``);
* ``cache/``: LCBench pools and other caches (``$LC_HARNESS_CACHE`` overrides it).

A family's files are looked for in the shared data root first (``$LC_HARNESS_SHARED_DATA``, else ``../shared/data``
beside a checkout), then in ``families/`` of the data home.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "LC_HARNESS_HOME"
ENV_SHARED = "LC_HARNESS_SHARED_DATA"
ENV_CACHE = "LC_HARNESS_CACHE"
REPO_ROOT = Path(__file__).resolve().parents[1]


def data_home() -> Path:
    """The data home: ``$LC_HARNESS_HOME``, else the platform's user data folder for lc-harness."""
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("lc-harness", appauthor=False))


def fetched_root() -> Path:
    """Where ``harness datasets fetch`` puts a family's files (a data root of its own)."""
    return data_home() / "families"


def imported_root() -> Path:
    """Where ``harness datasets import`` stores datasets."""
    return data_home() / "datasets"


def cache_root() -> Path:
    env = os.environ.get(ENV_CACHE)
    return Path(env).expanduser() if env else data_home() / "cache"


def shared_data_root() -> Path:
    """The shared data root: ``$LC_HARNESS_SHARED_DATA``, else ``../shared/data`` beside the checkout."""
    env = os.environ.get(ENV_SHARED)
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def data_roots() -> list[Path]:
    """Where families' files are looked for, in order: the shared data root, then the fetched families."""
    return [shared_data_root(), fetched_root()]
