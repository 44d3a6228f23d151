"""Causal self-attention: ``TransformerEncoderLayer`` with PyTorch's parameters and equations.

``TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0, activation="relu" |
"gelu", batch_first=True, norm_first=False | True)`` applied with a causal mask (position t
attends to positions 0..t; ``causal=False`` attends everywhere). x: (N, T, D) -> y: (N, T, D).

    norm_first=False:  x = norm1(x + SA(x));        y = norm2(x + FF(x))
    norm_first=True:   x = x + SA(norm1(x));        y = x + FF(norm2(x))
    SA(x) = concat_h(softmax(Q_h K_h^T / sqrt(d_h) + mask) V_h) W_o^T + b_o,
            [Q K V] = x W_in^T + b_in,  d_h = D / nhead
    FF(x) = act(x W_1^T + b_1) W_2^T + b_2,  act = ReLU or PyTorch's exact erf GELU

Parameter names are those of PyTorch's ``state_dict()`` of that layer
(``self_attn.in_proj_weight`` (3D, D), ``self_attn.in_proj_bias`` (3D,),
``self_attn.out_proj.weight`` (D, D), ``self_attn.out_proj.bias``, ``linear1.weight`` (F, D),
``linear1.bias``, ``linear2.weight`` (D, F), ``linear2.bias``, ``norm1.weight``,
``norm1.bias``, ``norm2.weight``, ``norm2.bias``), with PyTorch's initialisation.

``extend(x_new, cache)`` reads new positions of one sequence against the keys and values
kept from earlier ones (``KVCache``): what makes one more character cost one position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from .conv import positive_int
from .layer import Array, Layer, check_ndim
from .norm import layer_norm, layer_norm_backward

_SQRT_PI = math.sqrt(math.pi)
_ERF_SERIES_MAX = 3.5     # below: a positive series; above: erfc's continued fraction


def erf(x: Array) -> Array:
    """The error function to float64 accuracy (numpy has none; the engine takes no scipy).

    |x| < 3.5: erf(a) = 2/sqrt(pi) exp(-a^2) sum_n 2^n a^(2n+1) / (1*3*...*(2n+1)), whose
    terms are all positive (no cancellation); else erfc from its continued fraction
    a + (1/2)/(a + 1/(a + (3/2)/(a + ...))), which converges fast there.
    """
    xd = np.asarray(x, dtype=np.float64)
    a = np.abs(xd)
    out = np.empty_like(a)
    small = a < _ERF_SERIES_MAX
    if small.any():
        s = a[small]
        a2 = 2.0 * s * s
        term = s.copy()
        total = s.copy()
        for n in range(200):
            term *= a2 / (2 * n + 3)
            total += term
            if n > 4 and np.all(term <= 1e-17 * total):
                break
        out[small] = (2.0 / _SQRT_PI) * np.exp(-s * s) * total
    if (~small).any():
        b = a[~small]
        f = b.copy()
        for k in range(60, 0, -1):
            f = b + (0.5 * k) / f
        out[~small] = 1.0 - np.exp(-b * b) / (_SQRT_PI * f)
    return cast("Array", np.copysign(out, xd).astype(np.asarray(x).dtype, copy=False))


def gelu(x: Array) -> Array:
    """PyTorch's exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))."""
    return cast("Array", 0.5 * x * (1.0 + erf(x * np.asarray(1 / math.sqrt(2), x.dtype))))


def gelu_grad(x: Array) -> Array:
    """d gelu / dx = Phi(x) + x phi(x)."""
    cdf = 0.5 * (1.0 + erf(x * np.asarray(1 / math.sqrt(2), x.dtype)))
    pdf = np.exp(-0.5 * x * x) * np.asarray(1 / math.sqrt(2 * math.pi), x.dtype)
    return cast("Array", cdf + x * pdf)


def causal_mask(t: int, dtype: Any, offset: int = 0) -> Array:
    """(t, offset + t): 0 where query i (position offset + i) may see key j, -inf after it."""
    key = (dtype, t, offset)
    mask = _MASKS.get(key)
    if mask is None:
        mask = np.zeros((t, offset + t), dtype)
        mask[:, offset:][np.triu_indices(t, 1)] = -np.inf
        if len(_MASKS) > 64:
            _MASKS.clear()
        _MASKS[key] = mask
    return mask


_MASKS: dict[tuple[Any, int, int], Array] = {}


def _rows_more(old: tuple[Array, ...], new: tuple[Array, ...]) -> tuple[Array, ...]:
    """Per-position caches (arrays (N, T, ...)) of earlier positions, then of the new ones."""
    return tuple(np.concatenate([a, b], axis=1) for a, b in zip(old, new))


def _softmax_last(s: Array) -> Array:
    """Softmax over the last axis, in place (s is a fresh array of scores)."""
    s -= np.maximum.reduce(s, axis=-1, keepdims=True)      # (ndarray.max / .sum without their wrappers)
    np.exp(s, out=s)
    s /= np.add.reduce(s, axis=-1, keepdims=True)
    return s


@dataclass
class ForwardRecord:
    """Per position of a ``KVCache``'s sequence, the forward values its input gradient reads
    (``new_cache(record=True)``): each norm's xhat (capacity, D) and 1/std (capacity, 1), the
    feed-forward activation's slope (capacity, F), per head the query and the attention output
    (nhead, capacity, d_head) and the attention rows (nhead, capacity, capacity), 0 past each
    row's own position. The Memory panel reads them instead of running the window forward again."""

    xhat1: Array
    inv1: Array
    xhat2: Array
    inv2: Array
    slope: Array
    q: Array
    o: Array
    a: Array


@dataclass
class KVCache:
    """One layer's keys and values of one sequence: k, v (nhead, capacity, d_head); the
    first ``n`` positions are valid. ``record``: their forward values too, or None."""

    k: Array
    v: Array
    n: int = 0
    record: ForwardRecord | None = None
    kv: Array | None = None           # (2, nhead, capacity, d_head) whose halves k and v are, or None


class TransformerEncoderLayer(Layer):
    """x: (N, T, D) -> y: (N, T, D); see the module docstring for the equations."""

    type_name = "TransformerEncoderLayer"
    PARAM_NAMES = ("self_attn.in_proj_weight", "self_attn.in_proj_bias",
                   "self_attn.out_proj.weight", "self_attn.out_proj.bias",
                   "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
                   "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias")

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.0,
                 activation: str = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = True,
                 norm_first: bool = False, bias: bool = True, causal: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        d = self.d_model = positive_int(d_model, "d_model")
        self.nhead = positive_int(nhead, "nhead")
        f = self.dim_feedforward = positive_int(dim_feedforward, "dim_feedforward")
        if d % self.nhead:
            raise ValueError(f"d_model ({d}) must be divisible by nhead ({self.nhead})")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or dropout != 0:
            raise ValueError(f"only dropout=0 is supported, got {dropout!r} (dropout is off when "
                             "reading anyway: write 0 in the arch of a model trained with it)")
        if activation not in ("relu", "gelu"):
            raise ValueError(f"activation must be 'relu' or 'gelu', got {activation!r}")
        if batch_first is not True or bias is not True:
            raise ValueError("only batch_first=True and bias=True are supported")
        for name, flag in (("norm_first", norm_first), ("causal", causal)):
            if not isinstance(flag, bool):
                raise ValueError(f"{name} must be true or false, got {flag!r}")
        if isinstance(layer_norm_eps, bool) or not isinstance(layer_norm_eps, (int, float)) \
                or not 0 < layer_norm_eps < 1:
            raise ValueError(f"layer_norm_eps must be a small positive number, got {layer_norm_eps!r}")
        self.activation, self.norm_first, self.causal = activation, norm_first, causal
        self.eps = float(layer_norm_eps)
        self.d_head = d // self.nhead
        rng = rng if rng is not None else np.random.default_rng()

        def uniform(bound: float, shape: tuple[int, ...]) -> Array:
            return rng.uniform(-bound, bound, shape).astype(np.float32)

        p = self.params
        p["self_attn.in_proj_weight"] = uniform(math.sqrt(6.0 / (4 * d)), (3 * d, d))  # xavier
        p["self_attn.in_proj_bias"] = np.zeros(3 * d, np.float32)
        p["self_attn.out_proj.weight"] = uniform(1 / math.sqrt(d), (d, d))
        p["self_attn.out_proj.bias"] = np.zeros(d, np.float32)
        p["linear1.weight"] = uniform(1 / math.sqrt(d), (f, d))
        p["linear1.bias"] = uniform(1 / math.sqrt(d), (f,))
        p["linear2.weight"] = uniform(1 / math.sqrt(f), (d, f))
        p["linear2.bias"] = uniform(1 / math.sqrt(f), (d,))
        for k in ("norm1", "norm2"):
            p[f"{k}.weight"] = np.ones(d, np.float32)
            p[f"{k}.bias"] = np.zeros(d, np.float32)
        self.zero_grad()

    def config(self) -> dict[str, Any]:
        return {"d_model": self.d_model, "nhead": self.nhead,
                "dim_feedforward": self.dim_feedforward, "dropout": 0.0,
                "activation": self.activation, "layer_norm_eps": self.eps, "batch_first": True,
                "norm_first": self.norm_first, "causal": self.causal}

    # -- pieces ----------------------------------------------------------------------
    def _norm(self, which: str, x: Array) -> tuple[Array, Any]:
        y, xhat, inv = layer_norm(x, self.params[f"{which}.weight"], self.params[f"{which}.bias"],
                                  self.eps)
        return y, (xhat, inv)

    def _norm_back(self, which: str, dy: Array, cache: Any) -> Array:
        dx, dw, db = layer_norm_backward(dy, cache[0], cache[1], self.params[f"{which}.weight"])
        self.grads[f"{which}.weight"] += dw
        self.grads[f"{which}.bias"] += db
        return dx

    def _heads(self, a: Array) -> Array:
        """(..., T, D) -> (..., nhead, T, d_head)."""
        *lead, t, _ = a.shape
        return cast("Array", a.reshape(*lead, t, self.nhead, self.d_head).swapaxes(-2, -3))

    def _attn(self, x: Array) -> tuple[Array, Any]:
        n, t, d = x.shape
        p = self.params
        qkv = x @ p["self_attn.in_proj_weight"].T
        qkv += p["self_attn.in_proj_bias"]
        q, k, v = (self._heads(qkv[..., i * d:(i + 1) * d]) for i in range(3))
        scale = np.asarray(1.0 / math.sqrt(self.d_head), x.dtype)
        s = (q * scale) @ k.swapaxes(-1, -2)                        # (N, h, T, T)
        if self.causal and t > 1:
            s += causal_mask(t, s.dtype)
        a = _softmax_last(s)
        o = (a @ v).swapaxes(1, 2).reshape(n, t, d)                  # heads merged
        y = o @ p["self_attn.out_proj.weight"].T
        y += p["self_attn.out_proj.bias"]
        return y, (x, q, k, v, a, o, scale)

    def _attn_back(self, dy: Array, cache: Any) -> Array:
        x, q, k, v, a, o, scale = cache
        n, t, d = x.shape
        p, g = self.params, self.grads
        dy2 = dy.reshape(-1, d)
        g["self_attn.out_proj.weight"] += dy2.T @ o.reshape(-1, d)
        g["self_attn.out_proj.bias"] += dy2.sum(axis=0)
        do = self._heads(dy @ p["self_attn.out_proj.weight"])       # (N, h, T, dh)
        da = do @ v.swapaxes(-1, -2)
        dv = a.swapaxes(-1, -2) @ do
        ds = a * (da - np.sum(da * a, axis=-1, keepdims=True))
        dq = (ds @ k) * scale
        dk = (ds.swapaxes(-1, -2) @ q) * scale
        dqkv = np.concatenate([h.swapaxes(1, 2).reshape(n, t, d) for h in (dq, dk, dv)], axis=-1)
        dqkv2 = dqkv.reshape(-1, 3 * d)
        g["self_attn.in_proj_weight"] += dqkv2.T @ x.reshape(-1, d)
        g["self_attn.in_proj_bias"] += dqkv2.sum(axis=0)
        return cast("Array", dqkv @ p["self_attn.in_proj_weight"])

    def _ff(self, x: Array) -> tuple[Array, Any]:
        p = self.params
        h = x @ p["linear1.weight"].T
        h += p["linear1.bias"]
        act = np.maximum(h, 0) if self.activation == "relu" else gelu(h)
        y = act @ p["linear2.weight"].T
        y += p["linear2.bias"]
        return y, (x, h, act)

    def _ff_back(self, dy: Array, cache: Any) -> Array:
        x, h, act = cache
        p, g = self.params, self.grads
        d, f = self.d_model, self.dim_feedforward
        dy2 = dy.reshape(-1, d)
        g["linear2.weight"] += dy2.T @ act.reshape(-1, f)
        g["linear2.bias"] += dy2.sum(axis=0)
        dact = dy @ p["linear2.weight"]
        dh = dact * (h > 0) if self.activation == "relu" else dact * gelu_grad(h)
        dh2 = dh.reshape(-1, f)
        g["linear1.weight"] += dh2.T @ x.reshape(-1, d)
        g["linear1.bias"] += dh2.sum(axis=0)
        return cast("Array", dh @ p["linear1.weight"])

    # -- the layer contract ------------------------------------------------------------
    def _check(self, x: Array) -> None:
        check_ndim(self, x, 3, f"(N, T, {self.d_model})")
        if x.shape[2] != self.d_model:
            raise ValueError(f"TransformerEncoderLayer expects input of shape (N, T, {self.d_model}), "
                             f"got shape {tuple(x.shape)}")

    def forward(self, x: Array) -> tuple[Array, Any]:
        self._check(x)
        if self.norm_first:
            n1, c_n1 = self._norm("norm1", x)
            sa, c_sa = self._attn(n1)
            x1 = x + sa
            n2, c_n2 = self._norm("norm2", x1)
            ff, c_ff = self._ff(n2)
            return x1 + ff, (c_n1, c_sa, c_n2, c_ff)
        sa, c_sa = self._attn(x)
        h1, c_n1 = self._norm("norm1", x + sa)
        ff, c_ff = self._ff(h1)
        y, c_n2 = self._norm("norm2", h1 + ff)
        return y, (c_n1, c_sa, c_n2, c_ff)

    def backward(self, dy: Array, cache: Any) -> Array:
        c_n1, c_sa, c_n2, c_ff = cache
        if self.norm_first:
            dx1 = dy + self._norm_back("norm2", self._ff_back(dy, c_ff), c_n2)
            return dx1 + self._norm_back("norm1", self._attn_back(dx1, c_sa), c_n1)
        dpre2 = self._norm_back("norm2", dy, c_n2)
        dx1 = dpre2 + self._ff_back(dpre2, c_ff)
        dpre1 = self._norm_back("norm1", dx1, c_n1)
        return dpre1 + self._attn_back(dpre1, c_sa)

    def extras(self, cache: Any) -> dict[str, Array]:
        """What Model.trace shows: the attention weights (N, nhead, T_query, T_key)."""
        return {"attn": cache[1][4]}

    # -- a growing window's input gradient (the Memory panel: one more key, one more row) ----
    def forward_more(self, x_new: Array, cache: Any = None) -> tuple[Array, Any]:
        """``forward`` of a sequence whose first T0 positions ``cache`` holds (the cache of
        ``forward`` or ``forward_more``; None: T0 = 0), given only its next positions x_new
        (N, t, D) -> (y of those t positions, the cache of all T0 + t positions, as
        ``backward`` / ``input_grad`` take it). A causal row never sees a later one, so the
        kept rows are the ones ``forward`` computes; the new rows equal its rows up to
        rounding (a product of fewer rows may add in another order). Requires ``causal``."""
        if not self.causal:
            raise ValueError("a growing window needs a causal layer")
        self._check(x_new)
        old: Any = cache if cache is not None else (None, None, None, None)
        c_n1, c_sa, c_n2, c_ff = old
        y: Array
        if self.norm_first:
            n1, c1 = self._norm("norm1", x_new)
            sa, cs = self._attn_more(n1, c_sa)
            x1 = x_new + sa
            n2, c2 = self._norm("norm2", x1)
            ff, cf = self._ff(n2)
            y = x1 + ff
        else:
            sa, cs = self._attn_more(x_new, c_sa)
            h1, c1 = self._norm("norm1", x_new + sa)
            ff, cf = self._ff(h1)
            y, c2 = self._norm("norm2", h1 + ff)
        if cache is None:
            return y, (c1, cs, c2, cf)
        return y, (_rows_more(c_n1, c1), cs, _rows_more(c_n2, c2), _rows_more(c_ff, cf))

    def _attn_more(self, x_new: Array, cache: Any) -> tuple[Array, Any]:
        """``_attn`` for the next t positions, the earlier ones' keys and values from ``cache``."""
        n, t, d = x_new.shape
        p = self.params
        qkv = x_new @ p["self_attn.in_proj_weight"].T
        qkv += p["self_attn.in_proj_bias"]
        q, k, v = (self._heads(qkv[..., i * d:(i + 1) * d]) for i in range(3))
        scale = np.asarray(1.0 / math.sqrt(self.d_head), x_new.dtype)
        t0 = 0
        if cache is not None:
            x_old, q_old, k_old, v_old, a_old, o_old, _ = cache
            t0 = x_old.shape[1]
            k = np.concatenate([k_old, k], axis=2)
            v = np.concatenate([v_old, v], axis=2)
        s = (q * scale) @ k.swapaxes(-1, -2)                        # (N, h, t, T0 + t)
        if t > 1:
            s += causal_mask(t, s.dtype, t0)
        a = _softmax_last(s)
        o = (a @ v).swapaxes(1, 2).reshape(n, t, d)
        y = o @ p["self_attn.out_proj.weight"].T
        y += p["self_attn.out_proj.bias"]
        if cache is None:
            return y, (x_new, q, k, v, a, o, scale)
        a_all = np.zeros((n, self.nhead, t0 + t, t0 + t), a.dtype)   # a row's later keys: weight 0
        a_all[:, :, :t0, :t0] = a_old
        a_all[:, :, t0:] = a
        return y, (np.concatenate([x_old, x_new], axis=1), np.concatenate([q_old, q], axis=2), k, v,
                   a_all, np.concatenate([o_old, o], axis=1), scale)

    def input_grad(self, dy: Array, cache: Any, first: int = 0) -> Array:
        """``backward``'s input gradient alone (no parameter gradient is computed or touched),
        for a dy that is 0 on positions before ``first``: dy (N, T - first, D) holds its
        positions first..T-1 -> dx (N, T, D). The Memory panel asks for one position's
        gradient (first = T - 1): the feed-forward and the norms after the attention then run
        on that one row, the attention's queries too."""
        c_n1, c_sa, c_n2, c_ff = cache
        rows = slice(first, None)
        if self.norm_first:
            dx1 = dy + self._norm_grad("norm2", self._ff_grad(dy, c_ff, rows), c_n2, rows)
            d_n1 = self._attn_grad(dx1, c_sa, first)
            dx = self._norm_grad("norm1", d_n1, c_n1, slice(None))
            dx[:, rows] += dx1
            return dx
        dpre2 = self._norm_grad("norm2", dy, c_n2, rows)
        dx1 = dpre2 + self._ff_grad(dpre2, c_ff, rows)
        dpre1 = self._norm_grad("norm1", dx1, c_n1, rows)
        dx = self._attn_grad(dpre1, c_sa, first)
        dx[:, rows] += dpre1
        return dx

    def _norm_grad(self, which: str, dy: Array, cache: Any, rows: slice) -> Array:
        return layer_norm_backward(dy, cache[0][:, rows], cache[1][:, rows], self.params[f"{which}.weight"])[0]

    def _ff_grad(self, dy: Array, cache: Any, rows: slice) -> Array:
        _, h, _ = cache
        h = h[:, rows]
        p = self.params
        dact = dy @ p["linear2.weight"]
        dh = dact * (h > 0) if self.activation == "relu" else dact * gelu_grad(h)
        return cast("Array", dh @ p["linear1.weight"])

    def _attn_grad(self, dy: Array, cache: Any, first: int) -> Array:
        """The attention's input gradient for dy (N, T - first, D) on positions first..T-1."""
        x, q, k, v, a, _, scale = cache
        n, t, d = x.shape
        p = self.params
        do = self._heads(dy @ p["self_attn.out_proj.weight"])       # (N, h, T - first, dh)
        a = a[:, :, first:]
        da = do @ v.swapaxes(-1, -2)
        dv = a.swapaxes(-1, -2) @ do
        ds = a * (da - np.sum(da * a, axis=-1, keepdims=True))
        dq = (ds @ k) * scale
        dk = (ds.swapaxes(-1, -2) @ q[:, :, first:]) * scale
        dqkv = np.zeros((n, t, 3 * d), dy.dtype)
        dqkv[:, first:, :d] = dq.swapaxes(1, 2).reshape(n, t - first, d)
        dqkv[..., d:2 * d] = dk.swapaxes(1, 2).reshape(n, t, d)
        dqkv[..., 2 * d:] = dv.swapaxes(1, 2).reshape(n, t, d)
        return cast("Array", dqkv @ p["self_attn.in_proj_weight"])

    # -- incremental reading (one sequence) ------------------------------------------------
    def new_cache(self, capacity: int, dtype: Any = np.float32, record: bool = False) -> KVCache:
        """An empty cache for ``capacity`` positions; ``record``: with a ``ForwardRecord``."""
        cap = int(capacity)
        shape = (self.nhead, cap, self.d_head)
        rec = None
        if record:
            d, f = self.d_model, self.dim_feedforward
            rec = ForwardRecord(np.zeros((cap, d), dtype), np.zeros((cap, 1), dtype), np.zeros((cap, d), dtype),
                                np.zeros((cap, 1), dtype), np.zeros((cap, f), dtype), np.zeros(shape, dtype),
                                np.zeros(shape, dtype), np.zeros((self.nhead, cap, cap), dtype))
        kv = np.zeros((2, *shape), dtype)        # keys and values side by side: one write per read
        return KVCache(kv[0], kv[1], 0, rec, kv)

    def extend(self, x: Array, cache: KVCache, want_attn: bool = True) -> tuple[Array, Array | None]:
        """x: (t, D), the next t positions of the sequence whose first ``cache.n`` positions
        the cache holds -> (y (t, D), attention (nhead, t, cache.n + t) or None); their keys
        and values are appended to the cache. Equal to ``forward`` on the whole sequence
        (rows cache.n ..) up to rounding; requires ``causal``.

        A keystroke reads one position through every block, so this is written for few numpy
        calls (each costs about a microsecond for a row): keys and values in one write, the
        record's rows in one assignment per norm. The same operations on the same values as
        before (the same numbers)."""
        if not self.causal:
            raise ValueError("incremental reading needs a causal layer")
        t, d = x.shape
        n0, n1 = cache.n, cache.n + t
        if n1 > cache.k.shape[1]:
            raise ValueError(f"the key/value cache holds {cache.k.shape[1]} positions, "
                             f"asked for {n1}")
        p = self.params
        rec = cache.record
        rows = slice(n0, n1)
        if self.norm_first:
            h_in, xhat, inv = layer_norm(x, p["norm1.weight"], p["norm1.bias"], self.eps)
            if rec is not None:
                rec.xhat1[rows], rec.inv1[rows] = xhat, inv
        else:
            h_in = x
        qkv = h_in @ p["self_attn.in_proj_weight"].T
        qkv += p["self_attn.in_proj_bias"]
        split = qkv.reshape(t, 3, self.nhead, self.d_head).transpose(1, 2, 0, 3)   # (q k v, h, t, d_head)
        q = split[0]
        if cache.kv is not None:
            cache.kv[:, :, n0:n1] = split[1:]
        else:
            cache.k[:, n0:n1], cache.v[:, n0:n1] = split[1], split[2]
        cache.n = n1
        s = (q * np.asarray(1.0 / math.sqrt(self.d_head), x.dtype)) @ cache.k[:, :n1].swapaxes(-1, -2)   # (h, t, n1)
        if t > 1:
            s += causal_mask(t, s.dtype, n0)
        a = _softmax_last(s)
        heads = a @ cache.v[:, :n1]                                   # (h, t, d_head)
        if rec is not None:
            rec.q[:, rows], rec.a[:, rows, :n1], rec.o[:, rows] = q, a, heads
        o = heads.swapaxes(0, 1).reshape(t, d)
        sa = o @ p["self_attn.out_proj.weight"].T
        sa += p["self_attn.out_proj.bias"]
        if self.norm_first:
            x1 = x + sa
            n2, xhat, inv = layer_norm(x1, p["norm2.weight"], p["norm2.bias"], self.eps)
            ff, (_, h, _) = self._ff(n2)
            y = x1
            y += ff
        else:
            x1, xhat, inv = layer_norm(x + sa, p["norm1.weight"], p["norm1.bias"], self.eps)
            if rec is not None:
                rec.xhat1[rows], rec.inv1[rows] = xhat, inv
            ff, (_, h, _) = self._ff(x1)
            x1 += ff
            y, xhat, inv = layer_norm(x1, p["norm2.weight"], p["norm2.bias"], self.eps)
        if rec is not None:
            rec.xhat2[rows], rec.inv2[rows] = xhat, inv
            rec.slope[rows] = (h > 0) if self.activation == "relu" else gelu_grad(h)
        return y, (a if want_attn else None)
