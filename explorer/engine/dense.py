"""Dense layers: ``Linear`` (last axis), ``Flatten``, ``Dropout`` and ``Embedding``."""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np

from .conv import positive_int
from .layer import Array, Layer


class Linear(Layer):
    """x: (..., in_features) float32 -> y: (..., out_features) = x @ weight.T + bias.

    params: weight (out_features, in_features), bias (out_features,); PyTorch init
    U(-1/sqrt(in_features), 1/sqrt(in_features)) for both.
    """

    type_name = "Linear"

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        if not isinstance(bias, bool):
            raise ValueError(f"bias must be true or false, got {bias!r}")
        rng = rng if rng is not None else np.random.default_rng()
        bound = 1.0 / math.sqrt(self.in_features)
        shape = (self.out_features, self.in_features)
        self.params["weight"] = rng.uniform(-bound, bound, shape).astype(np.float32)
        if bias:
            self.params["bias"] = rng.uniform(-bound, bound, self.out_features).astype(np.float32)
        self.zero_grad()

    def config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": "bias" in self.params}

    def infer(self, x: Array) -> Array:
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear expects input of shape (..., {self.in_features}), "
                             f"got shape {tuple(x.shape)}")
        y = x @ self.params["weight"].T
        if "bias" in self.params:
            y += self.params["bias"]
        return cast("Array", y)

    def forward(self, x: Array) -> tuple[Array, Any]:
        return self.infer(x), x

    def backward(self, dy: Array, cache: Any) -> Array:
        x = cache
        x2 = x.reshape(-1, self.in_features)
        dy2 = dy.reshape(-1, self.out_features)
        self.grads["weight"] += dy2.T @ x2
        if "bias" in self.params:
            self.grads["bias"] += dy2.sum(axis=0)
        return dy @ self.params["weight"]


class Flatten(Layer):
    """x: (N, d1, d2, ...) -> y: (N, d1 * d2 * ...) (PyTorch's start_dim=1)."""

    type_name = "Flatten"

    def infer(self, x: Array) -> Array:
        if x.ndim < 1:
            raise ValueError(f"Flatten expects input of shape (N, ...), got shape {tuple(x.shape)}")
        return x.reshape(x.shape[0], -1)

    def forward(self, x: Array) -> tuple[Array, Any]:
        return self.infer(x), x.shape

    def backward(self, dy: Array, cache: Any) -> Array:
        return cast("Array", dy.reshape(cache))


class Dropout(Layer):
    """x: (...) -> y: (...); training: zero each entry with probability p and scale the
    rest by 1 / (1 - p) (inverted dropout); eval: identity."""

    type_name = "Dropout"

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability p must be between 0 and 1, got {p!r}")
        self.p = float(p)
        self.rng = rng if rng is not None else np.random.default_rng()

    def config(self) -> dict[str, Any]:
        return {"p": self.p}

    def infer(self, x: Array) -> Array:
        return x

    def forward(self, x: Array) -> tuple[Array, Any]:
        if not self.training or self.p == 0.0:
            return x, None
        if self.p == 1.0:
            return np.zeros_like(x), np.zeros_like(x)
        scale = np.asarray(1.0 / (1.0 - self.p), dtype=x.dtype)
        mask = (self.rng.random(x.shape, dtype=np.float32) >= self.p) * scale
        return x * mask, mask

    def backward(self, dy: Array, cache: Any) -> Array:
        return dy if cache is None else dy * cache


class Embedding(Layer):
    """ids: (N, T) int -> y: (N, T, embedding_dim) = weight[ids]; weight init N(0, 1)."""

    type_name = "Embedding"

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim")
        rng = rng if rng is not None else np.random.default_rng()
        shape = (self.num_embeddings, self.embedding_dim)
        self.params["weight"] = rng.standard_normal(shape).astype(np.float32)
        self.zero_grad()

    def config(self) -> dict[str, Any]:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim}

    def infer(self, ids: Array) -> Array:
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise ValueError(f"Embedding expects integer ids, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            raise ValueError(f"Embedding ids must lie in [0, {self.num_embeddings - 1}], "
                             f"got values in [{ids.min()}, {ids.max()}]")
        return cast("Array", self.params["weight"][ids])

    def forward(self, ids: Array) -> tuple[Array, Any]:
        return self.infer(ids), np.asarray(ids)

    def backward(self, dy: Array, cache: Any) -> Array:
        """Accumulates weight gradients with np.add.at; ids have no gradient (zeros)."""
        np.add.at(self.grads["weight"], cache, dy)
        return np.zeros(cache.shape, dtype=dy.dtype)
