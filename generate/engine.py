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
import subprocess
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .data import ImageData, TextData, load_images, load_text
from .models import arch_features, build
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
    try:
        out = subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], capture_output=True, text=True,
                             timeout=5, cwd=Path(__file__).parent)
        sha = out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        sha = ""
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else platform.processor() or "cpu"
    argv = list(sys.argv)
    if argv and argv[0].endswith(("generate/__main__.py", "generate\\__main__.py")):
        argv = ["python", "-m", "generate", *argv[1:]]
    return {"torch": torch.__version__, "python": platform.python_version(), "device": dev, "git_sha": sha,
            "command": " ".join(argv)}


# ---------------------------------------------------------------------------------------------


class Member:
    """One configuration being trained: model, optimiser, schedule and history."""

    def __init__(self, config: dict[str, Any], data: ImageData | TextData, device: torch.device, seed: int):
        self.config = config
        self.hp = config["hp"]
        self.seed = int(np.random.default_rng([seed, config["index"], 7]).integers(2**31))
        torch.manual_seed(self.seed)
        self.model = build(config, data.shape).to(device)
        self.ap = arch_features(config, self.model)
        params = self.model.parameters()
        if self.hp.get("optimizer", "sgd") == "adam":
            self.opt: torch.optim.Optimizer = torch.optim.Adam(params, lr=self.hp["lr"],
                                                               weight_decay=self.hp["weight_decay"])
        else:
            self.opt = torch.optim.SGD(params, lr=self.hp["lr"], momentum=0.9, weight_decay=self.hp["weight_decay"])
        self.history: list[dict[str, float]] = []
        self.status = "running"

    def lr_at(self, epoch: int) -> float:
        lr, sched = self.hp["lr"], self.hp.get("lr_schedule", "constant")
        if sched == "step":
            return lr * 0.1 ** (epoch // self.hp.get("step_epochs", 8))
        if sched == "exponential":
            return lr * 0.9**epoch
        return lr

    def state(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "opt": self.opt.state_dict(), "history": self.history,
                "status": self.status}

    def load(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.history = list(state["history"])
        self.status = state["status"]


def _steps(member: Member, data: ImageData | TextData, epoch: int, device: torch.device):
    """Minibatches of one epoch; the order depends only on (config seed, epoch)."""
    g = torch.Generator().manual_seed(member.seed * 1000 + epoch)
    bs = int(member.hp["batch_size"])
    if isinstance(data, ImageData):
        perm = torch.randperm(len(data.x_train), generator=g).to(device)
        for i in range(0, len(perm), bs):
            idx = perm[i: i + bs]
            yield data.x_train[idx], data.y_train[idx]
    else:
        L = data.seq_len
        offset = int(torch.randint(0, L, (1,), generator=g))
        stream = data.train[offset:]
        n = (len(stream) - 1) // (bs * L) * (bs * L)
        if n == 0:
            raise ValueError(f"text too short for batch_size {bs} x seq_len {L}")
        x = stream[:n].view(bs, -1)
        y = stream[1: n + 1].view(bs, -1)
        order = torch.randperm(x.shape[1] // L, generator=g)
        for j in order.tolist():
            yield x[:, j * L:(j + 1) * L], y[:, j * L:(j + 1) * L]


def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = model(x)
    if out.dim() == 3:  # language model: (B, L, V)
        out = out.reshape(-1, out.shape[-1])
        y = y.reshape(-1)
    return nn.functional.cross_entropy(out.float(), y), out


@torch.no_grad()
def _evaluate(member: Member, data: ImageData | TextData, amp: bool) -> dict[str, float]:
    member.model.eval()
    total, correct, count = 0.0, 0, 0
    if isinstance(data, ImageData):
        batches = [(data.x_val[i:i + 1024], data.y_val[i:i + 1024]) for i in range(0, len(data.x_val), 1024)]
    else:
        L, v = data.seq_len, data.val
        n = (len(v) - 1) // L * L
        batches = [(v[:n].view(-1, L), v[1:n + 1].view(-1, L))]
    for x, y in batches:
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            loss, out = _loss(member.model, x, y)
        k = y.numel()
        total += float(loss) * k
        correct += int((out.argmax(-1) == y.reshape(-1)).sum())
        count += k
    member.model.train()
    val_loss = total / count
    res = {"val_loss": val_loss, "val_acc": correct / count}
    if isinstance(data, TextData):
        res["val_ppl"] = math.exp(min(val_loss, 50.0))
    return res


def train_epoch_group(members: list[Member], data: ImageData | TextData, epoch: int, device: torch.device,
                      amp: bool) -> None:
    """One epoch for each member, steps interleaved (one CUDA stream per member on a GPU).

    Recorded seconds are per member, what one configuration costs on one worker: on the CPU the wall time of
    the member's own steps (the interleaving is synchronous, so this is exact); on a GPU, where steps run
    concurrently, the group's training time shared in proportion to the members' step counts. Evaluation is
    timed per member and added."""
    streams = [torch.cuda.Stream() for _ in members] if device.type == "cuda" else [None] * len(members)
    iters = [iter(_steps(m, data, epoch, device)) for m in members]
    sums = [torch.zeros((), device=device) for _ in members]
    counts = [0] * len(members)
    own = [0.0] * len(members)
    for m in members:
        for grp in m.opt.param_groups:
            grp["lr"] = m.lr_at(epoch)
    live = list(range(len(members)))
    step = 0
    t_group = time.perf_counter()
    while live:
        for j in list(live):
            m = members[j]
            t0 = time.perf_counter()
            batch = next(iters[j], None)
            if batch is None:
                live.remove(j)
                continue
            torch.manual_seed(m.seed * 100_003 + epoch * 10_007 + step)  # dropout independent of grouping
            ctx = torch.cuda.stream(streams[j]) if streams[j] is not None else nullcontext()
            with ctx:
                x, y = batch
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                    loss, _ = _loss(m.model, x, y)
                m.opt.zero_grad(set_to_none=True)
                loss.backward()
                m.opt.step()
                sums[j] += loss.detach()
                counts[j] += 1
            own[j] += time.perf_counter() - t0
        step += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
        total = time.perf_counter() - t_group
        own = [total * c / max(sum(counts), 1) for c in counts]
    train_losses = [float(sums[j]) / max(counts[j], 1) for j in range(len(members))]
    _finish_epoch(members, data, epoch, amp, train_losses, own)


def _finish_epoch(members: list[Member], data: ImageData | TextData, epoch: int, amp: bool,
                  train_losses: list[float], train_seconds: list[float]) -> None:
    """Evaluate each member (timed on its own) and append the epoch's record."""
    for m, train_loss, sec in zip(members, train_losses, train_seconds, strict=True):
        t0 = time.perf_counter()
        rec = {"epoch": epoch + 1, "train_loss": train_loss}
        if not math.isfinite(train_loss):
            m.status = "diverged"
            rec.update({"val_loss": float("nan"), "val_acc": float("nan")})
            if isinstance(data, TextData):
                rec["val_ppl"] = float("nan")
        else:
            rec.update(_evaluate(m, data, amp))
        rec["seconds"] = sec + time.perf_counter() - t0
        m.history.append(rec)


def train_epoch_stack(members: list[Member], data: ImageData | TextData, epoch: int, device: torch.device,
                      amp: bool) -> None:
    """One epoch of members that share an architecture, as one stacked model (:mod:`generate.batched`); each
    member records the stack's training time divided by the stack size, plus its own evaluation."""
    from .batched import train_epoch_stacked

    seconds = train_epoch_stacked(members, data, epoch, device, amp)
    _finish_epoch(members, data, epoch, amp, [m._stacked_train_loss for m in members],
                  [seconds / len(members)] * len(members))


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
            old = json.loads(run_json.read_text())["settings"]
            defaults = _json_safe(GenerateConfig(name=self.cfg.name).settings())
            for k in settings:
                if _differs(old.get(k), settings[k], defaults.get(k)):
                    raise ValueError(f"{run_json}: the run was started with {k}={old.get(k)!r}, now {k}="
                                     f"{settings[k]!r}; use another out_dir or the same settings to resume")
        else:
            _atomic_write(run_json, json.dumps({"settings": settings, "provenance": provenance()}, indent=2).encode())
        cpath = self.dir / "configs.jsonl"
        if not cpath.is_file():
            _atomic_write(cpath, "".join(json.dumps(c) + "\n" for c in self.configs).encode())

    def lock(self) -> Any:
        """Hold ``lock.shard<k>`` for the life of the run: a second run on the same directory and shard
        fails at once with a one-line error naming the first (pid, host, command)."""
        import fcntl

        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"lock.shard{self.cfg.shard}"
        fh = open(path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            other = fh.read().strip() or "unknown process"
            fh.close()
            raise RunLocked(f"{self.dir}: another generate run is writing this directory (shard "
                            f"{self.cfg.shard}): {other}; wait for it to finish or use another out_dir") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {platform.node()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}: "
                 f"{provenance()['command']}\n")
        fh.flush()
        return fh

    def pending(self) -> list[dict[str, Any]]:
        mine = [c for c in self.configs if c["index"] % self.cfg.n_shards == self.cfg.shard]
        return [c for c in mine if not (self.dir / "done" / f"{c['config_id']}.json").is_file()]

    def _finish(self, m: Member) -> None:
        cid = m.config["config_id"]
        if m.status == "running":
            m.status = "ok"
        while len(m.history) < self.cfg.epochs:  # diverged: pad with NaN
            m.history.append({"epoch": len(m.history) + 1, "train_loss": float("nan"), "val_loss": float("nan"),
                              "val_acc": float("nan"), "seconds": float("nan")})
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
            lock.close()

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
        data = load_images(d.source, d.root, n_train=d.n_train, n_val=d.n_val, seed=self.cfg.seed)
        for k in ("x_train", "y_train", "x_val", "y_val"):
            setattr(data, k, getattr(data, k).to(device))
        return data


def _to_bytes(obj: Any) -> bytes:
    import io

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()
