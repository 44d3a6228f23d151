"""The CNN's sums, one cell at a time: a conv cell, a max-pool cell, a receptive field.

``explain_conv`` multiplies a patch by a kernel element-wise, sums, adds the bias and applies
ReLU; ``explain_pool`` finds a window's maximum. ``conv_cell`` / ``pool_cell`` take those
numbers from a model's parameters and its trace, with the engine's own output beside them
(the inspector shows both). ``receptive_field`` walks back through Conv2d and MaxPool2d.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from explorer.engine import Layer, Model, Trace

__all__ = ["ConvExplanation", "PoolExplanation", "conv_cell", "explain_conv", "explain_pool", "geometry", "pool_cell",
           "receptive_field", "worked_conv_example", "worked_pool_example"]


@dataclass(frozen=True)
class ConvExplanation:
    """patch, kernel, products: (C_in, k, k) float64; the sum, bias, pre/post ReLU value."""

    patch: npt.NDArray[np.float64]
    kernel: npt.NDArray[np.float64]
    products: npt.NDArray[np.float64]
    channel_sums: npt.NDArray[np.float64]
    total: float
    bias: float
    pre: float
    post: float
    engine: float | None = None          # the engine's output at that cell, if from a trace
    where: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PoolExplanation:
    """window: (k, k) float64 pool input; winner (row, col) inside it; value = the max."""

    window: npt.NDArray[np.float64]
    winner: tuple[int, int]
    value: float
    engine: float | None = None
    where: dict[str, int] = field(default_factory=dict)


WORKED_PATCH = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=np.float64)
WORKED_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float64)
WORKED_POOL = np.array([[1, 2], [3, 0]], dtype=np.float64)


def explain_conv(patch: np.ndarray, kernel: np.ndarray, bias: float = 0.0) -> ConvExplanation:
    """patch, kernel: (C_in, k, k) or (k, k) -> multiply element-wise, sum, add bias, ReLU."""
    p = np.asarray(patch, np.float64)
    k = np.asarray(kernel, np.float64)
    if p.ndim == 2:
        p, k = p[None], k[None]
    prod = p * k
    sums = prod.sum(axis=(1, 2))
    total = float(sums.sum())
    pre = total + float(bias)
    return ConvExplanation(p, k, prod, sums, total, float(bias), pre, max(pre, 0.0))


def explain_pool(window: np.ndarray, winner: tuple[int, int] | None = None) -> PoolExplanation:
    """window: (k, k) -> the max and where it sits (first maximum unless ``winner`` given)."""
    w = np.asarray(window, np.float64)
    if winner is None:
        r, c = np.unravel_index(int(np.argmax(w)), w.shape)
        winner = (int(r), int(c))
    return PoolExplanation(w, winner, float(w[winner]))


def worked_conv_example() -> ConvExplanation:
    """The textbook case: patch [[1,0,0],[1,1,0],[1,1,1]] * kernel [[1,0,1],[0,1,0],[1,0,1]] = 4."""
    return explain_conv(WORKED_PATCH, WORKED_KERNEL, 0.0)


def worked_pool_example() -> PoolExplanation:
    """The textbook case: max-pool of [[1,2],[3,0]] = 3 (bottom-left wins)."""
    return explain_pool(WORKED_POOL)


def receptive_field(model: Model, index: int, row: int, col: int) -> tuple[int, int, int, int]:
    """Cell (row, col) of layer ``index``'s output -> (r0, c0, r1, c1) inclusive input rows/cols.

    Walks back through Conv2d (k, stride, padding) and MaxPool2d (k, stride); element-wise
    layers keep the field. The field may extend outside the image (padding).
    """
    r0 = r1 = row
    c0 = c1 = col
    for layer in reversed(list(model.layers)[: index + 1]):
        if layer.type_name in ("Conv2d", "MaxPool2d"):
            k, s, p = geometry(layer)
            r0, c0 = r0 * s - p, c0 * s - p
            r1, c1 = r1 * s - p + k - 1, c1 * s - p + k - 1
        elif layer.type_name not in ("ReLU", "Tanh", "Sigmoid"):
            raise ValueError(f"no spatial receptive field through {layer.type_name}")
    return r0, c0, r1, c1


def geometry(layer: Layer) -> tuple[int, int, int]:
    """Conv2d / MaxPool2d -> (kernel, stride, padding) as ints (square kernels)."""
    cfg = layer.config()
    def first(v: Any) -> int:
        return int(v[0] if isinstance(v, (tuple, list)) else v)
    k = first(cfg["kernel_size"])
    s = cfg.get("stride")
    if s is None:
        s = k if layer.type_name == "MaxPool2d" else 1
    return k, first(s), first(cfg.get("padding", 0) or 0)


def conv_cell(model: Model, x: np.ndarray, trace: Trace, index: int, channel: int, row: int, col: int) -> ConvExplanation:
    """Conv2d layer ``index``, output cell (channel, row, col) of input ``x`` traced as ``trace``
    -> the sum, from the parameters, with the engine's output at that cell."""
    layer = model.layers[index]
    k, s, p = geometry(layer)
    src = x if index == 0 else trace.outputs[index - 1]
    padded = np.pad(np.asarray(src[0], np.float64), ((0, 0), (p, p), (p, p)))
    patch = padded[:, row * s: row * s + k, col * s: col * s + k]
    kernel = np.asarray(layer.params["weight"][channel], np.float64)
    bias = float(layer.params["bias"][channel]) if "bias" in layer.params else 0.0
    ex = explain_conv(patch, kernel, bias)
    engine = float(trace.outputs[index][0, channel, row, col])
    where = dict(index=index, channel=channel, row=row, col=col, k=k, stride=s, padding=p)
    return ConvExplanation(ex.patch, ex.kernel, ex.products, ex.channel_sums, ex.total,
                           ex.bias, ex.pre, ex.post, engine, where)


def pool_cell(model: Model, x: np.ndarray, trace: Trace, index: int, channel: int, row: int, col: int) -> PoolExplanation:
    """MaxPool2d layer ``index``, cell (channel, row, col) -> its window and winner."""
    layer = model.layers[index]
    k, s, _ = geometry(layer)
    src = trace.outputs[index - 1] if index else x
    plane = np.asarray(src[0, channel], np.float64)
    window = plane[row * s: row * s + k, col * s: col * s + k]
    flat = int(trace.extras[index]["winner"][0, channel, row, col])
    wr, wc = divmod(flat, plane.shape[1])
    ex = explain_pool(window, (wr - row * s, wc - col * s))
    engine = float(trace.outputs[index][0, channel, row, col])
    where = dict(index=index, channel=channel, row=row, col=col, k=k, stride=s, padding=0)
    return PoolExplanation(ex.window, ex.winner, ex.value, engine, where)
