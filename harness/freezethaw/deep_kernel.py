"""DyHPO's surrogate (Wistuba et al., NeurIPS 2022; releaunifreiburg/DyHPO ``surrogate_models/dyhpo.py``): a GP
with a deep kernel, in plain PyTorch (GPyTorch's exact GP written out: the same model, no extra dependency).

* Feature extractor: ``[hyperparameters, budget]`` -> Linear(64) -> BatchNorm -> LeakyReLU; the observed curve
  -> Conv1d(1 -> 4 channels, kernel 3) -> max pool; both concatenated -> Linear(128) -> LeakyReLU.
* GP: constant mean, scaled RBF kernel on the 128 extracted features, Gaussian noise (GPyTorch's defaults:
  softplus-positive lengthscale, outputscale and noise, raw values 0, noise at least 1e-4).
* Training: full batch, Adam (lr 1e-3) on the exact marginal log likelihood divided by the number of points
  (GPyTorch's ``ExactMarginalLogLikelihood``), feature extractor and GP together.
* Prediction: the GP posterior at the candidates' extracted features, the noise added (``likelihood(model(x))``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

NOISE_FLOOR = 1e-4
JITTER = 1e-6


class FeatureExtractor(nn.Module):
    def __init__(self, n_features: int, units1: int = 64, units2: int = 128, channels: int = 4, kernel: int = 3):
        super().__init__()
        self.fc1 = nn.Linear(n_features + 1, units1)
        self.bn1 = nn.BatchNorm1d(units1)
        self.fc2 = nn.Linear(units1 + channels, units2)
        self.cnn = nn.Sequential(nn.Conv1d(1, channels, kernel_size=kernel), nn.AdaptiveMaxPool1d(1))
        self.act = nn.LeakyReLU()

    def forward(self, x: torch.Tensor, budgets: torch.Tensor, curves: torch.Tensor) -> torch.Tensor:
        h = self.act(self.bn1(self.fc1(torch.cat([x, budgets[:, None]], dim=1))))
        lc = self.cnn(curves[:, None, :]).squeeze(2)
        return self.act(self.fc2(torch.cat([h, lc], dim=1)))


class DeepKernelGP(nn.Module):
    """Feature extractor + exact GP; ``fit`` trains for some epochs, ``predict`` gives the posterior."""

    def __init__(self, n_features: int, *, lr: float = 1e-3, kernel: int = 3, seed: int = 0):
        super().__init__()
        torch.manual_seed(int(seed))
        self.kernel = kernel
        self.fe = FeatureExtractor(n_features, kernel=kernel)
        self.mean = nn.Parameter(torch.zeros(()))
        self.raw_lengthscale = nn.Parameter(torch.zeros(()))
        self.raw_outputscale = nn.Parameter(torch.zeros(()))
        self.raw_noise = nn.Parameter(torch.zeros(()))
        self.opt = torch.optim.Adam(self.parameters(), lr=lr)

    def _k(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        ls = nn.functional.softplus(self.raw_lengthscale)
        d2 = torch.cdist(a / ls, b / ls).pow(2)
        return nn.functional.softplus(self.raw_outputscale) * torch.exp(-0.5 * d2)

    def _noise(self) -> torch.Tensor:
        return nn.functional.softplus(self.raw_noise) + NOISE_FLOOR

    def _chol(self, z: torch.Tensor) -> torch.Tensor:
        K = self._k(z, z) + (self._noise() + JITTER) * torch.eye(len(z))
        return torch.linalg.cholesky(K)

    def fit(self, X: np.ndarray, b: np.ndarray, curves: np.ndarray, y: np.ndarray, epochs: int) -> float:
        """``epochs`` full-batch steps on the exact MLL; returns the squared error of the GP's prior mean on the
        training targets (DyHPO restarts training from scratch when it exceeds 0.15). Raises
        ``torch.linalg.LinAlgError`` when the kernel matrix is not positive definite."""
        Xt, bt, ct, yt = (torch.as_tensor(np.asarray(a, np.float32)) for a in (X, b, curves, y))
        n = len(yt)
        mse = 0.0
        self.train()
        for _ in range(epochs):
            if n == 1:  # DyHPO skips a batch of one example
                continue
            self.opt.zero_grad()
            z = self.fe(Xt, bt, ct)
            L = self._chol(z)
            r = (yt - self.mean)[:, None]
            alpha = torch.cholesky_solve(r, L)
            mll = -0.5 * (r * alpha).sum() - torch.log(torch.diagonal(L)).sum() - 0.5 * n * math.log(2 * math.pi)
            loss = -mll / n
            mse = float(((yt - self.mean.detach()) ** 2).mean())
            loss.backward()
            self.opt.step()
        return mse

    def predict(self, X: np.ndarray, b: np.ndarray, curves: np.ndarray, Xq: np.ndarray, bq: np.ndarray,
                cq: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation (noise included) at the query points, given the training data."""
        self.eval()
        with torch.no_grad():
            z = self.fe(*(torch.as_tensor(np.asarray(a, np.float32)) for a in (X, b, curves)))
            zq = self.fe(*(torch.as_tensor(np.asarray(a, np.float32)) for a in (Xq, bq, cq)))
            yt = torch.as_tensor(np.asarray(y, np.float32))
            L = self._chol(z)
            Ks = self._k(z, zq)
            mean = self.mean + Ks.T @ torch.cholesky_solve((yt - self.mean)[:, None], L).squeeze(1)
            v = torch.cholesky_solve(Ks, L)
            var = nn.functional.softplus(self.raw_outputscale) - (Ks * v).sum(0) + self._noise()
            return mean.numpy().astype(float), var.clamp_min(1e-12).sqrt().numpy().astype(float)
