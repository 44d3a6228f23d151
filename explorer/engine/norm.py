"""``LayerNorm`` (PyTorch's, over the last axis) and ``LearnedPositions`` (our own helper).

LayerNorm: x (..., D) -> y = (x - mean) / sqrt(var + eps) * weight + bias, mean and the
biased variance taken over the last axis; params weight (D,) = 1, bias (D,) = 0.

LearnedPositions: x (N, T, D) -> y = x + weight[:T]; weight (max_len, D). PyTorch has no
class for it (a transformer's learned position embedding is usually an ``nn.Parameter``
added by hand); the model file stores it as ``N.weight`` like any other parameter.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .conv import positive_int
from .layer import Array, Layer, check_ndim


def _dim(normalized_shape: Any) -> int:
    """PyTorch accepts an int or a shape; only the last axis is supported here."""
    if isinstance(normalized_shape, (list, tuple)):
        if len(normalized_shape) != 1:
            raise ValueError("LayerNorm supports normalising over the last axis only "
                             f"(normalized_shape of one int), got {list(normalized_shape)}")
        normalized_shape = normalized_shape[0]
    return positive_int(normalized_shape, "normalized_shape")


def layer_norm(x: Array, weight: Array | None, bias: Array | None, eps: float
               ) -> tuple[Array, Array, Array]:
    """x (..., D) -> (y, xhat, inv_std (..., 1)): the forward pass and what backward needs.

    Means as sum / D (``np.add.reduce``): the very numbers ``np.mean`` gives (it divides the
    same pairwise sum by D, in float64 for a float32 sum: a double rounding that cannot differ
    from float32's own), without its Python-level wrapper. D, eps and 1 as arrays of x's dtype
    made once: the same numbers as the Python scalars (converted to that dtype), without
    converting them on every call (a keystroke's per-position reads call this nine times)."""
    d = x.shape[-1]
    key = (d, x.dtype, eps)
    consts = _NORM_CONSTS.get(key)
    if consts is None:
        if len(_NORM_CONSTS) > 64:
            _NORM_CONSTS.clear()
        consts = _NORM_CONSTS[key] = (np.asarray(d, x.dtype), np.asarray(eps, x.dtype), np.asarray(1.0, x.dtype))
    d_, eps_, one = consts
    mean = np.add.reduce(x, axis=-1, keepdims=True) / d_
    xc = x - mean
    var = np.add.reduce(xc * xc, axis=-1, keepdims=True) / d_
    inv = one / np.sqrt(var + eps_)
    xhat = xc * inv
    y = xhat * weight if weight is not None else xhat.copy()
    if bias is not None:
        y += bias
    return y, xhat, inv


_NORM_CONSTS: dict[tuple[int, Any, float], tuple[Array, Array, Array]] = {}


def layer_norm_backward(dy: Array, xhat: Array, inv: Array, weight: Array | None
                        ) -> tuple[Array, Array, Array]:
    """-> (dx, dweight (D,), dbias (D,)) for y = xhat * weight + bias."""
    d = dy.shape[-1]
    dy2 = dy.reshape(-1, d)
    dweight = np.einsum("nd,nd->d", dy2, xhat.reshape(-1, d))
    dbias = dy2.sum(axis=0)
    g = dy * weight if weight is not None else dy
    mean_g = g.mean(axis=-1, keepdims=True)
    mean_gx = np.mean(g * xhat, axis=-1, keepdims=True)
    dx = (g - mean_g - xhat * mean_gx) * inv
    return cast("Array", dx), dweight, dbias


class LayerNorm(Layer):
    """x: (..., D) -> y: (..., D), normalised over the last axis (PyTorch's LayerNorm(D))."""

    type_name = "LayerNorm"

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        self.dim = _dim(normalized_shape)
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 < eps < 1:
            raise ValueError(f"eps must be a small positive number, got {eps!r}")
        if not isinstance(elementwise_affine, bool) or not isinstance(bias, bool):
            raise ValueError("elementwise_affine and bias must be true or false")
        self.eps = float(eps)
        if elementwise_affine:
            self.params["weight"] = np.ones(self.dim, np.float32)
            if bias:
                self.params["bias"] = np.zeros(self.dim, np.float32)
        self.zero_grad()

    def config(self) -> dict[str, Any]:
        return {"normalized_shape": [self.dim], "eps": self.eps,
                "elementwise_affine": "weight" in self.params, "bias": "bias" in self.params}

    def _check(self, x: Array) -> None:
        if x.ndim < 1 or x.shape[-1] != self.dim:
            raise ValueError(f"LayerNorm expects input of shape (..., {self.dim}), "
                             f"got shape {tuple(x.shape)}")

    def infer(self, x: Array) -> Array:
        self._check(x)
        return layer_norm(x, self.params.get("weight"), self.params.get("bias"), self.eps)[0]

    def forward(self, x: Array) -> tuple[Array, Any]:
        self._check(x)
        y, xhat, inv = layer_norm(x, self.params.get("weight"), self.params.get("bias"), self.eps)
        return y, (xhat, inv)

    def backward(self, dy: Array, cache: Any) -> Array:
        xhat, inv = cache
        dx, dw, db = layer_norm_backward(dy, xhat, inv, self.params.get("weight"))
        if "weight" in self.params:
            self.grads["weight"] += dw
        if "bias" in self.params:
            self.grads["bias"] += db
        return dx


class LearnedPositions(Layer):
    """x: (N, T, D) -> y = x + weight[:T] (T <= max_len); weight (max_len, D) ~ N(0, 0.02²)."""

    type_name = "LearnedPositions"

    def __init__(self, max_len: int, d_model: int, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.max_len = positive_int(max_len, "max_len")
        self.d_model = positive_int(d_model, "d_model")
        rng = rng if rng is not None else np.random.default_rng()
        self.params["weight"] = (0.02 * rng.standard_normal((self.max_len, self.d_model))
                                 ).astype(np.float32)
        self.zero_grad()

    def config(self) -> dict[str, Any]:
        return {"max_len": self.max_len, "d_model": self.d_model}

    def _check(self, x: Array) -> None:
        check_ndim(self, x, 3, f"(N, T, {self.d_model})")
        if x.shape[2] != self.d_model:
            raise ValueError(f"LearnedPositions expects input of shape (N, T, {self.d_model}), "
                             f"got shape {tuple(x.shape)}")
        if x.shape[1] > self.max_len:
            raise ValueError(f"LearnedPositions holds {self.max_len} positions, "
                             f"got a sequence of {x.shape[1]}")

    def infer(self, x: Array) -> Array:
        self._check(x)
        return cast("Array", x + self.params["weight"][:x.shape[1]])

    def at(self, x: Array, start: int) -> Array:
        """x: (N, t, D) read at positions start .. start+t-1 (incremental reading)."""
        stop = start + x.shape[1]
        if start < 0 or stop > self.max_len:
            raise ValueError(f"LearnedPositions holds {self.max_len} positions, "
                             f"asked for {start}..{stop - 1}")
        return cast("Array", x + self.params["weight"][start:stop])

    def forward(self, x: Array) -> tuple[Array, Any]:
        return self.infer(x), x.shape[1]

    def backward(self, dy: Array, cache: Any) -> Array:
        self.grads["weight"][:cache] += dy.sum(axis=0)
        return dy
