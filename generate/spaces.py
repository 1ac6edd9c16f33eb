"""Search spaces of Baker et al. 2018 (scaled to the data at hand), sampled with a seed.

A sampled configuration is a plain dict: ``{"config_id", "family", "hp": {...}, "arch": {...}}``.
``hp`` are training hyperparameters; ``arch`` describes the network and is turned into a torch
module by :mod:`generate.models`; architecture features (AP: weights, layers, ...) are computed from
the built module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FAMILIES = ("metaqnn", "resnet", "lstm", "cudaconvnet")


@dataclass(frozen=True)
class SpaceConfig:
    """Ranges of one search space. ``family`` picks the sampler."""

    family: str = "metaqnn"
    # MetaQNN-style CNN
    max_conv: int = 4
    conv_filters: tuple[int, ...] = (8, 16, 32, 64)
    conv_kernels: tuple[int, ...] = (1, 3, 5)
    max_fc: int = 2
    fc_units: tuple[int, ...] = (32, 64, 128)
    pool_prob: float = 0.35
    # ResNet
    resnet_blocks: tuple[int, ...] = (1, 2, 3)  # blocks per stage (3 stages): depth = 6n + 2
    resnet_filters: tuple[int, ...] = (8, 16, 32)
    resnet_kernels: tuple[int, ...] = (3, 5)
    # LSTM language model
    lstm_layers: tuple[int, ...] = (1, 2)
    lstm_hidden: tuple[int, ...] = (32, 64, 128, 256)
    lstm_embed: tuple[int, ...] = (16, 32, 64)
    # training hyperparameters
    lr_range: tuple[float, float] = (1e-3, 3e-1)  # log-uniform
    optimizer: str = "sgd"  # sgd (momentum 0.9) or adam
    weight_decay_range: tuple[float, float] = (1e-6, 1e-2)  # log-uniform
    batch_sizes: tuple[int, ...] = (32, 64, 128)
    lr_schedules: tuple[str, ...] = ("constant", "step", "exponential")
    dropout_range: tuple[float, float] = (0.0, 0.5)


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(10 ** rng.uniform(np.log10(lo), np.log10(hi)))


def _choice(rng: np.random.Generator, xs: tuple[Any, ...]) -> Any:
    x = xs[int(rng.integers(len(xs)))]
    return x.item() if hasattr(x, "item") else x


def _training_hp(rng: np.random.Generator, s: SpaceConfig) -> dict[str, Any]:
    return {
        "lr": _loguniform(rng, *s.lr_range),
        "weight_decay": _loguniform(rng, *s.weight_decay_range),
        "batch_size": int(_choice(rng, s.batch_sizes)),
        "lr_schedule": str(_choice(rng, s.lr_schedules)),
        "optimizer": s.optimizer,
    }


def _metaqnn(rng: np.random.Generator, s: SpaceConfig) -> dict[str, Any]:
    """Sequence of conv (+optional 2x2 max-pool) layers then FC layers, as MetaQNN's Q-learner builds."""
    n_conv = int(rng.integers(1, s.max_conv + 1))
    layers = []
    for _ in range(n_conv):
        layers.append({"type": "conv", "filters": int(_choice(rng, s.conv_filters)),
                       "kernel": int(_choice(rng, s.conv_kernels))})
        if rng.random() < s.pool_prob:
            layers.append({"type": "pool"})
    for _ in range(int(rng.integers(0, s.max_fc + 1))):
        layers.append({"type": "fc", "units": int(_choice(rng, s.fc_units))})
    return {"layers": layers, "dropout": float(rng.uniform(*s.dropout_range))}


def _resnet(rng: np.random.Generator, s: SpaceConfig) -> dict[str, Any]:
    return {"blocks": int(_choice(rng, s.resnet_blocks)), "filters": int(_choice(rng, s.resnet_filters)),
            "kernel": int(_choice(rng, s.resnet_kernels))}


def _lstm(rng: np.random.Generator, s: SpaceConfig) -> dict[str, Any]:
    return {"layers": int(_choice(rng, s.lstm_layers)), "hidden": int(_choice(rng, s.lstm_hidden)),
            "embed": int(_choice(rng, s.lstm_embed)), "dropout": float(rng.uniform(*s.dropout_range))}


def _cudaconvnet(rng: np.random.Generator, s: SpaceConfig) -> dict[str, Any]:
    """Fixed 3-conv + LRN network (Cuda-convnet "layers-18pct"); only its LRN constants vary (HP)."""
    return {"lrn_scale": _loguniform(rng, 1e-5, 1e-2), "lrn_power": float(rng.uniform(0.5, 1.0))}


_SAMPLERS = {"metaqnn": _metaqnn, "resnet": _resnet, "lstm": _lstm, "cudaconvnet": _cudaconvnet}


def sample_configs(space: SpaceConfig, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` configurations; config ``i`` depends only on ``(seed, i)`` (stable under resharding)."""
    if space.family not in _SAMPLERS:
        raise ValueError(f"family is {space.family!r}, but must be one of {FAMILIES}")
    if n < 1:
        raise ValueError(f"n is {n}, but must be >= 1")
    out = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        arch = _SAMPLERS[space.family](rng, space)
        hp = _training_hp(rng, space)
        if space.family == "lstm":
            hp["batch_size"] = int(_choice(rng, (16, 32, 64)))
        if space.family == "cudaconvnet":
            hp["lr_schedule"] = "step"
            hp["step_epochs"] = int(rng.integers(2, 10))
            hp.update({"lrn_scale": arch["lrn_scale"], "lrn_power": arch["lrn_power"]})
        out.append({"config_id": f"{space.family}_{i:05d}", "index": i, "family": space.family, "hp": hp,
                    "arch": arch})
    return out
