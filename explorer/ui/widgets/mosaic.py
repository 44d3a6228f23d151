"""MosaicPanel: C maps of one layer tiled into ONE ImageItem, titled, clickable.

One ImageItem per layer (not one per map) keeps a frame to a single ``setImage`` per
panel. The tiles are separated by a 1-cell gap and outlined by one static path item.

Colour is applied here, in numpy, through the colour map's 256-entry uint8 table, and the
ImageItem gets a ready uint8 RGBX image (no levels, no LUT: pyqtgraph passes it straight
to a QImage, no makeARGB). Measured on the project machine (offscreen raster painter), a
float image + LUT becomes an Indexed8 QImage whose scaled blit costs ~0.28 ms per panel
versus ~0.04-0.09 ms for a 32-bit image: with 8 panels per frame that is most of the
16 ms budget.
Overlays (made once): a per-cell mask image (e.g. which inputs won the max-pool) and a
selection rectangle (the clicked cell, or a receptive field).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.colors import LEVELS, diverging
from explorer.ui.widgets.style import MUTED

GAP = (226, 227, 232, 255)        # between tiles
MASK = (0, 0, 0, 120)             # darkening of masked cells


def tile_layout(n: int, cols: int, h: int, w: int, gap: int = 1) -> tuple[int, int]:
    """n tiles of (h, w) in ``cols`` columns -> mosaic (height, width) with gaps."""
    rows = -(-n // cols)
    return rows * (h + gap) - gap, cols * (w + gap) - gap


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
        H, W = tile_layout(n, self.cols, h, w, gap)
        self._lut = (cmap or diverging()).getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint8)
        self.values = np.zeros((n, h, w), np.float32)          # last maps shown (scaled)
        self._rgb = np.empty((H, W, 4), np.uint8)
        self._rgb[...] = GAP
        self._mask = np.zeros((H, W, 4), np.uint8)
        self.box = self.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
        self.box.setMenuEnabled(False)
        self.image = pg.ImageItem(self._rgb, axisOrder="row-major", autoLevels=False, levels=None)
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
        self.scene().sigMouseClicked.connect(self._on_click)

    def _origin(self, c: int) -> tuple[int, int]:
        r, k = divmod(c, self.cols)
        return r * (self.h + self.gap), k * (self.w + self.gap)

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
        rgb = self._lut[idx]                                      # (C, H, W, 3)
        for c in range(self.n):
            y, x = self._origin(c)
            self._rgb[y:y + self.h, x:x + self.w, :3] = rgb[c]
        self.image.setImage(self._rgb, autoLevels=False)

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

    def _on_click(self, ev: object) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            return
        pos = self.box.mapSceneToView(ev.scenePos())  # type: ignore[attr-defined]
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
