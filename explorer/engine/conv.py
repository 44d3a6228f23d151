"""Convolutions: ``Conv2d`` and ``Conv1d`` (PyTorch names, shapes and default init).

Fast path: im2col built by copying one strided slice per kernel offset (kh*kw copies,
no Python loop over the batch) into a ``(C_in*kh*kw, N*H'*W')`` matrix, so forward,
weight gradient and column gradient are each ONE matrix product; col2im adds the
kh*kw slices back. ``conv2d_naive`` (explicit loops) is the slow reference the tests
compare against.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .layer import Array, Layer, check_ndim

Pair = tuple[int, int]


def as_pair(value: Any, name: str, minimum: int = 1) -> Pair:
    """int or 2-sequence of ints -> (a, b); ValueError for anything else."""
    vals = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    if len(vals) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                 for v in vals):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(vals) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(vals[0]), int(vals[1])


def positive_int(value: Any, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _plain(p: Pair) -> int | list[int]:
    return p[0] if p[0] == p[1] else [p[0], p[1]]


def out_size(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def conv2d_forward(x: Array, w: Array, b: Array | None, stride: Pair,
                   padding: Pair) -> tuple[Array, tuple[Any, ...]]:
    """x: (N, C, H, W), w: (C_out, C, kh, kw), b: (C_out,) -> y: (N, C_out, H', W'), cache."""
    n, c, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    ho, wo = out_size(h, kh, sh, ph), out_size(wd, kw, sw, pw)
    if ho < 1 or wo < 1:
        raise ValueError(f"input {tuple(x.shape)} is smaller than the kernel {(kh, kw)}")
    xt = x.transpose(1, 0, 2, 3)                      # (C, N, H, W) view
    if ph or pw:
        xp = np.zeros((c, n, h + 2 * ph, wd + 2 * pw), dtype=x.dtype)
        xp[:, :, ph:ph + h, pw:pw + wd] = xt
    else:
        xp = xt
    cols = np.empty((c, kh, kw, n, ho, wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
    cols2 = cols.reshape(c * kh * kw, n * ho * wo)
    y2 = w.reshape(c_out, -1) @ cols2                 # (C_out, N*H'*W'): one GEMM
    if b is not None:
        y2 += b[:, None]
    y = y2.reshape(c_out, n, ho, wo).transpose(1, 0, 2, 3)
    return y, (cols2, x.shape, stride, padding, (ho, wo))


def conv2d_backward(dy: Array, w: Array, cache: tuple[Any, ...],
                    need_dx: bool = True) -> tuple[Array | None, Array, Array]:
    """dy: (N, C_out, H', W') -> (dx (N, C, H, W), dw like w, db (C_out,))."""
    cols2, (n, c, h, wd), (sh, sw), (ph, pw), (ho, wo) = cache
    c_out, _, kh, kw = w.shape
    dy2 = dy.transpose(1, 0, 2, 3).reshape(c_out, n * ho * wo)
    dw = (cols2 @ dy2.T).T.reshape(w.shape)            # faster than dy2 @ cols2.T here
    db = dy2.sum(axis=1)
    if not need_dx:
        return None, dw, db
    dcols = (w.reshape(c_out, -1).T @ dy2).reshape(c, kh, kw, n, ho, wo)
    dxp = np.zeros((c, n, h + 2 * ph, wd + 2 * pw), dtype=dy.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw] += dcols[:, i, j]
    dx = dxp[:, :, ph:ph + h, pw:pw + wd].transpose(1, 0, 2, 3)
    return dx, dw, db


def conv2d_naive(x: Array, w: Array, b: Array | None, stride: int | Pair = 1,
                 padding: int | Pair = 0) -> Array:
    """Reference with explicit loops. x: (N, C, H, W), w: (C_out, C, kh, kw) -> (N, C_out, H', W')."""
    (sh, sw), (ph, pw) = as_pair(stride, "stride"), as_pair(padding, "padding", 0)
    n, c, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho, wo = out_size(h, kh, sh, ph), out_size(wd, kw, sw, pw)
    y = np.zeros((n, c_out, ho, wo), dtype=np.result_type(x, w))
    for i in range(n):
        for o in range(c_out):
            for r in range(ho):
                for q in range(wo):
                    patch = xp[i, :, r * sh:r * sh + kh, q * sw:q * sw + kw]
                    y[i, o, r, q] = np.sum(patch * w[o]) + (b[o] if b is not None else 0.0)
    return y


def _init(shape: tuple[int, ...], fan_in: int, rng: np.random.Generator | None) -> Array:
    """PyTorch's kaiming_uniform_(a=sqrt(5)) bound: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    rng = rng if rng is not None else np.random.default_rng()
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


class Conv2d(Layer):
    """x: (N, C_in, H, W) float32 -> y: (N, C_out, H', W'), H' = (H + 2p - k) // s + 1.

    params: weight (C_out, C_in, kh, kw), bias (C_out,).
    """

    type_name = "Conv2d"

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Pair,
                 stride: int | Pair = 1, padding: int | Pair = 0, bias: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.stride = as_pair(stride, "stride")
        self.padding = as_pair(padding, "padding", 0)
        if not isinstance(bias, bool):
            raise ValueError(f"bias must be true or false, got {bias!r}")
        kh, kw = self.kernel_size
        fan_in = self.in_channels * kh * kw
        self.params["weight"] = _init((self.out_channels, self.in_channels, kh, kw), fan_in, rng)
        if bias:
            self.params["bias"] = _init((self.out_channels,), fan_in, rng)
        self.zero_grad()

    def config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": _plain(self.kernel_size), "stride": _plain(self.stride),
                "padding": _plain(self.padding), "bias": "bias" in self.params}

    def _check(self, x: Array) -> None:
        check_ndim(self, x, 4, "(N, C_in, H, W)")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d expects input of shape (N, {self.in_channels}, H, W), "
                             f"got shape {tuple(x.shape)}")

    def forward(self, x: Array) -> tuple[Array, Any]:
        self._check(x)
        return conv2d_forward(x, self.params["weight"], self.params.get("bias"),
                              self.stride, self.padding)

    def infer(self, x: Array) -> Array:
        return self.forward(x)[0]

    def backward(self, dy: Array, cache: Any) -> Array:
        dx, dw, db = conv2d_backward(dy, self.params["weight"], cache)
        self.grads["weight"] += dw
        if "bias" in self.params:
            self.grads["bias"] += db
        assert dx is not None                       # need_dx=True
        return dx

    def backward_params(self, dy: Array, cache: Any) -> None:
        """Parameter gradients only (the first layer while training: no d/d input GEMM, no col2im)."""
        _, dw, db = conv2d_backward(dy, self.params["weight"], cache, need_dx=False)
        self.grads["weight"] += dw
        if "bias" in self.params:
            self.grads["bias"] += db


class Conv1d(Layer):
    """x: (N, C_in, L) float32 -> y: (N, C_out, L'), L' = (L + 2p - k) // s + 1.

    params: weight (C_out, C_in, k), bias (C_out,). Runs as a Conv2d with a (1, k) kernel;
    with ``dilation`` d > 1 (taps d apart, L' = (L + 2p - d (k - 1) - 1) // s + 1, as
    PyTorch) it runs ``conv1d_dilated_forward`` below.
    """

    type_name = "Conv1d"

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int = 0, bias: bool = True,
                 rng: np.random.Generator | None = None, dilation: int = 1) -> None:
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        self.kernel_size = positive_int(unwrap1(kernel_size), "kernel_size")
        self.stride = positive_int(unwrap1(stride), "stride")
        self.dilation = positive_int(unwrap1(dilation), "dilation")
        self.padding = as_pair(unwrap1(padding), "padding", 0)[0]
        if not isinstance(bias, bool):
            raise ValueError(f"bias must be true or false, got {bias!r}")
        fan_in = self.in_channels * self.kernel_size
        shape = (self.out_channels, self.in_channels, self.kernel_size)
        self.params["weight"] = _init(shape, fan_in, rng)
        if bias:
            self.params["bias"] = _init((self.out_channels,), fan_in, rng)
        self.zero_grad()

    def config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "bias": "bias" in self.params,
                **({"dilation": self.dilation} if self.dilation != 1 else {})}

    def forward(self, x: Array) -> tuple[Array, Any]:
        check_ndim(self, x, 3, "(N, C_in, L)")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"Conv1d expects input of shape (N, {self.in_channels}, L), "
                             f"got shape {tuple(x.shape)}")
        if self.dilation != 1:
            return conv1d_dilated_forward(x, self.params["weight"], self.params.get("bias"),
                                          self.stride, self.padding, self.dilation)
        w = self.params["weight"][:, :, None, :]
        y, cache = conv2d_forward(x[:, :, None, :], w, self.params.get("bias"),
                                  (1, self.stride), (0, self.padding))
        return y[:, :, 0, :], cache

    def infer(self, x: Array) -> Array:
        return self.forward(x)[0]

    def backward(self, dy: Array, cache: Any) -> Array:
        if self.dilation != 1:
            dxd, dw1, dbd = conv1d_dilated_backward(dy, self.params["weight"], cache)
            self.grads["weight"] += dw1
            if "bias" in self.params:
                self.grads["bias"] += dbd
            return dxd
        w = self.params["weight"][:, :, None, :]
        dx, dw, db = conv2d_backward(dy[:, :, None, :], w, cache)
        self.grads["weight"] += dw[:, :, 0, :]
        if "bias" in self.params:
            self.grads["bias"] += db
        assert dx is not None                       # need_dx=True
        return dx[:, :, 0, :]


def unwrap1(value: Any) -> Any:
    """PyTorch writes 1-d sizes as ints or 1-tuples; accept both."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return value[0]
    return value


# -- dilated 1-D convolution (taps ``dilation`` apart), PyTorch's definition ----------------
def _dilated_taps(n_in: int, k: int, s: int, d: int) -> tuple[int, list[slice]]:
    n_out = (n_in - d * (k - 1) - 1) // s + 1
    if n_out < 1:
        raise ValueError(f"input length {n_in} is shorter than the dilated kernel ({d * (k - 1) + 1})")
    return n_out, [slice(j * d, j * d + s * (n_out - 1) + 1, s) for j in range(k)]


def conv1d_dilated_forward(x: Array, w: Array, b: Array | None, stride: int, padding: int,
                           dilation: int) -> tuple[Array, tuple[Any, ...]]:
    """x: (N, C, L), w: (C_out, C, k) -> y: (N, C_out, L'), cache.

    y[n, o, t] = b[o] + sum_{c, j} w[o, c, j] * xp[n, c, t*s + j*d], xp = x zero-padded by p
    on both sides. One matrix product over the k strided slices (an im2col of k copies).
    """
    n, c, length = x.shape
    c_out, _, k = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding))) if padding else x
    n_out, taps = _dilated_taps(xp.shape[2], k, stride, dilation)
    cols = np.empty((n, n_out, c, k), dtype=x.dtype)
    for j, sl in enumerate(taps):
        cols[:, :, :, j] = xp[:, :, sl].transpose(0, 2, 1)
    cols2 = cols.reshape(n * n_out, c * k)
    y = cols2 @ w.reshape(c_out, c * k).T
    if b is not None:
        y += b
    y = np.ascontiguousarray(y.reshape(n, n_out, c_out).transpose(0, 2, 1))
    return y, (cols2, x.shape, xp.shape, padding, taps)


def conv1d_dilated_backward(dy: Array, w: Array, cache: tuple[Any, ...]) -> tuple[Array, Array, Array]:
    """dy: (N, C_out, L') -> (dx (N, C, L), dw (C_out, C, k), db (C_out,))."""
    cols2, x_shape, xp_shape, padding, taps = cache
    c_out, c, k = w.shape
    n, _, n_out = dy.shape
    dy2 = np.ascontiguousarray(dy.transpose(0, 2, 1)).reshape(n * n_out, c_out)
    dw = (dy2.T @ cols2).reshape(c_out, c, k)
    db = dy2.sum(axis=0)
    dcols = (dy2 @ w.reshape(c_out, c * k)).reshape(n, n_out, c, k)
    dxp = np.zeros(xp_shape, dtype=dy.dtype)
    for j, sl in enumerate(taps):
        dxp[:, :, sl] += dcols[:, :, :, j].transpose(0, 2, 1)
    return (dxp[:, :, padding:padding + x_shape[2]] if padding else dxp), dw, db


def conv1d_dilated_naive(x: Array, w: Array, b: Array | None, stride: int = 1, padding: int = 0,
                         dilation: int = 1) -> Array:
    """Explicit loops over the definition above: the slow reference for the tests."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    n, _, length = xp.shape
    c_out, c, k = w.shape
    n_out = (length - dilation * (k - 1) - 1) // stride + 1
    y = np.zeros((n, c_out, n_out), dtype=np.result_type(x, w))
    for t in range(n_out):
        for j in range(k):
            y[:, :, t] += xp[:, :, t * stride + j * dilation] @ w[:, :, j].T
    return y + (b[None, :, None] if b is not None else 0)
