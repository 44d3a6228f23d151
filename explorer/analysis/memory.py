"""How strongly each earlier input influences one prediction, through our own BPTT.

influence[s] = || d logit[target] at step t / d x_s ||^2 for the inputs x_s (the
embedding vectors fed to the recurrent layer) of steps s <= t, computed with the
layers' own ``forward(x, state)`` / ``backward`` — the same code that trains them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from explorer.engine.attention import KVCache, TransformerEncoderLayer, causal_mask, gelu, gelu_grad
from explorer.engine.dense import Linear
from explorer.engine.layer import Layer
from explorer.engine.norm import LayerNorm, LearnedPositions, layer_norm
from explorer.engine.recurrent import RNN, RecurrentLayer


def influence(recurrent: RecurrentLayer, head: Sequence[Layer], x: npt.ArrayLike, state: Any,
              target: int) -> npt.NDArray[np.float64]:
    """x: (1, n, E) inputs of the last n steps, state: the state before them -> (n,) float64.

    Entry s is the squared gradient norm of the head's output[target] at the LAST step
    w.r.t. x[0, s]. Parameter gradients are left exactly as they were.
    """
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[0] != 1:
        raise ValueError(f"influence expects inputs of shape (1, n, E), got {x.shape}")
    n = x.shape[1]
    if n == 0:
        return np.zeros(0)
    saved = {k: g.copy() for k, g in recurrent.grads.items()}
    try:
        y, rec_cache = recurrent.forward(x, state)
        dy = np.zeros_like(y)
        dy[:, -1] = _head_gradient(head, y[:, -1], target)   # only the last step's output matters
        dx = recurrent.backward(dy, rec_cache)
    finally:
        recurrent.grads.update(saved)
    return cast("npt.NDArray[np.float64]", (np.asarray(dx, np.float64)[0] ** 2).sum(axis=-1))


def influence_from_states(recurrent: RecurrentLayer, head: Sequence[Layer], x: npt.ArrayLike, h_prev: npt.ArrayLike,
                          c_prev: npt.ArrayLike | None, target: int,
                          gates: Mapping[str, npt.ArrayLike] | None = None) -> npt.NDArray[np.float64]:
    """x: (n, E) inputs, h_prev / c_prev: (n, H) the states BEFORE each step -> (n,) float64.

    The same numbers as ``influence`` but without re-running the recurrence: the states the
    caller already holds give every step's gate activations in ONE batched ``step`` (a batch
    of n single steps), and the cell's BPTT runs backwards from the last step. c_prev is the
    LSTM's cell state (None for RNN / GRU). ``gates``: an LSTM's activations at these steps
    if the caller already has them (i, f, g, o and the new cell state c, each (n, H)), so the
    batched step is skipped. = ``step_factors`` then ``influence_from_factors``.
    """
    x = np.asarray(x)
    if len(x) == 0:
        return np.zeros(0)
    factors, h = step_factors(recurrent, x, h_prev, c_prev, gates)
    return influence_from_factors(recurrent, head, factors, h[-1:], target)


def step_factors(recurrent: RecurrentLayer, x: npt.ArrayLike, h_prev: npt.ArrayLike, c_prev: npt.ArrayLike | None,
                 gates: Mapping[str, npt.ArrayLike] | None = None, h: npt.ArrayLike | None = None
                 ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The factors of each step's backward that depend on that step alone (its gates and
    states): x (n, E), h_prev / c_prev (n, H) the states before each step -> ({name: (n, k*H)},
    the states after each step (n, H)). Row k depends only on step k, so rows computed at
    different times can be put side by side (the Memory panel keeps them while typing).

    LSTM: "p" (n, 4H) d(pre-activations i, f, g)/dc and d(pre o)/dh, "kc" dc/dh through
    h = o tanh(c), "f" the forget gate. GRU: "k" (n, 3H) d(hidden projections r, z, n)/dh',
    "z", "kn" d(pre-n)/dh'. RNN: "deriv" the nonlinearity's slope.

    ``gates``: the steps' activations if the caller has them (LSTM: i, f, g, o and the new
    cell state c; GRU: r, z, n; RNN: none), ``h``: the states after each step (an RNN's slope
    is read from them); otherwise one batched ``step`` computes them."""
    x, h_prev = np.asarray(x), np.asarray(h_prev)
    kind = recurrent.type_name
    state = (h_prev, np.asarray(c_prev)) if kind == "LSTM" else h_prev
    if gates is None or (kind == "RNN" and h is None):
        h, _, gates = recurrent.step(x, state)           # row k: step k from its own previous state
    elif h is None and kind == "LSTM":
        h = np.asarray(gates["o"]) * np.tanh(np.asarray(gates["c"]))   # h = o * tanh(c)
    elif h is None:                                      # GRU: h' = n + z (h - n)
        n_ = np.asarray(gates["n"])
        h = n_ + (h_prev - n_) * np.asarray(gates["z"])
    h = np.asarray(h)
    dtype = recurrent.dtype
    def arr(a: npt.ArrayLike | None) -> np.ndarray:
        return np.asarray(a, dtype)

    if kind == "LSTM":
        i, f, g, o = (arr(gates[k]) for k in "ifgo")
        cs, cp = arr(gates["c"]), arr(c_prev)
        tc = np.tanh(cs)
        p = np.empty((len(cs), 4, cs.shape[1]), dtype)
        p[:, 0], p[:, 1] = g * i * (1.0 - i), cp * f * (1.0 - f)
        p[:, 2], p[:, 3] = i * (1.0 - g * g), tc * o * (1.0 - o)
        return {"p": p.reshape(len(cs), -1), "kc": o * (1.0 - tc * tc), "f": np.ascontiguousarray(f)}, h
    if kind == "GRU":
        hid = int(recurrent.hidden_size)
        b_hn = recurrent.params["bias_hh_l0"][2 * hid:] if recurrent.bias else 0.0
        hn = h_prev @ recurrent.params["weight_hh_l0"][2 * hid:].T + b_hn
        r, z, nn = arr(gates["r"]), arr(gates["z"]), arr(gates["n"])
        kn = (1.0 - z) * (1.0 - nn * nn)                  # d(pre-n)/dh'
        k = np.empty((len(r), 3, hid), dtype)            # d(hidden projection)/dh'
        k[:, 0] = kn * hn * r * (1.0 - r)
        k[:, 1] = (h_prev - nn) * z * (1.0 - z)
        k[:, 2] = kn * r
        return {"k": k.reshape(len(r), -1), "z": np.ascontiguousarray(z), "kn": kn}, h
    if kind == "RNN":
        hs = arr(h)
        deriv = (hs > 0).astype(dtype) if cast(RNN, recurrent).nonlinearity == "relu" else 1.0 - hs * hs
        return {"deriv": deriv}, h
    raise ValueError(f"influence_from_states does not know the cell {kind!r}")


def influence_from_factors(recurrent: RecurrentLayer, head: Sequence[Layer], factors: Mapping[str, np.ndarray],
                           h_last: npt.ArrayLike, target: int) -> npt.NDArray[np.float64]:
    """``step_factors`` of n steps and the state after the last (1, H) -> (n,) float64: the
    squared gradient of the head's output[target] at the last step w.r.t. every step's input.

    The cells' BPTT (``explorer.engine.cells``) for a gradient that enters at the last step
    only, on 1-D rows with fewer numpy calls per step (the loop's cost beside its
    matrix-vector product): the same operations on the same numbers, so the same results."""
    dy = last_step_gradient(recurrent, head, h_last, target)
    return influence_from_gradient(recurrent.type_name, factors, dy, recurrent.params["weight_hh_l0"],
                                   recurrent.params["weight_ih_l0"])


def last_step_gradient(recurrent: RecurrentLayer, head: Sequence[Layer], h_last: npt.ArrayLike,
                       target: int) -> np.ndarray:
    """d head(h_last)[target] / dh as the (H,) row the cell's BPTT starts from (its dtype)."""
    return cast("np.ndarray", _head_gradient(head, np.asarray(h_last), target)[0].astype(recurrent.dtype, copy=False))


def influence_from_gradient(kind: str, factors: Mapping[str, np.ndarray], dy: np.ndarray, w_hh: np.ndarray,
                            w_ih: np.ndarray) -> npt.NDArray[np.float64]:
    """``influence_from_factors`` from the gradient at the last step (``last_step_gradient``)
    and the layer's weights alone (w_hh as stored — Fortran order: no copy, a faster gemv),
    so another process holding copies of the same arrays computes the same numbers."""
    if kind == "LSTM":
        dxp = _lstm_input_grads(dy, factors["p"], factors["kc"], factors["f"], w_hh)
    elif kind == "GRU":
        dxp = _gru_input_grads(dy, factors["k"], factors["z"], factors["kn"], w_hh)
    elif kind == "RNN":
        dxp = _rnn_input_grads(dy, factors["deriv"], w_hh)
    else:
        raise ValueError(f"influence_from_states does not know the cell {kind!r}")
    dx = dxp @ w_ih
    return cast("npt.NDArray[np.float64]", (np.asarray(dx, np.float64) ** 2).sum(axis=-1))


#: the factor names each cell's BPTT reads (``step_factors``' keys)
FACTOR_NAMES = {"LSTM": ("p", "kc", "f"), "GRU": ("k", "z", "kn"), "RNN": ("deriv",)}


def _lstm_input_grads(dy: np.ndarray, p: np.ndarray, kc: np.ndarray, f: np.ndarray, w_hh: np.ndarray) -> np.ndarray:
    """``cells.lstm_bptt``'s dxp (n, 4H) for a gradient dy (H,) at the last step only.

    Per step: dc = dc' f' + dh kc (dc', f' of the step after), d = p * [dc dc dc dh],
    dh_before = d W_hh. One buffer B = [dc dc dc dh] makes that four numpy calls: [dc' | dh]
    (the tail of B) times [f' | kc] at once, their sum written to the three dc blocks (a
    broadcast), then d = p * B and the gemv into B's dh block. dh at the last step is dy
    itself (dy + 0), so every step adds exactly what ``lstm_bptt`` adds."""
    n, hid = kc.shape
    fk = np.empty((n, 2 * hid), p.dtype)               # row t: [f_{t+1} | kc_t]
    fk[:-1, :hid] = f[1:]
    fk[-1, :hid] = 0.0                                  # nothing after the last step (dc' = 0)
    fk[:, hid:] = kc
    dxp = np.empty((n, 4 * hid), p.dtype)
    buf = np.zeros(4 * hid, p.dtype)
    dc3, tail, dh = buf[:3 * hid].reshape(3, hid), buf[2 * hid:], buf[3 * hid:]
    prod = np.empty(2 * hid, p.dtype)
    a, b = prod[:hid], prod[hid:]
    dh[:] = dy
    mul, add, dot = np.multiply, np.add, np.dot
    for fk_t, p_t, d_t in zip(fk[::-1], p[::-1], dxp[::-1]):    # hot loop
        mul(tail, fk_t, prod)                 # [dc' f', dh kc]
        add(a, b, dc3)                        # dc, three times
        mul(p_t, buf, d_t)
        dot(d_t, w_hh, dh)                    # dh of the step before
    return dxp


def _gru_input_grads(dy: np.ndarray, k: np.ndarray, z: np.ndarray, kn: np.ndarray, w_hh: np.ndarray) -> np.ndarray:
    """``cells.gru_bptt``'s dxp (n, 3H) for a gradient dy (H,) at the last step only.

    Per step: d = k * dh (the three hidden projections), dh_before = d W_hh + dh z. With z
    beside k (row t: [k_r k_z k_n z]) one product gives d and dh z at once: three numpy calls
    per step (product, gemv, add), each adding exactly what ``gru_bptt`` adds."""
    n, hid = z.shape
    kz = np.empty((n, 4, hid), k.dtype)
    kz[:, :3] = k.reshape(n, 3, hid)
    kz[:, 3] = z
    out = np.empty((n, 4, hid), k.dtype)               # row t: [d(r) d(z) d(n) | dh z]
    flat = out.reshape(n, 4 * hid)
    dhs = np.empty((n, hid), k.dtype)
    dhs[-1] = dy
    mul, add, dot = np.multiply, np.add, np.dot
    for kz_t, dh, o_t, d_t, dhz, nxt in zip(kz[:0:-1], dhs[:0:-1], out[:0:-1], flat[:0:-1, :3 * hid],
                                            out[:0:-1, 3], dhs[-2::-1]):    # hot loop
        mul(kz_t, dh, o_t)
        dot(d_t, w_hh, nxt)
        add(nxt, dhz, nxt)                    # dh before = d W_hh + dh z
    mul(kz[0], dhs[0], out[0])
    out[:, 2] = dhs * kn
    return flat[:, :3 * hid]


def _rnn_input_grads(dy: np.ndarray, deriv: np.ndarray, w_hh: np.ndarray) -> np.ndarray:
    """``cells.rnn_bptt``'s dxp (n, H) for a gradient dy (H,) at the last step only."""
    dxp = np.empty_like(deriv)
    dh = np.array(dy, deriv.dtype)
    mul, dot = np.multiply, np.dot
    for d_t, v_t in zip(dxp[::-1], deriv[::-1]):   # hot loop
        mul(dh, v_t, d_t)
        dot(d_t, w_hh, dh)
    return dxp


def _head_gradient(head: Sequence[Layer], h: np.ndarray, target: int) -> np.ndarray:
    """h: (1, H) -> d head(h)[target] / dh (1, H); the head's parameter gradients are restored."""
    fast = _input_gradient_only(head, h, target)
    if fast is not None:
        return fast
    saved = [{k: g.copy() for k, g in layer.grads.items()} for layer in head]
    try:
        out, caches = h[None], []
        for layer in head:
            out, cache = layer.forward(out)
            caches.append(cache)
        if not 0 <= target < out.shape[-1]:
            raise ValueError(f"target {target} outside the {out.shape[-1]} outputs")
        d = np.zeros_like(out)
        d[..., target] = 1.0
        for layer, cache in zip(reversed(head), reversed(caches)):
            d = layer.backward(d, cache)
    finally:
        for layer, grads in zip(head, saved):
            layer.grads.update(grads)
    return cast("np.ndarray", d[0])


def _input_gradient_only(head: Sequence[Layer], h: np.ndarray, target: int) -> np.ndarray | None:
    """``_head_gradient`` for a head of Linear and LayerNorm layers only (every shipped model's):
    their backward's input gradient alone, with the same operations on the same numbers, and no
    parameter gradient computed, saved or restored (that was most of a key's head gradient).
    None for any other head."""
    if not all(type(layer) in (Linear, LayerNorm) for layer in head):
        return None
    out, caches = h[None], list[Any]()
    for layer in head:
        p = layer.params
        if type(layer) is LayerNorm:
            out, xhat, inv = layer_norm(out, p.get("weight"), p.get("bias"), layer.eps)
            caches.append((xhat, inv))
        else:
            out = layer.infer(out)
            caches.append(None)
    if not 0 <= target < out.shape[-1]:
        raise ValueError(f"target {target} outside the {out.shape[-1]} outputs")
    d = np.zeros_like(out)
    d[..., target] = 1.0
    for layer, cache in zip(reversed(head), reversed(caches)):
        if cache is None:
            d = d @ layer.params["weight"]                   # Linear.backward's input gradient
        else:                                                # layer_norm_backward's dx
            xhat, inv = cache
            w = layer.params.get("weight")
            g = d * w if w is not None else d
            n = g.shape[-1]                                  # means as sum / D: np.mean's numbers (layer_norm)
            mean_g = np.add.reduce(g, axis=-1, keepdims=True) / n
            d = (g - mean_g - xhat * (np.add.reduce(g * xhat, axis=-1, keepdims=True) / n)) * inv
    return cast("np.ndarray", d[0])


def influence_through(layers: Sequence[Layer], x: npt.ArrayLike, target: int,
                      per_position: int = 0) -> npt.NDArray[np.float64]:
    """x: (n, E) inputs of a stack that maps (1, n, E) -> (1, n, K) (a transformer after its
    embedding: positions, attention blocks, head) -> (n,) float64: squared norm of
    d output[last step, target] / d x[s]. Attention reaches every input of the window
    directly, so all n entries can be large. The last ``per_position`` layers act on each
    position alone (a final LayerNorm, the Linear head): they run on the last step only, the
    same gradient for less work. Parameter gradients are left as they were."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"influence_through expects inputs of shape (n, E), got {x.shape}")
    if not len(x):
        return np.zeros(0)
    body, tail = list(layers[:len(layers) - per_position]), list(layers[len(layers) - per_position:])
    saved = [{k: g.copy() for k, g in layer.grads.items()} for layer in layers]
    try:
        out, caches = x[None], []
        for layer in body:
            out, cache = layer.forward(out)
            caches.append(cache)
        last, tail_caches = out[:, -1:], []
        for layer in tail:
            last, cache = layer.forward(last)
            tail_caches.append(cache)
        if not 0 <= target < last.shape[-1]:
            raise ValueError(f"target {target} outside the {last.shape[-1]} outputs")
        d_last = np.zeros_like(last)
        d_last[0, -1, target] = 1.0
        for layer, cache in zip(reversed(tail), reversed(tail_caches)):
            d_last = layer.backward(d_last, cache)
        d = np.zeros_like(out)
        d[:, -1:] = d_last
        for layer, cache in zip(reversed(body), reversed(caches)):
            d = layer.backward(d, cache)
    finally:
        for layer, grads in zip(layers, saved):
            layer.grads.update(grads)
    return cast("npt.NDArray[np.float64]", (np.asarray(d[0], np.float64) ** 2).sum(axis=-1))


class GrowingInfluence:
    """``influence_through`` for a causal transformer stack (LearnedPositions, causal
    TransformerEncoderLayers, then ``per_position`` position-wise layers), kept between calls.

    Typing at the end of a window adds one position: the forward values of the earlier ones
    cannot change (a causal row never sees a later one), so they are kept (``_GrowingBlock``:
    preallocated rows for the whole context, written in place, none copied) and only the new
    rows are computed; the backward computes input gradients only, the last block's from the
    one row the prediction is read at. The same numbers as ``influence_through`` up to float
    rounding (the maths of ``TransformerEncoderLayer.forward_more`` / ``input_grad``). Any
    other stack, or inputs that do not continue the last ones, are computed afresh."""

    def __init__(self, layers: Sequence[Layer], per_position: int = 0) -> None:
        self.layers = list(layers)
        self.per_position = per_position
        body = self.layers[:len(self.layers) - per_position]
        self._fast = (len(body) >= 2 and isinstance(body[0], LearnedPositions)
                      and all(isinstance(b, TransformerEncoderLayer) and b.causal for b in body[1:]))
        self._positions = cast(LearnedPositions, body[0]) if self._fast else None
        cap = self._positions.max_len if self._positions is not None else 0     # the longest window
        self._blocks = [_GrowingBlock(cast(TransformerEncoderLayer, b), cap) for b in body[1:]] if self._fast else []
        self._tail = self.layers[len(self.layers) - per_position:]
        self._x: np.ndarray | None = None         # the inputs the kept rows were computed from

    def __call__(self, x: npt.ArrayLike, target: int) -> npt.NDArray[np.float64]:
        """x: (n, E) inputs -> (n,) float64, as ``influence_through(layers, x, target, per_position)``."""
        x = np.asarray(x)
        pos = self._positions
        if pos is None or x.ndim != 2 or not len(x) or len(x) > pos.max_len or x.shape[1] != pos.d_model:
            return influence_through(self.layers, x, target, self.per_position)
        n = len(x)
        kept = self._x
        t0 = len(kept) if kept is not None and len(kept) <= n and kept.dtype == x.dtype \
            and np.array_equal(kept, x[:len(kept)]) else 0          # (a new dtype: new arrays, all rows)
        if t0 == n:                     # the same window again: its last row is recomputed
            t0 = n - 1
        self._x = None                  # (not valid while the rows are rewritten)
        out = x[t0:] + pos.params["weight"][t0:n]          # positions: x + the position's vector
        for block in self._blocks:
            out = block.forward(out, t0, n)
        self._x = x.copy()
        return self._backward(out[-1:], n, target, [None] * len(self._blocks))

    def recorded(self, caches: Sequence[KVCache], last: np.ndarray, n: int, target: int
                 ) -> npt.NDArray[np.float64] | None:
        """The same numbers for a window that a ``TransformerStream(record=True)`` has read: its
        blocks' caches hold the forward values of the window's first n positions (at least), and
        ``last`` (1, D) is the last block's output at position n - 1. The forward is not run again
        (a key typed costs the backward alone). None when this stack or the caches do not fit."""
        kept = self.recorded_parts(caches, n)
        if kept is None:
            return None
        return self._backward(last, n, target, kept)

    def recorded_parts(self, caches: Sequence[KVCache], n: int) -> list[Any] | None:
        """What ``recorded`` reads: the caches' kept forward values (``recorded_backward``'s
        ``kept``), or None when this stack or the caches do not fit."""
        if not self._fast or len(caches) != len(self._blocks) or not 0 < n <= min(c.n for c in caches):
            return None
        kept = [_Recorded(c) for c in caches if c.record is not None]
        return kept if len(kept) == len(caches) else None

    def head_gradient(self, last: np.ndarray, target: int) -> np.ndarray:
        """(1, E): the gradient of the output[target] read at ``last`` (the last block's output)."""
        return _head_gradient(self._tail, last, target)

    @property
    def blocks(self) -> list[Any]:
        return list(self._blocks)

    def _backward(self, last: np.ndarray, n: int, target: int, kept: Sequence[Any]) -> npt.NDArray[np.float64]:
        return recorded_backward(self._blocks, self.head_gradient(last, target), n, kept)


def recorded_backward(blocks: Sequence[Any], d: np.ndarray, n: int, kept: Sequence[Any]) -> npt.NDArray[np.float64]:
    """The squared input gradients (n,) float64 through a transformer's blocks (``growing_blocks``)
    for the gradient d (1, E) at position n - 1, from the kept forward values of each block
    (``_Recorded``-like objects, None: the block's own rows); another process holding copies of
    the same arrays (same shapes and capacity: same strides) computes the same numbers."""
    first = n - 1
    for block, src in zip(reversed(blocks), reversed(kept)):
        d = block.input_grad(d, first, n, src)
        first = 0
    return cast("npt.NDArray[np.float64]", (np.asarray(d, np.float64) ** 2).sum(axis=-1))


def growing_blocks(layers: Sequence[TransformerEncoderLayer], capacity: int) -> list[Any]:
    """The blocks ``recorded_backward`` runs through (without rows of their own)."""
    return [_GrowingBlock(layer, capacity) for layer in layers]


#: a transformer block's kept forward values, in the order the memory worker sends them
RECORDED_NAMES = ("xhat1", "inv1", "xhat2", "inv2", "slope", "q", "k", "v", "o", "a")


class _Recorded:
    """A stream cache's kept forward values under the names ``_GrowingBlock``'s backward reads."""

    __slots__ = ("xhat1", "inv1", "xhat2", "inv2", "slope", "q", "k", "v", "o", "a")

    def __init__(self, cache: KVCache) -> None:
        rec = cache.record
        assert rec is not None
        self.xhat1, self.inv1, self.xhat2, self.inv2 = rec.xhat1, rec.inv1, rec.xhat2, rec.inv2
        self.slope, self.q, self.o, self.a, self.k, self.v = rec.slope, rec.q, rec.o, rec.a, cache.k, cache.v


class _GrowingBlock:
    """One causal ``TransformerEncoderLayer``'s forward values per position of a growing window
    (one sequence), in arrays for its whole context written in place: what its input-only
    backward reads. ``forward(rows, t0, n)`` computes positions t0..n-1 (the earlier ones are
    kept); ``input_grad(dy, first, n)``: the gradient w.r.t. the block's input (n, D) for a dy
    on positions first..n-1. The layer's own equations (``forward_more``, ``input_grad``) on
    2-D rows, without its parameter gradients."""

    def __init__(self, layer: TransformerEncoderLayer, capacity: int) -> None:
        self.layer, self.capacity = layer, capacity
        self.dtype: np.dtype | None = None

    def _allocate(self, dtype: np.dtype) -> None:
        la, cap = self.layer, self.capacity
        h, dh, d, f = la.nhead, la.d_head, la.d_model, la.dim_feedforward
        self.xhat1, self.xhat2 = np.zeros((cap, d), dtype), np.zeros((cap, d), dtype)
        self.inv1, self.inv2 = np.zeros((cap, 1), dtype), np.zeros((cap, 1), dtype)
        self.slope = np.zeros((cap, f), dtype)                  # the feed-forward activation's slope
        self.q, self.k, self.v, self.o = (np.zeros((h, cap, dh), dtype) for _ in range(4))   # o: per head a @ v
        self.a = np.zeros((h, cap, cap), dtype)                 # 0 past each row's own position
        self.dtype = dtype

    def forward(self, x: np.ndarray, t0: int, n: int) -> np.ndarray:
        """x (m, D): the block's inputs at positions t0..n-1 (m = n - t0) -> its outputs (m, D)."""
        if self.dtype is None or x.dtype != self.dtype:
            self._allocate(x.dtype)
        la = self.layer
        if la.norm_first:
            x1 = x + self._attention(self._norm(1, x, t0, n), t0, n)
            return cast("np.ndarray", x1 + self._ff(self._norm(2, x1, t0, n), t0, n))
        h1 = self._norm(1, x + self._attention(x, t0, n), t0, n)
        return self._norm(2, h1 + self._ff(h1, t0, n), t0, n)

    def _norm(self, which: int, x: np.ndarray, t0: int, n: int) -> np.ndarray:
        """``layer_norm`` of rows t0..n-1, keeping xhat and 1/std for the backward."""
        la = self.layer
        y, xhat, inv = layer_norm(x, la.params[f"norm{which}.weight"], la.params[f"norm{which}.bias"], la.eps)
        (self.xhat1 if which == 1 else self.xhat2)[t0:n] = xhat
        (self.inv1 if which == 1 else self.inv2)[t0:n] = inv
        return y

    def _attention(self, x: np.ndarray, t0: int, n: int) -> np.ndarray:
        la = self.layer
        p = la.params
        m, d = x.shape
        qkv = x @ p["self_attn.in_proj_weight"].T
        qkv += p["self_attn.in_proj_bias"]
        for i, dst in enumerate((self.q, self.k, self.v)):
            dst[:, t0:n] = qkv[:, i * d:(i + 1) * d].reshape(m, la.nhead, la.d_head).swapaxes(0, 1)
        scale = np.asarray(1.0 / math.sqrt(la.d_head), x.dtype)
        s = (self.q[:, t0:n] * scale) @ self.k[:, :n].swapaxes(-1, -2)          # (h, m, n)
        if m > 1:
            s += causal_mask(m, s.dtype, t0)
        s -= s.max(axis=-1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=-1, keepdims=True)
        self.a[:, t0:n, :n] = s
        heads = self.o[:, t0:n]
        np.matmul(s, self.v[:, :n], out=heads)
        o = heads.swapaxes(0, 1).reshape(m, d)
        y = o @ p["self_attn.out_proj.weight"].T
        y += p["self_attn.out_proj.bias"]
        return cast("np.ndarray", y)

    def _ff(self, x: np.ndarray, t0: int, n: int) -> np.ndarray:
        p = self.layer.params
        h = x @ p["linear1.weight"].T
        h += p["linear1.bias"]
        relu = self.layer.activation == "relu"
        self.slope[t0:n] = (h > 0) if relu else gelu_grad(h)   # once per position, not per key
        act = np.maximum(h, 0) if relu else gelu(h)
        y = act @ p["linear2.weight"].T
        y += p["linear2.bias"]
        return cast("np.ndarray", y)

    def input_grad(self, dy: np.ndarray, first: int, n: int, kept: Any = None) -> np.ndarray:
        """dy (n - first, D) on positions first..n-1 -> dx (n, D). ``kept``: read the forward
        values from it (a ``_Recorded`` stream cache) instead of this block's own rows."""
        la, src = self.layer, kept if kept is not None else self
        rows = slice(first, n)
        if la.norm_first:
            dx1 = dy + self._norm_grad(2, self._ff_grad(dy, rows, src), rows, src)
            dx = self._norm_grad(1, self._attn_grad(dx1, first, n, src), slice(0, n), src)
            dx[rows] += dx1
            return dx
        dpre2 = self._norm_grad(2, dy, rows, src)
        dx1 = dpre2 + self._ff_grad(dpre2, rows, src)
        dpre1 = self._norm_grad(1, dx1, rows, src)
        dx = self._attn_grad(dpre1, first, n, src)
        dx[rows] += dpre1
        return dx

    def _norm_grad(self, which: int, dy: np.ndarray, rows: slice, src: Any) -> np.ndarray:
        """``layer_norm_backward``'s dx alone (its parameter gradients are not needed)."""
        xhat, inv = (src.xhat1, src.inv1) if which == 1 else (src.xhat2, src.inv2)
        xhat, inv = xhat[rows], inv[rows]
        g = dy * self.layer.params[f"norm{which}.weight"]
        d = g.shape[-1]
        mean_g = np.add.reduce(g, axis=-1, keepdims=True) / d
        mean_gx = np.add.reduce(g * xhat, axis=-1, keepdims=True) / d
        g -= mean_g
        g -= xhat * mean_gx
        g *= inv
        return cast("np.ndarray", g)

    def _ff_grad(self, dy: np.ndarray, rows: slice, src: Any) -> np.ndarray:
        p = self.layer.params
        dact = dy @ p["linear2.weight"]
        dact *= src.slope[rows]
        return cast("np.ndarray", dact @ p["linear1.weight"])

    def _attn_grad(self, dy: np.ndarray, first: int, n: int, src: Any) -> np.ndarray:
        """The attention's input gradient (n, D) for dy (n - first, D) on positions first..n-1."""
        la = self.layer
        p = la.params
        d, r = la.d_model, n - first
        scale = np.asarray(1.0 / math.sqrt(la.d_head), dy.dtype)
        do = (dy @ p["self_attn.out_proj.weight"]).reshape(r, la.nhead, la.d_head).swapaxes(0, 1)   # (h, r, dh)
        a = src.a[:, first:n, :n]
        k, v = src.k[:, :n], src.v[:, :n]
        da = do @ v.swapaxes(-1, -2)                                                # (h, r, n)
        dv = a.swapaxes(-1, -2) @ do
        # sum_j da_ij a_ij = do_i . sum_j a_ij v_j = do_i . o_i: (h, r, dh) products, not (h, r, n)
        da -= np.einsum("hid,hid->hi", do, src.o[:, first:n])[..., None]   # (one pass over the strided do)
        ds = np.multiply(da, a, out=da)
        dq = (ds @ k) * scale
        dk = (ds.swapaxes(-1, -2) @ src.q[:, first:n]) * scale
        dqkv = np.empty((n, 3 * d), dy.dtype)
        dqkv[:first, :d] = 0.0
        dqkv[first:, :d] = dq.swapaxes(0, 1).reshape(r, d)
        dqkv[:, d:2 * d] = dk.swapaxes(0, 1).reshape(n, d)
        dqkv[:, 2 * d:] = dv.swapaxes(0, 1).reshape(n, d)
        return dqkv @ p["self_attn.in_proj_weight"]
