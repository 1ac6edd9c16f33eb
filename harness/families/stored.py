"""Datasets stored under ``<repo>/datasets/``: the populations made here by ``generate`` (kind "made here") and
what users imported (``harness datasets import``; kind "recorded", family "imported"). Their names are the
folder names, without a family prefix."""

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
    """Folders holding ``metadata.json`` under ``datasets/`` (``root`` is that folder here)."""

    name = "datasets"
    kind = "made here"
    licence = GENERATED_LICENCE
    source = "this repository's generate stage, or harness datasets import"

    def tasks(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(d.name for d in self.root.iterdir() if (d / "metadata.json").is_file())

    def location(self, task: str) -> Path:
        return self.root / task

    def dataset_name(self, task: str) -> str:
        return task

    def match(self, name: str) -> Task | None:
        return Task(self, name) if ":" not in name and (self.root / name / "metadata.json").is_file() else None

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
