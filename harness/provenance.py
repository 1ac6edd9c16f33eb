"""Where a population came from: the code's commit and whether the tree held uncommitted changes (torch-free:
``generate`` records it, :mod:`generate.export` checks it, ``harness datasets describe`` shows it).

A dataset is only as reproducible as the code that made it. ``git_state`` records the commit of the checkout the
``generate`` package runs from and whether the files that define a population (the ``generate`` and ``harness``
packages, ``conf/``, ``pyproject.toml``; untracked files there included) differ from it. When they do, the
sha256 of the difference (``git diff HEAD`` plus the untracked files' names and contents) is recorded, so the exact
tree can at least be recognised. Progress records (``runs/``), datasets and results never make a tree dirty.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

#: the files whose changes make a population's code differ from its commit
CODE_PATHS = ("generate", "harness", "conf", "pyproject.toml")


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=20, check=False)


def git_state(root: str | Path | None = None) -> dict[str, Any]:
    """``{"git_sha", "git_clean", "git_diff_sha256", "git_dirty_files"}`` of the checkout holding ``root``
    (default: this repository's). Outside a git checkout (an installed wheel) sha is ``""`` and clean ``None``."""
    root = Path(root) if root is not None else Path(__file__).resolve().parents[1]
    try:
        head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
        if head.returncode != 0:
            raise OSError
        top = Path(_git(root, "rev-parse", "--show-toplevel").stdout.decode().strip())
        status = _git(top, "status", "--porcelain", "--untracked-files=all", "--", *CODE_PATHS)
        diff = _git(top, "diff", "HEAD", "--binary", "--", *CODE_PATHS)
        if status.returncode != 0 or diff.returncode != 0:
            raise OSError
    except (OSError, subprocess.SubprocessError):
        return {"git_sha": "", "git_clean": None, "git_diff_sha256": None, "git_dirty_files": []}
    lines = [ln for ln in status.stdout.decode().splitlines() if ln.strip()]
    files = sorted(ln[3:] for ln in lines)
    if not files:
        return {"git_sha": head.stdout.decode().strip(), "git_clean": True, "git_diff_sha256": None,
                "git_dirty_files": []}
    h = hashlib.sha256(diff.stdout)
    for ln in sorted(lines):
        if ln.startswith("??"):
            path = top / ln[3:]
            h.update(ln[3:].encode() + b"\0")
            if path.is_file():
                h.update(path.read_bytes())
    return {"git_sha": head.stdout.decode().strip(), "git_clean": False, "git_diff_sha256": h.hexdigest(),
            "git_dirty_files": files}


def sessions(run_meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Every process that trained a run (the first, then each resume), from its ``run.json``."""
    return [run_meta.get("provenance", {}), *run_meta.get("resumed", [])]


def dirty_sessions(run_meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The sessions that ran from a tree with uncommitted changes to the code (unknown counts as clean: records
    made before the flag existed, or outside a git checkout)."""
    return [s for s in sessions(run_meta) if s.get("git_clean") is False]


def describe_git(prov: dict[str, Any]) -> str:
    """One line: the commit and whether the tree was clean, for ``datasets describe``."""
    sha = (prov.get("git_sha") or "")[:10] or "no git checkout"
    clean = prov.get("git_clean")
    if clean is True:
        return f"{sha} (clean tree)"
    if clean is False:
        files = prov.get("git_dirty_files") or []
        more = f": {', '.join(files[:3])}{', ...' if len(files) > 3 else ''}" if files else ""
        if prov.get("git_diff_sha256") is None:
            return f"{sha} + uncommitted changes ({prov.get('git_note', 'no diff hash recorded')})"
        return f"{sha} + uncommitted changes (diff sha256 {str(prov.get('git_diff_sha256'))[:12]}{more})"
    return f"{sha} (tree state not recorded)"


def describe_sessions(prov: dict[str, Any]) -> str:
    """One line: how many sessions trained a population, from how many commits, all from clean trees or not."""
    resumed = prov.get("resumed") or []
    every = [prov, *resumed]
    shas = sorted({str(s.get("git_sha", ""))[:10] for s in every})
    clean = [s.get("git_clean") for s in every]
    state = ("all clean" if all(c is True for c in clean) else
             "some with uncommitted changes" if any(c is False for c in clean) else "tree state not recorded")
    return f"{len(every)} training session(s) from commit(s) {', '.join(shas) or '?'} ({state})"
