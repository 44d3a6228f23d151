"""TrailItem: the trajectory's dots, cursor and character labels drawn as ONE graphics item.

As separate pyqtgraph items (a 60-spot ScatterPlotItem, a one-spot ScatterPlotItem for the
cursor, 24 TextItems) a key moved and repainted 26 items; here a key sets arrays and the
item draws them in one paint(): the dots and the cursor as pixmap fragments of symbols
rendered by pyqtgraph's own renderSymbol (the pixels ScatterPlotItem blits from its atlas,
placed as it places them), then each label as a cached pixmap of the text a pg.TextItem
shows (its QGraphicsTextItem: same font, colour and margins), anchored like pg.TextItem.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import renderSymbol
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6 import QtCore, QtGui, QtWidgets

Label = tuple[float, float, str, float]        # x, y, text, opacity


class TrailItem(pg.GraphicsObject):
    """set_trail(x, y, labels): dots at (x, y) (the k-th newest with brushes[-k]), the cursor
    dot on the last one, and labels (x, y, text, opacity) drawn in order above them."""

    def __init__(self, dot_size: float, brushes: list[QtGui.QBrush], cursor_size: float,
                 cursor_pen: QtGui.QPen, cursor_brush: QtGui.QBrush, font: QtGui.QFont,
                 colour: tuple[int, int, int], anchor: tuple[float, float]) -> None:
        super().__init__()
        self._styles = [("o", dot_size, pg.mkPen(None), b) for b in brushes]
        self._styles.append(("o", cursor_size, cursor_pen, cursor_brush))
        self.font, self.colour, self.anchor = font, QtGui.QColor(*colour), anchor
        self.x, self.y = np.zeros(0), np.zeros(0)
        self.labels: list[Label] = []
        self._atlas: tuple[float, QtGui.QPixmap, np.ndarray] | None = None   # dpr, pixmap, (n, 4) rects
        self._fragments = PrimitiveArray(QtGui.QPainter.PixmapFragment, 10)
        self._texts: dict[tuple[str, float], QtGui.QPixmap] = {}
        self._bounds: QtCore.QRectF | None = None

    def set_trail(self, x: np.ndarray, y: np.ndarray, labels: list[Label]) -> None:
        if labels == self.labels and np.array_equal(x, self.x) and np.array_equal(y, self.y):
            return
        self.prepareGeometryChange()
        self.x, self.y, self.labels, self._bounds = np.asarray(x, float), np.asarray(y, float), labels, None
        self.update()

    # -- cached pixmaps ----------------------------------------------------------------------
    def _symbols(self, dpr: float) -> tuple[QtGui.QPixmap, np.ndarray]:
        """Every style's symbol (renderSymbol, as ScatterPlotItem's atlas holds it) in one row."""
        if self._atlas is None or self._atlas[0] != dpr:
            images = [renderSymbol(*style, dpr=dpr) for style in self._styles]
            atlas = QtGui.QImage(sum(i.width() for i in images), max(i.height() for i in images),
                                 QtGui.QImage.Format.Format_ARGB32_Premultiplied)
            atlas.fill(QtCore.Qt.GlobalColor.transparent)
            p = QtGui.QPainter(atlas)
            p.setCompositionMode(QtGui.QPainter.CompositionMode.CompositionMode_Source)
            rects, left = [], 0
            for img in images:
                img.setDevicePixelRatio(1.0)
                p.drawImage(left, 0, img)
                rects.append((left, 0, img.width(), img.height()))
                left += img.width()
            p.end()
            self._atlas = (dpr, QtGui.QPixmap.fromImage(atlas), np.array(rects, float))
        return self._atlas[1], self._atlas[2]

    def text_pixmap(self, text: str, dpr: float = 1.0) -> QtGui.QPixmap:
        pm = self._texts.get((text, dpr))
        if pm is None:
            item = QtWidgets.QGraphicsTextItem()
            item.setFont(self.font)
            item.setDefaultTextColor(self.colour)
            item.setPlainText(text)
            r = item.boundingRect()
            pm = QtGui.QPixmap(int(np.ceil(r.width() * dpr)), int(np.ceil(r.height() * dpr)))
            pm.setDevicePixelRatio(dpr)
            pm.fill(QtCore.Qt.GlobalColor.transparent)
            p = QtGui.QPainter(pm)
            p.translate(-r.topLeft())
            item.paint(p, QtWidgets.QStyleOptionGraphicsItem(), None)  # type: ignore[arg-type]  # Qt takes no widget; the stub wants one
            p.end()
            if len(self._texts) > 512:
                self._texts.clear()
            self._texts[(text, dpr)] = pm
        return pm

    # -- QGraphicsItem -----------------------------------------------------------------------
    def viewTransformChanged(self) -> None:  # noqa: N802 (pyqtgraph)
        self.prepareGeometryChange()
        self._bounds = None

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt)
        if self._bounds is None:
            if not len(self.x):
                self._bounds = QtCore.QRectF()
            else:
                px, py = self.pixelVectors()
                pad_x = 60 * max(abs(px.x()), abs(py.x())) if px is not None else 0.0   # labels reach
                pad_y = 40 * max(abs(px.y()), abs(py.y())) if px is not None else 0.0   # ~60 x 40 px
                lo_x, hi_x, lo_y, hi_y = self.x.min(), self.x.max(), self.y.min(), self.y.max()
                self._bounds = QtCore.QRectF(lo_x - pad_x, lo_y - pad_y, hi_x - lo_x + 2 * pad_x,
                                             hi_y - lo_y + 2 * pad_y)
        return self._bounds

    def paint(self, p: QtGui.QPainter, *args: object) -> None:
        n = len(self.x)
        if not n:
            return
        device = p.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        atlas, rects = self._symbols(dpr)
        tr = p.transform()
        pts = pg.functions.transformCoordinates(tr, np.vstack([self.x, self.y]))
        pts = pg.functions.clip_array(pts, -2 ** 30, 2 ** 30)
        p.resetTransform()
        # as ScatterPlotItem: the k-th newest dot from brush -k, one fragment per dot; then the cursor
        last = len(self._styles) - 1
        styles = np.append(np.arange(last - n, last), last)
        self._fragments.resize(n + 1)
        frags = self._fragments.ndarray()
        frags[:n, 0:2] = pts.T
        frags[n, 0:2] = pts[:, -1]
        frags[:, 2:6] = rects[styles]
        frags[:, 6:10] = [1 / dpr, 1 / dpr, 0.0, 1.0]
        p.drawPixmapFragments(*self._fragments.drawargs(), atlas)  # type: ignore[call-arg]  # pyqtgraph's (pointer, count) pair: the stub takes a list
        ax, ay = self.anchor                     # labels: at their points, anchored like pg.TextItem
        for x, y, text, opacity in self.labels:
            pm = self.text_pixmap(text, dpr)
            w, h = pm.width() / dpr, pm.height() / dpr
            at = tr.map(QtCore.QPointF(x, y))
            p.setOpacity(opacity)
            p.drawPixmap(QtCore.QPointF(round(at.x() - ax * w), round(at.y() - ay * h)), pm)
