"""Train configurations that share an architecture as one stacked model (``torch.func`` + ``vmap``).

Members of a stack have the same architecture, batch size and optimiser type; they differ in their
weights, data order, learning rate, weight decay and in any per-model constants the architecture keeps
as buffers (Cuda-convnet's LRN scale and power). Their parameters are stacked along a new leading
dimension, one forward/backward pass serves the whole stack, and the optimiser update is the exact
arithmetic of ``torch.optim.SGD`` (momentum, weight decay) applied with per-member rates. Each member's
own ``nn.Module`` and optimiser stay the source of truth: the stack is built from them at the start of an
epoch and written back at its end, so checkpoints, resume and evaluation are those of one-by-one
training, and the curves equal one-by-one training to float tolerance (tests/test_generate.py).

The same code runs on a GPU, where a stack is one large kernel per layer instead of many small ones.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .member import steps

if TYPE_CHECKING:
    from .data import ImageData, TextData
    from .member import Member

# Modules whose training-mode behaviour differs per member in ways a stack cannot reproduce exactly
# (random masks drawn per model, running statistics updated in place).
_UNSTACKABLE = (nn.Dropout, nn.BatchNorm1d, nn.BatchNorm2d, nn.LSTM)
# architecture entries that the model holds as buffers (so they may differ inside a stack)
_BUFFER_CONSTANTS = ("lrn_scale", "lrn_power")


def stack_key(member: Member) -> str | None:
    """Members with equal keys can train as one stack; ``None`` if this member cannot be stacked."""
    if member.hp.get("optimizer", "sgd") != "sgd":
        return None
    if any(isinstance(mod, _UNSTACKABLE) and not (isinstance(mod, nn.Dropout) and mod.p == 0)
           for mod in member.model.modules()):
        return None
    arch = {k: v for k, v in member.config["arch"].items() if k not in _BUFFER_CONSTANTS}
    return json.dumps([member.config["family"], arch, int(member.hp["batch_size"])], sort_keys=True)


def train_epoch_stacked(members: list[Member], data: ImageData | TextData, epoch: int, device: torch.device,
                        amp: bool) -> float:
    """One epoch for every member (equal :func:`stack_key`), as one vmapped model. Returns the wall
    seconds of the training part (the caller divides it among the members)."""
    from torch.func import functional_call, stack_module_state

    t0 = time.perf_counter()
    base = members[0].model
    params, buffers = stack_module_state([m.model for m in members])
    names = list(params)
    lrs = torch.tensor([m.lr_at(epoch) for m in members], device=device)
    wds = torch.tensor([float(m.hp["weight_decay"]) for m in members], device=device)
    bufs = _momentum_buffers(members, names)
    for m in members:
        for grp in m.opt.param_groups:
            grp["lr"] = m.lr_at(epoch)

    def one(p: dict[str, torch.Tensor], b: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return functional_call(base, (p, b), (x,))

    batched = torch.func.vmap(one)
    iters = [iter(steps(m, data, epoch, device)) for m in members]
    sums = torch.zeros(len(members), device=device)
    count = 0
    while True:
        batch = [next(it, None) for it in iters]
        if batch[0] is None:
            break
        x = torch.stack([b[0] for b in batch])
        y = torch.stack([b[1] for b in batch])
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            out = batched(params, buffers, x)
        losses = nn.functional.cross_entropy(out.float().flatten(0, 1), y.flatten(), reduction="none")
        losses = losses.view(len(members), -1).mean(1)
        grads = torch.autograd.grad(losses.sum(), [params[n] for n in names])
        with torch.no_grad():
            for n, g in zip(names, grads, strict=True):
                p = params[n]
                shape = (-1,) + (1,) * (p.dim() - 1)
                d_p = g + wds.view(shape) * p
                if bufs[n] is None:
                    bufs[n] = d_p.clone()
                else:
                    bufs[n].mul_(0.9).add_(d_p)
                p.sub_(lrs.view(shape) * bufs[n])
            sums += losses.detach()
        count += 1
    _write_back(members, params, bufs, names)
    for j, m in enumerate(members):
        m._stacked_train_loss = float(sums[j]) / max(count, 1)  # read by the engine
    return time.perf_counter() - t0


def _momentum_buffers(members: list[Member], names: list[str]) -> dict[str, torch.Tensor | None]:
    out: dict[str, torch.Tensor | None] = {}
    per_member = [dict(m.model.named_parameters()) for m in members]
    for n in names:
        states = [m.opt.state.get(pm[n], {}).get("momentum_buffer") for m, pm in zip(members, per_member, strict=True)]
        if all(s is None for s in states):
            out[n] = None
        elif any(s is None for s in states):
            raise ValueError(f"stacked members disagree on whether parameter {n} has a momentum buffer")
        else:
            out[n] = torch.stack([s.detach() for s in states])
    return out


def _write_back(members: list[Member], params: dict[str, torch.Tensor], bufs: dict[str, Any],
                names: list[str]) -> None:
    with torch.no_grad():
        for j, m in enumerate(members):
            own = dict(m.model.named_parameters())
            for n in names:
                own[n].copy_(params[n][j])
                if bufs[n] is not None:
                    m.opt.state[own[n]]["momentum_buffer"] = bufs[n][j].clone()
