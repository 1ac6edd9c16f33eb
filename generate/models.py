"""Torch modules built from sampled architectures, and their architecture features (AP)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class MetaQNNNet(nn.Module):
    def __init__(self, arch: dict[str, Any], in_ch: int, side: int, n_classes: int):
        super().__init__()
        feats: list[nn.Module] = []
        ch = in_ch
        for layer in arch["layers"]:
            if layer["type"] == "conv":
                k = layer["kernel"]
                feats += [nn.Conv2d(ch, layer["filters"], k, padding=k // 2), nn.BatchNorm2d(layer["filters"]),
                          nn.ReLU(inplace=True)]
                ch = layer["filters"]
            elif layer["type"] == "pool" and side >= 2:
                feats.append(nn.MaxPool2d(2))
                side //= 2
        self.features = nn.Sequential(*feats)
        head: list[nn.Module] = [nn.Flatten()]
        width = ch * side * side
        for layer in arch["layers"]:
            if layer["type"] == "fc":
                head += [nn.Linear(width, layer["units"]), nn.ReLU(inplace=True), nn.Dropout(arch.get("dropout", 0))]
                width = layer["units"]
        head.append(nn.Linear(width, n_classes))
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int, stride: int):
        super().__init__()
        self.c1 = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        self.b1 = nn.BatchNorm2d(c_out)
        self.c2 = nn.Conv2d(c_out, c_out, k, 1, k // 2, bias=False)
        self.b2 = nn.BatchNorm2d(c_out)
        self.short = (nn.Sequential() if stride == 1 and c_in == c_out else
                      nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.b1(self.c1(x)))
        return torch.relu(self.b2(self.c2(y)) + self.short(x))


class ResNet(nn.Module):
    """CIFAR-style ResNet: 3 stages of ``blocks`` basic blocks, depth 6n+2."""

    def __init__(self, arch: dict[str, Any], in_ch: int, side: int, n_classes: int):
        super().__init__()
        f, k, n = arch["filters"], arch["kernel"], arch["blocks"]
        layers: list[nn.Module] = [nn.Conv2d(in_ch, f, 3, 1, 1, bias=False), nn.BatchNorm2d(f), nn.ReLU()]
        c = f
        for stage, width in enumerate((f, 2 * f, 4 * f)):
            for b in range(n):
                stride = 2 if stage > 0 and b == 0 and side >= 4 else 1
                layers.append(BasicBlock(c, width, k, stride))
                c = width
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(c, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.body(x), 1), 1))


class LRN(nn.Module):
    """Local response normalisation across channels, ``x / (k + alpha * mean_window(x^2))^beta``, as
    ``nn.LocalResponseNorm``, but with ``alpha`` and ``beta`` as buffers so that models that differ only
    in them can be stacked and trained together (:mod:`generate.batched`)."""

    def __init__(self, size: int, alpha: float, beta: float, k: float = 1.0):
        super().__init__()
        self.size, self.k = size, k
        self.register_buffer("alpha", torch.tensor(float(alpha)))
        self.register_buffer("beta", torch.tensor(float(beta)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[-3]
        sq = nn.functional.pad(x * x, (0, 0, 0, 0, self.size // 2, (self.size - 1) // 2))
        win = sum(sq[..., i:i + c, :, :] for i in range(self.size)) / self.size
        return x / (win * self.alpha + self.k) ** self.beta


class CudaConvnet(nn.Module):
    """Cuda-convnet "layers-18pct": conv-pool-LRN x2, conv, FC, with variable LRN constants."""

    def __init__(self, arch: dict[str, Any], in_ch: int, side: int, n_classes: int):
        super().__init__()
        lrn = dict(size=3, alpha=arch["lrn_scale"], beta=arch["lrn_power"])
        pool = side >= 4
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2) if pool else nn.Identity(),
            LRN(**lrn),
            nn.Conv2d(32, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2) if pool else nn.Identity(),
            LRN(**lrn),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.fc = nn.Linear(64, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(x))


class LSTMLM(nn.Module):
    def __init__(self, arch: dict[str, Any], vocab: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, arch["embed"])
        self.drop = nn.Dropout(arch["dropout"])
        self.lstm = nn.LSTM(arch["embed"], arch["hidden"], arch["layers"], batch_first=True,
                            dropout=arch["dropout"] if arch["layers"] > 1 else 0.0)
        self.out = nn.Linear(arch["hidden"], vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.drop(self.embed(x)))
        return self.out(self.drop(h))


def build(config: dict[str, Any], data_shape: dict[str, int]) -> nn.Module:
    fam, arch = config["family"], config["arch"]
    if fam == "lstm":
        return LSTMLM(arch, data_shape["vocab"])
    cls = {"metaqnn": MetaQNNNet, "resnet": ResNet, "cudaconvnet": CudaConvnet}[fam]
    return cls(arch, data_shape["channels"], data_shape["side"], data_shape["classes"])


def arch_features(config: dict[str, Any], model: nn.Module) -> dict[str, float]:
    """AP features (Baker 3.1): total weights, number of layers, plus family-specific columns."""
    n_weights = sum(p.numel() for p in model.parameters())
    arch, fam = config["arch"], config["family"]
    if fam == "metaqnn":
        convs = [x for x in arch["layers"] if x["type"] == "conv"]
        fcs = [x for x in arch["layers"] if x["type"] == "fc"]
        return {"n_weights": n_weights, "n_layers": len(convs) + len(fcs) + 1, "n_conv": len(convs),
                "n_fc": len(fcs), "n_pool": sum(x["type"] == "pool" for x in arch["layers"]),
                "total_filters": sum(x["filters"] for x in convs),
                "mean_kernel": sum(x["kernel"] for x in convs) / max(len(convs), 1)}
    if fam == "resnet":
        return {"n_weights": n_weights, "n_layers": 6 * arch["blocks"] + 2, "filters": arch["filters"],
                "kernel": arch["kernel"]}
    if fam == "lstm":
        return {"n_weights": n_weights, "n_layers": arch["layers"], "hidden": arch["hidden"], "embed": arch["embed"]}
    return {"n_weights": n_weights, "n_layers": 4}
