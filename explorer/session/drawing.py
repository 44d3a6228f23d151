"""The drawing: pen strokes, their undo / redo history, the vector eraser, the network input
and the file format. No Qt.

A drawing is a list of pen strokes, each a (K, 2) float32 array of (x, y) points in
*reference canvas units* (a ``REF`` x ``REF`` square, y down; the widget scales its own
pixels to these). Undo/redo work on whole states (background image + tuple of strokes),
one entry per finished stroke, clear or opened image.

What the network sees: ``preprocess_strokes`` (MNIST-style, pen width independent) when
the drawing is pure ink strokes; when an image was opened (a raster *background*), the
strokes are rendered onto it and ``to_mnist`` preprocesses the result. The eraser is a
*vector* eraser: it cuts ink strokes where it passes (a stroke it touches is densified to
<= 2 units between points, then split) and clears the background raster under its path.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from explorer.atomic import atomic_write
from explorer.data.preprocess import (
    BOX,
    INK_THRESHOLD,
    MNIST_PEN_WIDTH,
    EmptyDrawing,
    StrokeRaster,
    centre_of_mass,
    preprocess_strokes,
    render_strokes,
    to_mnist,
)
from explorer.errors import ExplorerError

F32 = npt.NDArray[np.float32]
REF = 280                  # reference canvas side, in stroke units
DEFAULT_PEN = 18.0         # pen diameter in reference units (the canvas look only)
STEP = 2.0                 # max distance between stored stroke points (for the eraser)
SESSION_FORMAT = "cnn-rnn-explorer/drawing"


@dataclass(frozen=True, eq=False)          # compared by identity (arrays inside)
class Stroke:
    """points: (K, 2) float32 (x, y) in reference units; width: pen diameter; erase flag."""

    points: F32
    width: float = DEFAULT_PEN
    erase: bool = False


@dataclass(frozen=True, eq=False)
class DrawingState:
    """One undo step: an optional (REF, REF) ink background and the ink strokes."""

    strokes: tuple[Stroke, ...] = ()
    background: F32 | None = None

    @property
    def is_empty(self) -> bool:
        no_bg = self.background is None or not bool((self.background > 0.1).any())
        return no_bg and not self.strokes


def densify(points: np.ndarray, step: float = STEP) -> F32:
    """points: (K, 2) -> (K', 2) float32 with consecutive points at most ``step`` apart."""
    pts = np.asarray(points, np.float32).reshape(-1, 2)
    if len(pts) < 2:
        return cast("F32", pts.copy())
    d = pts[1:] - pts[:-1]                                 # vectorised: one pass, no Python loop
    n = np.maximum(np.ceil(np.hypot(d[:, 0], d[:, 1]).astype(np.float64) / step), 1).astype(np.int64)
    seg = np.repeat(np.arange(len(d)), n)
    k = (np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n) + 1).astype(np.float32)
    t = (k / n[seg].astype(np.float32))[:, None]
    return np.concatenate([pts[:1], pts[:-1][seg] + d[seg] * t]).astype(np.float32)


def erase_strokes(strokes: tuple[Stroke, ...], path: np.ndarray, radius: float) -> tuple[Stroke, ...]:
    """Cut every stroke where its points come within ``radius`` of the eraser ``path`` (K, 2)."""
    path = densify(path)
    out: list[Stroke] = []
    lo, hi = path.min(axis=0) - radius, path.max(axis=0) + radius
    for s in strokes:
        reach = radius + s.width / 4.0
        if (s.points.max(axis=0) < lo - reach).any() or (s.points.min(axis=0) > hi + reach).any():
            out.append(s)                                  # nowhere near: keep as drawn
            continue
        pts = densify(s.points)
        diff = pts[:, None, :] - path[None, :, :]
        keep = np.min(np.einsum("kpd,kpd->kp", diff, diff), axis=1) > reach * reach
        if keep.all():
            out.append(s)
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(np.int8), [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            out.append(Stroke(pts[a:b].copy(), s.width))
    return tuple(out)


def network_input(state: DrawingState, raster: StrokeRaster | None = None) -> F32 | None:
    """state -> (1, 1, 28, 28) float32 MNIST-like input, or None for an empty drawing.

    ``raster``: a StrokeRaster kept between calls, so a growing drawing costs only its new
    segments (the result equals the from-scratch one).
    """
    if state.is_empty:
        return None
    try:
        if state.background is None:
            lines = [s.points for s in state.strokes]
            img = raster.update(lines) if raster is not None else preprocess_strokes(lines)
        else:
            ink: np.ndarray = state.background.copy()
            for s in state.strokes:
                ink = np.maximum(ink, render_strokes([s.points], REF, s.width))
            img = to_mnist(ink, invert=False)
    except EmptyDrawing:
        return None
    return np.ascontiguousarray(img.reshape(1, 1, 28, 28), dtype=np.float32)


def canvas_transform(state: DrawingState, x: np.ndarray) -> tuple[float, float, float]:
    """Approximate map canvas -> network input: u = p * scale + (tx, ty) (continuous coords).

    Mirrors the preprocessing (scale from the ink's extent, centre of mass to the centre)
    so the saliency map and receptive fields can be drawn back onto the canvas.
    """
    if state.background is None:
        pts = np.concatenate([s.points for s in state.strokes])
        extent = max(float(np.ptp(pts, axis=0).max()), 1e-3)
        scale = max(BOX - MNIST_PEN_WIDTH, 1.0) / extent
        q = 4.0                                          # render small: the mass centre only
        small = render_strokes([s.points / q for s in state.strokes], REF // int(q),
                               max(MNIST_PEN_WIDTH / scale / q, 0.5))
        r, c = centre_of_mass(small)
        cy, cx = (r + 0.5) * q, (c + 0.5) * q
    else:
        raster = state.background
        for s in state.strokes:
            raster = np.maximum(raster, render_strokes([s.points], REF, s.width))
        rows = np.flatnonzero((raster > INK_THRESHOLD).any(axis=1))
        cols = np.flatnonzero((raster > INK_THRESHOLD).any(axis=0))
        scale = BOX / max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
        r, c = centre_of_mass(raster)
        cy, cx = r + 0.5, c + 0.5
    ro, co = centre_of_mass(np.asarray(x, np.float64).reshape(28, 28))
    return scale, (co + 0.5) - cx * scale, (ro + 0.5) - cy * scale


class _PointBuffer:
    """The stroke in progress: (x, y) float32 points appended in amortised O(1).

    ``points`` is a view of the first n rows; rows already handed out never change (the
    buffer only grows past them, or is copied into a larger one), so a Stroke made from a
    view stays valid and a StrokeRaster can tell the stroke only grew.
    """

    def __init__(self, x: float, y: float) -> None:
        self._buf = np.empty((64, 2), np.float32)
        self._buf[0] = (x, y)
        self._n = 1

    def append(self, x: float, y: float) -> None:
        if self._n == len(self._buf):
            grown = np.empty((2 * len(self._buf), 2), np.float32)
            grown[: self._n] = self._buf
            self._buf = grown
        self._buf[self._n] = (x, y)
        self._n += 1

    @property
    def points(self) -> F32:
        return self._buf[: self._n]


class Drawing:
    """The drawing as the user made it: strokes, the stroke in progress, undo / redo, the eraser's
    log of changes (for the canvas) and the network input, kept up to date as strokes grow.

    ``version`` bumps on every visible change; ``stroke_count`` counts strokes begun.
    """

    def __init__(self) -> None:
        self._state = DrawingState()
        self._undo: list[DrawingState] = []
        self._redo: list[DrawingState] = []
        self._live: _PointBuffer | None = None          # points of the stroke being drawn
        self._raster = StrokeRaster()                     # incremental network input
        self._live_width = DEFAULT_PEN
        self._live_erase = False
        self._before_erase: DrawingState | None = None
        self.version = 0                                  # bumps on every visible change
        self.stroke_count = 0                             # strokes begun so far
        # (before, after, (x0, y0, x1, y1)): what each eraser move changed, for the canvas
        self.erase_log: list[tuple[DrawingState, DrawingState, tuple[float, float, float, float]]] = []
        self._shown: tuple[int, DrawingState] | None = None

    @property
    def state(self) -> DrawingState:
        """The drawing as shown, including the stroke in progress."""
        if self._live is None or self._live_erase:
            return self._state
        cached = self._shown
        if cached is not None and cached[0] == self.version:
            return cached[1]
        live = Stroke(self._live.points, self._live_width)
        shown = DrawingState(self._state.strokes + (live,), self._state.background)
        self._shown = (self.version, shown)
        return shown

    @property
    def committed(self) -> DrawingState:
        """The drawing without the pen stroke in progress (an eraser acts on it directly)."""
        return self._state

    @property
    def live_points(self) -> F32 | None:
        """(K, 2) points of the pen stroke in progress (None when none, or erasing); they only grow."""
        return None if self._live is None or self._live_erase else self._live.points

    @property
    def live_width(self) -> float:
        """Pen diameter of the stroke in progress (reference units)."""
        return self._live_width

    @property
    def strokes(self) -> tuple[Stroke, ...]:
        return self.state.strokes

    @property
    def is_empty(self) -> bool:
        return self.state.is_empty

    def begin_stroke(self, x: float, y: float, width: float = DEFAULT_PEN, erase: bool = False) -> None:
        """Start a pen (or eraser) stroke at (x, y) reference units."""
        self._live = _PointBuffer(x, y)
        self.stroke_count += 1                            # tells the canvas a new stroke began
        self._live_width, self._live_erase = float(width), bool(erase)
        self._before_erase = self._state if erase else None
        if erase:
            self._erase_segment(self._live.points)
        self.version += 1

    def extend_stroke(self, x: float, y: float) -> None:
        """Add a point to the stroke in progress (ignored when no stroke is in progress)."""
        if self._live is None:
            return
        p = np.array([[x, y]], np.float32)
        if self._live_erase:
            self._erase_segment(np.concatenate([self._live.points[-1:], p]))
        self._live.append(x, y)
        self.version += 1

    def end_stroke(self) -> None:
        """Finish the stroke: one undo step (an eraser stroke that changed nothing adds none)."""
        if self._live is None:
            return
        if self._live_erase:
            before = self._before_erase
            if before is not None and before is not self._state:
                self._undo.append(before)
                self._redo.clear()
        else:
            self._push(self.state)
        self._live, self._before_erase = None, None
        self.version += 1

    def _erase_segment(self, seg: np.ndarray) -> None:
        radius = self._live_width / 2.0
        strokes = erase_strokes(self._state.strokes, seg, radius)
        bg = self._state.background
        if bg is not None:
            disk = render_strokes([densify(seg)], REF, self._live_width)
            bg = np.where(disk > 0.5, 0.0, bg).astype(np.float32)
        if strokes != self._state.strokes or bg is not self._state.background:
            new = DrawingState(strokes, bg)
            widest = max([st.width for st in self._state.strokes] + [0.0])
            pad = radius + 0.75 * widest + STEP + 2.0      # cut ends keep round caps of width/2
            lo, hi = seg.min(axis=0) - pad, seg.max(axis=0) + pad
            self.erase_log.append((self._state, new, (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))))
            del self.erase_log[:-16]                       # a few moves between two paints
            self._state = new

    def _push(self, new: DrawingState) -> None:
        self._undo.append(self._state)
        self._redo.clear()
        self._state = new
        self.version += 1

    def clear(self) -> None:
        """Empty the canvas (undoable)."""
        self._live = None
        if not self._state.is_empty:
            self._push(DrawingState())

    def set_background(self, ink: np.ndarray) -> None:
        """ink: (REF, REF) float in [0, 1], 1 = ink. Replaces the drawing (undoable)."""
        ink = np.asarray(ink, np.float32)
        if ink.shape != (REF, REF):
            raise ValueError(f"background must be ({REF}, {REF}), got {ink.shape}")
        self._live = None
        self._push(DrawingState((), np.clip(ink, 0, 1).astype(np.float32)))

    def set_strokes(self, strokes: list[Stroke] | tuple[Stroke, ...]) -> None:
        """Replace the drawing with these strokes (undoable)."""
        self._live = None
        self._push(DrawingState(tuple(strokes), None))

    def set_drawing(self, state: DrawingState) -> None:
        """Replace the drawing, strokes and background, with ``state`` (one undo step)."""
        self._live = None
        if state is not self._state and not (state.is_empty and self._state.is_empty):
            self._push(state)
        self.version += 1

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        """Back one stroke / clear / open. Returns False when there is nothing to undo."""
        if not self._undo or self._live is not None:
            return False
        self._redo.append(self._state)
        self._state = self._undo.pop()
        self.version += 1
        return True

    def redo(self) -> bool:
        if not self._redo or self._live is not None:
            return False
        self._undo.append(self._state)
        self._state = self._redo.pop()
        self.version += 1
        return True

    # -- what the network reads ----------------------------------------------------
    @property
    def raster(self) -> StrokeRaster:
        """The incremental rasteriser behind ``network_input`` (its ``rebuilds`` count full redraws)."""
        return self._raster

    def network_input(self) -> F32 | None:
        """(1, 1, 28, 28) float32 MNIST-like input of the drawing as shown, or None while empty;
        a growing stroke costs only its new segments."""
        return network_input(self.state, self._raster)

    # -- its file (atomic) ---------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the drawing (strokes + background) to ``path`` atomically (.npz)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_drawing(self._state, path)

    def load(self, path: str | os.PathLike[str]) -> None:
        """Restore a drawing written by ``save``; raises DamagedDrawing (a ValueError) on a
        foreign, damaged or absurd file, leaving the current drawing untouched."""
        state = load_drawing(path)
        self._state, self._undo, self._redo, self._live = state, [], [], None
        self.version += 1

    def forget(self) -> None:
        """An empty canvas with no history (a restored drawing that could not be shown)."""
        self._state, self._undo, self._redo, self._live = DrawingState(), [], [], None
        self.version += 1


# -- the saved drawing: written atomically, read back with every field checked ----------
MAX_DRAWING_BYTES = 64 * 2**20     # a saved drawing is a few kB; refuse anything absurd
MAX_POINTS = 2_000_000             # all strokes together
MAX_STROKES = 100_000
COORD_LIMIT = 10.0 * REF           # points may leave the canvas a little, not by light years
MAX_PEN = 1000.0


class DamagedDrawing(ExplorerError, ValueError):
    """A saved drawing that cannot be restored (damaged, foreign or absurd); one sentence."""


def save_drawing(state: DrawingState, path: str | os.PathLike[str]) -> None:
    """``state`` -> ``path`` (.npz: ``meta`` JSON with the strokes, optional uint8 background),
    atomically. Safe to call from a worker thread: a DrawingState is never mutated. A drawing
    that ``load_drawing`` would refuse (a point or a pen width that is not finite, ...) raises
    DamagedDrawing and writes nothing: what is saved can always be read back."""
    for i, s in enumerate(state.strokes):
        if not (np.isfinite(s.width) and 0 < s.width <= MAX_PEN):
            raise DamagedDrawing(f"not saved: stroke {i + 1} has an impossible pen width {s.width:g}")
        if not np.isfinite(s.points).all() or (len(s.points) and np.abs(s.points).max() > COORD_LIMIT):
            raise DamagedDrawing(f"not saved: stroke {i + 1} has points that are not finite or far off the canvas")
    meta = {"format": SESSION_FORMAT, "version": 1,
            "strokes": [{"points": s.points.tolist(), "width": s.width} for s in state.strokes]}
    arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta, allow_nan=False))}
    if state.background is not None:
        arrays["background"] = (state.background * 255).round().astype(np.uint8)
    atomic_write(path, lambda fh: np.savez_compressed(fh, **cast("dict[str, Any]", arrays)))


def load_drawing(path: str | os.PathLike[str]) -> DrawingState:
    """path -> DrawingState; DamagedDrawing("<name> ...") unless every field is sane."""
    path = Path(path)

    def bad(why: str) -> DamagedDrawing:
        return DamagedDrawing(f"{path.name} {why}")

    if path.is_dir():
        raise bad("is a folder, not a saved drawing")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise bad(f"cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise bad("is empty")
    if size > MAX_DRAWING_BYTES:
        raise bad(f"is too large to be a drawing ({size / 2**20:.0f} MB)")
    try:
        with zipfile.ZipFile(path) as zf:            # sizes before inflating anything
            if sum(i.file_size for i in zf.infolist()) > MAX_DRAWING_BYTES:
                raise bad("would inflate to an absurd size")
        with np.load(path, allow_pickle=False) as z:
            if "meta" not in z.files:
                raise bad("is not a saved drawing (no 'meta' entry)")
            meta_arr = z["meta"]
            bg = z["background"] if "background" in z.files else None
    except DamagedDrawing:
        raise
    except Exception as exc:  # noqa: BLE001 - BadZipFile, EOFError, zlib.error, ValueError, ...
        raise bad(f"is damaged or truncated ({type(exc).__name__})") from None
    if meta_arr.ndim != 0 or meta_arr.dtype.kind != "U":
        raise bad("is not a saved drawing ('meta' is not text)")
    try:
        meta = json.loads(str(meta_arr))
    except (ValueError, RecursionError):
        raise bad("is damaged ('meta' is not valid JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != SESSION_FORMAT:
        raise bad("is not a saved drawing (wrong format)")
    return DrawingState(_checked_strokes(meta.get("strokes"), bad), _checked_background(bg, bad))


def _checked_strokes(raw: object, bad: Callable[[str], DamagedDrawing]) -> tuple[Stroke, ...]:
    if not isinstance(raw, list):
        raise bad("has no list of strokes")
    if len(raw) > MAX_STROKES:
        raise bad(f"holds an absurd number of strokes ({len(raw):,})")
    strokes, total = [], 0
    for i, s in enumerate(raw):
        if not isinstance(s, dict) or not isinstance(s.get("points"), list):
            raise bad(f"has a stroke without points (stroke {i + 1})")
        try:
            pts = np.asarray(s["points"], np.float64)
            width = float(s.get("width", DEFAULT_PEN))
        except (TypeError, ValueError, OverflowError):
            raise bad(f"has a malformed stroke (stroke {i + 1})") from None
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
            raise bad(f"has a stroke whose points are not (x, y) pairs (stroke {i + 1})")
        total += len(pts)
        if total > MAX_POINTS:
            raise bad(f"holds an absurd number of points (over {MAX_POINTS:,})")
        if not np.isfinite(pts).all() or np.abs(pts).max() > COORD_LIMIT:
            raise bad(f"has points that are not finite or far off the canvas (stroke {i + 1})")
        if not (np.isfinite(width) and 0 < width <= MAX_PEN):
            raise bad(f"has an impossible pen width {width:g} (stroke {i + 1})")
        strokes.append(Stroke(pts.astype(np.float32), width))
    return tuple(strokes)


def _checked_background(bg: np.ndarray | None, bad: Callable[[str], DamagedDrawing]) -> F32 | None:
    if bg is None:
        return None
    if bg.dtype != np.uint8 or bg.shape != (REF, REF):
        raise bad(f"has a background that is not a {REF}x{REF} grey image")
    return cast("F32", bg.astype(np.float32) / 255)
