"""Optimisers updating parameter arrays IN PLACE (PyTorch's update rules).

``opt = Adam(model.parameters(), lr=1e-3)``; after ``model.backward(...)`` call
``opt.step(model.gradients())``. Keys of the grads dict match the params dict.
"""

from __future__ import annotations

import math

import numpy as np

from .layer import Array


class Optimizer:
    """Base: holds the live parameter arrays by name and a learning rate ``lr``."""

    def __init__(self, params: dict[str, Array], lr: float, weight_decay: float = 0.0) -> None:
        if lr < 0 or weight_decay < 0:
            raise ValueError(f"lr and weight_decay must be >= 0, got {lr} and {weight_decay}")
        self.params = params
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)

    def _grad(self, name: str, grads: dict[str, Array]) -> Array:
        g = grads[name]
        if self.weight_decay:
            g = g + self.weight_decay * self.params[name]
        return g

    def step(self, grads: dict[str, Array]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """buf = momentum * buf + g (g += weight_decay * p); p -= lr * buf."""

    def __init__(self, params: dict[str, Array], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = float(momentum)
        self._buf: dict[str, Array] = {}

    def step(self, grads: dict[str, Array]) -> None:
        for name, p in self.params.items():
            g = self._grad(name, grads)
            if self.momentum:
                buf = self._buf.get(name)
                if buf is None:
                    buf = self._buf[name] = np.array(g, dtype=p.dtype)
                else:
                    buf *= self.momentum
                    buf += g
                g = buf
            p -= (self.lr * g).astype(p.dtype, copy=False)


class Adam(Optimizer):
    """m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)  (L2 weight_decay as torch)."""

    def __init__(self, params: dict[str, Array], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.t = 0
        self._m = {k: np.zeros_like(p) for k, p in params.items()}
        self._v = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, grads: dict[str, Array]) -> None:
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr / (1 - b1 ** self.t)
        root_bc2 = math.sqrt(1 - b2 ** self.t)
        for name, p in self.params.items():
            g = self._grad(name, grads)
            m, v = self._m[name], self._v[name]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            denom = np.sqrt(v)
            denom /= root_bc2
            denom += self.eps
            p -= (step_size * m / denom).astype(p.dtype, copy=False)


def clip_grad_norm(grads: dict[str, Array], max_norm: float) -> float:
    """Scale all grads in place so their global L2 norm is <= max_norm; return the norm before."""
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads.values():
            g *= coef
    return total
