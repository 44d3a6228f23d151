"""SymbolSprites: scatter markers drawn many at a time with one QPainter call.

A marker style (symbol, size, pen, brush) is rendered once by pyqtgraph's own ``renderSymbol``
— the pixels a ScatterPlotItem blits from its atlas — into one sprite sheet; a paint then
places any number of markers (each with its style, centred on its point) in ONE
``drawPixmapFragments`` call: the trajectory's 60 fading dots and the cursor, the corpus
cloud's thousands of points, the fixed points' stars and crosses. ``place`` puts a frame's
markers into a kept ``Fragments`` buffer that every paint of the frame blits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shiboken6
from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol, renderSymbol
from PySide6 import QtCore, QtGui

from explorer.ui.sequence.glyphs import Fragments, on_screen

Style = tuple[str, float, QtGui.QPen, QtGui.QBrush]      # symbol, size (px), pen, brush


class SymbolSprites:
    """``draw(p, xs, ys, styles)``: marker styles[i] (an index into the styles given) at (xs[i], ys[i])."""

    def __init__(self, styles: Sequence[Style]) -> None:
        self.styles = list(styles)
        self._sheet: tuple[float, QtGui.QPixmap, np.ndarray] | None = None   # dpr, pixmap, (k, 4) source rects
        self._frags = np.zeros((0, 10))
        self._ptr: Any = None
        self._placed_styles: dict[int, object] = {}      # per buffer placed into: the styles it holds

    def _symbols(self, dpr: float) -> tuple[QtGui.QPixmap, np.ndarray]:
        """Every style's symbol in one row of a sprite sheet."""
        if self._sheet is None or self._sheet[0] != dpr:
            images = [renderSymbol(*style, dpr=dpr) for style in self.styles]
            sheet = QtGui.QImage(sum(i.width() for i in images), max(i.height() for i in images),
                                 QtGui.QImage.Format.Format_ARGB32_Premultiplied)
            sheet.fill(QtCore.Qt.GlobalColor.transparent)
            p = QtGui.QPainter(sheet)
            p.setCompositionMode(QtGui.QPainter.CompositionMode.CompositionMode_Source)
            rects, left = [], 0
            for img in images:
                img.setDevicePixelRatio(1.0)
                p.drawImage(left, 0, img)
                rects.append((left, 0, img.width(), img.height()))
                left += img.width()
            p.end()
            self._sheet = (dpr, QtGui.QPixmap.fromImage(sheet), np.array(rects, float))
        return self._sheet[1], self._sheet[2]

    def place(self, xs: np.ndarray, ys: np.ndarray, styles: np.ndarray | int, dpr: float = 1.0,
              out: Fragments | None = None) -> Fragments:
        """The markers centred on (xs, ys) (pixels of a device with ``dpr``), in order, placed
        into ``out`` (a new buffer by default) that the caller keeps and blits (``Fragments.blit``)
        on every paint of the frame."""
        out = Fragments() if out is None else out
        sheet, rects = self._symbols(dpr)
        same = out.pixmap is sheet and out.n == len(xs) and self._placed_styles.get(id(out)) is styles
        f = out.reserve(len(xs))
        f[:, 0] = xs
        f[:, 1] = ys
        if not same:                                     # the same styles again (a trail of the same
            f[:, 2:6] = rects[styles]                    # length): only the positions move
            f[:, 6:8] = 1.0 / dpr
            f[:, 8] = 0.0
            f[:, 9] = 1.0
            self._placed_styles[id(out)] = styles
        out.pixmap = sheet
        return out

    def draw(self, p: QtGui.QPainter, xs: np.ndarray, ys: np.ndarray, styles: np.ndarray | int) -> None:
        """Markers centred on (xs, ys) in the painter's pixels, in order (the last on top)."""
        n = len(xs)
        if not n:
            return
        device = p.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        sheet, rects = self._symbols(dpr)
        if len(self._frags) < n:
            self._frags = np.zeros((max(n, 2 * len(self._frags), 16), 10))
            self._frags[:, 9] = 1.0
            self._ptr = shiboken6.wrapInstance(self._frags.ctypes.data, QtGui.QPainter.PixmapFragment)
        f = self._frags[:n]
        f[:, 0] = xs
        f[:, 1] = ys
        f[:, 2:6] = rects[styles]
        f[:, 6:8] = 1.0 / dpr
        # PySide takes a pointer to the first of n fragments (as pyqtgraph's ScatterPlotItem draws)
        if not on_screen(p):                             # SVG, PDF: each marker as its vector symbol
            which = np.broadcast_to(np.asarray(styles), (n,)).tolist()
            for cx, cy, k in zip(f[:, 0].tolist(), f[:, 1].tolist(), which, strict=True):
                p.save()
                p.translate(cx, cy)
                drawSymbol(p, *self.styles[k])
                p.restore()
            return
        p.drawPixmapFragments(self._ptr, n, sheet)
