"""Max pooling: ``MaxPool2d``, ``MaxPool1d`` and ``GlobalMaxPool1d``.

The cache keeps the WINNER of every window (first maximum in row-major order, as
PyTorch), so backward routes each gradient to exactly one input and the panels can show
which pixel won (``extras(cache)["winner"]``: flat index ``r * W + c`` into the input
plane). 2x2/stride-2 windows take a fast path (four strided views); any other window uses
``sliding_window_view``. ``maxpool2d_naive`` is the slow reference for the tests.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .conv import Pair, as_pair, out_size, unwrap1
from .layer import Array, Layer, check_ndim


def _pool_sizes(shape: tuple[int, ...], k: Pair, s: Pair) -> tuple[int, int]:
    ho, wo = out_size(shape[2], k[0], s[0], 0), out_size(shape[3], k[1], s[1], 0)
    if ho < 1 or wo < 1:
        raise ValueError(f"input of shape {tuple(shape)} is smaller than the pooling window {k}")
    return ho, wo


def _quad(x: Array, ho: int, wo: int) -> list[Array]:
    """The four strided views of 2x2/stride-2 windows, in row-major window order."""
    return [x[:, :, i:2 * ho:2, j:2 * wo:2] for i in (0, 1) for j in (0, 1)]


def _quad_packed(x: Array, ho: int, wo: int) -> list[Array]:
    """The same four windows' corners, copied once by reshape into one contiguous block:
    the comparisons after it run on contiguous memory (~1.5x faster than on strided views)."""
    n, c = x.shape[:2]
    q = x[:, :, :2 * ho, :2 * wo].reshape(n, c, ho, 2, wo, 2).transpose(3, 5, 0, 1, 2, 4)
    q = np.ascontiguousarray(q)
    return [q[0, 0], q[0, 1], q[1, 0], q[1, 1]]


def maxpool2d_forward(x: Array, k: Pair, s: Pair) -> tuple[Array, Array]:
    """x: (N, C, H, W) -> (y: (N, C, H', W'), arg: (N, C, H', W') window-local winner)."""
    ho, wo = _pool_sizes(x.shape, k, s)
    if k == (2, 2) and s == (2, 2):
        a, b, c, d = _quad_packed(x, ho, wo)
        top, bottom = np.maximum(a, b), np.maximum(c, d)
        arg_top = (b > a).view(np.int8)                     # np.where is slow: use arithmetic
        arg_bottom = (d > c).view(np.int8) + np.int8(2)
        take_bottom = (bottom > top).view(np.int8)
        return np.maximum(top, bottom), arg_top + take_bottom * (arg_bottom - arg_top)
    win = sliding_window_view(x, k, axis=(2, 3))[:, :, ::s[0], ::s[1]][:, :, :ho, :wo]
    flat = win.reshape(*win.shape[:4], k[0] * k[1])
    arg = flat.argmax(axis=-1)
    return np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0], arg


def maxpool2d_infer(x: Array, k: Pair, s: Pair) -> Array:
    """x: (N, C, H, W) -> y: (N, C, H', W') without winners (inference only)."""
    ho, wo = _pool_sizes(x.shape, k, s)
    if k == (2, 2) and s == (2, 2):
        a, b, c, d = _quad(x, ho, wo)
        return np.maximum(np.maximum(a, b), np.maximum(c, d))
    win = sliding_window_view(x, k, axis=(2, 3))[:, :, ::s[0], ::s[1]][:, :, :ho, :wo]
    return cast("Array", win.max(axis=(4, 5)))


def maxpool2d_backward(dy: Array, arg: Array, x: Array, k: Pair, s: Pair) -> Array:
    """dy: (N, C, H', W') -> dx: like x (N, C, H, W), each gradient sent to its winner.

    dx takes x's memory layout, so the next element-wise backward does not mix layouts."""
    ho, wo = arg.shape[2], arg.shape[3]
    dx = np.zeros_like(x, dtype=dy.dtype)
    overlap = k[0] > s[0] or k[1] > s[1]
    for i in range(k[0]):
        for j in range(k[1]):
            sl = dx[:, :, i:i + s[0] * (ho - 1) + 1:s[0], j:j + s[1] * (wo - 1) + 1:s[1]]
            if overlap:
                sl += dy * (arg == i * k[1] + j)
            else:
                np.multiply(dy, arg == i * k[1] + j, out=sl)
    return dx


def winner_index(arg: Array, width: int, k: Pair, s: Pair) -> Array:
    """Window-local winner (N, C, H', W') -> flat index r * W + c into the input plane."""
    ho, wo = arg.shape[2], arg.shape[3]
    rows = np.arange(ho)[:, None] * s[0] + arg // k[1]
    cols = np.arange(wo)[None, :] * s[1] + arg % k[1]
    return (rows * width + cols).astype(np.int64)


def maxpool2d_naive(x: Array, kernel_size: int | Pair, stride: int | Pair | None = None
                    ) -> tuple[Array, np.ndarray]:
    """Reference with loops. x: (N, C, H, W) -> (y, winner flat index r * W + c)."""
    k = as_pair(kernel_size, "kernel_size")
    s = as_pair(stride if stride is not None else kernel_size, "stride")
    n, c, h, w = x.shape
    ho, wo = _pool_sizes(x.shape, k, s)
    y = np.empty((n, c, ho, wo), dtype=x.dtype)
    win = np.empty((n, c, ho, wo), dtype=np.int64)
    for a in range(n):
        for b in range(c):
            for r in range(ho):
                for q in range(wo):
                    best = (r * s[0], q * s[1])
                    for i in range(k[0]):
                        for j in range(k[1]):
                            if x[a, b, r * s[0] + i, q * s[1] + j] > x[a, b, best[0], best[1]]:
                                best = (r * s[0] + i, q * s[1] + j)
                    y[a, b, r, q] = x[a, b, best[0], best[1]]
                    win[a, b, r, q] = best[0] * w + best[1]
    return y, win


class MaxPool2d(Layer):
    """x: (N, C, H, W) -> y: (N, C, H', W'), H' = (H - k) // s + 1; stride defaults to k."""

    type_name = "MaxPool2d"

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None) -> None:
        super().__init__()
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.stride = as_pair(stride if stride is not None else kernel_size, "stride")

    def config(self) -> dict[str, Any]:
        k, s = self.kernel_size, self.stride
        return {"kernel_size": k[0] if k[0] == k[1] else list(k),
                "stride": s[0] if s[0] == s[1] else list(s)}

    def forward(self, x: Array) -> tuple[Array, Any]:
        check_ndim(self, x, 4, "(N, C, H, W)")
        y, arg = maxpool2d_forward(x, self.kernel_size, self.stride)
        return y, (arg, x)

    def infer(self, x: Array) -> Array:
        check_ndim(self, x, 4, "(N, C, H, W)")
        return maxpool2d_infer(x, self.kernel_size, self.stride)

    def backward(self, dy: Array, cache: Any) -> Array:
        arg, x = cache
        return maxpool2d_backward(dy, arg, x, self.kernel_size, self.stride)

    def extras(self, cache: Any) -> dict[str, Array]:
        """{"winner": (N, C, H', W') int64 flat index r * W + c into the input plane}."""
        arg, x = cache
        return {"winner": winner_index(arg, x.shape[3], self.kernel_size, self.stride)}


class MaxPool1d(Layer):
    """x: (N, C, L) -> y: (N, C, L'), L' = (L - k) // s + 1; stride defaults to k."""

    type_name = "MaxPool1d"

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        super().__init__()
        self.kernel_size = as_pair(unwrap1(kernel_size), "kernel_size")[0]
        self.stride = as_pair(unwrap1(stride) if stride is not None else self.kernel_size,
                              "stride")[0]

    def config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "stride": self.stride}

    def _ks(self) -> tuple[Pair, Pair]:
        return (1, self.kernel_size), (1, self.stride)

    def forward(self, x: Array) -> tuple[Array, Any]:
        check_ndim(self, x, 3, "(N, C, L)")
        y, arg = maxpool2d_forward(x[:, :, None, :], *self._ks())
        return y[:, :, 0, :], (arg, x)

    def backward(self, dy: Array, cache: Any) -> Array:
        arg, x = cache
        dx = maxpool2d_backward(dy[:, :, None, :], arg, x[:, :, None, :], *self._ks())
        return dx[:, :, 0, :]

    def extras(self, cache: Any) -> dict[str, Array]:
        """{"winner": (N, C, L') int64 index into the input's length axis}."""
        arg, x = cache
        return {"winner": winner_index(arg, x.shape[2], *self._ks())[:, :, 0, :]}


class GlobalMaxPool1d(Layer):
    """x: (N, C, L) -> y: (N, C), the maximum over the whole length axis."""

    type_name = "GlobalMaxPool1d"

    def forward(self, x: Array) -> tuple[Array, Any]:
        check_ndim(self, x, 3, "(N, C, L)")
        arg = x.argmax(axis=2)
        return np.take_along_axis(x, arg[..., None], axis=2)[..., 0], (arg, x.shape)

    def infer(self, x: Array) -> Array:
        check_ndim(self, x, 3, "(N, C, L)")
        return cast("Array", x.max(axis=2))

    def backward(self, dy: Array, cache: Any) -> Array:
        arg, shape = cache
        dx = np.zeros(shape, dtype=dy.dtype)
        np.put_along_axis(dx, arg[..., None], dy[..., None], axis=2)
        return dx

    def extras(self, cache: Any) -> dict[str, Array]:
        """{"winner": (N, C) int64 position along L}."""
        return {"winner": cache[0].astype(np.int64)}

