"""SequenceSession: the text, its ids and the recurrent state at every position (Qt-free).

An edit at position p recomputes from p only: ``set_text`` compares the new ids with the
old ones, keeps the cached states before the first difference and steps/runs the
recurrent layer on from the cached state there.

Memory does not grow with the text beyond what is shown: the states are kept only at
checkpoints (after every ``BLOCK``-th character) and for the few blocks last used; a window
elsewhere is recomputed from the checkpoint before it. Every step goes through the layer's
``scan`` with the input projection read from a per-symbol table, so a state recomputed
from a checkpoint equals, bit for bit, the one first computed (however the text was typed,
pasted or cut into chunks). Positions are characters; "state t" is
the state after reading character t, and state -1 is the initial (zero) state. The
prediction for the character at cursor c is read from state c-1.

Models are Embedding -> RNN/LSTM/GRU -> Linear (any layers before / after the one
recurrent layer are applied per position). Text models carry ``meta["vocab"]``; toy
models carry ``meta["toy_task"]``, ``meta["alphabet"]`` and ``meta["classes"]``.
Characters outside a vocabulary without an unknown symbol (a toy alphabet) get id -1:
they are shown as unknown and the state is carried over them unchanged.
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from explorer.analysis.generate import model_vocab
from explorer.analysis.memory import FACTOR_NAMES, influence_from_factors, influence_from_gradient, last_step_gradient, step_factors
from explorer.analysis.memory_worker import MemoryWorker, WorkerJob, shared_worker
from explorer.analysis.pca import PCABasis, cached_basis, fit_pca
from explorer.data.vocab import Vocab
from explorer.engine import cells
from explorer.engine.layer import Layer
from explorer.engine.losses import softmax
from explorer.engine.model import Model
from explorer.engine.recurrent import RecurrentLayer
from explorer.session.checkpoints import Checkpoints
from explorer.session.listeners import Listeners
from explorer.session.sequence_parts import AttentionView, Memory, PendingMemory, SequenceModelError, cached_or_reference_text

F32 = npt.NDArray[np.float32]
BLOCK = 64           # characters between two kept states (checkpoints)
CACHED_BLOCKS = 128  # blocks of full states kept for the windows on screen (LRU)
ENCODE_PIECE = 1 << 16  # characters encoded at a time (a 2 MB paste: ~1 MB of scratch, not ~50 MB)
_ORDERS: dict[str, npt.NDArray[np.intp]] = {}   # heat-map row order per basis key (once per model)
PIECE = 4096         # at most this many steps are scanned in one go (scratch ~ PIECE * 6H floats)
READ_GATES = 64      # a read of at most this many steps keeps their gates (a key: the gate window's new row)
PROB_ROWS = 4096     # at most this many output rows are kept (_prob_rows)
GATE_ROOM = 64       # rows the kept gate window has room for beyond the rows asked for (keys typed on)
# the kept gate windows' buffers, by id: arrays whose handed-out rows are never rewritten (kept_rows)
_APPEND_ONLY: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()


def kept_rows(old: np.ndarray, new: np.ndarray) -> int:
    """How many leading rows ``new`` shares with ``old`` by construction, unchanged: both
    windows ``SequenceSession.gates`` handed out of the same kept buffer from the same row (it
    never rewrites a row it has handed out). An index comparison instead of comparing values;
    0 when that is not known (any other arrays)."""
    base = new.base
    if (base is None or old.base is not base or _APPEND_ONLY.get(id(base)) is not base
            or old.flags.writeable or new.flags.writeable or old.shape[1:] != new.shape[1:]
            or old.strides != new.strides
            or old.__array_interface__["data"][0] != new.__array_interface__["data"][0]):
        return 0
    return min(len(old), len(new))
EDIT_LOG = 64        # edits remembered for same_before (a frame is at most a few edits behind)
_REVISIONS = itertools.count(1)   # revision numbers, unique across sessions and models


def split_model(model: Model) -> tuple[list[Layer], RecurrentLayer, list[Layer]]:
    """(layers before, the recurrent layer, layers after); raises SequenceModelError."""
    rec = [i for i, layer in enumerate(model.layers) if isinstance(layer, RecurrentLayer)]
    if len(rec) != 1:
        raise SequenceModelError("the Sequence Lab needs a model with exactly one RNN, LSTM or GRU "
                                 f"layer; this one has {len(rec)}")
    i = rec[0]
    layer = model.layers[i]
    assert isinstance(layer, RecurrentLayer)
    return model.layers[:i], layer, model.layers[i + 1:]


def task_targets(task: str | None, ids: npt.NDArray[np.int32], n_classes: int) -> npt.NDArray[np.int32] | None:
    """ids (T,) -> true per-step classes (T,) for the toy tasks that define one for any input."""
    if task == "parity":
        return (np.cumsum(ids == 1) % 2).astype(np.int32)
    if task == "depth":
        d, out = 0, np.zeros(len(ids), np.int32)
        for t, i in enumerate(ids.tolist()):
            d = min(d + 1, n_classes - 1) if i == 0 else max(d - 1, 0) if i == 1 else d
            out[t] = d
        return out
    return None


def is_transformer(model: Model) -> bool:
    """True for a model with attention layers (the Sequence Lab reads it with a TransformerSession)."""
    return any(layer.type_name == "TransformerEncoderLayer" for layer in model.layers)


class SequenceSession:
    """Text -> cached hidden (and cell) states per position; panels ask it for ranges.

    A model of any family is opened with ``sequence_catalogue.open_session`` (a transformer
    gets the ``TransformerSession`` subclass)."""

    def __init__(self, model: Model, name: str = "model") -> None:
        self.listeners: Listeners[SequenceSession] = Listeners()   # told after set_model
        self.basis_key: str | None = None  # the PCA basis is shared by sessions with this key
        self.memory_worker: Callable[[], MemoryWorker | None] = shared_worker   # where Memory's BPTT may go
        self._use_model(model, name)

    def _use_common(self, model: Model, name: str) -> None:
        """What every family shares: the model, its vocabulary and labels, the per-model caches."""
        self.model, self.name = model, name
        # the heat map's window (hidden_rows): (start, row order, buffer, rows kept), rows handed out
        self._state_rows: tuple[int, np.ndarray, np.ndarray, int] | None = None
        self._state_rows_handed = 0
        self._state_rows_valid = 0       # ... its rows before this position are still right
        # a new model: a new revision, and no edit before it is known (same_before says 0)
        self.revision = next(_REVISIONS)
        self._edit_log: list[tuple[int, int]] = []      # (revision, first changed position) per edit
        self._log_floor = self.revision                  # the log knows every edit after this revision
        self._typed_ids: dict[str, int] = {}             # a typed character's id (a key: no array to encode it)
        self.pca_basis: PCABasis | None = None   # the trajectory's frozen basis (trajectory_basis)
        pending = getattr(self, "_memory_cache", None)
        if pending is not None:
            pending[1].settle()              # a view still holding it gets the old weights' numbers
        self._memory_cache: tuple[tuple[str, int], PendingMemory] | None = None
        # the memory worker's copy of this model (a slot, None: not sent) and its factor rows
        self._wk_slot: tuple[MemoryWorker, int] | None = None
        self._wk_rows = (0, 0)           # the worker holds the factor rows of steps start..stop-1
        self._wk_valid = 0               # ... right before this position
        self.last_memory_job: WorkerJob | None = None   # the last window's BPTT (tests read its source)
        self._similarity: npt.NDArray[np.intp] | None = None     # the heat map's fixed row order
        self._reference: F32 | None = None       # reference_states(), read once for the basis and the rows
        self._signal_order: tuple[tuple[str, str], npt.NDArray[np.intp] | None] | None = None
        self._factor_cache: tuple[int, dict[str, np.ndarray]] = (0, {})   # the Memory panel's step factors
        self._factors_valid = 0          # cached factor rows before this position are still right
        self._read_gates: tuple[int, dict[str, F32]] = (0, {})   # the gates of the last few steps read
        self._read_gates_stop = 0        # ... valid before this position
        self.vocab = model_vocab(model)
        self.task: str | None = model.meta.get("toy_task")
        classes = model.meta.get("classes")
        self.labels = list(classes) if self.task and classes else self.vocab.labels()
        self._enc = self.vocab if self.vocab.unknown else Vocab(self.vocab.chars, unknown=True)
        self._probs: tuple[int, F32] = (0, np.zeros((0, len(self.labels)), np.float32))   # _prob_rows' run
        self._probs_stop = 0             # ... of rows start.. valid before this position

    def _use_model(self, model: Model, name: str) -> None:
        self.pre, self.rec, self.post = split_model(model)
        self._use_common(model, name)
        self.cell: str = self.rec.type_name
        self.hidden_size: int = int(self.rec.hidden_size)
        self.gate_names: tuple[str, ...] = {"LSTM": ("i", "f", "o", "c"), "GRU": ("r", "z")}.get(self.cell, ())
        # kept with the last gate window: the shown gates, and an LSTM's g (the Memory panel's BPTT reads them)
        self._kept_gates = self.gate_names + {"LSTM": ("g",), "GRU": ("n",)}.get(self.cell, ())
        self.text = ""
        self.ids = np.zeros(0, np.int32)
        self.n_done = 0
        self.steps_computed = 0          # total positions computed since creation (tests spy on it)
        self.last_recomputed_from = 0
        self.dtype = np.dtype(getattr(self.rec, "dtype", np.float32))
        self.steps_replayed = 0          # positions recomputed from a checkpoint for a window
        self._lstm = self.cell == "LSTM"
        self._table: F32 | None = None   # (V, G*H) input projection per symbol, built on first use
        self._step_consts: tuple[np.ndarray, ...] | None = None   # an LSTM key's step (_lstm_key)
        n_st = 2 if self._lstm else 1
        self._ck = Checkpoints((n_st, self.hidden_size), self.dtype)   # state after block b
        self._blocks: OrderedDict[int, list[Any]] = OrderedDict()       # b -> [states, valid rows]
        self._out0 = softmax(self._head(np.zeros((1, self.hidden_size), self.dtype)))[0]
        self._gate_cache: tuple[int, dict[str, F32]] = (0, {})   # (start, the kept window's rows)
        self._gate_bufs: dict[str, F32] = {}   # ... in these buffers (rows to type on after them)
        self._gates_handed = 0           # rows of the buffers handed out (read-only): never rewritten
        self._gates_valid = 0            # cached gate rows before this position are still right

    # -- text --------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return "task" if self.task else "text"

    @property
    def length(self) -> int:
        return len(self.ids)

    @property
    def encoder(self) -> Vocab:
        """The model's vocabulary with an unknown symbol (every character has an id): the ids its
        embedding reads, before ``encode`` shifts a toy alphabet's ids down by one."""
        return self._enc

    @property
    def pending(self) -> int:
        """Positions of the current text whose state is not computed yet."""
        return len(self.ids) - self.n_done

    def encode(self, text: str) -> npt.NDArray[np.int32]:
        """text -> (T,) int32 ids; -1 where a toy alphabet has no symbol for the character."""
        if len(text) <= ENCODE_PIECE:
            ids = self._enc.encode(text)
            return ids if self.vocab.unknown else ids - 1
        out = np.empty(len(text), np.int32)              # a long paste: bounded scratch memory
        for a in range(0, len(text), ENCODE_PIECE):
            out[a:a + ENCODE_PIECE] = self._enc.encode(text[a:a + ENCODE_PIECE])
        return out if self.vocab.unknown else out - 1

    def _encode_typed(self, text: str) -> npt.NDArray[np.int32]:
        """``encode`` of a few typed characters, each encoded once per model."""
        if len(text) > 4:
            return self.encode(text)
        known = self._typed_ids
        for ch in text:
            if ch not in known:
                known[ch] = int(self.encode(ch)[0])
        return np.array([known[ch] for ch in text], np.int32)

    def set_text(self, text: str, compute: bool = True) -> int:
        """Replace the text; returns p, the first position whose state must be recomputed."""
        if self._memory_cache is not None:   # a job not collected yet reads what this changes
            self._memory_cache[1].settle()
        old = self.text
        if len(text) >= len(old) and text.startswith(old):        # typed at the end: encode the new part only
            p = len(old)
            ids = self.ids if p == len(text) else np.concatenate([self.ids, self._encode_typed(text[p:])])
        elif old.startswith(text):                                  # deleted at the end
            p = len(text)
            ids = self.ids[:p]
        else:
            ids = self.encode(text)
            m = min(len(ids), len(self.ids))
            neq = ids[:m] != self.ids[:m]
            p = int(np.argmax(neq)) if neq.any() else m    # argmax: no index array per change
        if p < max(len(old), len(text)):                # something changed from p on
            self.revision = next(_REVISIONS)
            self._edit_log.append((self.revision, p))
            if len(self._edit_log) > EDIT_LOG:
                self._log_floor = self._edit_log.pop(0)[0]
        done, shorter = self.n_done, len(ids) < len(self.ids)
        self.text, self.ids = text, ids
        self.n_done = min(self.n_done, p)
        self._gates_valid = min(self._gates_valid, p)
        self._factors_valid = min(self._factors_valid, p)
        self._wk_valid = min(self._wk_valid, p)
        self._read_gates_stop = min(self._read_gates_stop, p)
        self._state_rows_valid = min(self._state_rows_valid, p)
        self._probs_stop = min(self._probs_stop, p)
        self.last_recomputed_from = self.n_done
        if p < done or shorter:                          # (typed at the end: nothing kept is from p on)
            self._forget_from(self.n_done)
        if compute:
            self.advance()
        return p

    def same_before(self, revision: int) -> int:
        """How many leading ids (and so states and outputs) are the same now as at ``revision``
        (a value ``self.revision`` had): all of them if it is the current one; 0 if it is older
        than the edits remembered or from before the model was set. (Two characters outside
        the vocabulary share an id: the characters themselves are the text's to compare.)"""
        if revision < self._log_floor or revision > self.revision:
            return 0
        n = len(self.ids)
        for r, p in reversed(self._edit_log):
            if r <= revision:
                break
            n = min(n, p)
        return n

    def advance(self, max_steps: int | None = None) -> int:
        """Compute up to `max_steps` pending positions (all if None); returns how many."""
        stop = len(self.ids) if max_steps is None else min(len(self.ids), self.n_done + max_steps)
        start = t = self.n_done
        state = self._state_after(t - 1)
        while t < stop:                        # pieces of PIECE steps: bounded scratch memory
            end = min(stop, t + PIECE)
            states = self._scan(t, end, state, keep_gates=end == stop and end - t <= READ_GATES)
            first = t + (BLOCK - 1 - t % BLOCK)            # checkpoints: every block's last row
            if first < end:
                rows = np.arange(first, end, BLOCK)
                self._ck.put(rows // BLOCK, states[rows - t])
            last = (end - 1) // BLOCK                      # the last blocks stay cached whole
            for b in range(max(t // BLOCK, last - CACHED_BLOCKS + 1), last + 1):
                a, e = max(t, b * BLOCK), min(end, (b + 1) * BLOCK)
                entry = self._blocks.get(b)
                if a > b * BLOCK and (entry is None or entry[1] < a - b * BLOCK):
                    continue                               # its first rows are not known here
                entry = self._block_entry(b)
                entry[0][a - b * BLOCK:e - b * BLOCK] = states[a - t:e - t]
                entry[1] = e - b * BLOCK
            state = states[-1]
            t = self.n_done = end
        self.steps_computed += stop - start
        return stop - start

    def finish(self) -> None:
        if self.pending:
            self.advance()

    def unknown_mask(self) -> npt.NDArray[np.bool_]:
        """(T,) True where the character maps to the unknown symbol (or to no symbol)."""
        return self.ids == 0 if self.vocab.unknown else self.ids < 0

    # -- states ------------------------------------------------------------------------
    def hidden_states(self, start: int = 0, stop: int | None = None) -> F32:
        """-> (n, H) float32 copy of the states after reading characters start..stop-1."""
        self.finish()
        start, stop, _ = slice(start, stop).indices(len(self.ids))
        return self._rows(start, max(stop, start), part=0)

    def cell_states(self, start: int = 0, stop: int | None = None) -> F32 | None:
        """-> (n, H) LSTM cell states, or None for other cells."""
        if not self._lstm:
            return None
        self.finish()
        start, stop, _ = slice(start, stop).indices(len(self.ids))
        return self._rows(start, max(stop, start), part=1)

    def hidden_rows(self, start: int, stop: int, rows: npt.NDArray[np.intp]) -> F32:
        """``hidden_states(start, stop)[:, rows]``: the heat map's window, its columns in row
        order. Kept in place like the gate window (``gates``): a READ-ONLY view, a key typed at
        the end writes its one new row, and a row once handed out is never rewritten (an edit
        before it, a scroll or another row order makes a new window), so ``kept_rows`` can tell
        the heat map by index which columns it already shows."""
        self.finish()
        start, stop, _ = slice(start, stop).indices(len(self.ids))
        n = max(stop - start, 0)
        kept = self._state_rows
        if not n:
            return self.hidden_states(start, start)[:, rows]
        k, buf = 0, None
        if kept is not None and kept[0] == start and kept[1].tobytes() == np.asarray(rows, np.intp).tobytes():
            k = max(min(kept[3], self._state_rows_valid - start, n), 0)
            buf, rows = kept[2], kept[1]
            if n > len(buf) or (n > k and k < self._state_rows_handed):
                buf = None                                          # grown, or a handed-out row would change
        part = self.hidden_states(start + k, stop)[:, rows] if n > k else None
        if buf is None:
            dtype = part.dtype if part is not None else kept[2].dtype if kept is not None else np.float32
            fresh = np.empty((n + GATE_ROOM, len(rows)), dtype)      # (the states' own dtype, as h[:, rows])
            if k:
                assert kept is not None
                fresh[:k] = kept[2][:k]
            _APPEND_ONLY[id(fresh)] = fresh
            buf, self._state_rows_handed = fresh, 0
            rows = np.array(rows, np.intp)                         # a copy: the caller's array may change
        if part is not None:
            buf[k:n] = part
        self._state_rows, self._state_rows_valid = (start, rows, buf, n), len(self.ids)
        self._state_rows_handed = max(self._state_rows_handed, n)
        view = buf[:n]
        view.flags.writeable = False
        return view

    def unit_values(self, start: int, stop: int, unit: int, state: str = "h") -> F32:
        """(n,) one unit of the hidden state "h" (or an LSTM's tanh of the cell state "c") after
        characters start..stop-1: ``hidden_states(start, stop)[:, unit]`` without copying the
        other units (the text colouring reads one unit over every visible character)."""
        self.finish()
        start, stop, _ = slice(start, stop).indices(len(self.ids))
        part = 1 if state == "c" and self._lstm else 0
        out = np.empty(max(stop - start, 0), self.dtype)
        t = start
        while t < stop:
            b, r = divmod(t, BLOCK)
            end = min(stop, (b + 1) * BLOCK)
            out[t - start:end - start] = self._block(b, end - b * BLOCK)[r:r + end - t, part, unit]
            t = end
        return np.tanh(out) if part == 1 else out

    def state_before(self, t: int) -> Any:
        """The recurrent state before reading character t (batch of 1), as the layer takes it."""
        st = self._state_after(t - 1)
        return (st[0:1].copy(), st[1:2].copy()) if self._lstm else st[0:1].copy()

    def gates(self, start: int, stop: int) -> dict[str, F32]:
        """Gate activations at steps start..stop-1 -> name -> (n, H), in ONE batched step.

        The last window asked for is kept in place: the rows it shares with this one (and that
        no edit has touched since) are kept, only the others are computed; a key typed at the
        end writes its one new row. The arrays are READ-ONLY views of that window, and a row
        once handed out is never rewritten (an edit before it makes a new window), so a frame's
        gates stay as they were and ``kept_rows`` can tell a panel which rows it already has."""
        n = max(stop - start, 0)
        if not n or not self.gate_names:
            return {k: np.zeros((n, self.hidden_size), np.float32) for k in self.gate_names}
        self.finish()
        c_start, cached = self._gate_cache
        c_stop = min(c_start + (len(next(iter(cached.values()))) if cached else 0), self._gates_valid)
        bufs = self._gate_bufs
        if cached and start == c_start and c_stop > start:       # the same window, typed on or edited
            k = min(c_stop - start, n)                             # its rows kept in place
            if n > len(next(iter(bufs.values()))) or (n > k and k < self._gates_handed):
                bufs = self._new_gate_window(n)                    # grown, or a handed-out row would change
                for name, buf in bufs.items():
                    buf[:k] = cached[name][:k]
            if n > k:
                part = self._gates_now(start + k, stop)
                for name, buf in bufs.items():
                    buf[k:n] = part[name]
        else:
            bufs = self._new_gate_window(n)
            lo, hi = max(start, c_start), min(stop, c_stop)
            for a, b in ((start, lo), (hi, stop)) if hi > lo else ((start, stop),):
                if b > a:
                    part = self._gates_now(a, b)
                    for name, buf in bufs.items():
                        buf[a - start:b - start] = part[name]
            if hi > lo:
                for name, buf in bufs.items():
                    buf[lo - start:hi - start] = cached[name][lo - c_start:hi - c_start]
        self._gate_cache, self._gates_valid = (start, {k: v[:n] for k, v in bufs.items()}), len(self.ids)
        self._gates_handed = max(self._gates_handed, n)
        out = {}
        for name in self.gate_names:
            view = bufs[name][:n]
            view.flags.writeable = False
            out[name] = view
        return out

    def _new_gate_window(self, n: int) -> dict[str, F32]:
        """Fresh buffers for the kept gate window (room to type on), registered as append-only."""
        bufs = {k: np.zeros((n + GATE_ROOM, self.hidden_size), np.float32) for k in self._kept_gates}
        for b in bufs.values():
            _APPEND_ONLY[id(b)] = b
        self._gate_bufs, self._gates_handed = bufs, 0
        return bufs

    def _kept_gate_rows(self, start: int, stop: int) -> dict[str, F32] | None:
        """Rows start..stop-1 of every kept gate (an LSTM's g too) if the last window has them
        and no edit touched them since; None otherwise. Read-only views: the cache stays (and
        counts them as handed out: it does not rewrite them)."""
        c_start, cached = self._gate_cache
        if not cached or start < c_start:
            return None
        if stop > min(c_start + len(next(iter(cached.values()))), self._gates_valid):
            return None
        self._gates_handed = max(self._gates_handed, stop - c_start)
        out = {}
        for k, v in cached.items():
            view = v[start - c_start:stop - c_start]
            view.flags.writeable = False
            out[k] = view
        return out

    def _read_gate_rows(self, start: int, stop: int) -> dict[str, F32] | None:
        """Rows start..stop-1 of the gates the last read kept (typing: the new step's), views;
        None if it did not keep them all. The gate window copies its rows from the same arrays."""
        r0, kept = self._read_gates
        if not kept or start < r0 or stop > self._read_gates_stop:
            return None
        return {k: kept[k][start - r0:stop - r0] for k in self._kept_gates}

    def _gates_now(self, start: int, stop: int) -> dict[str, F32]:
        """Gate activations at steps start..stop-1 (states computed): those the last read kept
        (typing: the new step's), else one batched step."""
        r0, kept = self._read_gates
        if kept and r0 <= start and stop <= self._read_gates_stop:
            return {k: kept[k][start - r0:stop - r0].copy() for k in self._kept_gates}
        ids = self.ids[start:stop]
        h_prev, c_prev = self._prev_rows(start, stop)
        x = self._embed(np.maximum(ids, 0))[0]
        _, _, gates = self.rec.step(x, (h_prev, c_prev) if self._lstm else h_prev)
        out = {k: np.asarray(gates[k], np.float32) for k in self._kept_gates}
        if (ids < 0).any():
            for v in out.values():
                v[ids < 0] = 0.0
        return out

    # -- outputs -----------------------------------------------------------------------
    def output_probs(self, start: int, stop: int) -> F32:
        """Softmax outputs read from states start..stop-1 (state -1 = initial) -> (n, K)."""
        start, stop = max(start, -1), min(stop, self.n_done)
        if stop <= start:
            return np.zeros((0, len(self.labels)), np.float32)
        rows = [self._out0[None]] if start < 0 else []
        lo = max(start, 0)
        if stop > lo:
            rows.append(self._prob_rows(lo, stop))
        return np.concatenate(rows).astype(np.float32, copy=False)

    def _prob_rows(self, lo: int, hi: int) -> F32:
        """Softmax rows read from states lo..hi-1 (0 <= lo <= hi <= n_done), kept for a run of
        positions: a frame reads the prediction at the cursor, the strip's and the unrolled
        steps' rows, and a key typed at the end adds one of them. A read-only view."""
        start, buf = self._probs
        if not start <= lo <= self._probs_stop or hi - start > PROB_ROWS:
            if hi - lo > PROB_ROWS:                           # too many to keep: computed, not kept
                return self._prob_rows_now(lo, hi)
            start = self._probs_stop = lo                     # a new run from lo
        if hi > self._probs_stop:
            if hi - start > len(buf):
                grown = np.empty((min(max(2 * len(buf), hi - start, 256), PROB_ROWS), len(self.labels)), np.float32)
                grown[:self._probs_stop - start] = buf[:self._probs_stop - start]
                buf = grown
            buf[self._probs_stop - start:hi - start] = self._prob_rows_now(self._probs_stop, hi)
            self._probs_stop = hi
        self._probs = (start, buf)
        return buf[lo - start:hi - start]

    def _prob_rows_now(self, lo: int, hi: int) -> F32:
        return softmax(self._head(self._rows(lo, hi, part=0))).astype(np.float32, copy=False)

    def top_k(self, cursor: int, k: int = 5) -> list[tuple[str, float, int]]:
        """Prediction at the cursor (read from state cursor-1) -> [(label, p, id)] best first."""
        p = self.output_probs(cursor - 1, cursor)
        if not len(p):
            return []
        order = np.argsort(-p[0], kind="stable")[:k]
        return [(self.labels[i] if i < len(self.labels) else str(i), float(p[0, i]), int(i)) for i in order]

    def targets(self) -> npt.NDArray[np.int32] | None:
        """What each state should predict: the next character (text, -1 at the end) or the class."""
        if self.kind == "text":
            return np.append(self.ids[1:], -1).astype(np.int32)
        return task_targets(self.task, self.ids, len(self.labels))

    def actual_probs(self, start: int, stop: int) -> F32:
        """(n,) probability the model gave to the right answer at each character start..stop-1.

        Text: P(char t | chars before t). Toy task: P(true class after char t) where the task
        defines it for any input, else the winning class's probability. NaN where unknown.
        """
        start, stop = max(start, 0), min(stop, self.n_done)
        if stop <= start:
            return np.zeros(0, np.float32)
        if self.kind == "text":
            probs, want = self.output_probs(start - 1, stop - 1), self.ids[start:stop]
        else:
            probs, y = self.output_probs(start, stop), self.targets()
            want = probs.argmax(axis=1) if y is None else y[start:stop]
        ok = want >= 0
        out = np.full(stop - start, np.nan, np.float32)
        out[ok] = probs[np.flatnonzero(ok), want[ok]]
        return out

    def memory(self, cursor: int, window: int = 80) -> Memory | None:
        """Squared input gradients of the prediction read at the cursor (state cursor-1), from the
        cached states plus the cell's BPTT (``influence_from_factors``). The factors of each
        step's backward (``step_factors``) depend on that step alone: they are kept for the
        last window, so a key typed at the end computes those of one new step."""
        parts = self._memory_window(cursor, window)
        if parts is None:
            return None
        start, target, actual, factors = parts
        w = influence_from_factors(self.rec, self.post, factors, factors["h"][-1:], target)
        return Memory(start, w, target, self.labels[target], actual)

    def _memory_window(self, cursor: int, window: int) -> tuple[int, int, bool, dict[str, np.ndarray]] | None:
        """(the window's first step, the target, whether it is the right answer, the window's
        step factors) of the memory at the cursor; None where there is none."""
        self.finish()
        t = min(cursor, len(self.ids)) - 1
        if t < 0 or self.ids[t] < 0:
            return None
        bad = np.flatnonzero(self.ids[max(t - window + 1, 0):t + 1] < 0)
        start = max(t - window + 1, 0) + (int(bad[-1]) + 1 if len(bad) else 0)
        target, actual = self._memory_target(t)
        return start, target, actual, self._step_factors(start, t + 1)

    def memory_begin(self, c: int, window: int = 60, elsewhere: bool = True) -> PendingMemory:
        """``memory_at(c)`` started: its BPTT goes to the memory worker when it is ready (the
        caller goes on, ``collect()`` waits for it), else it is computed at ``collect()``;
        the same numbers either way. ``elsewhere=False``: it is wanted at once (the text is
        coloured by it), not sent. Kept for the last (text, cursor)."""
        key = (self.text, c)
        if self._memory_cache is None or self._memory_cache[0] != key:
            if self._memory_cache is not None:      # (a frame that was never routed: its job read
                self._memory_cache[1].settle()      # arrays the next one may change)
            self._memory_cache = (key, self._memory_job(c, window, elsewhere) if c > 0 else PendingMemory())
        return self._memory_cache[1]

    def _memory_job(self, c: int, window: int, elsewhere: bool = True) -> PendingMemory:
        parts = self._memory_window(c, window)
        if parts is None:
            return PendingMemory()
        start, target, actual, factors = parts
        kind, w_hh, w_ih = self.cell, self.rec.params["weight_hh_l0"], self.rec.params["weight_ih_l0"]
        dy = last_step_gradient(self.rec, self.post, factors["h"][-1:], target)
        label = self.labels[target]

        def compute() -> npt.NDArray[np.float64]:
            return influence_from_gradient(kind, factors, dy, w_hh, w_ih)

        def finish(w: npt.NDArray[np.float64]) -> Memory:
            return Memory(start, w, target, label, actual)

        worker = self.memory_worker() if elsewhere else None
        seq = self._send_window(worker, factors, start, dy) if worker is not None and worker.ready else None
        self.last_memory_job = WorkerJob(compute, len(factors["h"]), worker, seq)   # (tests read its source)
        return PendingMemory(start=start, weights=self.last_memory_job.weights, finish=finish,
                             elsewhere=self.last_memory_job.seq is not None)

    def _send_window(self, worker: MemoryWorker, factors: dict[str, np.ndarray], start: int,
                     dy: np.ndarray) -> int | None:
        """Give the worker the window's factor rows it does not hold (a key: one row) -> the job."""
        if self._wk_slot is None or self._wk_slot[0] is not worker or self._wk_slot[1] in worker.lost:
            slot = worker.add_model(self.cell, self.rec.params["weight_hh_l0"], self.rec.params["weight_ih_l0"])
            if slot is None:
                return None
            self._wk_slot, self._wk_rows, self._wk_valid = (worker, slot), (0, 0), 0
        stop = start + len(factors["h"])
        ws, we = self._wk_rows
        lo, hi = max(start, ws), min(stop, we, self._wk_valid)
        if hi <= lo:
            lo = hi = stop                 # nothing kept: every row goes
        names = FACTOR_NAMES[self.cell]
        seq = worker.submit(self._wk_slot[1], (start, stop, lo, hi), dy,
                            [factors[k][:lo - start] for k in names], [factors[k][hi - start:] for k in names])
        if seq is None:
            self._wk_slot = None
            return None
        self._wk_rows, self._wk_valid = (start, stop), len(self.ids)
        return seq

    def _memory_target(self, t: int) -> tuple[int, bool]:
        """(the output the Memory panel differentiates at state t, whether it is the right
        answer): the next character or true class, else the model's best guess."""
        if self.kind == "text":
            target = int(self.ids[t + 1]) if t + 1 < len(self.ids) else -1
        else:
            y = self.targets()
            target = int(y[t]) if y is not None else -1
        if target >= 0:
            return target, True
        return int(self.output_probs(t, t + 1)[0].argmax()), False

    def _step_factors(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """``step_factors`` of steps start..stop-1 and their states "h": the rows the last
        window shares with this one (no edit touched them since) are reused."""
        c_start, cached = self._factor_cache
        c_stop = min(c_start + (len(cached["h"]) if cached else 0), self._factors_valid)
        lo, hi = max(start, c_start), min(stop, c_stop)
        if hi <= lo:
            out = self._step_factors_now(start, stop)
        else:
            parts = [self._step_factors_now(a, b) for a, b in ((start, lo), (hi, stop)) if b > a]
            kept = {k: v[lo - c_start:hi - c_start] for k, v in cached.items()}
            if not parts:
                out = kept
            else:
                before = [parts.pop(0)] if lo > start else []
                out = {k: np.concatenate([p[k] for p in before] + [kept[k]] + [p[k] for p in parts])
                       for k in kept}
        self._factor_cache, self._factors_valid = (start, out), len(self.ids)
        return out

    def _step_factors_now(self, start: int, stop: int) -> dict[str, np.ndarray]:
        x = self._embed(self.ids[start:stop])[0]
        h_prev, c_prev = self._prev_rows(start, stop)        # cached: no re-run of the window
        h = None if self._lstm else self._rows(start, stop, part=0)
        kept = self._kept_gate_rows(start, stop) if self.gate_names and self.dtype == np.float32 else None
        if kept is None and self.gate_names and self.dtype == np.float32:
            kept = self._read_gate_rows(start, stop)          # a key: its step's gates, before the gate window
        if not self.gate_names:
            kept = {}                                          # an RNN: its states are all it needs
        factors, h = step_factors(self.rec, x, h_prev, c_prev, gates=kept, h=h)
        factors["h"] = h
        return factors

    @property
    def state_level(self) -> float:
        """The heat map's colour scale: states lie in -level..level (tanh: 1)."""
        return 1.0

    def check_model(self, model: Model) -> None:
        """SequenceModelError if this session cannot read `model` (set_model changes nothing then)."""
        split_model(model)

    def attention_view(self, cursor: int, layer: int, head: tuple[int, int] | None) -> AttentionView | None:
        """A recurrent model has no attention: None (``TransformerSession`` draws its heads)."""
        return None

    def set_model(self, model: Model, name: str = "model", basis_key: str | None = None) -> None:
        """Show another model on the same text; the listeners are told (the lab re-renders)."""
        self.check_model(model)                      # SequenceModelError before any change
        text = self.text
        self._use_model(model, name)
        self.basis_key = basis_key
        self.set_text(text, compute=False)
        self.listeners.tell(self)

    def load_weights(self, state: dict[str, np.ndarray]) -> None:
        """New weights for the same layers (e.g. a training step): states recomputed, listeners told."""
        self.model.load_state_dict(state)
        self.set_model(self.model, self.name, self.basis_key)

    def trajectory_basis(self) -> PCABasis:
        """The trajectory's PCA basis: fitted once on the model's own corpus, then frozen —
        shared by every session with the same ``basis_key``, else kept by this session."""
        if self.pca_basis is None:
            def fit() -> PCABasis:
                return fit_pca(self._reference_states())
            self.pca_basis = cached_basis(self.basis_key, fit) if self.basis_key else fit()
        return self.pca_basis

    def _reference_states(self) -> F32:
        """The model's states on its own corpus, computed once per model (the PCA basis and
        the heat map's row order are both fitted on them)."""
        if self._reference is None:
            self._reference = reference_states(self)
        return self._reference

    def row_order(self, rows: str = "similarity", signal_name: str | None = None) -> npt.NDArray[np.intp]:
        """(H,) the heat map's row order: "similarity" (fixed per model, fitted on its corpus),
        "unit" (0..H-1) or "signal" (by r with the finder's signal over the text; falls back
        to similarity when the signal cannot be correlated)."""
        if rows == "unit":
            return np.arange(self.hidden_size, dtype=np.intp)
        if rows == "signal" and signal_name:
            key = (self.text, signal_name)
            if self._signal_order is None or self._signal_order[0] != key:
                from explorer.analysis.unit_order import signal_order
                from explorer.analysis.units import SignalError, signal
                try:
                    order = signal_order(self.hidden_states(), signal(self.text, signal_name))
                except SignalError:
                    order = None
                self._signal_order = (key, order)
            if self._signal_order[1] is not None:
                return self._signal_order[1]
        if self._similarity is None:
            from explorer.analysis.unit_order import similarity_order
            rows_key = f"rows:{self.basis_key}" if self.basis_key else None
            cached = _ORDERS.get(rows_key) if rows_key else None
            self._similarity = cached if cached is not None else similarity_order(self._reference_states())
            if rows_key:
                _ORDERS[rows_key] = self._similarity
        return self._similarity

    def clamped_probs(self, cursor: int, unit: int, value: float, stop: int) -> F32:
        """Outputs with hidden unit `unit` of h held at `value` from the state before the cursor
        on (as ``generate --clamp``): (n + 1, K), row 0 the prediction at the cursor, row k the
        one after reading character cursor + k - 1, for characters cursor..stop-1 of the text.
        Stepped with the layer's public ``step``; the unclamped states are left untouched."""
        self.finish()
        c = max(0, min(cursor, self.length))
        stop = max(c, min(stop, self.length))
        st = self._state_after(c - 1)
        h = st[0:1].copy()
        cell = st[1:2].copy() if self._lstm else None
        h[0, unit] = value
        hs = np.empty((stop - c + 1, self.hidden_size), self.dtype)
        hs[0] = h[0]
        for t in range(c, stop):
            if self.ids[t] >= 0:
                x = self._embed(self.ids[t:t + 1])[0]
                _, new, _ = self.rec.step(x, (h, cell) if self._lstm else h)
                h, cell = (np.array(new[0]), np.array(new[1])) if self._lstm else (np.array(new), None)
                h[0, unit] = value
            hs[t - c + 1] = h[0]
        return softmax(self._head(hs)).astype(np.float32, copy=False)

    def embed(self, ids: npt.NDArray[np.int32]) -> F32:
        """(n,) ids -> (1, n, E) the recurrent layer's inputs (the layers before it)."""
        return self._embed(ids)

    def answer_at(self, c: int) -> int | None:
        """The right answer for the prediction at cursor c: the next character, or the true class."""
        if self.kind == "text":
            return int(self.ids[c]) if c < self.length and self.ids[c] >= 0 else None
        y = self.targets()
        return int(y[c - 1]) if y is not None and 0 < c <= self.length else None

    def memory_at(self, c: int, window: int = 60) -> Memory | None:
        """``memory(c)``, kept for the last (text, cursor): a re-render does not recompute it."""
        return self.memory_begin(c, window).collect()

    def description(self) -> str:
        """One line about the model: cell, width, what it reads."""
        what = f"toy task '{self.task}'" if self.task else f"{len(self.labels)} characters"
        return f"{self.cell} · {self.hidden_size} units · {what} · {self.name}"

    # -- internals ---------------------------------------------------------------------
    def _embed(self, ids: npt.NDArray[np.int32]) -> F32:
        x: Any = ids[None, :]
        for layer in self.pre:
            x = layer.infer(x)
        return cast("F32", x)

    def _head(self, h: F32) -> F32:
        y: Any = h[None]
        for layer in self.post:
            y = layer.infer(y)
        return cast("F32", y[0])

    def _projection(self) -> F32:
        """(V, G*H): the recurrent layer's input projection of every symbol, computed once."""
        if self._table is None:
            n = self._enc.size if self.vocab.unknown else len(self.vocab.chars)
            x = self._embed(np.arange(max(n, 1), dtype=np.int32))
            self._table = np.ascontiguousarray(self.rec.project(x)[:, 0])
        return self._table

    def _scan(self, start: int, stop: int, state: np.ndarray, keep_gates: bool = False) -> np.ndarray:
        """States after characters start..stop-1 from ``state`` ((S, H), S = 2 for LSTM h, c)
        -> (n, S, H); a character outside a toy alphabet carries the state over unchanged.
        ``keep_gates``: their gate activations are kept too (``_gates_now`` reads them; 0 for
        a character outside the alphabet, as there)."""
        out = np.empty((stop - start,) + state.shape, self.dtype)
        gates = {k: np.zeros((stop - start, self.hidden_size), np.float32) for k in self._kept_gates} \
            if keep_gates and self._kept_gates else None
        ids, table, t = self.ids, self._projection(), start
        while t < stop:
            if ids[t] < 0:
                out[t - start] = state
                t += 1
                continue
            bad = np.flatnonzero(ids[t:stop] < 0)
            end = t + int(bad[0]) if len(bad) else stop
            if end - t == 1 and self._lstm:                      # a key typed: one step, no scaled W_hh copy
                out[t - start], step_gates = self._lstm_key(table[ids[t]], state)
                if gates is not None:
                    for name, g in gates.items():
                        g[t - start] = step_gates[name]
                state = out[t - start]
                t = end
                continue
            xp = table[ids[t:end]][:, None, :]                   # (n, 1, G*H), a fresh copy
            st = tuple(state[k:k + 1].copy() for k in range(state.shape[0]))
            if gates is None:
                parts = self.rec.scan_states(xp, st)           # (hs,) or (hs, cs): the public API
            else:
                parts, step_gates = self.rec.scan_gates(xp, st)
                for name, g in gates.items():
                    g[t - start:end - start] = step_gates[name][:, 0]
            for k, seq in enumerate(parts):
                out[t - start:end - start, k] = seq[:, 0]
            state = out[end - start - 1]
            t = end
        if gates is not None:
            self._read_gates, self._read_gates_stop = (start, gates), stop
        return out

    def _lstm_key(self, xp: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """One LSTM step from ``state`` (2, H) for the input projection ``xp`` (4H,) -> (the new
        state (2, H), its gates i, f, g, o, c). ``cells.lstm_scan_rows``' batch-1 step (the same
        numbers as the layer's scan) without its scaled copy of W_hh^T (a fresh 4H x H array per
        call: after a pause between keys it cost more than the step itself)."""
        hid = self.hidden_size
        if self._step_consts is None:
            scale = cells.lstm_scale(hid, self.dtype)
            shift = np.repeat(np.array([1.0, 1.0, -0.0, 1.0], self.dtype), hid)   # -0.0: g + -0.0 == g, even -0
            self._step_consts = (scale, scale * 0.5, shift)
        scale, w_scale, shift = self._step_consts
        row = np.empty(5 * hid, self.dtype)                     # [c_{t-1} | 2i 2f g 2o]
        row[:hid] = state[1]
        a = row[hid:]
        np.multiply(xp, scale, out=a)
        # 2h (W_hh^T / [4, 4, 2, 4]) as (2h W_hh^T) / [4, 4, 2, 4]: scaling a column by a power of
        # two commutes with every rounding of its sum, so the same numbers, read from W_hh itself
        # (the array the Memory panel's backward reads too: one copy to keep warm, none made)
        buf = np.dot(state[0] * 2.0, self.rec.params["weight_hh_l0"].T)
        buf *= w_scale
        a += buf                                                # = pre-activation * [1/2, 1/2, 1, 1/2]
        np.tanh(a, a)
        a += shift                                              # [2i, 2f, g, 2o]
        prod = row[2 * hid:4 * hid] * row[:2 * hid]             # [2f c, g 2i]
        new = np.empty((2, hid), self.dtype)
        c = new[1]
        np.add(prod[:hid], prod[hid:], c)                       # 2 c_t
        c *= 0.5
        np.multiply(row[4 * hid:], np.tanh(c), new[0])          # 2 h_t = 2o tanh(c_t)
        new[0] *= 0.5
        gates = {"i": a[:hid] * 0.5, "f": a[hid:2 * hid] * 0.5, "g": a[2 * hid:3 * hid], "o": a[3 * hid:] * 0.5,
                 "c": c}
        return new, gates

    def _zero_state(self) -> np.ndarray:
        return np.zeros((2 if self._lstm else 1, self.hidden_size), self.dtype)

    def _state_after(self, t: int) -> np.ndarray:
        """(S, H) state after character t (t = -1: the initial state), t < n_done."""
        if t < 0:
            return self._zero_state()
        b, r = divmod(t, BLOCK)
        if r == BLOCK - 1 and b < len(self._ck):
            return self._ck[b]
        return cast("np.ndarray", self._block(b, r + 1)[r])

    def _block(self, b: int, need: int) -> np.ndarray:
        """(BLOCK, S, H) states of block b with at least ``need`` rows valid (recomputed from
        the checkpoint before it if they are not cached)."""
        entry = self._blocks.get(b)
        if entry is not None and entry[1] >= need:
            self._blocks.move_to_end(b)
            return cast("np.ndarray", entry[0])
        start = b * BLOCK
        stop = min(start + BLOCK, self.n_done)
        states = self._scan(start, stop, self._state_after(start - 1))
        self.steps_replayed += stop - start
        entry = self._block_entry(b)
        entry[0][:stop - start], entry[1] = states, stop - start
        return cast("np.ndarray", entry[0])

    def _block_entry(self, b: int) -> list[Any]:
        entry = self._blocks.get(b)
        if entry is None:
            shape = (BLOCK,) + self._zero_state().shape
            entry = self._blocks[b] = [np.zeros(shape, self.dtype), 0]
            while len(self._blocks) > CACHED_BLOCKS:
                self._blocks.popitem(last=False)
        self._blocks.move_to_end(b)
        return entry

    def _forget_from(self, p: int) -> None:
        """An edit at p: states from p on are stale (checkpoints are read only below n_done)."""
        for b in [b for b in self._blocks if b * BLOCK + self._blocks[b][1] > p]:
            keep = p - b * BLOCK
            if keep > 0:
                self._blocks[b][1] = keep
            else:
                del self._blocks[b]
        need = -(-len(self.ids) // BLOCK)                        # shrink after a big deletion
        if len(self._ck) > 2 * need + 16:
            self._ck.keep(need + 16)

    def _rows(self, start: int, stop: int, part: int | None = None) -> np.ndarray:
        """(n, S, H) states after characters start..stop-1 (all < n_done), block by block;
        ``part`` 0 (h) or 1 (LSTM c): (n, H) of that part only."""
        shape = self._zero_state().shape if part is None else (self.hidden_size,)
        out = np.empty((stop - start,) + shape, self.dtype)
        t = start
        while t < stop:
            b, r = divmod(t, BLOCK)
            end = min(stop, (b + 1) * BLOCK)
            rows = self._block(b, end - b * BLOCK)[r:r + end - t]
            out[t - start:end - start] = rows if part is None else rows[:, part]
            t = end
        return out

    def _prev_rows(self, start: int, stop: int) -> tuple[F32, F32 | None]:
        """States before each of start..stop-1 -> ((n, H), (n, H) or None)."""
        rows = self._rows(max(start - 1, 0), stop - 1)
        if start == 0:
            rows = np.concatenate([self._zero_state()[None], rows])
        return rows[:, 0], (rows[:, 1] if self._lstm else None)


def random_model(cell: str = "LSTM", hidden: int = 32, embed: int = 16, seed: int = 0,
                 vocab: Vocab | None = None) -> Model:
    """An untrained Embedding -> cell -> Linear text model (meta "untrained": True)."""
    from explorer.engine import recurrent
    from explorer.engine.dense import Embedding, Linear
    vocab = vocab or Vocab.text()
    rng = np.random.default_rng(seed)
    cls = {"LSTM": recurrent.LSTM, "GRU": recurrent.GRU, "RNN": recurrent.RNN}[cell.upper()]
    layers: list[Layer] = [Embedding(vocab.size, embed, rng=rng), cls(embed, hidden, rng=rng),
                           Linear(hidden, vocab.size, rng=rng)]
    return Model(layers, meta={"vocab": vocab.to_meta(), "untrained": True, "corpus": "code"})


def reference_states(session: SequenceSession, max_chars: int = 6000, seed: int = 0) -> F32:
    """Hidden states to fit the frozen PCA basis on: (N, H) from the model's own corpus
    (validation split) or, for a toy model, from generated task sequences. For a model file
    (a session with a ``basis_key``) they are kept in the disk cache of ``refcache``."""
    if session.task:
        from explorer.data.tasks import make
        batch = make(session.task, n=48, length=None, rng=seed)
        x = session.embed(batch.x.reshape(-1))[0].reshape(batch.x.shape + (-1,))
        y = session.rec.forward(x)[0]
        return np.asarray(y.reshape(-1, session.hidden_size), np.float32)
    from explorer.session import refcache
    meta = session.model.meta
    corpus = meta.get("corpus") or ("prose" if "prose" in session.name else "code")
    cached, text, key = cached_or_reference_text(session.model, str(corpus), max_chars, seed,
                                                 session.hidden_size, bool(session.basis_key))
    if cached is not None:
        return cached
    ids = session.encoder.encode(text[:max_chars + max_chars // 4])
    # 24 pieces read side by side (a batch) instead of one long sequence: 24x fewer steps in
    # a row, which is most of the Sequence Lab's start-up; each piece's first 50 states (still
    # warming up from the zero state) are left out.
    warm, pieces = 50, 24
    length = max(len(ids) // pieces, 1)
    if length <= 2 * warm:
        y = session.rec.forward(session.embed(ids))[0]
        states = np.asarray(y[0], np.float32)
    else:
        pieces_ids = ids[:pieces * length].reshape(pieces, length)
        x = session.embed(pieces_ids.reshape(-1))[0].reshape(pieces, length, -1)
        y = session.rec.forward(x)[0]
        states = np.asarray(y[:, warm:].reshape(-1, session.hidden_size), np.float32)
    if key:
        refcache.store(key, states)
    return states
