"""Stored datasets: the populations made here by ``generate``, shipped under ``<repo>/datasets/`` (kind "made
here"), and what users imported into the data home (``harness datasets import``; kind "recorded", family
"imported"). Their names are the folder names, without a family prefix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..store import CurveSet, load
from .base import Family, Task

#: the datasets this repository ships (made by its own generate stage); import and export never replace them
EMBEDDED_DEFAULTS = ("digits_cnn", "shakespeare_lstm", "cifar10_cudaconvnet_small", "ptb_lstm_small",
                     "cifar10_resnet_small", "cifar10_metaqnn_small")
GENERATED_LICENCE = "Apache-2.0 (curves made by lc-harness's generate; the training data keep their own terms)"


def _meta(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "metadata.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


class Stored(Family):
    """Folders holding ``metadata.json``: under the package's ``datasets/`` (``root``: the embedded defaults made
    here) and under the data home's ``datasets/`` (``imported``: what ``harness datasets import`` stored). A name
    in both is the package's: an import never shadows an embedded dataset."""

    name = "datasets"
    kind = "made here"
    licence = GENERATED_LICENCE
    source = "this repository's generate stage, or harness datasets import"

    def __init__(self, root: Path, imported: Path | None = None):
        super().__init__(root)
        self.imported = Path(imported) if imported is not None else None

    def _roots(self) -> list[Path]:
        return [self.root] + ([self.imported] if self.imported is not None else [])

    def tasks(self) -> list[str]:
        names: set[str] = set()
        for r in self._roots():
            if r.is_dir():
                names.update(d.name for d in r.iterdir() if (d / "metadata.json").is_file())
        return sorted(names)

    def location(self, task: str) -> Path:
        for r in self._roots():
            if (r / task / "metadata.json").is_file():
                return r / task
        return self.root / task

    def dataset_name(self, task: str) -> str:
        return task

    def match(self, name: str) -> Task | None:
        if ":" in name or not name or "/" in name or "\\" in name:
            return None
        return Task(self, name) if any((r / name / "metadata.json").is_file() for r in self._roots()) else None

    def shape(self, task: str) -> tuple[int, int] | None:
        m = _meta(self.location(task))
        return (int(m["n_configs"]), int(m["n_epochs"])) if "n_configs" in m else None

    def load(self, task: str, options: dict[str, Any]) -> CurveSet:
        return load(self.location(task), nan_policy="keep")

    def origin(self, task: str) -> tuple[str, str, str]:
        """(family, kind, licence) of one stored dataset, from its provenance."""
        prov = _meta(self.location(task)).get("provenance", {}) or {}
        if "generate_settings" in prov:
            return "generate", "made here", str(prov.get("licence", GENERATED_LICENCE))
        return (str(prov.get("family", "imported")), str(prov.get("kind", "recorded")),
                str(prov.get("licence", prov.get("license", "see its provenance"))))

    def catalogue_row(self, task: str) -> dict[str, Any]:
        row = super().catalogue_row(task)
        fam, kind, licence = self.origin(task)
        embedded = task in EMBEDDED_DEFAULTS and fam == "generate"
        return {**row, "family": fam if fam != "imported" else "imported", "kind": kind, "licence": licence,
                "stored": "embedded" if embedded else "imported"}
