"""``harness datasets fetch FAMILY|NAME``: a family's public files, checked against their sha256, into the data
home (:mod:`harness.datahome`), laid out as ``../shared/data`` is, so the family reads them from there.

The registry names, per family, every file: where it lies under a data root, its public URL (a pinned commit of
the repository that publishes it), its sha256 and size, and the licence. Downloads go through pooch: a file is
written under a temporary name and moved into place only once its checksum matches, so an interrupted or corrupt
download is never used (a rerun fetches it again; files already there and intact are kept). One fetch writes into
a data home at a time (a lock file names the one running). ``$LC_HARNESS_FETCH_MIRROR`` replaces every URL's
origin by a mirror holding the same layout (``<mirror>/<path>``): for machines behind a proxy, and for the tests,
which serve the files from a local server.

Families whose files here are a conversion (swifthb, deepobs, nasbench_nlp: wide to long CSV, JSON logs to a
table) have no registry entry: their sources are named, and the files go under a data root by hand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UserError

ENV_MIRROR = "LC_HARNESS_FETCH_MIRROR"
DPL_SNAPSHOT = "https://raw.githubusercontent.com/releaunifreiburg/DPL/de44b74030a7d4bb37467add431e6fac19cd357a"
YAHPO_SNAPSHOT = "https://raw.githubusercontent.com/slds-lmu/yahpo_data/efdab9072f63bd680396cd4b78b927c4a0caaad3"


@dataclass(frozen=True)
class RemoteFile:
    path: str  # under a data root
    url: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Source:
    family: str
    licence: str
    source: str
    files: tuple[RemoteFile, ...]


def _taskset(name: str, sha: str, size: int) -> RemoteFile:
    return RemoteFile(f"curves/taskset_imdb_rnn/{name}.json", f"{DPL_SNAPSHOT}/data/taskset/{name}.json", sha, size)


def _yahpo(rel: str, sha: str, size: int) -> RemoteFile:
    return RemoteFile(f"surrogates/yahpo/{rel}", f"{YAHPO_SNAPSHOT}/{rel}", sha, size)


REGISTRY: dict[str, Source] = {
    "taskset": Source("taskset", "Apache-2.0", "releaunifreiburg/DPL data/taskset (TaskSet, Metz et al. 2020), "
                      "commit de44b74; the same files as releaunifreiburg/DyHPO data/taskset", (
        _taskset("FixedTextRNNClassification_imdb_patch128_LSTM128_avg_bs64",
                 "5f5a332e45231a5639d43ff35ffac6bba28836593953a428dc0b508f8d4ea264", 3213812),
        _taskset("FixedTextRNNClassification_imdb_patch128_LSTM128_bs64",
                 "c52d49dfb308cfca66c02f67f89aa880ccb9f04c38ace31e18db1e58898e8c03", 3176320),
        _taskset("FixedTextRNNClassification_imdb_patch32_GRU64_avg_bs128",
                 "d3650db950bf292d52972db69fe3bfd7d2588d68b7b40f5c496977e8ebab11bc", 3365837),
        _taskset("FixedTextRNNClassification_imdb_patch32_IRNN64_relu_avg_bs128",
                 "5ae8c7fbea5f4fa5a63920767be50467bcf1647421d8b64595a5420fc1c4b7b2", 2869772),
        _taskset("FixedTextRNNClassification_imdb_patch32_LSTM128_E128_bs128",
                 "11891b4d02be630145f4ff6537bc77c2d83f517a448f1bd3c181fa67ebc59c07", 3377651),
        _taskset("FixedTextRNNClassification_imdb_patch32_LSTM128_bs128",
                 "08a52b1102b6b010ece9fa5549b2b16b0e782aca3fbd8119b4c0447fa9d72558", 3373258),
        _taskset("FixedTextRNNClassification_imdb_patch32_VRNN128_tanh_bs128",
                 "838d8716451d0ce1626450739d68d3e26561f0b5891bd939e07a7bf2e438eb2b", 3373559),
        _taskset("FixedTextRNNClassification_imdb_patch32_VRNN64_tanh_avg_bs128",
                 "b81762ce3cc0e56e0146853abc809189a3eff1c756cf7a9c4bdb1f64c79084c5", 3381410),
    )),
    "lcbench": Source("lcbench", "Apache-2.0", "slds-lmu/yahpo_data lcbench/ (YAHPO Gym's LCBench surrogate), "
                      "commit efdab90", (
        _yahpo("VERSION", "d7b039c666cef1b4784f0738908b58891455709b0908247628ca1476a9030fc5", 14),
        _yahpo("LICENSE", "b5037312286411ca69a3f374abdb42eceecc428a4287b6ad5aa43eb0fb2c387c", 581),
        _yahpo("lcbench/LICENSE-2.0.txt", "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30", 11358),
        _yahpo("lcbench/config_space.json", "4d1c78a91429b4a37628e13f286cf1abe15f778a09722a4c01714f2d72a8200d", 2151),
        _yahpo("lcbench/encoding.json", "d8af928f412bbeb07e58ecd69877fcab35fbc595333d1c1c3f76120d2f2508da", 507),
        _yahpo("lcbench/param_set.R", "4ba080dd5b3cd1b7c2015367ee669bb7db4301daa74bc69a25a265e0c833f342", 2316),
        _yahpo("lcbench/model.onnx", "b45c0d85ae39abf8820c8bea5ac82f415763afcbaf3b725e36af452b09cb6dcd", 2153124),
    )),
}

#: where the families that cannot be fetched come from (converted files: see ../shared/data/curves/*/README.txt)
BY_HAND = {
    "swifthb": "JP-Amboage/performance-pred data/mlpf and data/mnist (converted wide to long)",
    "deepobs": "fsschneider/DeepOBS_Baselines (1080 JSON runs, converted to one table)",
    "nasbench_nlp": "fmsnew/nas-bench-nlp-release train_logs_wikitext-2/logs.zip (converted to one table)",
}


class FetchError(UserError):
    """A fetch that cannot be done or went wrong (one line, exit 2)."""


def source_of(name: str) -> tuple[Source, tuple[RemoteFile, ...]]:
    """A family name, or a dataset name of a fetchable family -> its source and the files to fetch (a TaskSet
    dataset: its task's file; an LCBench dataset: the whole surrogate, which every task shares)."""
    if name in REGISTRY:
        return REGISTRY[name], REGISTRY[name].files
    if name in BY_HAND:
        raise FetchError(f"the {name} family cannot be fetched: its files are a conversion of {BY_HAND[name]}; put "
                         f"them under a data root by hand (harness datasets list shows where)")
    from .datasets import resolve_name

    task = resolve_name(name.partition(":")[0])
    if task is None:
        import difflib

        known = [*REGISTRY, *BY_HAND]
        close = difflib.get_close_matches(name, known, n=1)
        raise FetchError(f"{name!r} is neither a family nor a dataset of one (families: {', '.join(known)})"
                         + (f"; did you mean {close[0]!r}?" if close else ""))
    fam = task.family.name
    if fam not in REGISTRY:
        return source_of(fam)
    src = REGISTRY[fam]
    if fam == "taskset":
        files = tuple(f for f in src.files if Path(f.path).stem == task.task)
        return src, files or src.files
    return src, src.files


def _url(f: RemoteFile) -> str:
    mirror = os.environ.get(ENV_MIRROR)
    return f"{mirror.rstrip('/')}/{f.path}" if mirror else f.url


def _retrieve(pooch: Any, f: RemoteFile, dest: Path, bar: bool) -> str:
    """pooch's download of ``f`` to ``dest`` (checked, moved into place only when intact); the progress bar of a
    download that fails is left open by pooch: its line is ended, so the error stands on a line of its own."""
    try:
        return pooch.retrieve(_url(f), known_hash=f"sha256:{f.sha256}", fname=dest.name, path=str(dest.parent),
                              progressbar=bar)
    except BaseException:
        if bar:
            import sys

            sys.stderr.write("\n")
        raise


class _Lock:
    """One fetch into a data home at a time: an exclusive lock on ``<home>/.fetch.lock`` holding the pid."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> _Lock:
        import fcntl

        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = self.path.read_text().strip() or "?"
            os.close(self.fd)
            self.fd = None
            raise FetchError(f"another harness datasets fetch is writing into {self.path.parent} (pid {other}); "
                             "wait for it to finish") from None
        os.ftruncate(self.fd, 0)
        os.write(self.fd, str(os.getpid()).encode())
        return self

    def __exit__(self, *exc: object) -> None:
        import fcntl

        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)


def fetch(name: str, root: Path | None = None, progress: bool = True) -> tuple[Source, list[Path], int]:
    """Fetch ``name`` (a family or one of its datasets) into ``root`` (default: the data home's ``families/``).
    Returns the source, the files in place and how many were downloaded now (the others were there, intact)."""
    from .datahome import fetched_root

    src, files = source_of(name)
    root = Path(root) if root is not None else fetched_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise FetchError(f"the data home {root} is not writable ({e.strerror or e}); set LC_HARNESS_HOME to a "
                         "writable folder") from None
    import logging

    import pooch

    pooch.get_logger().setLevel(logging.WARNING)  # pooch says "Downloading data from ..." for every file
    done, new = [], 0
    with _Lock(root / ".fetch.lock"):
        for d in {(root / f.path).parent for f in files}:  # pooch's temporary files of a download killed midway
            for stale in d.glob("tmp*") if d.is_dir() else ():
                if stale.is_file():
                    stale.unlink()
        for f in files:
            dest = root / f.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.is_file() and pooch.file_hash(str(dest)) == f.sha256:  # there and intact: not fetched again
                done.append(dest)
                continue
            try:
                path = _retrieve(pooch, f, dest, progress and f.size > 1_000_000)
            except ValueError as e:  # pooch: the checksum does not match (the partial file is removed)
                if "hash" in str(e).lower():
                    raise FetchError(f"{_url(f)}: the download's sha256 does not match the registry's "
                                     f"({f.sha256[:12]}...): refused, nothing kept") from None
                raise
            except Exception as e:  # noqa: BLE001 (network errors of requests, file URLs, ...: one line)
                raise FetchError(f"{_url(f)}: download failed ({type(e).__name__}: {str(e)[:160]}); "
                                 "nothing half-written is kept, run the fetch again") from None
            new += 1
            done.append(Path(path))
    return src, done, new
