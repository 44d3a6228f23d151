"""Small drawing helpers for the panels redrawn on every key (memory, unrolled, attention).

``SlotTicks``: bottom-axis labels that change on every key, as ``LiveTicks`` draws them (one
glyph run), but each label's glyphs placed at its tick's pixel x are kept: a key that shifts
the characters under the memory axis looks every (x, label) pair up instead of laying each
label's glyphs out again (building a QPointF per glyph was most of a paint).

``RectBuffer``: n QRectF records in one reused numpy array, drawn by one ``drawRects`` call
without a Python QRectF per rectangle.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import shiboken6
from PySide6 import QtCore, QtGui

from explorer.ui.sequence.painted_image import LiveTicks
from explorer.ui.widgets.painted_plot import PaintedPlot


class SlotTicks(LiveTicks):
    """LiveTicks whose glyph run is assembled from kept (x, label) pieces: the same picture."""

    LIMIT = 8192            # kept pieces; a new size or range makes new ones (then the old are dropped)

    def __init__(self, plot: PaintedPlot) -> None:
        super().__init__(plot)
        # (x, label) -> (glyph indexes, their positions) or None for a label drawn as text
        self._pieces: dict[tuple[float, str], tuple[list[int], list[QtCore.QPointF]] | None] = {}

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

    def _run(self, xs: list[float], y: float) -> tuple[QtGui.QGlyphRun, list[tuple[QtCore.QPointF, str]]]:
        indexes: list[int] = []
        at: list[QtCore.QPointF] = []
        others: list[tuple[QtCore.QPointF, str]] = []
        pieces = self._pieces
        if len(pieces) > self.LIMIT:
            pieces.clear()
        missing = object()
        for (_, s), x in zip(self.ticks, xs, strict=True):
            if x != x:                                      # (NaN: outside the plot)
                continue
            hit = pieces.get((x, s), missing)
            if hit is missing:
                hit = pieces[(x, s)] = self._piece(x, s)
            if hit is None:
                others.append((QtCore.QPointF(x, y), s))
                continue
            piece = cast(tuple[list[int], list[QtCore.QPointF]], hit)
            indexes += piece[0]
            at += piece[1]
        run = QtGui.QGlyphRun()
        if indexes and self._raw is not None:
            run.setRawFont(self._raw[1])
            run.setGlyphIndexes(indexes)
            run.setPositions(at)
        return run, others


class RectBuffer:
    """Rectangles (x, y, w, h as float64 rows) handed to QPainter.drawRects as one pointer."""

    def __init__(self, n: int = 64) -> None:
        self._memory = np.zeros((n, 4))
        self._first = cast(QtCore.QRectF, shiboken6.wrapInstance(int(self._memory.ctypes.data), QtCore.QRectF))

    def rows(self, n: int) -> np.ndarray:
        """The first n records to fill (their contents are whatever was there before)."""
        if len(self._memory) < n:
            self._memory = np.zeros((max(n, 2 * len(self._memory)), 4))
            self._first = cast(QtCore.QRectF, shiboken6.wrapInstance(int(self._memory.ctypes.data), QtCore.QRectF))
        return self._memory[:n]

    def draw(self, p: QtGui.QPainter, n: int) -> None:
        """Draw the first n records with the painter's pen and brush."""
        if n:
            p.drawRects(self._first, n)        # Qt reads n records from there
