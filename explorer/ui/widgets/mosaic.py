"""MosaicPanel: C maps of one layer tiled into ONE image item, titled, clickable.

One image per layer (not one per map) keeps a frame to a single pixmap upload per panel.
The tiles are separated by a 1-cell gap and outlined by one static path item.

Colour is applied here, in numpy, through the colour map's 256-entry table packed as 32-bit
0xffRRGGBB pixels, and a QGraphicsPixmapItem shows the RGB32 image. Measured on the project
machine (offscreen raster painter), a float image + LUT becomes an Indexed8 QImage whose
scaled blit costs ~0.28 ms per panel, an RGBX8888 image ~0.09 ms, an RGB32 one ~0.035 ms;
the pixmap item also paints without calling Python.
Overlays (made once): a per-cell mask image (e.g. which inputs won the max-pool) and a
selection rectangle (the clicked cell, or a receptive field).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.colors import LEVELS, diverging
from explorer.ui.widgets.style import MUTED

GAP = (226, 227, 232, 255)        # between tiles
MASK = (0, 0, 0, 120)             # darkening of masked cells


def tile_layout(n: int, cols: int, h: int, w: int, gap: int = 1) -> tuple[int, int]:
    """n tiles of (h, w) in ``cols`` columns -> mosaic (height, width) with gaps."""
    rows = -(-n // cols)
    return rows * (h + gap) - gap, cols * (w + gap) - gap


def _argb(rgb: np.ndarray) -> np.ndarray:
    """(k, 3) 0..255 -> (k,) uint32 0xffRRGGBB (QImage.Format_RGB32)."""
    c = np.asarray(rgb, np.uint32)
    return np.asarray(0xFF000000 | (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2], np.uint32)


class MosaicView(pg.GraphicsLayoutWidget):
    """The graphics part: tiles maps (C, H, W) into one float32 image with fixed levels."""

    cell_clicked = QtCore.Signal(int, int, int)          # channel, row, col

    def __init__(self, n: int, h: int, w: int, cols: int, cmap: pg.ColorMap | None = None,
                 levels: tuple[float, float] = LEVELS, gap: int = 1,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.n, self.h, self.w, self.cols, self.gap = n, h, w, max(1, min(cols, n)), gap
        self.levels = levels
        self.ci.setContentsMargins(1, 1, 1, 1)
        self.setBackground(None)
        # no cached background: its blit (a large image draw, split over Qt's GUI threads) cost more than
        # filling the background, and waited on other threads whenever the machine was busy
        self.setCacheMode(QtWidgets.QGraphicsView.CacheModeFlag.CacheNone)
        H, W = tile_layout(n, self.cols, h, w, gap)
        self._size = (W, H)
        lut = (cmap or diverging()).getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint32)
        self._lut = _argb(lut)                                  # (256,) 0xffRRGGBB
        self.values = np.zeros((n, h, w), np.float32)          # last maps shown (scaled)
        # one 32-bit pixel per cell, whole tile rows of (h + gap) x (w + gap): every tile is one
        # strided view of the buffer, so a frame colours all maps in one numpy assignment
        rows = -(-n // self.cols)
        self._buf = np.full((rows * (h + gap), self.cols * (w + gap)), _argb(np.array([GAP[:3]]))[0], np.uint32)
        self._tiles = self._buf.reshape(rows, h + gap, self.cols, w + gap)[:, :h, :, :w]
        self._mask = np.zeros((H, W, 4), np.uint8)
        self.box = self.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
        self.box.setMenuEnabled(False)
        # a pixmap item paints in C++ (no Python paint/boundingRect per frame) and an RGB32
        # image is the raster engine's fast scaled blit (an RGBX8888 image cost ~2.5x more)
        self.image = QtWidgets.QGraphicsPixmapItem()
        self.image.setTransformationMode(QtCore.Qt.TransformationMode.FastTransformation)
        self._upload()
        self.box.addItem(self.image)
        self.overlay = pg.ImageItem(self._mask, axisOrder="row-major", autoLevels=False, levels=None)
        self.overlay.setVisible(False)
        self.box.addItem(self.overlay)
        self.box.addItem(self._frames())
        pen = pg.mkPen((255, 170, 0), width=2.5, cosmetic=True)
        self.selection = QtWidgets.QGraphicsRectItem()
        self.selection.setPen(pen)
        self.selection.setVisible(False)
        self.selection.setZValue(10)
        self.box.addItem(self.selection)
        self.box.setRange(QtCore.QRectF(0, 0, W, H), padding=0.02)
        self.box.disableAutoRange()
        self.crossed_marks: QtWidgets.QGraphicsPathItem | None = None    # mark_tiles' items (first call)
        self.outlined_marks: QtWidgets.QGraphicsPathItem | None = None
        self.scene().sigMouseClicked.connect(self._on_click)

    def _origin(self, c: int) -> tuple[int, int]:
        r, k = divmod(c, self.cols)
        return r * (self.h + self.gap), k * (self.w + self.gap)

    def mark_tiles(self, crossed: Iterable[int], outlined: Iterable[int],
                   cross_pen: QtGui.QPen, outline_pen: QtGui.QPen) -> None:
        """Cross out the tiles ``crossed`` and outline the tiles ``outlined`` (tiles out of range
        are skipped); the two path items are made on the first call, with these pens."""
        if self.crossed_marks is None or self.outlined_marks is None:
            self.crossed_marks = QtWidgets.QGraphicsPathItem()
            self.crossed_marks.setZValue(20)
            self.box.addItem(self.crossed_marks)
            self.outlined_marks = QtWidgets.QGraphicsPathItem()
            self.outlined_marks.setZValue(20)
            self.outlined_marks.setPen(outline_pen)
            self.box.addItem(self.outlined_marks)
            self.crossed_marks.setPen(cross_pen)
        off, other = QtGui.QPainterPath(), QtGui.QPainterPath()
        for c in crossed:
            if 0 <= c < self.n:
                y, x = self._origin(c)
                off.addRect(QtCore.QRectF(x, y, self.w, self.h))
                off.moveTo(x, y)
                off.lineTo(x + self.w, y + self.h)
                off.moveTo(x + self.w, y)
                off.lineTo(x, y + self.h)
        for c in outlined:
            if 0 <= c < self.n:
                y, x = self._origin(c)
                other.addRect(QtCore.QRectF(x, y, self.w, self.h))
        self.crossed_marks.setPath(off)
        self.outlined_marks.setPath(other)

    def _frames(self) -> QtWidgets.QGraphicsPathItem:
        path = QtGui.QPainterPath()
        for c in range(self.n):
            y, x = self._origin(c)
            path.addRect(QtCore.QRectF(x, y, self.w, self.h))
        item = QtWidgets.QGraphicsPathItem(path)
        item.setPen(pg.mkPen((120, 120, 120), width=1, cosmetic=True))
        item.setZValue(5)
        return item

    def show_maps(self, maps: np.ndarray) -> None:
        """maps: (C, H, W) already scaled to ``levels`` -> colour table -> one setImage."""
        lo, hi = self.levels
        self.values = np.ascontiguousarray(maps, np.float32)
        idx = np.clip((self.values - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.uint8)
        px = self._lut[idx]                                       # (C, H, W) 0xffRRGGBB
        full, rest = divmod(self.n, self.cols)
        if full:
            self._tiles[:full] = px[: full * self.cols].reshape(full, self.cols, self.h, self.w).transpose(0, 2, 1, 3)
        if rest:
            self._tiles[full, :, :rest] = px[full * self.cols:].transpose(1, 0, 2)
        self._upload()

    def _upload(self) -> None:
        W, H = self._size
        img = QtGui.QImage(self._buf.data, W, H, self._buf.strides[0], QtGui.QImage.Format.Format_RGB32)
        self.image.setPixmap(QtGui.QPixmap.fromImage(img))      # a copy: the buffer is reused

    def show_mask(self, mask: np.ndarray | None) -> None:
        """mask: (C, H, W) bool -> darken those cells (None hides the overlay)."""
        if mask is None:
            self.overlay.setVisible(False)
            return
        for c in range(self.n):
            y, x = self._origin(c)
            self._mask[y:y + self.h, x:x + self.w] = np.where(mask[c][..., None], MASK, 0)
        self.overlay.setImage(self._mask, autoLevels=False)
        self.overlay.setVisible(True)

    def select(self, channel: int, r0: int, c0: int, r1: int | None = None, c1: int | None = None) -> None:
        """Outline cells r0..r1 × c0..c1 (inclusive) of tile ``channel``; channel < 0 hides."""
        if channel < 0:
            self.selection.setVisible(False)
            return
        r1 = r0 if r1 is None else r1
        c1 = c0 if c1 is None else c1
        y, x = self._origin(channel)
        self.selection.setRect(QtCore.QRectF(x + c0, y + r0, c1 - c0 + 1, r1 - r0 + 1))
        self.selection.setVisible(True)

    def cell_at(self, x: float, y: float) -> tuple[int, int, int] | None:
        """Mosaic coordinates -> (channel, row, col), None in a gap or outside."""
        if x < 0 or y < 0:
            return None
        tr, ir = divmod(int(y), self.h + self.gap)
        tc, ic = divmod(int(x), self.w + self.gap)
        c = tr * self.cols + tc
        if ir >= self.h or ic >= self.w or tc >= self.cols or c >= self.n:
            return None
        return c, ir, ic

    def _on_click(self, ev: MouseClickEvent) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        pos = self.box.mapSceneToView(ev.scenePos())
        hit = self.cell_at(pos.x(), pos.y())
        if hit is not None:
            self.cell_clicked.emit(*hit)

    def scene_pos_of(self, channel: int, row: int, col: int) -> QtCore.QPointF:
        """Centre of a cell in scene coordinates (tests click there)."""
        y, x = self._origin(channel)
        return self.box.mapViewToScene(QtCore.QPointF(x + col + 0.5, y + row + 0.5))


class MosaicPanel(QtWidgets.QFrame):
    """Title ('conv1 · 8 × 28×28'), scale note and a MosaicView; tooltip says how to read it."""

    def __init__(self, title: str, tooltip: str, n: int, h: int, w: int, cols: int,
                 cmap: pg.ColorMap | None = None, levels: tuple[float, float] = LEVELS,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.title = QtWidgets.QLabel(f"<b>{title}</b>")
        self.note = QtWidgets.QLabel("")
        self.note.setStyleSheet(f"color: {MUTED};")
        # the title may shrink (it is elided by the layout); the scale note keeps its full width
        self.title.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.note.setSizePolicy(QtWidgets.QSizePolicy.Policy.Minimum, QtWidgets.QSizePolicy.Policy.Preferred)
        self.note.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        self.view = MosaicView(n, h, w, cols, cmap, levels)
        self.setToolTip(tooltip)
        head = QtWidgets.QHBoxLayout()
        head.setContentsMargins(4, 0, 4, 0)
        head.addWidget(self.title, 1)
        head.addWidget(self.note, 0)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(0)
        lay.addLayout(head)
        lay.addWidget(self.view, 1)
        H, W = tile_layout(n, self.view.cols, h, w)
        self.aspect = W / H

    def set_note(self, text: str) -> None:
        if self.note.text() != text:
            self.note.setText(text)
