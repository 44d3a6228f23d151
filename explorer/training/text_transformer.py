"""Character-level transformers: building, one training step, and reading a stream.

A char transformer is ``Embedding(V, D) -> LearnedPositions(L, D) -> TransformerEncoderLayer
(D, heads, F, norm_first=True, causal) x layers -> LayerNorm(D) -> Linear(D, V)``: GPT's
shape (pre-norm blocks, a final norm), from our engine's PyTorch-named layers.

Reading a stream follows ``explorer.engine.stream``'s window rule exactly (positions
beyond the context length L are read in windows that jump by L/2), so the bits per
character measured here are those the Sequence Lab's stream computes, not a more generous
figure: ``chunk_bits`` carries the current window's ids as its state from one chunk to the
next, as a recurrent model carries its hidden state.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from explorer.engine import (
    Adam,
    Embedding,
    LayerNorm,
    LearnedPositions,
    Linear,
    Model,
    TransformerEncoderLayer,
    clip_grad_norm,
    cross_entropy,
    log_softmax,
)
from explorer.engine.stream import window_start

LOG2E = 1.0 / math.log(2.0)
#: (ids of the current window before the chunk (N, k), absolute position of the chunk's start)
TransformerState = tuple[np.ndarray, int]


def is_transformer(model: Model) -> bool:
    return any(isinstance(layer, TransformerEncoderLayer) for layer in model.layers)


def context_length(model: Model) -> int:
    for layer in model.layers:
        if isinstance(layer, LearnedPositions):
            return layer.max_len
    raise ValueError("the model has no LearnedPositions layer, so no context length")


def build_transformer(n_in: int, n_out: int, d_model: int, nhead: int, layers: int,
                      dim_feedforward: int, max_len: int, rng: np.random.Generator,
                      activation: str = "relu", meta: dict[str, Any] | None = None) -> Model:
    """ids (N, T <= max_len) -> logits (N, T, n_out), a causal pre-norm transformer.

    Output projections of every block start at GPT-2's scale (std 0.02 / sqrt(2 layers)) so a
    deep residual stream starts near the identity."""
    body: list[Any] = [Embedding(n_in, d_model, rng=rng), LearnedPositions(max_len, d_model, rng=rng)]
    body[0].params["weight"] *= np.float32(0.1)     # N(0, 0.1²): comparable to the positions
    for _ in range(int(layers)):
        block = TransformerEncoderLayer(d_model, nhead, dim_feedforward, activation=activation,
                                        norm_first=True, causal=True, rng=rng)
        scale = 0.02 / math.sqrt(2 * int(layers))
        for name in ("self_attn.out_proj.weight", "linear2.weight"):
            w = block.params[name]
            w[...] = rng.standard_normal(w.shape) * scale
        body.append(block)
    body += [LayerNorm(d_model), Linear(d_model, n_out, rng=rng)]
    return Model(body, meta)


def train_step(model: Model, x: np.ndarray, y: np.ndarray, opt: Adam, clip: float,
               mask: np.ndarray | None = None) -> float:
    """One Adam step on x, y: (B, T) ids (per-position cross-entropy) -> loss in nats."""
    model.train()
    model.zero_grad()
    loss, d = cross_entropy(model.forward(x), y, mask)
    if not np.isfinite(loss):
        return float(loss)
    model.backward(d, input_grad=False)
    grads = model.gradients()
    clip_grad_norm(grads, clip)
    opt.step(grads)
    return float(loss)


def random_windows(ids: np.ndarray, batch: int, length: int, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """B windows at random offsets: x (B, length), y = the next characters."""
    starts = rng.integers(0, len(ids) - length - 1, batch)
    idx = starts[:, None] + np.arange(length)[None]
    return ids[idx].astype(np.int64), ids[idx + 1].astype(np.int64)


def window_logits(model: Model, full: np.ndarray, base: int, p0: int, t: int) -> np.ndarray:
    """Logits (N, t, K) for absolute positions p0 .. p0+t-1, each read in its window
    (``explorer.engine.stream.window_start``); full: (N, m) ids of positions base .. base+m-1
    (from the first window start needed). Positions sharing a window: one forward pass."""
    big = context_length(model)
    starts = np.array([window_start(p, big) for p in range(p0, p0 + t)], np.int64)
    out: np.ndarray | None = None
    for s in np.unique(starts):
        cols = np.flatnonzero(starts == s)
        stop = p0 + int(cols[-1]) + 1
        logits = model.predict(full[:, s - base:stop - base])[:, -len(cols):]
        if out is None:
            out = np.empty((full.shape[0], t, logits.shape[-1]), logits.dtype)
        out[:, cols] = logits
    assert out is not None
    return out


def predict_windows(model: Model, x: np.ndarray) -> np.ndarray:
    """x: (N, T) ids of any length -> logits (N, T, K), read as the Sequence Lab reads them."""
    x = np.asarray(x, np.int64)
    return window_logits(model, x, 0, 0, x.shape[1])


def chunk_bits(model: Model, x: np.ndarray, y: np.ndarray, state: TransformerState | None
               ) -> tuple[np.ndarray, TransformerState]:
    """x, y: (N, T) ids of N lanes read in step -> (bits (N, T), the state after the chunk)."""
    x = np.asarray(x, np.int64)
    n, t = x.shape
    hist, p0 = (np.zeros((n, 0), np.int64), 0) if state is None else state
    full = np.concatenate([hist, x], axis=1)
    base = p0 - hist.shape[1]                 # absolute position of full[:, 0]
    logp = log_softmax(window_logits(model, full, base, p0, t).astype(np.float64))
    tgt = np.asarray(y, np.int64)
    bits = -np.take_along_axis(logp, tgt[..., None], axis=-1)[..., 0] * LOG2E
    keep = window_start(p0 + t, context_length(model)) - base
    return bits, (full[:, keep:].copy(), p0 + t)


def argmax_bits(model: Model, ids: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """ids (n,) -> (argmax (n-1,), bits (n-1,)) for characters 1..n-1, read as one stream by
    the window rule (what ``compare --task text`` needs of every model)."""
    ids = np.asarray(ids, np.int64)
    state: TransformerState | None = None
    arg, bits = [], []
    for s in range(0, len(ids) - 1, chunk):
        x, y = ids[None, s:min(s + chunk, len(ids) - 1)], ids[None, s + 1:min(s + chunk, len(ids) - 1) + 1]
        hist, p0 = (np.zeros((1, 0), np.int64), 0) if state is None else state
        full = np.concatenate([hist, x], axis=1)
        base = p0 - hist.shape[1]
        logp = log_softmax(window_logits(model, full, base, p0, x.shape[1]).astype(np.float64))[0]
        arg.append(logp.argmax(-1))
        bits.append(-logp[np.arange(len(logp)), y[0]] * LOG2E)
        keep = window_start(p0 + x.shape[1], context_length(model)) - base
        state = (full[:, keep:].copy(), p0 + x.shape[1])
    return np.concatenate(arg), np.concatenate(bits)


def sees(context: int, pos: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Whether the character at ``pos``, predicted from the window of position pos-1, has the
    character ``distance`` back (its opener) inside that window."""
    starts = np.array([window_start(int(p) - 1, context) for p in np.asarray(pos)], np.int64)
    return np.asarray(pos) - np.asarray(distance) >= starts
