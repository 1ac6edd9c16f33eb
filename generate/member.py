"""One configuration being trained (model, optimiser, schedule, history), its minibatches and its evaluation.

Below both :mod:`generate.engine` (one-by-one and interleaved training) and :mod:`generate.batched` (stacked
training), which import it; neither imports the other's internals.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from .data import ImageData, TextData
from .models import arch_features, build


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


def steps(member: Member, data: ImageData | TextData, epoch: int, device: torch.device):
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


def loss_of(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = model(x)
    if out.dim() == 3:  # language model: (B, L, V)
        out = out.reshape(-1, out.shape[-1])
        y = y.reshape(-1)
    return nn.functional.cross_entropy(out.float(), y), out


@torch.no_grad()
def evaluate(member: Member, data: ImageData | TextData, amp: bool) -> dict[str, float]:
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
            loss, out = loss_of(member.model, x, y)
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
