"""Small drawing helpers for the panels redrawn on every key (memory, unrolled, attention).

``SlotTicks``: bottom-axis labels that change on every key, as ``LiveTicks`` draws them (one
glyph run), but the glyph positions are kept: a one-glyph label (a character under the memory
axis) is placed by its tick's x and its advance alone, the same for every character of a
fixed-width font, so a key that shifts the characters reuses every position instead of making
a QPointF per glyph (that was most of a paint); longer labels are kept per (x, label).

``RectBuffer`` / ``LineBuffer``: n QRectF / QLineF records in one reused numpy array, drawn by
one ``drawRects`` / ``drawLines`` call without a Python object per record.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import shiboken6
from PySide6 import QtCore, QtGui

from explorer.ui.sequence.painted_image import LiveTicks
from explorer.ui.widgets.painted_plot import TICK, PaintedPlot


class SlotTicks(LiveTicks):
    """LiveTicks whose glyph run is assembled from kept glyphs and positions, its marks kept in
    one array (and in the layer under the data once they hold): the same picture."""

    LIMIT = 8192            # kept pieces; a new size or range makes new ones (then the old are dropped)
    HOLD = 4                # paints with the same marks before they are drawn into the layer

    def __init__(self, plot: PaintedPlot) -> None:
        super().__init__(plot)
        # (x, label) -> (glyph indexes, their positions) or None for a label drawn as text
        self._pieces: dict[tuple[float, str], tuple[list[int], list[QtCore.QPointF]] | None] = {}
        self._singles: dict[tuple[float, float], QtCore.QPointF] = {}    # (x, advance) -> a one-glyph label's place
        self._chars: dict[str, tuple[int, float]] = {}                   # character -> (glyph, advance); 0: none
        self._placed: tuple[tuple, list[float], int] | None = None   # (geometry, x, how many marks)
        self._marks = LineBuffer(64)
        # runs of one glyph per label with their positions set, per (placement, advances): a key
        # that only changes which characters the ticks name sets the glyphs alone
        self._slot_runs: dict[tuple, QtGui.QGlyphRun] = {}
        self._labels: tuple[list[tuple[float, str]], QtGui.QGlyphRun, list[tuple[QtCore.QPointF, str]]] | None = None
        self._marked: tuple[QtGui.QPixmap, tuple, QtGui.QPixmap] | None = None       # (layer, geometry, with marks)
        self._last_marks: tuple | None = None     # the marks' geometry at the last paint,
        self._held = 0                            # and for how many paints it has held

    def _place(self) -> tuple[tuple, list[float], int]:
        """The ticks' pixel x (NaN outside the plot) and how many marks ``_marks`` holds, kept
        while the plot's area, range and the ticks' values hold (a transformer's growing window
        moves them every few keys: worked out with numpy, no QLineF per mark)."""
        plot = self.plot
        values = self.values                     # (kept by set while they hold: one identity check)
        geometry = (plot.data_rect().getRect(), plot.x_range(), values)
        if self._placed is None or self._placed[0] != geometry:
            r = plot.data_rect()
            at = plot.px_x(np.array(values, float))
            inside = (r.left() - 0.5 <= at) & (at <= r.right() + 0.5)
            xs = np.where(inside, at, np.nan).tolist()
            n = int(inside.sum())
            lines = self._marks.rows(n)
            lines[:, 0] = lines[:, 2] = at[inside]
            lines[:, 1] = r.bottom()
            lines[:, 3] = r.bottom() + TICK
            self._placed = (geometry, xs, n)
            self._labels = None
        return self._placed

    def with_marks(self, layer: QtGui.QPixmap) -> tuple[QtGui.QPixmap, bool]:
        """``layer`` (what lies under the plot's data) with the tick marks drawn in, and True;
        or ``layer`` itself and False until the marks have held for HOLD paints (a transformer's
        growing window moves them every few keys), as PaintedPlot keeps its ticks once they
        hold. The marks lie below the plot area, where no data is drawn, and the x axis line
        drawn over the data covers the row they start on, so drawing them first changes no
        pixel. Pair with ``paint(p, marks=not drawn_in)``."""
        if not self.ticks:
            return layer, True
        geometry, _, n_marks = self._place()
        if self._marked is not None and self._marked[0] is layer and self._marked[1] == geometry:
            return self._marked[2], True
        if geometry != self._last_marks:
            self._last_marks, self._held = geometry, 0
        self._held += 1
        if self._held < self.HOLD:                # (copying the layer costs more than a few paints' marks)
            return layer, False
        pm = layer.copy()
        p = QtGui.QPainter(pm)
        p.setPen(self.plot.muted)
        self._marks.draw(p, n_marks)
        p.end()
        self._marked = (layer, geometry, pm)
        return pm, True

    def paint(self, p: QtGui.QPainter, marks: bool = True) -> None:
        """The marks (unless they are in the layer under the data: ``with_marks``) and labels."""
        if not self.ticks:
            return
        _, xs, n_marks = self._place()
        plot = self.plot
        if marks:
            p.setPen(plot.muted)
            self._marks.draw(p, n_marks)
        p.setPen(plot.fg)
        top = plot.data_rect().bottom() + TICK + 1
        if self._labels is None or self._labels[0] is not self.ticks and self._labels[0] != self.ticks:
            self._labels = (self.ticks, *self._run(xs, top))
        _, run, others = self._labels
        if not run.isEmpty():                            # (not glyphIndexes(): a list made per paint)
            assert self._raw is not None
            p.drawGlyphRun(QtCore.QPointF(0.0, top + self._raw[1].ascent()), run)   # (its own raw font)
        if others:
            font = plot.tick_font
            p.setFont(font)
            for at, s in others:
                st, w, _ = plot.texts.get(s, font)
                p.drawStaticText(QtCore.QPointF(at.x() - w / 2, at.y()), st)

    def glyphs(self, label: str) -> tuple[list[int], list[float], float] | None:
        """As LiveTicks.glyphs (the tick font's glyphs of ``label``, their advances, None for a
        glyph the font lacks), composed from kept per-character glyphs: a label with a new
        number in it (a head's entropy) is no new font look-up."""
        if self._raw is None or self._raw[0] is not self.plot.tick_font:
            self._raw = (self.plot.tick_font, QtGui.QRawFont.fromFont(self.plot.tick_font))
            self._chars.clear()
            self._glyph_cache.clear()
            self._pieces.clear()                          # (placed with the old font's advances)
            self._slot_runs.clear()
            self._labels = None
        hit = self._glyph_cache.get(label)
        if hit is not None or label in self._glyph_cache:
            return hit
        idx: list[int] = []
        adv: list[float] = []
        raw = self._raw[1]
        for c in label:
            g = self._chars.get(c)
            if g is None:
                i = raw.glyphIndexesForString(c)
                g = self._chars[c] = (i[0], raw.advancesForGlyphIndexes(i)[0].x()) if len(i) == 1 and i[0] else (0, 0.0)
            if not g[0]:
                idx = []
                break
            idx.append(g[0])
            adv.append(g[1])
        hit = (idx, adv, sum(adv)) if idx else None
        if len(self._glyph_cache) > 4096:
            self._glyph_cache.clear()
        self._glyph_cache[label] = hit
        return hit

    def _piece(self, x: float, label: str) -> tuple[list[int], list[QtCore.QPointF]] | None:
        g = self.glyphs(label)
        if g is None:
            return None
        idx, adv, width = g
        gx, at = x - width / 2, []
        for a in adv:
            at.append(QtCore.QPointF(gx, 0.0))
            gx += a
        return idx, at

    def _slot_run(self, xs: list[float], y: float) -> tuple[QtGui.QGlyphRun, list[tuple[QtCore.QPointF, str]]] | None:
        """What ``_run`` makes when every tick is inside the plot and its label one known
        character (the memory panel's axis, key after key): the glyphs set on a run whose
        positions are kept, and the labels whose character the font lacks (a newline's sign),
        left to QStaticText as ``_run`` leaves them. None otherwise (then ``_run`` makes it)."""
        placed, raw = self._placed, self._raw
        if placed is None or placed[2] != len(xs) or raw is None or raw[0] is not self.plot.tick_font:
            return None
        chars = self._chars.get
        maybe = [chars(s) for _, s in self.ticks]        # (a longer label is no key: None)
        if None in maybe:
            return None
        found = cast(list[tuple[int, float]], maybe)
        indexes = [g for g, _ in found]
        others: list[tuple[QtCore.QPointF, str]] = []
        if 0 in indexes:                                 # characters the font lacks: drawn as text
            others = [(QtCore.QPointF(x, y), s) for (g, _), x, (_, s) in zip(found, xs, self.ticks, strict=True) if not g]
            indexes = [g for g in indexes if g]
            if not indexes:
                return None
        advances = tuple(a if g else None for g, a in found)
        key = (placed[0], advances)
        run = self._slot_runs.get(key)
        if run is None:                                  # (a new range, or a tick more: every few keys)
            if len(self._slot_runs) >= 64:
                self._slot_runs.clear()
            singles = self._singles                      # one-glyph labels' places, shared with _run:
            if len(singles) > self.LIMIT:                # its tick's x less half its advance
                singles.clear()
            at = []
            for x, a in zip(xs, advances, strict=True):
                if a is not None:
                    point = singles.get((x, a))
                    if point is None:
                        point = singles[(x, a)] = QtCore.QPointF(x - a / 2, 0.0)
                    at.append(point)
            run = self._slot_runs[key] = QtGui.QGlyphRun()
            run.setRawFont(raw[1])
            run.setPositions(at)
        run.setGlyphIndexes(indexes)
        return run, others

    def _run(self, xs: list[float], y: float) -> tuple[QtGui.QGlyphRun, list[tuple[QtCore.QPointF, str]]]:
        kept = self._slot_run(xs, y)
        if kept is not None:
            return kept
        indexes: list[int] = []
        at: list[QtCore.QPointF] = []
        others: list[tuple[QtCore.QPointF, str]] = []
        pieces, singles = self._pieces, self._singles
        if len(pieces) > self.LIMIT or len(singles) > self.LIMIT:
            pieces.clear()
            singles.clear()
        missing = object()
        glyphs = self.glyphs
        if self._raw is None or self._raw[0] is not self.plot.tick_font:
            glyphs("")                                      # (a new tick font: its glyphs looked up again)
        known = self._glyph_cache.get                      # (what glyphs() keeps: looked up without a call)
        for (_, s), x in zip(self.ticks, xs, strict=True):
            if x != x:                                      # (NaN: outside the plot)
                continue
            hit = known(s, missing)
            g = glyphs(s) if hit is missing else cast(tuple[list[int], list[float], float] | None, hit)
            if g is None:
                others.append((QtCore.QPointF(x, y), s))
                continue
            if len(g[0]) == 1:                              # one glyph: placed by its advance alone
                point = singles.get((x, g[2]))              # (one per tick in a fixed-width font)
                if point is None:
                    point = singles[(x, g[2])] = QtCore.QPointF(x - g[2] / 2, 0.0)
                indexes.append(g[0][0])
                at.append(point)
                continue
            hit = pieces.get((x, s), missing)
            if hit is missing:
                hit = pieces[(x, s)] = self._piece(x, s)
            piece = cast(tuple[list[int], list[QtCore.QPointF]], hit)
            indexes += piece[0]
            at += piece[1]
        return self._glyph_run(indexes, at), others


class TitleCache:
    """A title drawn per key over a white band, as pixmaps of the title drawn there: one blit
    instead of laying text out on every paint. Each pixmap is white with the text drawn at the
    title's sub-pixel offset, so the blit gives the pixels drawing the text there would."""

    def __init__(self, limit: int = 256) -> None:
        self._items: dict[tuple, tuple[QtCore.QPoint, QtGui.QPixmap]] = {}
        self._limit = limit

    def draw(self, p: QtGui.QPainter, plot: PaintedPlot, x: float, y: float, text: str, font: QtGui.QFont) -> None:
        """``text`` centred on x, its top at y (as ``plot.texts.draw`` with AlignHCenter | AlignTop)."""
        dpr = plot.devicePixelRatioF()
        key = (text, x, y, dpr, plot.texts.font_number(font), plot.fg.rgba())
        hit = self._items.get(key)
        if hit is None:
            st, w, h = plot.texts.get(text, font)
            left, top = x - w / 2, y
            corner = QtCore.QPoint(int(np.floor(left)) - 1, int(np.floor(top)) - 1)
            pm = QtGui.QPixmap(int(np.ceil((w + 3) * dpr)), int(np.ceil((h + 3) * dpr)))
            pm.setDevicePixelRatio(dpr)
            pm.fill(QtGui.QColor("white"))
            q = QtGui.QPainter(pm)
            q.setFont(font)
            q.setPen(plot.fg)
            q.drawStaticText(QtCore.QPointF(left - corner.x(), top - corner.y()), st)
            q.end()
            if len(self._items) >= self._limit:
                self._items.clear()
            hit = self._items[key] = (corner, pm)
        p.drawPixmap(hit[0], hit[1])


class RectBuffer:
    """Rectangles (x, y, w, h as float64 rows) handed to QPainter.drawRects as one pointer."""

    KIND: type = QtCore.QRectF

    def __init__(self, n: int = 64) -> None:
        self._memory = np.zeros((n, 4))
        self._first = shiboken6.wrapInstance(int(self._memory.ctypes.data), self.KIND)

    def rows(self, n: int) -> np.ndarray:
        """The first n records to fill (their contents are whatever was there before)."""
        if len(self._memory) < n:
            self._memory = np.zeros((max(n, 2 * len(self._memory)), 4))
            self._first = shiboken6.wrapInstance(int(self._memory.ctypes.data), self.KIND)
        return self._memory[:n]

    def draw(self, p: QtGui.QPainter, n: int) -> None:
        """Draw the first n records with the painter's pen and brush."""
        if n:
            p.drawRects(cast(QtCore.QRectF, self._first), n)        # Qt reads n records from there


class LineBuffer(RectBuffer):
    """Lines (x1, y1, x2, y2 as float64 rows) handed to QPainter.drawLines as one pointer."""

    KIND = QtCore.QLineF

    def draw(self, p: QtGui.QPainter, n: int) -> None:
        if n:
            p.drawLines(cast(QtCore.QLineF, self._first), n)
