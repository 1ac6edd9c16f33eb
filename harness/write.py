"""Writing safely: dataset names that stay inside ``datasets/``, no dataset replaced by accident (an embedded
default never), and one writer per output (a lock naming the process that holds it).

Every command that writes goes through here: ``datasets import/export`` (:func:`check_dataset_name`,
:func:`check_replace`), ``replay/ab --out`` and ``bench`` (:class:`OutputLock`).
"""

from __future__ import annotations

import logging
import os
import platform
import re
import sys
import time
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


class OutputLocked(RuntimeError):
    """Another live process writes the same output; ``holder`` is what it wrote into the lock file."""

    def __init__(self, message: str, holder: str = ""):
        super().__init__(message)
        self.holder = holder


def check_dataset_name(name: str, where: str = "dataset") -> str:
    """A dataset name is a plain folder name: not empty, no path separator, no ``..``, no leading dot."""
    if not isinstance(name, str) or not name or not _PLAIN.match(name) or ".." in name:
        raise ValueError(f"{where}: dataset name {name!r} must be a plain name (letters, digits, _ . + -; no path "
                         "separator, no '..', not empty), as it becomes the folder datasets/<name>")
    return name


def check_replace(out: Path, *, overwrite: bool) -> None:
    """Refuse to write a dataset over another (unless ``overwrite``) or over an embedded default (ever), or into
    a folder holding other files."""
    from .datasets import EMBEDDED_ROOT
    from .families.stored import EMBEDDED_DEFAULTS

    out = Path(out)
    target = out.resolve()
    if target.parent == EMBEDDED_ROOT.resolve() and target.name in EMBEDDED_DEFAULTS:
        raise ValueError(f"{out}: is the embedded default dataset {target.name!r}, which is never replaced; choose "
                         "another name (--out datasets/<other>)")
    if (out / "metadata.json").is_file():
        if not overwrite:
            raise ValueError(f"{out}: already holds a dataset; pass --overwrite to replace it, or --out elsewhere")
        return
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise ValueError(f"{out}: is a folder holding other files (no metadata.json); choose an empty or new folder")
    parent = next((p for p in out.absolute().parents if p.exists()), None)
    if parent is None or not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"{out}: cannot be created ({parent} is not writable)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutputLock:
    """``with OutputLock(path):`` holds ``<path>.lock`` for one writer. A second process gets one line naming the
    first (pid, host, start time, command); a lock file left by a dead process is taken over with a warning
    (``flock`` locks die with their process, so a lock file without a lock is stale)."""

    def __init__(self, path: str | Path, what: str = "output", command: str | None = None, *,
                 lock_file: str | Path | None = None):
        """Locks ``<path>.lock``, or ``lock_file`` itself when given."""
        self.path = Path(lock_file) if lock_file is not None else Path(str(path) + ".lock")
        self.what = what
        self.command = command if command is not None else " ".join(["harness", *sys.argv[1:]])
        self.fh: IO[str] | None = None

    def acquire(self) -> OutputLock:
        import fcntl

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.path, "a+")
        except OSError as e:  # a folder that cannot be made or written: one line naming the output
            raise PermissionError(f"{self.what}: cannot write there ({e.strerror or e}: "
                                  f"{e.filename or self.path.parent}); choose a writable folder") from None
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            other = fh.read().strip() or "another process"
            fh.close()
            raise OutputLocked(f"{self.what} is being written by {other}; wait for it to finish or write elsewhere "
                               f"(lock file {self.path})", holder=other) from None
        fh.seek(0)
        old = fh.read().strip()
        m = re.match(r"pid (\d+)", old)
        if m and int(m.group(1)) != os.getpid():
            state = "dead" if not _alive(int(m.group(1))) else "no longer holding it"
            log.warning("%s: taking over the lock of pid %s (%s): %s", self.path, m.group(1), state, old)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {platform.node()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}: "
                 f"{self.command[:200]}\n")
        fh.flush()
        self.fh = fh
        return self

    def release(self) -> None:
        if self.fh is not None:  # emptied, not removed: removing it would let two later writers lock two files
            self.fh.seek(0)
            self.fh.truncate()
            self.fh.close()
            self.fh = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()
