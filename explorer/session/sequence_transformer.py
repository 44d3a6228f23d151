"""TransformerSession: the Sequence Lab reading a text with a causal transformer (Qt-free).

The same queries as ``SequenceSession`` (``hidden_states``, ``top_k``, ``memory`` ...),
so every panel works unchanged; what differs is underneath:

- **Reading.** A ``TransformerStream`` keeps each layer's keys and values: a character typed
  at the end costs one position (its query against the kept keys); an edit at position p
  truncates the stream to p and reads on from there. Beyond the context L the stream reads
  in windows that jump by L/2 (``engine.stream``): position p sees the characters from
  ``window_start(p)`` to p, never more than L.
- **Hidden state** = the residual stream after the last layer (before any final LayerNorm),
  one (D,) row per character, kept for the whole text; outputs are the model's head on it.
- **No gates** (``gate_names`` is empty). Instead ``attention_view`` gives every head's
  weights at the cursor and one layer's query x key pattern around it. Attention rows are
  kept for the positions read last and for the windows looked at (blocks of ``BLOCK``, LRU);
  any other position is re-read from the start of its window with a fresh stream — the same
  numbers, as position p depends only on the characters of its window.
- **Memory** = the squared gradient of the prediction's logit with respect to the input
  vector of every character the cursor's position can see (its whole window), through the
  engine's own backward of positions, attention blocks and head: attention reaches any of
  them directly, where an RNN's gradient has to pass every step in between.

A character outside a toy model's alphabet (id -1) is read as symbol 0 and shown as unknown;
a transformer has no state to carry over it unchanged.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import numpy.typing as npt

from explorer.analysis.memory import RECORDED_NAMES, GrowingInfluence, recorded_backward
from explorer.analysis.memory_worker import MemoryWorker, WorkerJob, recorded_rows
from explorer.engine.losses import softmax
from explorer.engine.model import Model
from explorer.engine.stream import TransformerStream, transformer_parts, window_start
from explorer.session.sequence import SequenceSession
from explorer.session.sequence_parts import AttentionView, Memory, PendingMemory, SequenceModelError, cached_or_reference_text

F32 = npt.NDArray[np.float32]
BLOCK = 64              # attention rows are cached in blocks of this many positions
CACHE_BYTES = 24 << 20  # at most this much of cached attention rows
ROWS_PIECE = 64         # a read of at most this many new positions keeps their attention rows
READ_PIECE = 512        # longer reads go in pieces of this many positions (bounded scratch)
PATTERN = 48            # positions (queries and keys) of the pattern image
PATTERN_HOP = 16        # its first position moves in hops of this many characters
REF_PIECES = 24         # corpus pieces read side by side for the reference states


def parts(model: Model) -> tuple[Any, Any, list[Any], Any, Any]:
    """transformer_parts, or SequenceModelError with the same one-sentence reason."""
    try:
        return transformer_parts(model)
    except ValueError as exc:
        raise SequenceModelError(f"the Sequence Lab cannot read this transformer: {exc}") from None


class TransformerSession(SequenceSession):
    """Text -> residual stream per position, attention rows on demand; see the module docstring."""

    def check_model(self, model: Model) -> None:
        parts(model)

    def _use_model(self, model: Model, name: str) -> None:
        emb, pos, blocks, final, head = parts(model)
        self._use_common(model, name)
        self.stream = TransformerStream(model, record=True)   # Memory's backward reads its forward values
        self.blocks = blocks
        self.pre, self.rec = [emb], None   # type: ignore[assignment]  # no recurrent layer: None says so
        self.post = [final, head] if final is not None else [head]
        self._after_embedding = model.layers[1:]
        self._influence = GrowingInfluence(self._after_embedding, per_position=len(self.post))   # kept per key
        self.context = int(pos.max_len)
        self.n_layers, self.n_heads = len(blocks), int(blocks[0].nhead)
        self.cell = "Transformer"
        self.hidden_size = int(pos.d_model)
        self.gate_names = ()
        self._kept_gates = ()
        self.dtype = np.dtype(pos.params["weight"].dtype)
        self.text = ""
        self.ids = np.zeros(0, np.int32)
        self.n_done = 0
        self.steps_computed = 0
        self.steps_replayed = 0          # positions re-read for attention rows that were not kept
        self.last_recomputed_from = 0
        self._lstm = False
        self._gates_valid = 0
        self._res = np.zeros((1024, self.hidden_size), self.dtype)   # residual rows 0..n_done-1
        self._att_blocks: OrderedDict[int, list[Any]] = OrderedDict()    # block -> [rows, valid (BLOCK,) bool]
        per_block = BLOCK * self.n_layers * self.n_heads * self.context * 4
        self._max_blocks = max(4, CACHE_BYTES // per_block)
        self._uniform = np.full(len(self.labels), 1.0 / max(len(self.labels), 1), np.float32)

    # -- reading -------------------------------------------------------------------------
    def advance(self, max_steps: int | None = None) -> int:
        """Read up to `max_steps` pending positions (all if None); returns how many."""
        stop = len(self.ids) if max_steps is None else min(len(self.ids), self.n_done + max_steps)
        start = self.n_done
        if len(self.stream) != start:
            self.stream.truncate(start)
        while self.n_done < stop:
            a = self.n_done
            b = min(stop, a + READ_PIECE)
            keep_rows = b - a <= ROWS_PIECE
            out = self.stream.extend(np.maximum(self.ids[a:b], 0), attn=keep_rows)
            self._store_residual(a, out.residual)
            if keep_rows and out.attn is not None:
                self._store_rows(a, out.attn, out.window_start)
            self.n_done = b
        self.steps_computed += stop - start
        return stop - start

    def _store_residual(self, a: int, rows: np.ndarray) -> None:
        b = a + len(rows)
        if b > len(self._res):
            grown = np.zeros((max(2 * len(self._res), b), self.hidden_size), self.dtype)
            grown[:a] = self._res[:a]
            self._res = grown
        self._res[a:b] = rows

    def _forget_from(self, p: int) -> None:
        """An edit at p: the stream, the kept residual rows and attention rows from p on are stale."""
        self.stream.truncate(min(p, len(self.stream)))
        for b in [b for b in self._att_blocks if (b + 1) * BLOCK > p]:
            if b * BLOCK >= p:
                del self._att_blocks[b]
            else:
                self._att_blocks[b][1][p - b * BLOCK:] = False
        if len(self._res) > 4 * max(len(self.ids), 1024):   # shrink after a big deletion
            self._res = self._res[:max(len(self.ids), 1024)].copy()

    # -- states and outputs ------------------------------------------------------------------
    def hidden_states(self, start: int = 0, stop: int | None = None) -> F32:
        """-> (n, D) float32 copy of the residual stream after characters start..stop-1."""
        self.finish()
        start, stop, _ = slice(start, stop).indices(len(self.ids))
        return np.array(self._res[start:max(stop, start)], np.float32)

    def cell_states(self, start: int = 0, stop: int | None = None) -> F32 | None:
        return None

    def unit_values(self, start: int, stop: int, unit: int, state: str = "h") -> F32:
        self.finish()
        start, stop, _ = slice(start, stop).indices(len(self.ids))
        return np.array(self._res[start:max(stop, start), unit], np.float32)

    def gates(self, start: int, stop: int) -> dict[str, F32]:
        return {}

    def output_probs(self, start: int, stop: int) -> F32:
        """Softmax outputs read at positions start..stop-1 -> (n, K); position -1 (nothing
        read yet) has no prediction: a uniform row."""
        start, stop = max(start, -1), min(stop, self.n_done)
        if stop <= start:
            return np.zeros((0, len(self.labels)), np.float32)
        rows = [self._uniform[None]] if start < 0 else []
        lo = max(start, 0)
        if stop > lo:
            rows.append(self._prob_rows(lo, stop))
        return np.concatenate(rows).astype(np.float32, copy=False)

    def _prob_rows_now(self, lo: int, hi: int) -> F32:
        return softmax(self._head(self._res[lo:hi])).astype(np.float32, copy=False)

    def clamped_probs(self, cursor: int, unit: int, value: float, stop: int) -> F32:
        raise SequenceModelError("clamping a unit needs a recurrent state; a transformer has none")

    def memory(self, cursor: int, window: int = 80) -> Memory | None:
        """Influence of every character the prediction at the cursor can see (its whole window,
        not only the last `window`): squared input gradients through the engine's backward."""
        parts = self._memory_read(cursor)
        if parts is None:
            return None
        t, start, target, actual = parts
        st = self.stream                    # its window is this one: its kept forward values, no forward
        w = self._influence.recorded(st.caches, self._res[t:t + 1], t + 1 - start, target) \
            if st.start == start else None
        if w is None:
            x = self._embed(np.maximum(self.ids[start:t + 1], 0))[0]
            w = self._influence(x, target)  # = influence_through(..., per_position=len(post)), kept rows reused
        return Memory(start, w, target, self.labels[target], actual)

    def _memory_read(self, cursor: int) -> tuple[int, int, int, bool] | None:
        """(the step read, its window's first position, the target, whether it is the right
        answer) of the memory at the cursor; None where there is none."""
        self.finish()
        t = min(cursor, len(self.ids)) - 1
        if t < 0 or self.ids[t] < 0:
            return None
        start = window_start(t, self.context)
        probs = self.output_probs(t, t + 1)[0]
        y = self.targets()
        target = int(y[t]) if y is not None and y[t] >= 0 else -1
        actual = target >= 0
        return t, start, target if actual else int(probs.argmax()), actual

    def _memory_job(self, c: int, window: int, elsewhere: bool = True) -> PendingMemory:
        """The backward through the blocks goes to the memory worker with the stream's kept
        forward values of the positions it does not hold yet (a key: one row per block);
        anything else (a window the stream does not hold, no worker) is computed here."""
        parts = self._memory_read(c)
        worker = self.memory_worker() if parts is not None and elsewhere else None
        if parts is None or worker is None or not worker.ready:
            return PendingMemory(self.memory(c, window))
        t, start, target, actual = parts
        n, st = t + 1 - start, self.stream
        kept = self._influence.recorded_parts(st.caches, n) if st.start == start else None
        if kept is None:
            return PendingMemory(self.memory(c, window))
        d = self._influence.head_gradient(self._res[t:t + 1], target)
        blocks, label = self._influence.blocks, self.labels[target]

        def compute() -> npt.NDArray[np.float64]:     # (collected before the stream moves on: set_text)
            return recorded_backward(blocks, d, n, kept)

        def finish(w: npt.NDArray[np.float64]) -> Memory:
            return Memory(start, w, target, label, actual)

        self.last_memory_job = WorkerJob(compute, n, worker, self._send_recorded(worker, kept, start, n, d))
        return PendingMemory(start=start, weights=self.last_memory_job.weights, finish=finish,
                             elsewhere=self.last_memory_job.seq is not None)

    def _send_recorded(self, worker: MemoryWorker, kept: list[Any], start: int, n: int, d: np.ndarray) -> int | None:
        """Give the worker the kept forward values of the window's positions it does not hold."""
        if self._wk_slot is None or self._wk_slot[0] is not worker or self._wk_slot[1] in worker.lost:
            shapes = [[getattr(src, k).shape for k in RECORDED_NAMES] for src in kept]
            slot = worker.add_transformer(self.blocks, self.context, shapes, self.dtype)
            if slot is None:
                return None
            self._wk_slot, self._wk_rows, self._wk_valid = (worker, slot), (-1, 0), 0
        ws, m = self._wk_rows
        lo = max(0, min(m, self._wk_valid - start, n)) if ws == start else 0
        rows = np.concatenate([v.ravel() for v in recorded_rows(kept, lo, n)])   # one array: fewer to frame
        seq = worker.submit_rows(self._wk_slot[1], (start, n, lo), [d, rows])
        if seq is None:
            self._wk_slot = None
            return None
        self._wk_rows, self._wk_valid = (start, n), len(self.ids)
        return seq

    def _reference_states(self) -> F32:
        if self._reference is None:
            self._reference = transformer_reference_states(self)
        return self._reference

    @property
    def state_level(self) -> float:
        """The residual stream is unbounded: the scale covers 99 % of its values on the reference
        text (one significant figure, so the legend reads well)."""
        v = float(np.percentile(np.abs(self._reference_states()), 99)) or 1.0
        return float(f"{v:.1g}")

    def description(self) -> str:
        what = f"toy task '{self.task}'" if self.task else f"{len(self.labels)} characters"
        return (f"Transformer · {self.n_layers} layer{'s' * (self.n_layers > 1)} × {self.n_heads} heads · "
                f"width {self.hidden_size} · context {self.context} · {what} · {self.name}")

    # -- attention ---------------------------------------------------------------------------
    def attention_rows(self, start: int, stop: int, layer: int | None = None) -> np.ndarray:
        """(n, L, H, context) attention rows of positions start..stop-1: entry [i, l, h, j] is
        the weight position start+i gives to key window_start(start+i) + j (0 past the query).
        ``layer``: that layer's rows alone, (n, H, context) (a quarter of the copying per frame
        for a four-layer model)."""
        self.finish()
        start, stop = max(start, 0), min(stop, self.n_done)
        pick: Any = slice(None) if layer is None else layer
        shape = (self.n_heads, self.context) if layer is not None else (self.n_layers, self.n_heads, self.context)
        out = np.zeros((max(stop - start, 0),) + shape, np.float32)
        missing = []
        t = start
        while t < stop:                                  # block by block: one copy per kept block
            b, r = divmod(t, BLOCK)
            end = min(stop, (b + 1) * BLOCK)
            entry = self._att_blocks.get(b)
            if entry is not None and entry[1][r:r + end - t].all():
                out[t - start:end - start] = entry[0][r:r + end - t, pick]
            else:
                for u in range(t, end):
                    if entry is not None and entry[1][u % BLOCK]:
                        out[u - start] = entry[0][u % BLOCK, pick]
                    else:
                        missing.append(u)
            t = end
        if missing:
            self._replay(missing[0], missing[-1] + 1)
            for t in missing:
                out[t - start] = self._att_blocks[t // BLOCK][0][t % BLOCK, pick]
        for b in {t // BLOCK for t in range(start, stop)}:
            if b in self._att_blocks:
                self._att_blocks.move_to_end(b)
        return out

    def attention_view(self, cursor: int, layer: int, head: tuple[int, int] | None) -> AttentionView | None:
        """Every head at the query q = cursor - 1 and layer `layer`'s pattern up to it."""
        self.finish()
        c = max(0, min(cursor, self.length))
        q = c - 1
        layer = int(np.clip(layer, 0, self.n_layers - 1))
        if q < 0:
            empty = np.zeros((self.n_layers, self.n_heads, 0), np.float32)
            return AttentionView(self.n_layers, self.n_heads, self.context, -1, 0, empty, "",
                                 np.zeros((self.n_layers, self.n_heads), np.float32), layer, 0,
                                 np.zeros((self.n_heads, 0, 0), np.float32), "", head)
        span = min(PATTERN, self.context)                       # a short context: a smaller image
        hop = max(1, min(PATTERN_HOP, span // 3))
        a = max(0, -(-(q + 1 - span) // hop) * hop)             # q stays inside a..a+span
        b = min(self.n_done, a + span)
        rows = self.attention_rows(a, b, layer)                 # (n, H, context): the pattern's layer
        ws = window_start(q, self.context)
        at_q = self.attention_rows(q, q + 1)[0][:, :, :q + 1 - ws]   # (L, H, k): every layer at q
        p = np.maximum(at_q, 1e-30)
        entropy = -(at_q * np.log2(p)).sum(axis=-1).astype(np.float32)
        n = b - a
        w0 = window_start(a, self.context)
        if n and w0 <= a and window_start(b - 1, self.context) == w0:
            # one window for every row (it moves every context/2 characters): row i's keys a..a+i
            # are columns a-w0.. of its kept row, 0 past the query already — one copy
            pattern = np.ascontiguousarray(rows[:, :, a - w0:a - w0 + n].swapaxes(0, 1))
        else:
            pattern = np.zeros((self.n_heads, n, n), np.float32)
            for i in range(n):
                w0 = window_start(a + i, self.context)
                lo = max(a, w0)                                 # first key of row i inside the image
                pattern[:, i, lo - a:i + 1] = rows[i, :, lo - w0:a + i + 1 - w0]
        return AttentionView(self.n_layers, self.n_heads, self.context, q, ws, at_q, self.text[ws:q + 1],
                             entropy, layer, a, pattern, self.text[a:b], head, span)

    def _store_rows(self, a: int, attn: list[np.ndarray], starts: np.ndarray) -> None:
        """Keep the attention rows of positions a.. from a read (per layer (H, t, T_total))."""
        t = attn[0].shape[1]
        for i in range(t):
            p, ws = a + i, int(starts[i])
            k = min(self.context, attn[0].shape[2] - ws)
            entry = self._row_block(p // BLOCK)
            row = entry[0][p % BLOCK]
            row[:] = 0.0
            for li, layer_attn in enumerate(attn):
                row[li, :, :k] = layer_attn[:, i, ws:ws + k]
            entry[1][p % BLOCK] = True

    def _row_block(self, b: int) -> list[Any]:
        entry = self._att_blocks.get(b)
        if entry is None:
            shape = (BLOCK, self.n_layers, self.n_heads, self.context)
            entry = self._att_blocks[b] = [np.zeros(shape, np.float32), np.zeros(BLOCK, bool)]
            while len(self._att_blocks) > self._max_blocks:
                self._att_blocks.popitem(last=False)
        self._att_blocks.move_to_end(b)
        return entry

    def _replay(self, start: int, stop: int) -> None:
        """Re-read positions start..stop-1 for their attention rows, window by window, each with
        a fresh stream from its window's first character (position p depends on nothing else)."""
        t = start
        while t < stop:
            ws = window_start(t, self.context)
            end = min(stop, ws + self.context)
            while end > t + 1 and window_start(end - 1, self.context) != ws:
                end -= 1
            fresh = TransformerStream(self.model)
            out = fresh.extend(np.maximum(self.ids[ws:end], 0), attn=True)
            assert out.attn is not None
            n0 = t - ws
            self._store_rows(t, [a[:, n0:] for a in out.attn], np.full(end - t, 0))
            self.steps_replayed += end - ws
            t = end


def transformer_reference_states(session: TransformerSession, max_chars: int = 6000, seed: int = 0) -> F32:
    """Residual rows to fit the frozen PCA basis and the heat map's row order on: the model's
    own corpus (validation split) read in pieces of its context, side by side (or generated
    sequences for a toy model); kept in the disk cache like the RNNs' (``refcache``)."""
    model = session.model
    if session.task:
        from explorer.data.tasks import make
        batch = make(session.task, n=48, length=None, rng=seed)
        pieces = np.maximum(batch.x, 0)[:, :session.context]
    else:
        from explorer.session import refcache
        corpus = model.meta.get("corpus") or "code"
        cached, text, key = cached_or_reference_text(model, str(corpus), max_chars, seed, session.hidden_size,
                                                     bool(session.basis_key), family="transformer")
        if cached is not None:
            return cached
        ids = np.maximum(session.encode(text[:max_chars]), 0)
        length = min(session.context, max(len(ids) // REF_PIECES, 1))
        n = max(len(ids) // length, 1)
        pieces = ids[:n * length].reshape(n, length)
    x: Any = pieces
    for layer in model.layers[:2 + session.n_layers]:        # embedding, positions, the blocks
        x = layer.infer(x)
    states = np.ascontiguousarray(np.asarray(x, np.float32).reshape(-1, session.hidden_size))
    if not session.task and key:
        refcache.store(key, states)
    return states


def random_transformer(d_model: int = 32, nhead: int = 4, layers: int = 2, context: int = 64,
                       seed: int = 0, vocab: Any = None, norm_first: bool = True,
                       activation: str = "relu", ff: int | None = None) -> Model:
    """An untrained Embedding -> LearnedPositions -> causal blocks -> LayerNorm -> Linear text
    model (meta "untrained": True), for tests and demos."""
    from explorer.data.vocab import Vocab
    from explorer.engine.attention import TransformerEncoderLayer
    from explorer.engine.dense import Embedding, Linear
    from explorer.engine.norm import LayerNorm, LearnedPositions
    vocab = vocab or Vocab.text()
    rng = np.random.default_rng(seed)
    body: list[Any] = [Embedding(vocab.size, d_model, rng=rng), LearnedPositions(context, d_model, rng=rng)]
    body += [TransformerEncoderLayer(d_model, nhead, ff or 2 * d_model, activation=activation, norm_first=norm_first,
                                     causal=True, rng=rng) for _ in range(layers)]
    body += [LayerNorm(d_model), Linear(d_model, vocab.size, rng=rng)]
    return Model(body, meta={"vocab": vocab.to_meta(), "untrained": True, "corpus": "code"})
