"""Dataset registry: resolve a name or a path to a :class:`CurveSet`.

Resolution order for ``load_dataset(x)``:

1. ``x`` is a directory holding ``metadata.json`` -> the stored format (:func:`harness.store.load`).
2. ``x`` is a directory holding ``dataset.json`` -> generic long CSV described by that file.
3. ``x`` names an embedded dataset under ``<repo>/datasets/``.
4. ``x`` names a real dataset under the shared data root (``$LC_HARNESS_SHARED_DATA`` or
   ``<repo>/../shared/data``), imported on the fly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .importers import ImportSpec, import_long, import_shared, shared_names
from .store import DEFAULT_NAN_POLICY, CurveSet, DatasetError, apply_nan_policy, load

REPO_ROOT = Path(__file__).resolve().parents[1]
EMBEDDED_ROOT = REPO_ROOT / "datasets"
DEFAULT_DATASET = "digits_cnn"


def shared_data_root() -> Path:
    env = os.environ.get("LC_HARNESS_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def shared_curves_root() -> Path:
    return shared_data_root() / "curves"


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    source: str  # "embedded" | "shared"
    location: Path
    available: bool


def list_datasets() -> list[DatasetEntry]:
    out = []
    if EMBEDDED_ROOT.is_dir():
        for d in sorted(EMBEDDED_ROOT.iterdir()):
            if (d / "metadata.json").is_file():
                out.append(DatasetEntry(d.name, "embedded", d, True))
    root = shared_curves_root()
    for name in shared_names():
        folder = root / ("deepobs_baselines" if name.startswith("deepobs_") else name)
        out.append(DatasetEntry(name, "shared", folder, folder.is_dir()))
    return out


def load_dataset(name_or_path: str | Path, nan_policy: str = DEFAULT_NAN_POLICY) -> CurveSet:
    p = Path(name_or_path)
    if (p / "metadata.json").is_file():
        return load(p, nan_policy=nan_policy)
    if (p / "dataset.json").is_file():
        return apply_nan_policy(import_long(ImportSpec.from_json(p / "dataset.json"), p), nan_policy)
    name = str(name_or_path)
    if (EMBEDDED_ROOT / name / "metadata.json").is_file():
        return load(EMBEDDED_ROOT / name, nan_policy=nan_policy)
    if name in shared_names():
        root = shared_curves_root()
        if not root.is_dir():
            raise FileNotFoundError(f"dataset {name!r} lives in the shared data root {root}, which does not exist; "
                                    "set LC_HARNESS_SHARED_DATA to the folder holding curves/")
        cs = import_shared(name, root)
        return apply_nan_policy(cs, nan_policy)
    known = [e.name for e in list_datasets()]
    raise DatasetError(f"unknown dataset {name!r}: not a directory with metadata.json or dataset.json, "
                       f"and not one of {known}")
