"""Turn drawings and image files into MNIST-style inputs: (1, 28, 28) float32 in [0, 1].

MNIST was made like this: white ink on black, the digit's bounding box scaled (keeping the
aspect ratio, anti-aliased) so its longer side is 20 px, then pasted into a 28x28 field so
that the centre of mass of the ink sits at the centre, pixel (14, 14) in index coordinates.

Two paths lead there:

- ``preprocess_strokes(strokes)`` for the drawing canvas: the pen's polylines are rendered
  directly at the target scale with an MNIST-like pen (``MNIST_PEN_WIDTH`` px), so the
  result does not depend on where, how large or with which pen width the digit was drawn.
- ``to_mnist(image)`` for image files: auto-invert, crop, area-average, centre.

Numpy only; rasterisation and resampling are implemented here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from explorer.errors import ExplorerError

__all__ = [
    "BOX", "FIELD", "MNIST_PEN_WIDTH", "EmptyDrawing", "Strokes", "image_to_gray",
    "is_empty", "preprocess_strokes", "render_strokes", "to_mnist", "centre_of_mass",
    "as_polylines", "rasterise", "StrokeRaster", "resize", "stroke_width", "grow", "normalise_thickness",
]

FIELD = 28              # output side, px
BOX = 20                # longer side of the digit's bounding box, px
MNIST_PEN_WIDTH = 2.4   # stroke width in output px (MNIST median ~2.5 by 2*area/perimeter)
SUPERSAMPLE = 4         # sub-pixels per output pixel when rendering strokes
INK_THRESHOLD = 0.1     # below this (after contrast stretch) a pixel is background


Strokes = Sequence[Sequence[Sequence[float]] | np.ndarray]


def as_polylines(strokes: Strokes) -> list[np.ndarray]:
    """strokes -> list of (K, 2) float64 arrays, K >= 1 (empty strokes dropped)."""
    lines = []
    for stroke in strokes:
        p = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        if len(p):
            if not np.isfinite(p).all():
                raise ValueError("stroke coordinates must be finite numbers")
            lines.append(p)
    return lines


def _segments(lines: list[np.ndarray], max_len: float) -> tuple[np.ndarray, np.ndarray]:
    """Polylines -> segment ends a, b: (S, 2) each; a dot is a == b; none longer than max_len."""
    a = np.concatenate([p if len(p) == 1 else p[:-1] for p in lines])
    b = np.concatenate([p if len(p) == 1 else p[1:] for p in lines])
    # each segment from its smaller (x, y) end: the rounding then does not depend on the
    # direction the pen moved, so a drawing and its strokes reversed or reordered render
    # to the same pixels, bit for bit (the network's answer cannot depend on stroke order)
    swap = ((a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1])))[:, None]
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    pieces = np.maximum(np.ceil(np.hypot(*(b - a).T) / max_len), 1).astype(int)
    if pieces.max() > 1:                               # split long segments into equal pieces
        seg = np.repeat(np.arange(len(a)), pieces)
        k = np.arange(len(seg)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        f0, f1 = (k / pieces[seg])[:, None], ((k + 1) / pieces[seg])[:, None]
        d = b[seg] - a[seg]
        a, b = a[seg] + f0 * d, a[seg] + f1 * d
    return a, b


def _accumulate(d2: np.ndarray, origin: tuple[int, int], a: np.ndarray, b: np.ndarray,
                reach: float) -> None:
    """Squared distances to segments a->b ((S, 2) (x, y) px) into d2 (H, W) by np.minimum.

    ``origin`` (row, col) is the global pixel of d2[0, 0]: every value is computed from
    global coordinates, so the result does not depend on where the buffer sits (an
    incremental buffer and a from-scratch box hold bit-identical numbers). Each segment gets
    a same-sized window; cells farther than ``reach`` are left alone.
    """
    if not len(a):
        return
    h, w = d2.shape
    oy, ox = origin
    size = int(np.ceil(np.abs(b - a).max() + 2 * reach)) + 2
    start = np.floor(np.minimum(a, b) - reach).astype(np.int64)         # (S, 2) x0, y0
    if len(a) <= 8:
        _accumulate_few(d2, origin, a, b, reach, start, size)
        return
    flat_d2 = d2.reshape(-1)
    offs = np.arange(size)
    f32 = np.float32
    for lo in range(0, len(a), 256):                                    # bounded memory
        sl = slice(lo, lo + 256)
        ax, ay = a[sl, 0:1].astype(f32), a[sl, 1:2].astype(f32)
        dx, dy = (b[sl] - a[sl]).astype(f32)[:, 0:1, None], (b[sl] - a[sl]).astype(f32)[:, 1:2, None]
        cols, rows = start[sl, 0:1] + offs, start[sl, 1:2] + offs       # (s, size) each
        px = (cols.astype(f32) + f32(0.5) - ax)[:, None, :]             # (s, 1, size)
        py = (rows.astype(f32) + f32(0.5) - ay)[:, :, None]             # (s, size, 1)
        inv = 1.0 / np.maximum(dx * dx + dy * dy, f32(1e-12))
        t = np.clip((px * dx + py * dy) * inv, f32(0.0), f32(1.0))
        dist2 = (px - t * dx) ** 2 + (py - t * dy) ** 2
        near = dist2 < f32(reach * reach)
        rows, cols = rows - oy, cols - ox
        near &= ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
        flat = (rows[:, :, None] * w + cols[:, None, :])[near]
        np.minimum.at(flat_d2, flat, dist2[near])


def _accumulate_few(d2: np.ndarray, origin: tuple[int, int], a: np.ndarray, b: np.ndarray, reach: float,
                    start: np.ndarray, size: int) -> None:
    """``_accumulate`` for a few segments (a pen move adds one or two): the same numbers, each
    cell's distance computed by the same float32 operations in the same order, over the one box
    holding every segment's window, into which they are min-ed directly (no scatter)."""
    h, w = d2.shape
    oy, ox = origin
    f32 = np.float32
    lo = start.min(axis=0)                                            # x0, y0 of the box
    hi = start.max(axis=0) + size                                     # one past its far corner
    cols = np.arange(max(int(lo[0]), ox), min(int(hi[0]), ox + w))
    rows = np.arange(max(int(lo[1]), oy), min(int(hi[1]), oy + h))
    if not len(cols) or not len(rows):
        return
    ax, ay = a[:, 0:1].astype(f32), a[:, 1:2].astype(f32)
    d = (b - a).astype(f32)
    dx, dy = d[:, 0:1, None], d[:, 1:2, None]
    px = (cols.astype(f32) + f32(0.5) - ax)[:, None, :]                 # (s, 1, W)
    py = (rows.astype(f32) + f32(0.5) - ay)[:, :, None]                 # (s, H, 1)
    inv = 1.0 / np.maximum(dx * dx + dy * dy, f32(1e-12))
    t = np.clip((px * dx + py * dy) * inv, f32(0.0), f32(1.0))
    dist2 = (px - t * dx) ** 2 + (py - t * dy) ** 2
    # a cell outside a segment's own window, or beyond reach, is left alone as _accumulate leaves it
    inside = ((cols >= start[:, 0:1]) & (cols < start[:, 0:1] + size))[:, None, :] \
        & ((rows >= start[:, 1:2]) & (rows < start[:, 1:2] + size))[:, :, None]
    dist2[~(inside & (dist2 < f32(reach * reach)))] = np.inf
    view = d2[rows[0] - oy: rows[-1] + 1 - oy, cols[0] - ox: cols[-1] + 1 - ox]
    np.minimum(view, dist2.min(axis=0), out=view)


def _coverage(d2: np.ndarray, radius: float) -> np.ndarray:
    cov = np.sqrt(d2, dtype=np.float32)                   # one buffer, worked on in place
    np.subtract(np.float32(radius + 0.5), cov, out=cov)
    return cast("np.ndarray", np.clip(cov, 0.0, 1.0, out=cov))


def rasterise(lines: list[np.ndarray], shape: tuple[int, int], radius: float) -> np.ndarray:
    """lines: (K, 2) (x, y) in pixel units (pixel (r, c) centred at (c+.5, r+.5)) -> (H, W) float32.

    Coverage of round-capped segments of half-width ``radius``: clip(radius + .5 - d, 0, 1)
    with d the distance to the nearest segment. Vectorised: every segment (long ones split)
    gets a same-sized window; distances are scattered into the image with np.minimum.at.
    """
    h, w = shape
    if not lines:
        return np.zeros((h, w), np.float32)
    d2 = np.full((h, w), np.inf, dtype=np.float32)
    reach = radius + 1.0
    _accumulate(d2, (0, 0), *_segments(lines, max(reach, 2.0)), reach)
    return _coverage(d2, radius)


def _weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) resampling matrix: exact area overlap when shrinking, bilinear when growing."""
    scale = n_out / n_in
    if scale <= 1.0:
        edges = np.arange(n_out + 1) / scale                       # output edges, input units
        lo = np.maximum(edges[:-1, None], np.arange(n_in)[None, :])
        hi = np.minimum(edges[1:, None], np.arange(1, n_in + 1)[None, :])
        wts = np.clip(hi - lo, 0.0, None)
    else:
        centre = (np.arange(n_out) + 0.5) / scale - 0.5
        centre = np.clip(centre, 0.0, n_in - 1)
        wts = np.clip(1.0 - np.abs(centre[:, None] - np.arange(n_in)[None, :]), 0.0, None)
    return cast("np.ndarray", (wts / wts.sum(axis=1, keepdims=True)).astype(np.float32))


def resize(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """img: (H, W) float -> (out_h, out_w) float32, anti-aliased (area average) when shrinking."""
    img = np.asarray(img, dtype=np.float32)
    # einsum, not @: a multi-threaded BLAS on a busy 2-core machine took 30 ms for this
    rows = np.einsum("ij,jk->ik", _weights(img.shape[0], out_h), img)
    return cast("np.ndarray", np.einsum("ik,jk->ij", rows, _weights(img.shape[1], out_w)))



class EmptyDrawing(ExplorerError, ValueError):
    """Raised when a drawing or image holds no ink."""

    def __init__(self, message: str = "no ink: draw a digit") -> None:
        super().__init__(message)


def render_strokes(strokes: Strokes, canvas_size: int | tuple[int, int] = 280,
                   pen_width: float = 18.0, supersample: int = 1) -> np.ndarray:
    """strokes: list of (K, 2) (x, y) canvas coordinates -> (H, W) float32 in [0, 1], ink = 1.

    Round-capped, anti-aliased thick polylines; a one-point stroke is a dot. ``canvas_size``
    is ``side`` or ``(height, width)``; ``supersample`` > 1 renders finer and area-averages.
    """
    h, w = (canvas_size, canvas_size) if isinstance(canvas_size, (int, np.integer)) else canvas_size
    s = max(int(supersample), 1)
    lines = [p * s for p in as_polylines(strokes)]
    img = rasterise(lines, (int(h) * s, int(w) * s), pen_width * s / 2.0)
    if s > 1:
        img = img.reshape(int(h), s, int(w), s).mean(axis=(1, 3))
    return img


def is_empty(drawing: Strokes | np.ndarray, threshold: float = INK_THRESHOLD) -> bool:
    """True if ``drawing`` (strokes, or a 2-D ink-is-high image in [0, 1] / uint8) has no ink."""
    if isinstance(drawing, np.ndarray) and drawing.ndim >= 2 and drawing.shape[-1] != 2:
        img = drawing.astype(np.float32) / (255.0 if drawing.dtype == np.uint8 else 1.0)
        return not bool((img > threshold).any())
    return len(as_polylines(cast("Strokes", drawing))) == 0


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """img: (H, W) non-negative -> (row, col) centre of mass in index coordinates."""
    total = float(img.sum())
    if total <= 0:
        raise EmptyDrawing()
    r = float((img.sum(axis=1) * np.arange(img.shape[0])).sum()) / total
    c = float((img.sum(axis=0) * np.arange(img.shape[1])).sum()) / total
    return r, c


def _paste_centred(box: np.ndarray, field: int, unit: int = 1) -> np.ndarray:
    """box: (h, w) -> (field, field) with the centre of mass moved to (field/2, field/2).

    ``unit`` sub-pixels per output pixel: the shift is rounded to whole sub-pixels and
    clipped so the box stays inside the field.
    """
    h, w = box.shape
    r, c = centre_of_mass(box)
    centre = field / 2.0 + (unit - 1) / 2.0    # centre of output pixel 14, in sub-pixels
    top = int(np.clip(round(centre - r), 0, max(field - h, 0)))
    left = int(np.clip(round(centre - c), 0, max(field - w, 0)))
    out = np.zeros((field, field), dtype=np.float32)
    hh, ww = min(h, field), min(w, field)
    out[top:top + hh, left:left + ww] = box[:hh, :ww]
    return out


def _drop_stray_dots(lines: list[np.ndarray]) -> list[np.ndarray]:
    """Remove tiny strokes (stray clicks) when longer strokes exist; digits have no dots."""
    if len(lines) < 2:
        return lines
    pts = np.concatenate(lines)
    extent = float(np.ptp(pts, axis=0).max())
    keep = [p for p in lines if float(np.ptp(p, axis=0).max()) > 0.03 * extent]
    return keep or lines


LEVELS_PER_OCTAVE = 32     # the drawing's scale is quantised: 2**(1/32) = 2.2 % steps


def _frame(lo: np.ndarray, hi: np.ndarray, pen: float) -> tuple[float, float]:
    """Bounding box of the kept centre-lines -> (k, r): sub-pixels per canvas unit, pen radius.

    The centre-line extent is rounded *up* to a power of 2**(1/LEVELS_PER_OCTAVE) before
    scaling, so the digit's longer side is 20 px to within 2.2 % (19.6-20 px) and the scale
    changes only when the drawing grows by a step: in between, new ink is added to what is
    already rendered (``StrokeRaster``) instead of re-rendering the whole drawing.
    """
    extent = float((hi - lo).max())
    span = max(BOX - pen, 1.0)                      # centre-line extent, output px
    if extent > 1e-9:
        extent = 2.0 ** (np.ceil(np.log2(extent) * LEVELS_PER_OCTAVE) / LEVELS_PER_OCTAVE)
        scale = span / extent
    else:
        scale = 1.0
    return scale * SUPERSAMPLE, pen * SUPERSAMPLE / 2.0


def _box(lo: np.ndarray, hi: np.ndarray, k: float, r: float) -> tuple[int, int, int, int]:
    """-> (row0, col0, rows, cols): the global sub-pixels any ink (coverage > 0) can reach."""
    c0 = r + 0.5
    x0, y0 = np.floor(lo * k + c0 - r - 1.0).astype(int)
    x1, y1 = np.ceil(hi * k + c0 + r).astype(int) + 1
    return int(y0), int(x0), int(y1 - y0), int(x1 - x0)


def _finish(d2_box: np.ndarray, r: float) -> np.ndarray:
    """Squared distances over the ink box (sub-pixels) -> (1, 28, 28) centred, averaged.

    What ``_paste_centred`` then a mean over every s×s block of the field gives (to float32
    rounding), computed on the output pixels the box covers only: the mean over the strided
    axes of the whole 112×112 field took most of a pen move's preprocessing."""
    s = SUPERSAMPLE
    cov = _coverage(d2_box, r)
    h, w = cov.shape
    field = FIELD * s
    rr, cc = centre_of_mass(cov)
    centre = field / 2.0 + (s - 1) / 2.0        # centre of output pixel 14, in sub-pixels
    top = int(np.clip(round(centre - rr), 0, max(field - h, 0)))
    left = int(np.clip(round(centre - cc), 0, max(field - w, 0)))
    hh, ww = min(h, field), min(w, field)
    r0, c0 = top // s, left // s
    r1, c1 = -(-(top + hh) // s), -(-(left + ww) // s)
    tile = np.zeros(((r1 - r0) * s, (c1 - c0) * s), np.float32)
    tile[top - r0 * s: top - r0 * s + hh, left - c0 * s: left - c0 * s + ww] = cov[:hh, :ww]
    blocks = tile.reshape(-1, c1 - c0, s).sum(axis=2).reshape(r1 - r0, s, c1 - c0).sum(axis=1)
    out = np.zeros((1, FIELD, FIELD), np.float32)
    np.multiply(blocks, np.float32(1.0 / (s * s)), out=out[0, r0:r1, c0:c1])
    return cast("np.ndarray", np.clip(out, 0.0, 1.0, out=out))


def _pen(pen_width: float | None) -> float:
    return MNIST_PEN_WIDTH if pen_width is None else float(pen_width)


def preprocess_strokes(strokes: Strokes, pen_width: float | None = None) -> np.ndarray:
    """strokes: list of (K, 2) (x, y) canvas coordinates -> (1, 28, 28) float32 in [0, 1].

    Renders the centre-lines at MNIST scale with a pen ``pen_width`` output pixels wide
    (default ``MNIST_PEN_WIDTH``; the canvas pen width plays no part), so the digit's ink
    box has a 20 px longer side (to 2.2 %, see ``_frame``), then centres its mass at
    (14, 14) to 1/4 px. Raises EmptyDrawing if there are no points. ``StrokeRaster`` gives
    the same result for a growing drawing at a constant cost per pen move.
    """
    lines = _drop_stray_dots(as_polylines(strokes))
    if not lines:
        raise EmptyDrawing()
    pen = _pen(pen_width)
    pts = np.concatenate(lines)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    k, r = _frame(lo, hi, pen)
    y0, x0, h, w = _box(lo, hi, k, r)
    d2 = np.full((h, w), np.inf, np.float32)
    reach = r + 1.0
    _accumulate(d2, (y0, x0), *_segments([p * k + (r + 0.5) for p in lines], max(reach, 2.0)), reach)
    return _finish(d2, r)


class StrokeRaster:
    """``preprocess_strokes`` for a drawing that grows point by point, at a constant cost per move.

    ``update(strokes)`` -> (1, 28, 28), equal to ``preprocess_strokes(strokes)``. It keeps,
    per stroke, the points already rendered and their bounding box, and a sub-pixel buffer
    of squared distances to the rendered centre-lines (global frame, see ``_accumulate``).
    When the new drawing extends the last one (same strokes, the last ones longer, or new
    strokes) with the same kept strokes and scale level, only the new segments are rendered
    and the fixed-size ink box is cut from the buffer; otherwise (undo, erase, a scale step,
    a stray dot that stops or starts counting) everything is rendered again.
    """

    MARGIN = 32                                           # sub-pixels of slack around the ink

    def __init__(self, pen_width: float | None = None) -> None:
        self.pen = _pen(pen_width)
        self.rebuilds = 0                                 # full re-renders (for tests, bench)
        self.patches = 0                                  # local re-renders after a cut (ditto)
        self._reset()

    def _reset(self) -> None:
        self._src: list[np.ndarray] = []                  # the arrays rendered (kept alive)
        self._pts: list[np.ndarray] = []                  # float64 copies, grown by appends
        self._n: list[int] = []                           # points rendered per stroke
        self._lo: list[np.ndarray] = []
        self._hi: list[np.ndarray] = []
        self._key: tuple[Any, ...] | None = None
        self._d2: np.ndarray | None = None
        self._origin = (0, 0)

    def _extends(self, i: int, arr: np.ndarray) -> bool:
        """Does ``arr`` start with the points of stroke ``i`` as rendered?"""
        old, n = self._src[i], self._n[i]
        if len(arr) < n:
            return False
        if arr is old or (arr.ctypes.data == old.ctypes.data and arr.dtype == old.dtype
                          and arr.strides == old.strides):
            return True                                   # a longer view of the same buffer
        return bool(np.array_equal(np.asarray(arr[:n], np.float64), self._pts[i][:n]))

    def update(self, strokes: Strokes) -> np.ndarray:
        arrays = [np.asarray(s).reshape(-1, 2) for s in strokes]
        arrays = [a for a in arrays if len(a)]
        m = len(self._src)
        same = len(arrays) >= m and all(self._extends(i, arrays[i]) for i in range(m))
        if not same:
            patched = self._patch(arrays)
            if patched is not None:
                return patched
            self._reset()
            m = 0
        grown = []                                        # (stroke, first new point)
        for i, arr in enumerate(arrays):
            start = self._n[i] if i < m else 0
            if i < m and start == len(arr) and arr is self._src[i]:
                continue
            new = np.asarray(arr[start:], np.float64)
            if not np.isfinite(new).all():
                raise ValueError("stroke coordinates must be finite numbers")
            if i < m:
                self._pts[i] = _append(self._pts[i], start, new)
                self._src[i], self._n[i] = arr, len(arr)
                if len(new):
                    self._lo[i] = np.minimum(self._lo[i], new.min(axis=0))
                    self._hi[i] = np.maximum(self._hi[i], new.max(axis=0))
            else:
                self._src.append(arr)
                self._pts.append(_append(np.empty((0, 2)), 0, new))
                self._n.append(len(arr))
                self._lo.append(new.min(axis=0))
                self._hi.append(new.max(axis=0))
            if len(new):
                grown.append((i, start))
        if not self._src:
            raise EmptyDrawing()
        keep = self._kept()
        lo = np.min([self._lo[i] for i in keep], axis=0)
        hi = np.max([self._hi[i] for i in keep], axis=0)
        k, r = _frame(lo, hi, self.pen)
        kept, old = set(keep), self._key
        if old is None or old[1] != k or not old[0] <= kept or self._d2 is None:
            self._d2 = None                               # scale step or a stroke dropped
            self.rebuilds += 1
            grown = [(i, 0) for i in keep]
        else:                                             # strokes that just started to count
            grown = [(i, s) for i, s in grown if i in old[0]] + [(i, 0) for i in keep if i not in old[0]]
        self._key = (frozenset(kept), k)
        reach = r + 1.0
        for i, start in grown:
            if i not in kept:
                continue
            pts = self._pts[i][max(start - 1, 0): self._n[i]] * k + (r + 0.5)
            self._cover(pts.min(axis=0) - reach - 1, pts.max(axis=0) + reach + 1)
            _accumulate(self._d2, self._origin, *_segments([pts], max(reach, 2.0)), reach)  # type: ignore[arg-type]  # _d2 is set by _cover just above
        y0, x0, h, w = _box(lo, hi, k, r)
        oy, ox = self._origin
        return _finish(self._d2[y0 - oy: y0 - oy + h, x0 - ox: x0 - ox + w], r)  # type: ignore[index]  # _d2 is set: update() built it

    def _kept(self) -> list[int]:
        """Indices of the strokes ``_drop_stray_dots`` keeps (from the bounding boxes)."""
        idx = list(range(len(self._src)))
        if len(idx) < 2:
            return idx
        extent = float((np.max(self._hi, axis=0) - np.min(self._lo, axis=0)).max())
        keep = [i for i in idx if float((self._hi[i] - self._lo[i]).max()) > 0.03 * extent]
        return keep or idx

    # -- strokes cut or removed (the eraser, an undo): re-render only where ink went -----------
    def _patch(self, arrays: list[np.ndarray]) -> np.ndarray | None:
        """The drawing lost segments (and maybe gained a few, e.g. the pieces of a cut stroke):
        reset the buffer where the lost ones reached and re-render there every segment that can
        reach it, plus the gained ones anywhere. None when a full render is needed (nothing
        rendered yet, another scale level, a point that is not finite)."""
        if self._d2 is None or self._key is None or not arrays:
            return None
        where = {(a.ctypes.data, a.dtype.str, a.strides, n): i
                 for i, (a, n) in enumerate(zip(self._src, self._n))}
        match = [where.get((a.ctypes.data, a.dtype.str, a.strides, len(a))) for a in arrays]
        src, pts, ns, lo, hi = [], [], [], [], []
        for arr, j in zip(arrays, match):
            if j is not None:                               # untouched: what is kept already
                src.append(arr)
                pts.append(self._pts[j])
                ns.append(self._n[j])
                lo.append(self._lo[j])
                hi.append(self._hi[j])
                continue
            new = np.asarray(arr, np.float64)
            if not np.isfinite(new).all():
                return None
            src.append(arr)
            pts.append(new.copy())
            ns.append(len(new))
            lo.append(new.min(axis=0))
            hi.append(new.max(axis=0))
        old_kept, k_old = self._key
        old_state = (self._pts, self._n)
        self._src, self._pts, self._n, self._lo, self._hi = src, pts, ns, lo, hi
        keep = self._kept()
        k, r = _frame(np.min([lo[i] for i in keep], axis=0), np.max([hi[i] for i in keep], axis=0), self.pen)
        if k != k_old:
            self._d2 = None
            return None                                     # update() renders all again
        reach = r + 1.0
        still = {match[i] for i in keep if match[i] is not None and match[i] in old_kept}
        lost = [old_state[0][j][:old_state[1][j]] for j in sorted(old_kept - still)]
        gained = [pts[i][:ns[i]] for i in keep if match[i] is None or match[i] not in old_kept]

        def segments(lines: list[np.ndarray]) -> np.ndarray:
            if not lines:
                return np.zeros((0, 4))
            a, b = _segments([p * k + (r + 0.5) for p in lines], max(reach, 2.0))
            return np.ascontiguousarray(np.concatenate([a, b], axis=1))

        gone, added = segments(lost), segments(gained)
        row = np.dtype((np.void, 32))
        gone_v, added_v = gone.view(row).ravel(), added.view(row).ravel()
        gone = gone[~np.isin(gone_v, added_v)]              # a cut stroke's pieces: same segments
        added = added[~np.isin(added_v, gone_v)]
        self._key = (frozenset(keep), k)
        if len(gone):                                       # where lost ink reached: from scratch
            ends = np.concatenate([gone[:, :2], gone[:, 2:]])
            g_lo, g_hi = ends.min(axis=0) - reach - 1, ends.max(axis=0) + reach + 1
            d2, (oy, ox) = self._d2, self._origin
            y0, x0 = max(int(np.floor(g_lo[1])) - oy, 0), max(int(np.floor(g_lo[0])) - ox, 0)
            y1 = min(int(np.ceil(g_hi[1])) + 1 - oy, d2.shape[0])
            x1 = min(int(np.ceil(g_hi[0])) + 1 - ox, d2.shape[1])
            if y1 > y0 and x1 > x0:
                box_lo = np.array([x0 + ox, y0 + oy], np.float64) - reach - 2
                box_hi = np.array([x1 + ox, y1 + oy], np.float64) + reach + 2
                close = [pts[i][:ns[i]] for i in keep                # strokes whose box meets it
                         if (lo[i] * k + r + 0.5 <= box_hi).all() and (hi[i] * k + r + 0.5 >= box_lo).all()]
                allseg = segments(close)
                smin = np.minimum(allseg[:, :2], allseg[:, 2:]) - reach - 1
                smax = np.maximum(allseg[:, :2], allseg[:, 2:]) + reach + 1
                near = ((smax[:, 0] >= x0 + ox) & (smin[:, 0] <= x1 + ox)
                        & (smax[:, 1] >= y0 + oy) & (smin[:, 1] <= y1 + oy))
                part = np.full((y1 - y0, x1 - x0), np.inf, np.float32)   # the reset cells, afresh
                if near.any():
                    _accumulate(part, (y0 + oy, x0 + ox), allseg[near, :2], allseg[near, 2:], reach)
                d2[y0:y1, x0:x1] = part
        if len(added):
            ends = np.concatenate([added[:, :2], added[:, 2:]])
            self._cover(ends.min(axis=0) - reach - 1, ends.max(axis=0) + reach + 1)
            _accumulate(self._d2, self._origin, added[:, :2], added[:, 2:], reach)
        self.patches += 1
        lo_k = np.min([lo[i] for i in keep], axis=0)
        hi_k = np.max([hi[i] for i in keep], axis=0)
        y0, x0, h, w = _box(lo_k, hi_k, k, r)
        oy, ox = self._origin
        return _finish(self._d2[y0 - oy: y0 - oy + h, x0 - ox: x0 - ox + w], r)

    def _cover(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Make the buffer hold global sub-pixels lo..hi ((x, y) each); grow it with slack."""
        y0, x0 = int(np.floor(lo[1])), int(np.floor(lo[0]))
        y1, x1 = int(np.ceil(hi[1])) + 1, int(np.ceil(hi[0])) + 1
        d2, (oy, ox) = self._d2, self._origin
        if d2 is not None and y0 >= oy and x0 >= ox and y1 <= oy + d2.shape[0] and x1 <= ox + d2.shape[1]:
            return
        if d2 is not None:                                # keep what is drawn: union of both
            y0, x0 = min(y0, oy), min(x0, ox)
            y1, x1 = max(y1, oy + d2.shape[0]), max(x1, ox + d2.shape[1])
        y0, x0, y1, x1 = y0 - self.MARGIN, x0 - self.MARGIN, y1 + self.MARGIN, x1 + self.MARGIN
        new = np.full((y1 - y0, x1 - x0), np.inf, np.float32)
        if d2 is not None:
            new[oy - y0: oy - y0 + d2.shape[0], ox - x0: ox - x0 + d2.shape[1]] = d2
        self._d2, self._origin = new, (y0, x0)


def _append(buf: np.ndarray, n: int, new: np.ndarray) -> np.ndarray:
    """buf[:n] followed by new, in a buffer that doubles when full (amortised O(len(new)))."""
    need = n + len(new)
    if need > len(buf):
        grown = np.empty((max(need, 2 * len(buf), 16), 2))
        grown[:n] = buf[:n]
        buf = grown
    buf[n:need] = new
    return buf


def image_to_gray(image: np.ndarray) -> np.ndarray:
    """image: (H, W), (H, W, 3) or (H, W, 4), uint8 or float in [0, 1] -> (H, W) float32 in [0, 1].

    Luminance (Rec. 601 weights); alpha is composited on white.
    """
    img = np.asarray(image)
    f = img.astype(np.float32) / (255.0 if img.dtype == np.uint8 else 1.0)
    if f.ndim == 2:
        return cast("np.ndarray", np.clip(f, 0.0, 1.0))
    if f.ndim != 3 or f.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected an image of shape (H, W[, 1|2|3|4]), got {img.shape}")
    c = f.shape[2]
    gray = f[..., 0] if c < 3 else f[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    if c in (2, 4):
        alpha = f[..., -1]
        gray = gray * alpha + (1.0 - alpha)
    return cast("np.ndarray", np.clip(gray, 0.0, 1.0).astype(np.float32))


def _ink_image(image: np.ndarray, invert: bool | str) -> np.ndarray:
    """Any supported image -> (H, W) float32, ink high, background 0, contrast stretched."""
    gray = image_to_gray(image)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if invert == "auto":
        invert = float(border.mean()) > 0.5
    elif not isinstance(invert, bool):
        raise ValueError(f"invert must be True, False or 'auto', got {invert!r}")
    if invert:
        gray, border = 1.0 - gray, 1.0 - border
    background = float(np.median(border))
    peak = float(gray.max())
    if peak - background < 0.05:
        raise EmptyDrawing()
    ink = np.clip((gray - background) / (peak - background), 0.0, 1.0)
    ink[ink < INK_THRESHOLD / 2] = 0.0
    return ink


def stroke_width(img: np.ndarray) -> float:
    """img: (H, W) ink in [0, 1] -> typical stroke width in px, 2 * area / perimeter of ink > .5."""
    b = (img > 0.5).astype(np.int8)
    area = float(b.sum())
    perimeter = float(np.abs(np.diff(b, axis=0)).sum() + np.abs(np.diff(b, axis=1)).sum())
    perimeter += float(b[0].sum() + b[-1].sum() + b[:, 0].sum() + b[:, -1].sum())
    return 2.0 * area / (perimeter * np.pi / 4.0) if perimeter else 0.0


def grow(img: np.ndarray, thicker: bool, size: int = 2) -> np.ndarray:
    """img: (..., H, W) -> same shape: ``size`` x ``size`` grey-scale dilation (thicker) or erosion.

    size 2 thickens by one pixel (shifting the ink by half a pixel); size 3 by two, centred.
    """
    op = np.maximum if thicker else np.minimum
    fill = 0.0 if thicker else 1.0
    lead = [(0, 0)] * (img.ndim - 2)
    lo, hi = (size - 1) // 2, size // 2
    pad = np.pad(img, lead + [(lo, hi), (lo, hi)], mode="constant", constant_values=fill)
    h, w = img.shape[-2:]
    out = pad[..., :h, :w]
    for dy in range(size):
        for dx in range(size):
            if dy or dx:
                out = op(out, pad[..., dy:dy + h, dx:dx + w])
    return out


def normalise_thickness(img: np.ndarray, unit: float, low: float = 1.8,
                        high: float = 3.6) -> np.ndarray:
    """img: (H, W) ink, ``unit`` px per output px -> same shape, strokes nudged to MNIST width.

    Moderate on purpose: only pens thinner than ``low`` or thicker than ``high`` output px
    are grown or shrunk, by 3x3 dilations/erosions (2 px each), towards the nearer bound.
    """
    w = stroke_width(img) / unit
    if w <= 0.0 or low <= w <= high:
        return img
    target = low if w < low else high
    steps = min(int(round(abs(target - w) * unit / 2.0)), int(2 * unit))
    for _ in range(steps):
        img = grow(img, w < low, 3)
    return img


def to_mnist(image: np.ndarray, invert: bool | str = "auto") -> np.ndarray:
    """image: (H, W[, C]) uint8 or float in [0, 1] -> (1, 28, 28) float32 in [0, 1].

    ``invert="auto"`` turns light-background images (mean border > 0.5) into white ink on
    black. Crops to the ink (pixels above ``INK_THRESHOLD``), resamples so the longer side
    is 20 px, pastes so the centre of mass is at (14, 14). Unlike MNIST's whole-pixel shift
    the centring is done to 1/4 px (at 4x, then area-averaged): a thin "1" would otherwise
    jump a whole pixel on a rounding tie. Pens much thinner/thicker than MNIST's are nudged.
    Raises EmptyDrawing if there is no ink.
    """
    ink = _ink_image(image, invert)
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        raise EmptyDrawing()
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    out_h, out_w = max(int(round(h * scale)), 1), max(int(round(w * scale)), 1)
    s = SUPERSAMPLE                    # at 4x: fix the pen width, centre to 1/4 px, average
    fine = np.clip(resize(crop, out_h * s, out_w * s), 0.0, 1.0)
    fine = normalise_thickness(fine / max(float(fine.max()), 1e-6), unit=s)
    field = _paste_centred(fine, FIELD * s, unit=s)
    return cast("np.ndarray", np.clip(field.reshape(FIELD, s, FIELD, s).mean(axis=(1, 3)), 0.0, 1.0)[None])
