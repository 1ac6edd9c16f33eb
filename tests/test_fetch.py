"""Issue #37: the data home, ``harness datasets fetch`` against a local file server (no ../shared, no network),
checksums, partial downloads, a read-only data home, two fetches at once, imports that never touch the package."""

from __future__ import annotations

import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.cli import main
from harness.fetch import REGISTRY

REPO = Path(__file__).resolve().parents[1]
GRU = "FixedTextRNNClassification_imdb_patch32_GRU64_avg_bs128"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *a):  # noqa: D401
        pass


class _Truncating(_Quiet):
    """Sends half of a file under its full Content-Length, then hangs up (a download cut midway)."""

    def do_GET(self):  # noqa: N802
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            return super().do_GET()
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def mirror(tmp_path, shared_curves, monkeypatch):
    """A local server holding the registry's files in the data-root layout; the harness pointed at it, with no
    shared data root and a fresh data home (a fresh machine, as far as the harness can tell)."""
    root = tmp_path / "mirror"
    shared = shared_curves.parent
    for src in REGISTRY.values():
        for f in src.files:
            if f.path.startswith("curves/") and GRU not in f.path:
                continue  # one TaskSet task is enough here
            (root / f.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(shared / f.path, root / f.path)
    servers = []

    def serve(handler=_Quiet):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        monkeypatch.setenv("LC_HARNESS_FETCH_MIRROR", f"http://127.0.0.1:{srv.server_address[1]}")

    serve()
    monkeypatch.setenv("LC_HARNESS_SHARED_DATA", str(tmp_path / "no_shared_here"))
    monkeypatch.setenv("LC_HARNESS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LC_HARNESS_CACHE", str(tmp_path / "home" / "cache"))
    yield root, serve
    for s in servers:
        s.shutdown()


def test_fetch_then_replay_on_a_fresh_machine(mirror, tmp_path, capsys):
    """The issue's acceptance: absent datasets say how to get them; fetch taskset (one task), replay it; fetch
    lcbench, replay a pool of it; a second fetch downloads nothing."""
    assert main(["datasets", "list", "--family", "taskset"]) == 0
    out = capsys.readouterr().out
    assert "missing" in out and "fetch with: harness datasets fetch taskset" in out
    assert main(["datasets", "fetch", "taskset_imdb_p32_gru64_avg"]) == 0
    assert "1 downloaded now" in capsys.readouterr().out
    home = tmp_path / "home" / "families"
    assert (home / "curves" / "taskset_imdb_rnn" / f"{GRU}.json").is_file()
    assert main(["replay", "-d", "taskset_imdb_p32_gru64_avg", "-a", "hyperband", "--seeds", "0", "-q"]) == 0
    assert "954 configs x 50 epochs" in capsys.readouterr().out
    assert main(["datasets", "fetch", "lcbench"]) == 0
    assert main(["datasets", "fetch", "lcbench"]) == 0
    assert "0 downloaded now, 7 already there" in capsys.readouterr().out
    assert main(["replay", "-d", "lcbench_3945:n=50", "-a", "hyperband", "--seeds", "0", "-q"]) == 0
    assert "50 configs x 52 epochs" in capsys.readouterr().out


def _one_line_error(capsys, argv):
    assert main(argv) == 2
    err = [line for line in capsys.readouterr().err.strip().splitlines()
           if line.strip() and "B/s]" not in line]  # a download's progress bar aside
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_a_corrupt_download_is_refused_and_nothing_kept(mirror, tmp_path, capsys):
    root, _ = mirror
    (root / "curves" / "taskset_imdb_rnn" / f"{GRU}.json").write_text("[]")
    msg = _one_line_error(capsys, ["datasets", "fetch", "taskset_imdb_p32_gru64_avg"])
    assert "sha256 does not match" in msg and "nothing kept" in msg
    folder = tmp_path / "home" / "families" / "curves" / "taskset_imdb_rnn"
    assert not any(folder.iterdir()) if folder.is_dir() else True


def test_a_download_cut_midway_is_never_used(mirror, tmp_path, capsys):
    """A server that hangs up halfway: one line, no file under the final name, nothing half-written left; a
    pooch temporary file a killed fetch left behind is removed by the next fetch, which completes."""
    root, serve = mirror
    serve(_Truncating)
    msg = _one_line_error(capsys, ["datasets", "fetch", "taskset_imdb_p32_gru64_avg"])
    assert "download failed" in msg or "sha256 does not match" in msg
    folder = tmp_path / "home" / "families" / "curves" / "taskset_imdb_rnn"
    assert not (folder / f"{GRU}.json").exists() and not list(folder.glob("*"))
    (folder / "tmpk1ll3d").write_bytes(b"half")  # what a SIGKILL during a download leaves
    serve()
    assert main(["datasets", "fetch", "taskset_imdb_p32_gru64_avg"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == [f"{GRU}.json"]


def test_an_unwritable_data_home_is_one_line(mirror, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("LC_HARNESS_HOME", str(blocker / "home"))  # under a file: nothing can be created
    msg = _one_line_error(capsys, ["datasets", "fetch", "lcbench"])
    assert "is not writable" in msg and "LC_HARNESS_HOME" in msg


def test_two_fetches_at_once_the_second_is_refused(mirror, tmp_path, capsys):
    from harness.fetch import _Lock

    home = tmp_path / "home" / "families"
    home.mkdir(parents=True)
    with _Lock(home / ".fetch.lock"):
        msg = _one_line_error(capsys, ["datasets", "fetch", "lcbench"])
    assert "another harness datasets fetch is writing into" in msg and "pid" in msg
    assert main(["datasets", "fetch", "lcbench"]) == 0  # the lock is released with its holder


def test_families_that_cannot_be_fetched_and_typos(mirror, capsys):
    assert "cannot be fetched: its files are a conversion" in _one_line_error(capsys, ["datasets", "fetch", "deepobs"])
    assert "did you mean 'taskset'" in _one_line_error(capsys, ["datasets", "fetch", "tasket"])


def _tree(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_import_from_any_folder_goes_to_the_data_home(tmp_path, monkeypatch, capsys):
    """Run from another folder, an import leaves the package's datasets/ as it was and lands in the data home; a
    dataset named like an embedded default is refused (never shadowed); --to DIR writes there."""
    monkeypatch.setenv("LC_HARNESS_HOME", str(tmp_path / "home"))
    before = _tree(REPO / "datasets")
    src = tmp_path / "src" / "mine"
    src.mkdir(parents=True)
    (src / "configs.csv").write_text("config_id,lr\n" + "".join(f"{i},{0.1 * (i + 1)}\n" for i in range(6)))
    (src / "curves.csv").write_text("config_id,epoch,acc\n" + "".join(f"{i},{e},{0.1 * e + 0.01 * i}\n"
                                                                    for i in range(6) for e in (1, 2, 3)))
    (src / "dataset.json").write_text('{"name": "mine", "metrics": {"acc": "max"}, "objective": "acc", '
                                      '"hp": {"lr": {"log": true}}}')
    work = tmp_path / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["datasets", "import", str(src)]) == 0
    assert (tmp_path / "home" / "datasets" / "mine" / "metadata.json").is_file()
    assert main(["replay", "-d", "mine", "-a", "hyperband", "--seeds", "0", "-q"]) == 0
    (src / "dataset.json").write_text('{"name": "digits_cnn", "metrics": {"acc": "max"}, "objective": "acc"}')
    msg = _one_line_error(capsys, ["datasets", "import", str(src)])
    assert "'digits_cnn' is the name of a dataset shipped with the harness" in msg
    assert main(["datasets", "import", str(src), "--to", str(tmp_path / "mine_copy")]) == 0
    assert (tmp_path / "mine_copy" / "metadata.json").is_file()
    assert _tree(REPO / "datasets") == before and not list(work.iterdir())


def test_the_registry_covers_the_known_taskset_tasks():
    from harness.families.taskset import KNOWN_TASKS

    assert sorted(Path(f.path).stem for f in REGISTRY["taskset"].files) == sorted(KNOWN_TASKS)
