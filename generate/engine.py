"""Train a population, one durable epoch at a time, and export it as a curve set.

Run directory (``out_dir``)::

    run.json           settings + provenance; a rerun with other settings is refused
    configs.jsonl      every sampled configuration (deterministic from the seed)
    state/<id>.pt      checkpoint of an unfinished config after its last finished epoch (atomic)
    done/<id>.json     a finished config: per-epoch metrics, seconds, AP features, status

A crash or kill loses at most the epoch in flight: rerunning the same command resumes every
unfinished config from its checkpoint and skips finished ones, so no config is duplicated. Diverged
runs (non-finite training loss) are recorded with NaN for the remaining epochs and status "diverged".

Speed when a GPU is present: data resident on the device, bf16 autocast, and ``group_size`` models
trained concurrently (one CUDA stream each, their steps interleaved so kernels overlap).
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from harness.provenance import git_state

from .data import ImageData, TextData, load_images, load_text
from .member import Member, evaluate, loss_of, steps
from .spaces import SpaceConfig, sample_configs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataConfig:
    source: str = "digits"  # digits | cifar10_subset | cifar10 | svhn | tinyimagenet | shakespeare | ptb
    root: str | None = None  # folder of the offline files (e.g. ../shared/data/train)
    n_train: int | None = None
    n_val: int | None = None
    seq_len: int = 64
    level: str = "char"
    max_vocab: int | None = None  # text: keep the most frequent tokens, map the rest to <unk>
    downsample: int = 1  # images: average f x f pixel blocks (2: CIFAR-10 at 16 x 16)


@dataclass(frozen=True)
class GenerateConfig:
    name: str
    space: SpaceConfig = field(default_factory=SpaceConfig)
    data: DataConfig = field(default_factory=DataConfig)
    n_configs: int = 200
    epochs: int = 20
    seed: int = 0
    out_dir: str = "runs/${name}"
    device: str = "auto"  # auto | cpu | cuda
    amp: str = "auto"  # auto (bf16 on cuda) | on | off
    group_size: int = 0  # models trained concurrently; 0 = auto (1 on CPU, 8 on CUDA)
    stack: str = "auto"  # same-architecture members as one vmapped model: auto (on CUDA), on, off
    shard: int = 0
    n_shards: int = 1
    threads: int = 0  # torch CPU threads; 0 = leave default
    kill_after_epochs: int | None = None  # testing: exit abruptly after this many epochs in this process
    progress: bool = True

    def __post_init__(self) -> None:
        """Every count is checked when the run is built: one line naming the key and the rule."""
        def need_int(key: str, lo: int) -> None:
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{key} is {v!r}, but must be an integer >= {lo}")

        for key, lo in (("n_configs", 1), ("epochs", 1), ("seed", 0), ("n_shards", 1), ("shard", 0),
                        ("group_size", 0), ("threads", 0)):
            need_int(key, lo)
        if self.shard >= self.n_shards:
            raise ValueError(f"shard is {self.shard}, but must be in [0, n_shards={self.n_shards})")
        if self.kill_after_epochs is not None:
            need_int("kill_after_epochs", 1)
        if self.device not in ("auto", "cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ValueError(f"device is {self.device!r}, but must be auto, cpu, cuda or cuda:N")

    def settings(self) -> dict[str, Any]:
        """The fields that define the population (a resume must match them)."""
        d = asdict(self)
        return {k: d[k] for k in ("name", "space", "data", "n_configs", "epochs", "seed")}


def _json_safe(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: list(o) if isinstance(o, tuple) else str(o)))


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def provenance() -> dict[str, Any]:
    """Versions, device, command and the code's commit with its tree state (:func:`generate.provenance.git_state`)
    of this process; stored in ``run.json`` when a run starts and appended to its ``resumed`` list on a resume."""
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else platform.processor() or "cpu"
    argv = list(sys.argv)
    if argv and argv[0].endswith(("generate/__main__.py", "generate\\__main__.py")):
        argv = ["python", "-m", "generate", *argv[1:]]
    return {"torch": torch.__version__, "python": platform.python_version(), "device": dev, **git_state(),
            "command": " ".join(argv), "host": platform.node(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "threads": torch.get_num_threads()}


# ---------------------------------------------------------------------------------------------


def train_epoch_group(members: list[Member], data: ImageData | TextData, epoch: int, device: torch.device,
                      amp: bool) -> None:
    """One epoch for each member, steps interleaved (one CUDA stream per member on a GPU).

    Recorded seconds are per member, what one configuration costs on one worker: on the CPU the wall time of
    the member's own steps (the interleaving is synchronous, so this is exact); on a GPU, where steps run
    concurrently, the group's training time shared in proportion to the members' step counts. Evaluation is
    timed per member and added. Beside the wall seconds, the process CPU seconds (all threads) of the same
    steps: on a shared machine they measure the configuration, not the load (``cpu_seconds``)."""
    streams = [torch.cuda.Stream() for _ in members] if device.type == "cuda" else [None] * len(members)
    iters = [iter(steps(m, data, epoch, device)) for m in members]
    sums = [torch.zeros((), device=device) for _ in members]
    counts = [0] * len(members)
    own = [0.0] * len(members)
    own_cpu = [0.0] * len(members)
    for m in members:
        for grp in m.opt.param_groups:
            grp["lr"] = m.lr_at(epoch)
    live = list(range(len(members)))
    step = 0
    t_group = time.perf_counter()
    while live:
        for j in list(live):
            m = members[j]
            t0, c0 = time.perf_counter(), time.process_time()
            batch = next(iters[j], None)
            if batch is None:
                live.remove(j)
                continue
            torch.manual_seed(m.seed * 100_003 + epoch * 10_007 + step)  # dropout independent of grouping
            ctx = torch.cuda.stream(streams[j]) if streams[j] is not None else nullcontext()
            with ctx:
                x, y = batch
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                    loss, _ = loss_of(m.model, x, y)
                m.opt.zero_grad(set_to_none=True)
                loss.backward()
                m.opt.step()
                sums[j] += loss.detach()
                counts[j] += 1
            own[j] += time.perf_counter() - t0
            own_cpu[j] += time.process_time() - c0
        step += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
        total = time.perf_counter() - t_group
        own = [total * c / max(sum(counts), 1) for c in counts]
    train_losses = [float(sums[j]) / max(counts[j], 1) for j in range(len(members))]
    _finish_epoch(members, data, epoch, amp, train_losses, own, own_cpu)


def _finish_epoch(members: list[Member], data: ImageData | TextData, epoch: int, amp: bool,
                  train_losses: list[float], train_seconds: list[float], train_cpu: list[float]) -> None:
    """Evaluate each member (timed on its own) and append the epoch's record."""
    for m, train_loss, sec, cpu in zip(members, train_losses, train_seconds, train_cpu, strict=True):
        t0, c0 = time.perf_counter(), time.process_time()
        rec = {"epoch": epoch + 1, "train_loss": train_loss}
        if not math.isfinite(train_loss):
            m.status = "diverged"
            rec.update({"val_loss": float("nan"), "val_acc": float("nan")})
            if isinstance(data, TextData):
                rec["val_ppl"] = float("nan")
        else:
            rec.update(evaluate(m, data, amp))
        rec["seconds"] = sec + time.perf_counter() - t0
        rec["cpu_seconds"] = cpu + time.process_time() - c0
        m.history.append(rec)


def train_epoch_stack(members: list[Member], data: ImageData | TextData, epoch: int, device: torch.device,
                      amp: bool) -> None:
    """One epoch of members that share an architecture, as one stacked model (:mod:`generate.batched`); each
    member records the stack's training time (wall and CPU) divided by the stack size, plus its own evaluation."""
    from .batched import train_epoch_stacked

    c0 = time.process_time()
    seconds = train_epoch_stacked(members, data, epoch, device, amp)
    cpu = time.process_time() - c0
    _finish_epoch(members, data, epoch, amp, [m._stacked_train_loss for m in members],
                  [seconds / len(members)] * len(members), [cpu / len(members)] * len(members))


def train_epoch(members: list[Member], data: ImageData | TextData, epoch: int, device: torch.device, amp: bool,
                stack: bool) -> None:
    """Members with the same :func:`generate.batched.stack_key` train stacked (when ``stack``), the rest
    interleaved."""
    if not stack or len(members) == 1:
        train_epoch_group(members, data, epoch, device, amp)
        return
    from .batched import stack_key

    groups: dict[str | None, list[Member]] = {}
    for m in members:
        groups.setdefault(stack_key(m), []).append(m)
    rest = groups.pop(None, [])
    for ms in groups.values():
        if len(ms) > 1:
            train_epoch_stack(ms, data, epoch, device, amp)
        else:
            rest += ms
    if rest:
        train_epoch_group(rest, data, epoch, device, amp)


# ---------------------------------------------------------------------------------------------


class RunLocked(RuntimeError):
    """Another process holds the run directory's lock."""


def _differs(old: Any, new: Any, default: Any) -> bool:
    """Settings of a resumed run differ. A key that a newer version added to a settings dict is fine
    when its value is still the default (older run.json files lack it)."""
    if isinstance(old, dict) and isinstance(new, dict):
        default = default if isinstance(default, dict) else {}
        return any(_differs(old[k], new.get(k), default.get(k)) if k in old
                   else new[k] != default.get(k) for k in set(old) | set(new))
    return old != new


class Run:
    """A population being generated in ``cfg.out_dir``.

    Stopping: ``touch <out_dir>/STOP`` makes a running process finish the configs it has in flight and
    exit cleanly (the file is removed), so every trained epoch ends in a finished ``done/`` record."""

    def __init__(self, cfg: GenerateConfig):
        self.cfg = cfg
        self.dir = Path(cfg.out_dir.replace("${name}", cfg.name))
        self.configs = sample_configs(cfg.space, cfg.n_configs, cfg.seed)

    def prepare(self) -> None:
        (self.dir / "state").mkdir(parents=True, exist_ok=True)
        (self.dir / "done").mkdir(parents=True, exist_ok=True)
        run_json = self.dir / "run.json"
        settings = _json_safe(self.cfg.settings())
        if run_json.is_file():
            meta = json.loads(run_json.read_text())
            old = meta["settings"]
            defaults = _json_safe(GenerateConfig(name=self.cfg.name).settings())
            for k in settings:
                if _differs(old.get(k), settings[k], defaults.get(k)):
                    raise ValueError(f"{run_json}: the run was started with {k}={old.get(k)!r}, now {k}="
                                     f"{settings[k]!r}; use another out_dir or the same settings to resume")
            if self.pending():  # a resume that trains: its code version is part of the population's provenance
                meta.setdefault("resumed", []).append(provenance())
                _atomic_write(run_json, json.dumps(meta, indent=2).encode())
        else:
            _atomic_write(run_json, json.dumps({"settings": settings, "provenance": provenance()}, indent=2).encode())
        cpath = self.dir / "configs.jsonl"
        if not cpath.is_file():
            _atomic_write(cpath, "".join(json.dumps(c) + "\n" for c in self.configs).encode())

    def lock(self) -> Any:
        """Hold ``lock.shard<k>`` for the life of the run: a second run on the same directory and shard
        fails at once with a one-line error naming the first (pid, host, command); a lock file left by a dead
        process is taken over with a warning (:class:`harness.write.OutputLock`)."""
        from harness.write import OutputLock, OutputLocked

        self.dir.mkdir(parents=True, exist_ok=True)
        lock = OutputLock(self.dir, what=f"{self.dir} (shard {self.cfg.shard})", command=provenance()["command"],
                          lock_file=self.dir / f"lock.shard{self.cfg.shard}")
        try:
            return lock.acquire()
        except OutputLocked as e:
            raise RunLocked(f"{self.dir}: another generate run is writing this directory (shard "
                            f"{self.cfg.shard}): {e.holder}; wait for it to finish or use another out_dir") from None

    def pending(self) -> list[dict[str, Any]]:
        mine = [c for c in self.configs if c["index"] % self.cfg.n_shards == self.cfg.shard]
        return [c for c in mine if not (self.dir / "done" / f"{c['config_id']}.json").is_file()]

    def _finish(self, m: Member) -> None:
        cid = m.config["config_id"]
        if m.status == "running":
            m.status = "ok"
        while len(m.history) < self.cfg.epochs:  # diverged: pad with NaN
            m.history.append({"epoch": len(m.history) + 1, "train_loss": float("nan"), "val_loss": float("nan"),
                              "val_acc": float("nan"), "seconds": float("nan"), "cpu_seconds": float("nan")})
        rec = {"config_id": cid, "status": m.status, "ap": m.ap, "history": m.history}
        _atomic_write(self.dir / "done" / f"{cid}.json", json.dumps(rec).encode())
        state = self.dir / "state" / f"{cid}.pt"
        if state.exists():
            state.unlink()

    def execute(self) -> int:
        """Train every pending config of this shard. Returns the number of epochs trained."""
        cfg = self.cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        lock = self.lock()
        try:
            return self._execute()
        finally:
            lock.release()

    def _execute(self) -> int:
        from tqdm.auto import tqdm

        cfg = self.cfg
        self.prepare()
        device = torch.device("cuda" if cfg.device == "auto" and torch.cuda.is_available() else
                              ("cpu" if cfg.device == "auto" else cfg.device))
        amp = device.type == "cuda" if cfg.amp == "auto" else cfg.amp == "on"
        group = cfg.group_size or (8 if device.type == "cuda" else 1)
        if cfg.stack not in ("auto", "on", "off"):
            raise ValueError(f"stack is {cfg.stack!r}, but must be auto, on or off")
        stack = cfg.stack == "on" or (cfg.stack == "auto" and device.type == "cuda")
        data = self._load_data(device)
        todo = self.pending()
        total = sum(cfg.epochs for _ in todo)
        trained = 0
        bar = tqdm(total=total, desc=f"generate {cfg.name}", unit="epoch", disable=not cfg.progress)
        for g in range(0, len(todo), group):
            members = []
            for c in todo[g:g + group]:
                m = Member(c, data, device, cfg.seed)
                st = self.dir / "state" / f"{c['config_id']}.pt"
                if st.is_file():
                    m.load(torch.load(st, map_location=device, weights_only=False))
                bar.update(len(m.history))
                members.append(m)
            while True:
                active = [m for m in members if m.status == "running" and len(m.history) < cfg.epochs]
                if not active:
                    break
                by_epoch: dict[int, list[Member]] = {}
                for m in active:
                    by_epoch.setdefault(len(m.history), []).append(m)
                for epoch, ms in sorted(by_epoch.items()):
                    train_epoch(ms, data, epoch, device, amp, stack)
                    for m in ms:
                        buf = _to_bytes(m.state())
                        _atomic_write(self.dir / "state" / f"{m.config['config_id']}.pt", buf)
                        trained += 1
                        bar.update(1)
                        if cfg.kill_after_epochs is not None and trained >= cfg.kill_after_epochs:
                            bar.close()
                            os._exit(75)  # simulated crash right after a durable epoch
            for m in members:
                self._finish(m)
            stop = self.dir / "STOP"
            if stop.exists() and g + group < len(todo):
                stop.unlink(missing_ok=True)
                log.warning("%s: STOP file found; stopped after %d configs, rerun to resume", self.dir, g + group)
                break
        bar.close()
        return trained

    def _load_data(self, device: torch.device) -> ImageData | TextData:
        d = self.cfg.data
        if self.cfg.space.family == "lstm":
            kw = {k: v for k, v in (("n_train", d.n_train), ("n_val", d.n_val)) if v}
            data: ImageData | TextData = load_text(d.source, d.root, seq_len=d.seq_len, level=d.level,
                                                   max_vocab=d.max_vocab, **kw)
            data.train, data.val = data.train.to(device), data.val.to(device)
            return data
        data = load_images(d.source, d.root, n_train=d.n_train, n_val=d.n_val, seed=self.cfg.seed,
                           downsample=d.downsample)
        for k in ("x_train", "y_train", "x_val", "y_val"):
            setattr(data, k, getattr(data, k).to(device))
        return data


def _to_bytes(obj: Any) -> bytes:
    import io

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def regenerate(run_dir: str | Path, config_id: str, epochs: int, threads: int = 1) -> list[dict[str, float]]:
    """Train one configuration of a run directory again from scratch, with the run's settings, for ``epochs``
    epochs, and return its per-epoch records (to compare with the stored ones: tests/generate/test_reproducible.py;
    README "Generate" says what is bit-identical and what is only close)."""
    d = Path(run_dir)
    meta = json.loads((d / "run.json").read_text())
    st = meta["settings"]
    space = {k: tuple(v) if isinstance(v, list) else v for k, v in st["space"].items()}
    cfg = GenerateConfig(name=st["name"], space=SpaceConfig(**space), data=DataConfig(**st["data"]),
                         n_configs=st["n_configs"], epochs=st["epochs"], seed=st["seed"], out_dir=str(d),
                         threads=threads, progress=False)
    configs = [json.loads(line) for line in (d / "configs.jsonl").read_text().splitlines() if line.strip()]
    conf = next((c for c in configs if c["config_id"] == config_id), None)
    if conf is None:
        raise ValueError(f"{d}: no configuration {config_id!r}")
    if threads:
        torch.set_num_threads(threads)
    device = torch.device("cpu")
    data = Run(cfg)._load_data(device)
    m = Member(conf, data, device, cfg.seed)
    for epoch in range(epochs):
        train_epoch([m], data, epoch, device, False, False)
    return m.history
