"""SequenceView: one frame of the Sequence Lab — everything its panels draw, in their units.

``build_view(session, cursor, request)`` builds one ``SequenceView`` per render from the
session's public queries; the lab calls it and only routes its fields to the panels. The
session does not know its view. Qt-free, like the rest of ``session/``. What the last view of
a session read (the heat map's window, the unrolled steps, the selected unit's colour values)
is reused where ``session.same_before`` says the ids before it did not change: a key typed at
the end reads one new row of each, not the whole window again.

Positions are characters; "state t" is the state after reading character t. Shapes
(n = characters in the heat map's window, H = hidden size, k = PCA components, K = outputs):

- ``h`` (n, H) hidden states of characters ``start``..``stop``-1; ``gates`` name -> (n, H)
- ``rows`` (H,) the heat map's row order (row r = unit rows[r]); ``h_rows`` = h[:, rows]
- ``trail`` (m, k) the last m <= trail states up to the cursor, projected on the frozen PCA
  basis (``trail_first``: character index of its first row, ``trail_chars`` its characters)
- ``top`` [(label, p, id)] best first: the prediction read at the cursor (from state c-1)
- ``strip_probs`` (s,) P(the right answer) for the strip's characters ``strip_start``..
- ``memory`` the influence bars (or None) over ``memory_chars``, ``steps`` three unrolled cells (t-1, t, t+1)
- ``colour`` (values, offset) for the editor's characters, or None: nothing to colour
- ``attention`` (transformer models only, else None): an ``AttentionView``
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from explorer.session.sequence_parts import AttentionView, Memory, PendingMemory

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession

F32 = npt.NDArray[np.float32]
HOP = 25        # the time axes scroll in hops of this many characters, not one per key
COLOUR_MODES = ("selected unit", "memory (influence)", "surprise (P of actual)", "nothing")
ATTENTION_MODE = "attention (chosen head)"   # a transformer's extra colour mode (after COLOUR_MODES)


@dataclass(frozen=True)
class StepView:
    """One unrolled step: the character read, its input vector, the state and the top outputs."""

    step: int
    char: str
    x: np.ndarray
    h: np.ndarray
    top: list[tuple[str, float]]


@dataclass(frozen=True)
class FrameRequest:
    """What the lab's controls ask for (not the model's business): sizes, selection, colour mode."""

    window: int = 120                 # characters in the heat map / gates window
    trail: int = 40                   # states on the trajectory
    strip_cells: int = 60             # cells in the P(actual) strip
    unit: int | None = None
    unit_state: str = "h"             # "h" or "c" (LSTM: tanh of the cell state)
    colour_mode: str = "nothing"
    visible: tuple[int, int] = (0, 0)  # the editor's visible characters (for colouring)
    rows: str = "similarity"          # heat-map row order: "similarity", "unit" or "signal"
    signal_name: str | None = None    # the finder's signal, for rows == "signal"
    clamp: tuple[int, float] | None = None  # (unit, value): the Write pane's clamp, from the cursor on
    top_k: int = 5
    attention_layer: int = 0          # the attention panel's layer (transformer models)
    attention_head: tuple[int, int] | None = None   # (layer, head) the text is coloured by
    # what panels on show need (a panel on a hidden tab is not computed for): the gate window,
    # the Memory panel's influence (also computed to colour the text by it), the unrolled steps,
    # the trajectory's trail, the predictions' top outputs
    gates: bool = True
    memory: bool = True
    unrolled: bool = True
    trajectory: bool = True
    predictions: bool = True


@dataclass(frozen=True)
class SequenceView:
    """One render of the Sequence Lab (see the module docstring for the shapes)."""

    cursor: int
    step: int
    length: int
    start: int
    stop: int
    x_range: tuple[float, float]
    chars: str
    h: F32
    rows: npt.NDArray[np.intp]        # (H,) heat-map row r shows unit rows[r]
    h_rows: F32                       # (n, H) h with its columns in row order: what the heat map draws
    unit_row: int | None              # the heat-map row of the selected unit
    gates: dict[str, F32]
    trail: F32
    trail_first: int
    trail_chars: str
    top: list[tuple[str, float, int]]
    actual: int | None
    clamped_p: F32 | None             # (len(top),) P of the top labels with the clamp (None: no clamp)
    strip_start: int
    strip_chars: str
    strip_probs: F32
    strip_unknown: npt.NDArray[np.bool_]
    pending_memory: PendingMemory     # the influence bars, maybe still being computed: see ``memory``
    memory_chars: str                 # the characters under the memory bars
    memory_noun: str                  # "next char" (text) or "class" (toy task)
    steps: list[StepView | None]
    colour: tuple[np.ndarray, int] | None
    colour_palette: str               # "signed" (green/red), "memory" (orange) or "attention" (blue)
    unknown: npt.NDArray[np.bool_]
    unit: int | None
    cell: str
    description: str
    request: FrameRequest = field(default_factory=FrameRequest)
    attention: AttentionView | None = None

    @property
    def memory(self) -> Memory | None:
        """The influence bars (or None), waited for here: the memory worker computes them while
        the frame's other panels are built and routed (``SequenceSession.memory_begin``)."""
        return self.pending_memory.collect()


@dataclass(frozen=True)
class _Kept:
    """What a session's last view computed that the next one reuses where the ids before it are
    the same (``SequenceSession.same_before``): the heat map's window and the unrolled steps."""

    revision: int
    start: int
    h: F32
    steps: dict[int, StepView]
    unit_values: tuple[int, int, str, np.ndarray] | None    # (first character, unit, state, values)


_KEPT: weakref.WeakKeyDictionary[SequenceSession, _Kept] = weakref.WeakKeyDictionary()


def time_window(step: int, n: int, window: int) -> tuple[int, int, tuple[float, float]]:
    """Characters start..stop-1 shown around the cursor's character `step` (of n), and the
    x range of the time axes. The range moves in hops of HOP characters, so typing does not
    shift (and re-label, and repaint twice) the axes on every key; `step` always stays inside."""
    ideal = max(0, min(step - (3 * window) // 4, n - window))
    start = min(-(-ideal // HOP) * HOP, max(step, 0))
    stop = min(n, start + window)
    if start > 0:
        return start, stop, (float(start), float(start + window))
    width = min(window, max(40, 10 * -(-(n + 3) // 10)))   # short text: little empty room
    return start, stop, (0.0, float(width))


def build_view(s: SequenceSession, cursor: int, req: FrameRequest | None = None) -> SequenceView:
    """The view for the cursor (a character index 0..T) and the lab's request."""
    req = req or FrameRequest()
    s.finish()
    n = s.length
    c = max(0, min(cursor, n))
    step = c - 1
    now = req.colour_mode.startswith("memory")    # the text is coloured by it: wanted in this frame
    memory = s.memory_begin(c, elsewhere=not now) if req.memory or now else PendingMemory()
    start, stop, x_range = time_window(step, n, req.window)
    kept = _KEPT.get(s)
    same = s.same_before(kept.revision) if kept is not None else 0
    rows = s.row_order(req.rows, req.signal_name)
    h = _window(s, start, stop, kept, same)
    h_rows = s.hidden_rows(start, stop, rows)    # h[:, rows], kept in place: a key adds one row
    unit_row = int(np.flatnonzero(rows == req.unit)[0]) if req.unit is not None else None
    gates = s.gates(start, stop) if s.gate_names and req.gates else {}
    t0 = max(0, step - req.trail + 1) if req.trajectory else step + 1
    basis = s.trajectory_basis()
    trail = basis.transform(_states(s, t0, step + 1, h, start)).astype(np.float32, copy=False)
    a = max(0, min(c - (2 * req.strip_cells) // 3, n - req.strip_cells))
    b = min(n, a + req.strip_cells)
    unknown = s.unknown_mask()
    top = s.top_k(c, req.top_k) if n and req.predictions else []
    clamped = None
    if req.clamp is not None and 0 <= req.clamp[0] < s.hidden_size:
        lo, hi = req.visible
        clamped = s.clamped_probs(c, req.clamp[0], req.clamp[1], min(max(hi, c), c + 400))
    attention = s.attention_view(c, req.attention_layer, req.attention_head)
    unit_kept = kept.unit_values if kept is not None else None
    colour, palette = _colour(s, req, memory.collect() if now else None, c, clamped,
                              unit_kept, same)
    if req.colour_mode == ATTENTION_MODE:
        colour, palette = _attention_colour(attention), "attention"
    steps: list[StepView | None] = (_steps(s, step, kept.steps if kept is not None else {}, same, (h, start))
                                    if req.unrolled else [None, None, None])
    unit_values = ((colour[1], req.unit, req.unit_state, colour[0]) if req.colour_mode == "selected unit"
                   and colour is not None and req.unit is not None else None)
    _KEPT[s] = _Kept(s.revision, start, h, {st.step: st for st in steps if st is not None}, unit_values)
    return SequenceView(
        cursor=c, step=step, length=n, start=start, stop=stop, x_range=x_range, chars=s.text[start:stop],
        h=h, rows=rows, h_rows=h_rows, unit_row=unit_row, gates=gates, trail=trail, trail_first=t0, trail_chars=s.text[t0:step + 1],
        top=top, actual=s.answer_at(c),
        clamped_p=clamped[0, [i for _, _, i in top]] if clamped is not None else None,
        strip_start=a, strip_chars=s.text[a:b], strip_probs=s.actual_probs(a, b), strip_unknown=unknown[a:b],
        pending_memory=memory, memory_chars=s.text[memory.start:c] if not memory.empty else "",
        memory_noun="next char" if s.kind == "text" else "class",
        steps=steps, colour=colour, colour_palette=palette, unknown=unknown,
        unit=req.unit, cell=s.cell, description=s.description(), request=req, attention=attention)


def _spliced(read: Callable[[int, int], np.ndarray], start: int, stop: int, first: int, values: np.ndarray,
             same: int) -> np.ndarray:
    """``read(start, stop)``, with the rows the last view read (``values``, rows first.. of it)
    copied where the ids before them are unchanged (before ``same``) and only the rest read:
    typing at the end reads one new row, not the whole window again."""
    lo, hi = max(start, first), min(stop, first + len(values), same)
    if hi - lo < 1:
        return read(start, stop)
    out = np.empty((stop - start, *values.shape[1:]), values.dtype)
    out[lo - start:hi - start] = values[lo - first:hi - first]
    for a, b in ((start, lo), (hi, stop)):
        if b > a:
            out[a - start:b - start] = read(a, b)
    return out


def _window(s: SequenceSession, start: int, stop: int, kept: _Kept | None, same: int) -> F32:
    """The states start..stop-1, the last view's rows reused (``_spliced``). The heat map's
    rows in row order are the session's own kept window (``hidden_rows``)."""
    if kept is None:
        return s.hidden_states(start, stop)
    return cast(F32, _spliced(s.hidden_states, start, stop, kept.start, kept.h, same))


def _states(s: SequenceSession, a: int, b: int, h: F32, start: int) -> F32:
    """States a..b-1: a slice of the heat map's window ``h`` (states start..) when it holds
    them (the trajectory's trail and the unrolled steps end at the cursor, inside it)."""
    if start <= a and b <= start + len(h) and b > a:
        return h[a - start:b - start]
    return s.hidden_states(a, b)


def _steps(s: SequenceSession, step: int, kept: dict[int, StepView] | None = None,
           same: int = 0, window: tuple[F32, int] | None = None) -> list[StepView | None]:
    """The unrolled cells t-1, t, t+1 around the cursor's character; one the last view built
    is reused where the ids up to it are the same (typing at the end: t-1 was the last t)."""
    ts = (step - 1, step, step + 1)
    kept = kept or {}
    reuse = {t: kept[t] for t in ts if t in kept and t < same and t < s.length and kept[t].char == s.text[t]}
    need = [t for t in ts if t not in reuse and 0 <= t < s.length and s.ids[t] >= 0]
    if not need:
        return [reuse.get(t) for t in ts]
    a, b = need[0], need[-1] + 1                           # the steps' rows, read at once
    xs = s.embed(np.maximum(s.ids[a:b], 0))[0]
    probs = s.output_probs(a, b)
    hs = np.array(_states(s, a, b, *window)) if window is not None else s.hidden_states(a, b)   # (not a view of h)
    out: list[StepView | None] = []
    for t in ts:
        if t in need:
            p = probs[t - a]
            top = [(s.labels[i], float(p[i])) for i in np.argsort(-p)[:3]]
            out.append(StepView(t, s.text[t], xs[t - a], hs[t - a], top))
        else:
            out.append(reuse.get(t))
    return out


def _unit_values(s: SequenceSession, lo: int, hi: int, unit: int, state: str,
                 kept: tuple[int, int, str, np.ndarray] | None, same: int) -> np.ndarray:
    """``s.unit_values(lo, hi, unit, state)``, the part the last view read for the same unit
    and state reused (``_spliced``)."""
    def read(a: int, b: int) -> np.ndarray:
        return s.unit_values(a, b, unit, state)

    if kept is None or kept[1:3] != (unit, state):
        return read(lo, hi)
    return _spliced(read, lo, hi, kept[0], kept[3], same)


def _attention_colour(a: AttentionView | None) -> tuple[np.ndarray, int] | None:
    """The chosen head's weights at the cursor over the characters it can see, scaled to the
    largest (sqrt, as the memory colouring) -> (values in [0, 1], first character)."""
    if a is None or a.head is None or a.query < 0 or not a.rows.shape[-1]:
        return None
    w = a.rows[a.head[0], a.head[1]].astype(np.float64)
    return np.sqrt(w / max(float(w.max()), 1e-30)), a.key_start


def _colour(s: SequenceSession, req: FrameRequest, memory: Memory | None, c: int,
            clamped: F32 | None, kept: tuple[int, int, str, np.ndarray] | None = None,
            same: int = 0) -> tuple[tuple[np.ndarray, int] | None, str]:
    """Values in [-1, 1] (or [0, 1] for memory) for the editor's characters from `offset` on;
    with a clamp, surprise from the cursor on is the clamped run's (row t - c predicts char t).
    ``kept``: the last view's unit values (first character, unit, state, values), reused where
    the ids up to them are unchanged (``same``)."""
    mode, (lo, hi) = req.colour_mode, req.visible
    hi = min(hi, s.length)
    palette = "memory" if mode.startswith("memory") else "signed"
    if mode == "selected unit" and req.unit is not None and s.length and hi > lo:
        return (_unit_values(s, lo, hi, req.unit, req.unit_state, kept, same), lo), palette
    if mode.startswith("memory") and memory is not None:
        w = memory.weights
        return (np.sqrt(w / max(float(w.max()), 1e-30)), memory.start), palette
    if mode.startswith("surprise") and s.length and hi > lo:
        p = s.actual_probs(lo, hi)
        if clamped is not None and s.kind == "text":
            for t in range(max(c, lo), min(hi, c + len(clamped))):
                p[t - lo] = clamped[t - c, s.ids[t]] if s.ids[t] >= 0 else np.nan
        return (2.0 * p - 1.0, lo), palette
    return None, palette
