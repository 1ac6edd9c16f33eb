"""DPL's surrogate (Kadra et al. 2023; releaunifreiburg/DPL, ``models/conditioned_power_law.py`` and
``surrogate_models/power_law_surrogate.py``) as one batched PyTorch network: an ensemble of ``E`` MLPs
(``layers`` x ``units``, LeakyReLU) that map a configuration's hyperparameters to (alpha, beta, gamma) of

    y(b) = alpha + beta * sigmoid(beta) * b ** (-gamma * sigmoid(gamma)),     b = epoch / max_epoch

(``GLU(cat(x, x)) = x * sigmoid(x)``, as the DPL code writes it), trained on the L1 loss with Adam (lr 1e-3,
batches of 64, ``nn.Linear``'s initialisation). The members are stacked: one forward and one backward pass
(``torch.baddbmm``) train all of them, each on its own initialisation and data order, as separate networks
with separate Adam optimisers would (Adam is elementwise, the members share no parameter, and each member's
loss is its own mean). :class:`PerMemberPowerLaw` trains them one after the other, the straightforward loop the
batched one is measured against (``benchmarks/dpl_speed.py``).

Imported when a DPL run starts: torch is an optional extra (``pip install torch==2.13.0``), the replay engine
never imports it.
"""

from __future__ import annotations

import math

import numpy as np
import torch


class PowerLawEnsemble:
    """``members`` power-law MLPs trained together. ``fit`` trains from scratch; ``refine`` continues training
    with one example added to every batch (DPL's refinement); ``predict`` gives each member's y(b)."""

    def __init__(self, n_features: int, *, members: int = 5, units: int = 128, layers: int = 2, lr: float = 1e-3,
                 batch_size: int = 64, seed: int = 0):
        self.d, self.E, self.units, self.layers = n_features, members, units, layers
        self.lr, self.batch_size = lr, batch_size
        self.gen = torch.Generator().manual_seed(int(seed))
        self.params: list[torch.Tensor] = []
        self._adam: tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]] = ([], [], [])

    def reset(self) -> None:
        """New weights (``nn.Linear``'s default: uniform in +-1/sqrt(fan_in)) and a fresh optimiser (Adam's moments
        and step counts: ``torch.optim.adam.adam`` with ``fused=True`` is the kernel ``torch.optim.Adam(fused=True)``
        runs, called without the optimiser object's per-step bookkeeping: the same weights bit for bit, 12% less
        time a step; tests/algorithms/test_freezethaw.py compares them)."""
        sizes = [self.d] + [self.units] * self.layers + [3]
        self.params = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1.0 / math.sqrt(a)
            for shape in ((self.E, a, b), (self.E, 1, b)):
                p = (torch.rand(shape, generator=self.gen) * 2 - 1) * bound
                self.params.append(p.requires_grad_())
        self._adam = ([torch.zeros_like(p) for p in self.params], [torch.zeros_like(p) for p in self.params],
                      [torch.tensor(0.0) for _ in self.params])

    def _step(self, loss: torch.Tensor) -> None:
        from torch.optim.adam import adam

        grads = list(torch.autograd.grad(loss, self.params))
        exp_avg, exp_avg_sq, steps = self._adam
        adam(self.params, grads, exp_avg, exp_avg_sq, [], steps, foreach=None, fused=True, capturable=False,
             differentiable=False, grad_scale=None, found_inf=None, has_complex=False, amsgrad=False, beta1=0.9,
             beta2=0.999, lr=self.lr, weight_decay=0.0, eps=1e-8, maximize=False)

    def _forward(self, x: torch.Tensor, budget: torch.Tensor) -> torch.Tensor:
        h = x
        n_lin = len(self.params) // 2
        for k in range(n_lin):
            h = torch.baddbmm(self.params[2 * k + 1], h, self.params[2 * k])
            if k < n_lin - 1:
                h = torch.nn.functional.leaky_relu(h)
        alpha, beta, gamma = h[..., 0], h[..., 1], h[..., 2]
        return alpha + beta * torch.sigmoid(beta) * budget.pow(-gamma * torch.sigmoid(gamma))

    def _epochs(self, X: torch.Tensor, y: torch.Tensor, b: torch.Tensor, epochs: int, newest: int | None) -> None:
        n, bs, E = len(y), self.batch_size, self.E
        extra = None if newest is None else torch.full((E, 1), int(newest), dtype=torch.long)
        for _ in range(epochs):
            order = torch.argsort(torch.rand(E, n, generator=self.gen), dim=1)  # one data order per member
            for s in range(0, n, bs):
                idx = order[:, s:s + bs]
                if idx.shape[1] == 1:  # DPL skips a batch of one example
                    continue
                if extra is not None:
                    idx = torch.cat([idx, extra], dim=1)
                pred = self._forward(X[idx], b[idx])
                self._step((pred - y[idx]).abs().mean(dim=1).sum())

    @staticmethod
    def _tensors(X: np.ndarray, y: np.ndarray, b: np.ndarray) -> tuple[torch.Tensor, ...]:
        return (torch.as_tensor(np.asarray(X, np.float32)), torch.as_tensor(np.asarray(y, np.float32)),
                torch.as_tensor(np.asarray(b, np.float32)))

    def fit(self, X: np.ndarray, y: np.ndarray, b: np.ndarray, epochs: int) -> None:
        """Train from scratch: ``X`` (n, d) features, ``y`` (n,) values at budgets ``b`` (n,) in (0, 1]."""
        self.reset()
        self._epochs(*self._tensors(X, y, b), epochs, None)

    def refine(self, X: np.ndarray, y: np.ndarray, b: np.ndarray, epochs: int, newest: int) -> None:
        """Continue training for ``epochs`` with example ``newest`` added to every batch."""
        self._epochs(*self._tensors(X, y, b), epochs, newest)

    def predict(self, X: np.ndarray, b: float | np.ndarray = 1.0) -> np.ndarray:
        """(E, n) predictions at budget(s) ``b`` in (0, 1] (1.0: the final epoch)."""
        with torch.no_grad():
            Xt = torch.as_tensor(np.asarray(X, np.float32)).expand(self.E, -1, -1)
            bt = torch.as_tensor(np.broadcast_to(np.asarray(b, np.float32), (len(X),)).copy())
            return self._forward(Xt, bt.expand(self.E, -1)).numpy().astype(float)


class PerMemberPowerLaw:
    """The same ensemble as ``members`` separate one-member networks, each with its own optimiser and its own
    loop (what the DPL code does): the baseline of ``benchmarks/dpl_speed.py``."""

    def __init__(self, n_features: int, *, members: int = 5, seed: int = 0, **kw):
        self.members = [PowerLawEnsemble(n_features, members=1, seed=seed * 1000 + m, **kw) for m in range(members)]

    def fit(self, X: np.ndarray, y: np.ndarray, b: np.ndarray, epochs: int) -> None:
        for m in self.members:
            m.fit(X, y, b, epochs)

    def refine(self, X: np.ndarray, y: np.ndarray, b: np.ndarray, epochs: int, newest: int) -> None:
        for m in self.members:
            m.refine(X, y, b, epochs, newest)

    def predict(self, X: np.ndarray, b: float | np.ndarray = 1.0) -> np.ndarray:
        return np.concatenate([m.predict(X, b) for m in self.members], axis=0)
