"""Per-epoch cost of Baker et al.'s search spaces on this machine (issue #16): a few sampled configurations of
each population config, one epoch each on one torch thread, and the core-hours a full population would take
(from the mean CPU seconds, which do not grow when other processes share the cores).

    python benchmarks/baker_space_cost.py [--configs 3] [--root ../shared/data/train]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generate.__main__ import to_config  # noqa: E402
from generate.engine import Member, Run, train_epoch_group  # noqa: E402

POPULATIONS = ("cifar10_metaqnn", "cifar10_resnet", "cifar10_cudaconvnet", "ptb_lstm", "cifar10_cudaconvnet_small",
               "ptb_lstm_small", "cifar10_resnet_small", "cifar10_metaqnn_small")


def config(name: str, root: str):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base=None):
        cfg = compose(config_name="generate", overrides=[f"population={name}", f"population.data.root={root}"])
    return to_config(cfg)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--configs", type=int, default=3)
    p.add_argument("--root", default=str(REPO.parent / "shared" / "data" / "train"))
    p.add_argument("--only", nargs="*", default=list(POPULATIONS))
    a = p.parse_args()
    torch.set_num_threads(1)
    dev = torch.device("cpu")
    print(f"{'population':28s} {'configs':>7s} {'epochs':>6s} {'s/epoch (median)':>17s} {'CPU-s (mean)':>14s} "
          f"{'core-hours':>11s}")
    for name in a.only:
        gc = config(name, a.root)
        run = Run(gc)
        data = run._load_data(dev)
        secs, cpus = [], []
        for c in run.configs[: a.configs]:
            m = Member(c, data, dev, gc.seed)
            t0, c0 = time.perf_counter(), time.process_time()
            train_epoch_group([m], data, 0, dev, False)
            secs.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        s, mean_cpu = float(np.median(secs)), float(np.mean(cpus))
        print(f"{name:28s} {gc.n_configs:7d} {gc.epochs:6d} {s:17.2f} {mean_cpu:14.2f} "
              f"{mean_cpu * gc.n_configs * gc.epochs / 3600:11.1f}", flush=True)


if __name__ == "__main__":
    main()
