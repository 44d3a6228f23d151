"""``TransformerStream``: a causal transformer reading a text one position at a time.

For ``Model([Embedding, LearnedPositions, TransformerEncoderLayer x L, (LayerNorm), Linear])``.
Each layer keeps the keys and values of the positions read so far (``KVCache``), so one
more character costs one position: its query against the kept keys (the RNN's checkpoint,
for attention). ``truncate(p)`` forgets positions >= p; the next ``extend`` recomputes from
there (an edit in the middle).

**Beyond the context length** L (``max_len`` of the positions): the model never saw a
position >= L, so a long text is read in windows that jump by half a context. Position p
is read in the window that starts at

    start(p) = 0                                  for p < L
    start(p) = ((p - L) // (L/2) + 1) * (L/2)     for p >= L

with positions counted from the window's start. So every position sees between L/2 + 1
and L characters (itself included): the last L/2..L characters, never more. When the window
moves, the L/2 characters it keeps are re-encoded once (a keystroke that crosses the
boundary costs L/2 positions; the others cost one). ``from_scratch`` computes the same
thing the slow way (one whole forward per window) for the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np

from .attention import KVCache, TransformerEncoderLayer
from .dense import Embedding, Linear
from .layer import Array
from .model import Model
from .norm import LayerNorm, LearnedPositions


@dataclass
class StreamOutput:
    """For the positions just read (t_new of them):

    logits (t_new, V) ((t_new, 0) when not asked for); residual (t_new, D): the residual
    stream after the last layer, before any final LayerNorm; layer_outputs: per layer (t_new,
    D); attn: per layer (nhead, t_new, T_total) attention weights over every position read so
    far (0 outside each row's window), or None when not asked for; window_start (t_new,):
    where each row's window begins; window_attn (t_new, L, nhead, max_len): the same weights,
    row i's column j the key window_start[i] + j (0 past row i), or None when not asked for.
    """

    logits: Array
    residual: Array
    layer_outputs: list[Array]
    attn: list[Array] | None
    window_start: np.ndarray
    window_attn: Array | None = None


def transformer_parts(model: Model) -> tuple[Embedding, LearnedPositions,
                                             list[TransformerEncoderLayer], LayerNorm | None, Linear]:
    """The layers of a char transformer; ValueError if the model is not one."""
    layers = model.layers
    ok = (len(layers) >= 4 and isinstance(layers[0], Embedding)
          and isinstance(layers[1], LearnedPositions) and isinstance(layers[-1], Linear))
    blocks = [la for la in layers[2:-1] if isinstance(la, TransformerEncoderLayer)]
    rest = [la for la in layers[2:-1] if not isinstance(la, TransformerEncoderLayer)]
    final = rest[0] if len(rest) == 1 and isinstance(rest[0], LayerNorm) \
        and layers[-2] is rest[0] else None
    if not ok or not blocks or (rest and final is None) or not all(b.causal for b in blocks):
        names = " -> ".join(la.type_name for la in layers)
        raise ValueError("a transformer stream needs Embedding -> LearnedPositions -> causal "
                         f"TransformerEncoderLayer x L -> (LayerNorm) -> Linear, got {names}")
    return cast(Embedding, layers[0]), cast(LearnedPositions, layers[1]), blocks, final, \
        cast(Linear, layers[-1])


def window_start(p: int, max_len: int) -> int:
    """The first position of the window position p is read in (module docstring)."""
    if p < max_len:
        return 0
    half = max(1, max_len // 2)
    return ((p - max_len) // half + 1) * half


class TransformerStream:
    """Incremental reading of one text by a char transformer (numpy only, batch 1)."""

    def __init__(self, model: Model, record: bool = False) -> None:
        """``record``: each layer's cache keeps the forward values an input gradient reads
        (``ForwardRecord``) for the positions of the current window."""
        self.model = model
        self.emb, self.pos, self.blocks, self.final_norm, self.head = transformer_parts(model)
        self.max_len = self.pos.max_len
        self.dtype = self.pos.params["weight"].dtype
        self.caches: list[KVCache] = [b.new_cache(self.max_len, self.dtype, record) for b in self.blocks]
        self._ids = np.zeros(1024, np.int32)
        self._n = 0
        self.start: int | None = None     # the window the caches hold: [start, start + cache.n)

    def __len__(self) -> int:
        return self._n

    @property
    def ids(self) -> np.ndarray:
        return self._ids[:self._n]

    def window_start(self, p: int) -> int:
        return window_start(p, self.max_len)

    def truncate(self, p: int) -> None:
        """Forget positions >= p (0 <= p); the kept keys and values stay valid."""
        if p < 0:
            raise ValueError(f"cannot truncate to a negative length ({p})")
        if p >= self._n:
            return
        self._n = p
        if self.start is None or p <= self.start:
            self.start = None
            for c in self.caches:
                c.n = 0
        else:
            for c in self.caches:
                c.n = min(c.n, p - self.start)

    def reset(self) -> None:
        self.truncate(0)

    def extend(self, token_ids: Any, attn: bool | Literal["window"] = True, logits: bool = True) -> StreamOutput:
        """Read more positions -> StreamOutput for them. ``attn=False`` skips the dense
        attention arrays (for a long paste they would be t_new x T_total per head);
        ``attn="window"`` gives ``window_attn`` instead (t_new x max_len per head and layer, what
        a reader that keeps attention rows stores). ``logits=False``: no final norm and head."""
        if attn not in (True, False, "window"):
            raise ValueError(f"attn must be True, False or 'window', got {attn!r}")
        ids = np.asarray(token_ids).ravel()
        if ids.size and (ids.dtype.kind not in "iu" or np.minimum.reduce(ids) < 0
                         or np.maximum.reduce(ids) >= self.emb.num_embeddings):
            raise ValueError(f"token ids must be integers in [0, {self.emb.num_embeddings - 1}]")
        p0, t = self._n, len(ids)
        if p0 + t > len(self._ids):
            grown = np.zeros(max(2 * len(self._ids), p0 + t), np.int32)
            grown[:p0] = self._ids[:p0]
            self._ids = grown
        self._ids[p0:p0 + t] = ids
        self._n = p0 + t
        d, v = self.pos.d_model, self.head.out_features if logits else 0
        dense, window = attn is True, attn == "window"
        out_logits = np.empty((t, v), self.dtype)
        outs: list[Array] | None = None            # (one window, the usual case: the layers' own rows)
        attns = [np.zeros((b.nhead, t, p0 + t), self.dtype) for b in self.blocks] if dense else None
        w_attn = np.zeros((t, len(self.blocks), self.blocks[0].nhead, self.max_len), self.dtype) if window else None
        starts = np.empty(t, np.int64)
        done = 0
        while done < t:
            p = p0 + done
            s = self.window_start(p)
            if self.start != s or s + self.caches[0].n != p:
                self._rebuild(s, p)
            stop = min(p0 + t, s + self.max_len)
            k = stop - p
            ys, aa = self._run(self._ids[p:stop], p - s, dense or window)
            rows = slice(done, done + k)
            if k == t:
                outs = ys
            else:
                if outs is None:
                    outs = [np.empty((t, d), self.dtype) for _ in self.blocks]
                for i, y in enumerate(ys):
                    outs[i][rows] = y
            if attns is not None:
                for i, a in enumerate(aa):
                    attns[i][:, rows, s:stop] = a
            if w_attn is not None:
                for i, a in enumerate(aa):
                    w_attn[rows, i, :, :stop - s] = a.swapaxes(0, 1)
            if logits:
                last = ys[-1]
                if self.final_norm is not None:
                    last = self.final_norm.infer(last)
                out_logits[rows] = self.head.infer(last)
            starts[rows] = s
            done += k
        if outs is None:
            outs = [np.empty((0, d), self.dtype) for _ in self.blocks]
        return StreamOutput(out_logits, outs[-1], outs, attns, starts, w_attn)

    # -- internals ---------------------------------------------------------------------
    def _rebuild(self, s: int, p: int) -> None:
        """Make the caches hold exactly the window positions s .. p-1 (re-encoded)."""
        for c in self.caches:
            c.n = 0
        self.start = s
        if p > s:
            self._run(self._ids[s:p], 0, False)

    def _run(self, ids: np.ndarray, offset: int, want_attn: bool
             ) -> tuple[list[Array], list[Array]]:
        """Positions offset.. of the current window -> (per-layer outputs, per-layer attention)."""
        x = self.pos.at(self.emb.params["weight"][ids][None], offset)[0]   # (ids checked by extend)
        ys, aa = [], []
        for block, cache in zip(self.blocks, self.caches):
            x, a = block.extend(x, cache, want_attn)
            ys.append(x)
            if a is not None:
                aa.append(a)
        return ys, aa


def from_scratch(model: Model, ids: Any) -> StreamOutput:
    """What ``TransformerStream`` gives for ``ids`` read at once, computed with whole forward
    passes (one per window) through ``Model.trace``: the reference for the tests."""
    emb, pos, blocks, final, head = transformer_parts(model)
    ids = np.asarray(ids, np.int64).ravel()
    n, big = len(ids), pos.max_len
    dtype = pos.params["weight"].dtype
    nb = len(blocks)
    logits = np.zeros((n, head.out_features), dtype)
    outs = [np.zeros((n, pos.d_model), dtype) for _ in range(nb)]
    attns = [np.zeros((b.nhead, n, n), dtype) for b in blocks]
    starts = np.array([window_start(p, big) for p in range(n)], np.int64)
    block_index = [i for i, la in enumerate(model.layers) if isinstance(la, TransformerEncoderLayer)]
    for s in np.unique(starts):
        rows = np.flatnonzero(starts == s)
        stop = int(rows[-1]) + 1
        tr = model.trace(ids[None, s:stop])
        for j, li in enumerate(block_index):
            outs[j][rows] = tr.outputs[li][0, rows - s]
            attns[j][:, rows, s:stop] = tr.extras[li]["attn"][0][:, rows - s]
        logits[rows] = tr.outputs[-1][0, rows - s]
    return StreamOutput(logits, outs[-1], outs, attns, starts)
