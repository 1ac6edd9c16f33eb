"""Generate-stage throughput, ratios measured in one run.

``--mode engine`` (default): config-epochs per second of the engine vs a naive loop.

naive   one model at a time, torch DataLoader over CPU tensors, batches copied to the device each
        step, fp32, no checkpointing (what a first script looks like)
engine  generate.engine.Run: data resident on the device, bf16 autocast on CUDA, ``group`` models
        trained concurrently (CUDA streams), a durable atomic checkpoint after every epoch

``--mode stack``: configurations of one architecture (Cuda-convnet) trained as one vmapped stack of
``group`` models vs one by one, both through the engine; median of ``--reps`` interleaved repetitions.

    python benchmarks/generate_throughput.py                      # CPU, sklearn digits
    python benchmarks/generate_throughput.py --source cifar10_subset --root ../shared/data/train --group 16
    python benchmarks/generate_throughput.py --mode stack --group 8 --reps 3
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generate.data import load_images  # noqa: E402
from generate.engine import DataConfig, GenerateConfig, Run  # noqa: E402
from generate.models import build  # noqa: E402
from generate.spaces import SpaceConfig, sample_configs  # noqa: E402


def naive(configs, data, epochs: int, device: torch.device) -> float:
    ds = torch.utils.data.TensorDataset(data.x_train.cpu(), data.y_train.cpu())
    t0 = time.perf_counter()
    for c in configs:
        torch.manual_seed(0)
        model = build(c, data.shape).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=c["hp"]["lr"], momentum=0.9)
        loader = torch.utils.data.DataLoader(ds, batch_size=c["hp"]["batch_size"], shuffle=True)
        for _ in range(epochs):
            model.train()
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                loss = nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                xv, yv = data.x_val.to(device), data.y_val.to(device)
                float(nn.functional.cross_entropy(model(xv), yv))
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def _run_seconds(space: SpaceConfig, data_cfg: DataConfig, configs: int, epochs: int, group: int, stack: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = GenerateConfig(name="bench", space=space, data=data_cfg, n_configs=configs, epochs=epochs, out_dir=tmp,
                             group_size=group, stack=stack, progress=False)
        t0 = time.perf_counter()
        Run(cfg).execute()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter() - t0


def stack_mode(a: argparse.Namespace) -> dict:
    """One-by-one vs stacked training of same-architecture configs (Cuda-convnet), interleaved repetitions."""
    import numpy as np

    space = SpaceConfig(family="cudaconvnet", lr_range=(1e-3, 5e-2), batch_sizes=(a.batch,))
    data_cfg = DataConfig(source=a.source, root=a.root, n_train=a.n_train)
    _run_seconds(space, data_cfg, 2, 1, 2, "on")  # warm-up, not timed
    alone, stacked = [], []
    for _ in range(a.reps):
        alone.append(_run_seconds(space, data_cfg, a.configs, a.epochs, 1, "off"))
        stacked.append(_run_seconds(space, data_cfg, a.configs, a.epochs, a.group or a.configs, "on"))
    ratios = [x / y for x, y in zip(alone, stacked, strict=True)]
    return {"mode": "stack", "model": "cudaconvnet", "source": a.source, "train_images": a.n_train,
            "configs": a.configs, "epochs": a.epochs, "group": a.group or a.configs, "batch": a.batch,
            "threads": torch.get_num_threads(), "alone_s_median": float(np.median(alone)),
            "stacked_s_median": float(np.median(stacked)), "speedup_stacked_over_alone_median": float(np.median(ratios)),
            "ratios": [round(r, 3) for r in ratios]}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["engine", "stack"], default="engine")
    p.add_argument("--reps", type=int, default=3, help="stack mode: interleaved repetitions")
    p.add_argument("--batch", type=int, default=128, help="stack mode: batch size")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    p.add_argument("--source", default="digits")
    p.add_argument("--root", default=None)
    p.add_argument("--configs", type=int, default=16)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--group", type=int, default=0, help="engine group size (0 = engine default)")
    p.add_argument("--n-train", type=int, default=None)
    p.add_argument("--out", help="write the figures as JSON")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.mode == "stack":
        res = stack_mode(a)
        for k, v in res.items():
            print(f"{k:36s} {v:.3f}" if isinstance(v, float) else f"{k:36s} {v}")
        if a.out:
            Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
        return
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    space = SpaceConfig(family="metaqnn", max_conv=3, conv_filters=(16, 32, 64), max_fc=1, fc_units=(64,),
                        batch_sizes=(128,), lr_schedules=("constant",))
    configs = sample_configs(space, a.configs, seed=0)
    data = load_images(a.source, a.root, n_train=a.n_train)
    n = a.configs * a.epochs

    # warm-up (cuDNN autotune, allocator) on one config, not timed
    naive(configs[:1], data, 1, device)
    t_naive = naive(configs, data, a.epochs, device)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = GenerateConfig(name="bench", space=space, data=DataConfig(source=a.source, root=a.root,
                             n_train=a.n_train), n_configs=a.configs, epochs=a.epochs, out_dir=tmp,
                             group_size=a.group, progress=False)
        t0 = time.perf_counter()
        Run(cfg).execute()
        if device.type == "cuda":
            torch.cuda.synchronize()
        t_engine = time.perf_counter() - t0
    dev = torch.cuda.get_device_name(0) if device.type == "cuda" else (platform.processor() or "cpu")
    res = {"device": dev, "torch": torch.__version__, "source": a.source, "configs": a.configs, "epochs": a.epochs,
           "group": a.group or (8 if device.type == "cuda" else 1), "train_images": int(len(data.x_train)),
           "naive_config_epochs_per_s": n / t_naive, "engine_config_epochs_per_s": n / t_engine,
           "speedup_engine_over_naive": t_naive / t_engine}
    for k, v in res.items():
        print(f"{k:32s} {v:.3f}" if isinstance(v, float) else f"{k:32s} {v}")
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
