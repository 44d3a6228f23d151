"""PenTrajectoryPanel: the pen RNN's hidden state, pen step by pen step, on a frozen 2-D basis.

Items are built once; ``show(frame)`` feeds them: the grey cloud (the states the basis was
fitted on: set again only when the basis changes), the path so far, the stroke starts and
the current state. The view range follows the cloud, widened only when the path leaves it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.digit.canvas import qpolygon
from explorer.ui.help.pen import PAGES
from explorer.ui.widgets.howto import HowToButton
from explorer.ui.widgets.style import ACCENT, FG, MUTED, RNN, style_plot

if TYPE_CHECKING:
    from explorer.session.pen_reader import PenView

TIP = ("The pen RNN's hidden state after every pen step, on the two principal axes of its states\n"
       "over synthetic digits (grey; fitted once per model, then frozen). Orange: the state now;\n"
       "squares: where a stroke began.")


def panel_header(title: str, help_key: str, *extra: QtWidgets.QWidget, compact: bool = False
                 ) -> tuple[QtWidgets.QHBoxLayout, HowToButton]:
    """A panel's title row: bold title, optional controls, the "How to read this" button."""
    row = QtWidgets.QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    label = QtWidgets.QLabel(f"<b style='color:{FG}'>{title}</b>")
    label.setMinimumWidth(10)
    row.addWidget(label, 1)
    for w in extra:
        row.addWidget(w)
    button = HowToButton(title, PAGES[help_key], compact=compact)
    row.addWidget(button)
    return row, button


class TrailItem(pg.GraphicsObject):
    """The path so far and its head as ONE item: ``set_data(xy (T, 2))`` keeps the array, the
    paint draws one polyline and a fixed-size dot at the last point (a PlotDataItem plus a
    ScatterPlotItem cost ~10x more per pen step in pyqtgraph's bookkeeping)."""

    MARGIN_PX = 4.0    # segments this far from a repainted strip are not drawn (they change none of it)

    def __init__(self, line: str, head: str, radius: float = 6.0) -> None:
        super().__init__()
        self.setFlag(self.GraphicsItemFlag.ItemUsesExtendedStyleOption)      # paint gets the exposed rect
        self.partial = False             # whether the last set_data repainted only around the new steps
        self.pen = pg.mkPen(line, width=1.6)
        self.head_brush = pg.mkBrush(head)
        self.head_pen = pg.mkPen("w", width=1.5)
        self.radius = radius
        self.xy = np.zeros((0, 2), np.float64)
        self._rect = QtCore.QRectF()

    def set_data(self, xy: np.ndarray) -> None:
        old = self.xy
        self.xy = np.asarray(xy, np.float64)
        if len(self.xy):
            lo, hi = self.xy.min(axis=0), self.xy.max(axis=0)
            rect = QtCore.QRectF(float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))
        else:
            rect = QtCore.QRectF()
        n = len(old)
        grew = n > 0 and len(self.xy) > n and np.array_equal(self.xy[:n], old)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
            grew = False
        self.partial = grew
        if not grew:
            self.update()
            return
        # only the new segments and the head (where it was, where it is) change: repaint around them
        new = self.xy[n - 1:]
        dx, dy = self._head_extent()
        x0, y0 = min(new[:, 0].min(), old[-1, 0]), min(new[:, 1].min(), old[-1, 1])
        x1, y1 = max(new[:, 0].max(), old[-1, 0]), max(new[:, 1].max(), old[-1, 1])
        self.update(QtCore.QRectF(x0 - dx, y0 - dy, x1 - x0 + 2 * dx, y1 - y0 + 2 * dy))

    def _head_extent(self) -> tuple[float, float]:
        """The head dot's radius (+2 px) in data units."""
        px = self.pixelVectors()
        dx = abs(px[0].x()) * (self.radius + 2) if px[0] is not None else 0.0
        dy = abs(px[1].y()) * (self.radius + 2) if px[1] is not None else 0.0
        return dx, dy

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt)
        # the head dot is drawn in pixels: widen by its radius in data units
        dx, dy = self._head_extent()
        return self._rect.adjusted(-dx, -dy, dx, dy)

    def paint(self, p: QtGui.QPainter, opt: QtWidgets.QStyleOptionGraphicsItem, *_: object) -> None:
        if not len(self.xy):
            return
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        if len(self.xy) > 1:
            p.setPen(self.pen)
            p.drawPolyline(qpolygon(self.xy[self._first_drawn(p, opt.exposedRect):]))
        head = p.transform().map(QtCore.QPointF(float(self.xy[-1, 0]), float(self.xy[-1, 1])))
        p.resetTransform()
        p.setPen(self.head_pen)
        p.setBrush(self.head_brush)
        p.drawEllipse(head, self.radius, self.radius)

    def _first_drawn(self, p: QtGui.QPainter, exposed: QtCore.QRectF) -> int:
        """The first point of the polyline to draw: segments before it stay MARGIN_PX away from
        the exposed rect, so they change no pixel there (nor does the cap that starts it)."""
        t = p.transform()
        sx, sy = abs(t.m11()), abs(t.m22())
        if exposed.isEmpty() or sx == 0 or sy == 0:
            return 0
        mx, my = self.MARGIN_PX / sx, self.MARGIN_PX / sy
        x, y = self.xy[:, 0], self.xy[:, 1]
        left, right = np.minimum(x[:-1], x[1:]), np.maximum(x[:-1], x[1:])
        top, bottom = np.minimum(y[:-1], y[1:]), np.maximum(y[:-1], y[1:])
        near = ((right >= exposed.left() - mx) & (left <= exposed.right() + mx)
                & (bottom >= exposed.top() - my) & (top <= exposed.bottom() + my))
        hits = np.flatnonzero(near)
        return int(hits[0]) if len(hits) else len(self.xy) - 1


class PenTrajectoryPanel(QtWidgets.QFrame):
    """``show(frame)`` with a PenView (or None: empty)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        head, self.help_button = panel_header("hidden state", "trajectory", compact=True)
        self.plot = pg.PlotWidget(background="w")
        # no cached background: its blit (a large image draw, split over Qt's GUI threads) cost more than
        # filling the background, and waited on other threads whenever the machine was busy
        self.plot.setCacheMode(QtWidgets.QGraphicsView.CacheModeFlag.CacheNone)
        self.plot.setMinimumSize(120, 100)      # readable; a narrower column folds it into a tab
        pi = self.plot.getPlotItem()
        style_plot(pi, "", "axis 1", "axis 2", TIP, legend=False)
        pi.showGrid(x=False, y=False)      # a grid is drawn by the axes: every curve update would repaint them
        pi.setTitle(None)
        self.cloud = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(170, 172, 185, 70))
        # 1,500 static dots under a path that changes with every pen step: paint them once, then blit
        self.cloud.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.starts = pg.ScatterPlotItem(size=8, symbol="s", pen=pg.mkPen(FG), brush=pg.mkBrush(255, 255, 255))
        self.trail = TrailItem(RNN, ACCENT)
        for item in (self.cloud, self.starts, self.trail):
            pi.addItem(item)
        self.empty = pg.TextItem("draw a digit", color=MUTED, anchor=(0.5, 0.5))
        pi.addItem(self.empty)
        self.setToolTip(TIP)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addWidget(self.plot, 1)
        self._cloud_of: object = None
        self._range = (0.0, 0.0, 0.0, 0.0)
        self._labels: tuple[float, float] | None = None
        self._starts_key: object = None

    def show_view(self, frame: PenView | None) -> None:
        if frame is None or frame.steps == 0:
            self.trail.set_data(np.zeros((0, 2)))
            self.starts.setData([], [])
            self._starts_key = None
            self.empty.setText("draw a digit" if frame is None or frame.note is None else frame.note.split(":")[0])
            self.empty.setVisible(True)
            return
        self.empty.setVisible(False)
        if frame.cloud is not self._cloud_of:
            self._cloud_of = frame.cloud
            self.cloud.setData(frame.cloud[:, 0], frame.cloud[:, 1])
            lo, hi = np.percentile(frame.cloud, [1, 99], axis=0) if len(frame.cloud) else (np.zeros(2), np.ones(2))
            self._set_range(float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
            self.empty.setPos(float(lo[0] + hi[0]) / 2, float(lo[1] + hi[1]) / 2)
        ex = (round(float(frame.explained[0]) * 100), round(float(frame.explained[1]) * 100))
        if ex != self._labels:
            self._labels = ex
            pi = self.plot.getPlotItem()
            pi.setLabel("bottom", f"axis 1 ({ex[0]} %)", color=FG)
            pi.setLabel("left", f"axis 2 ({ex[1]} %)", color=FG)
        xy = frame.xy
        self.trail.set_data(xy)
        stroke = frame.reading.stroke
        first = np.flatnonzero(np.diff(stroke, prepend=-1) != 0)
        key = (len(first), float(xy[first[-1], 0]), float(xy[first[-1], 1]))
        if key != self._starts_key:                 # stroke starts change when a stroke begins, not per step
            self._starts_key = key
            self.starts.setData(xy[first, 0], xy[first, 1])
        x0, x1, y0, y1 = self._range
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        if lo[0] < x0 or hi[0] > x1 or lo[1] < y0 or hi[1] > y1:       # widen, never shrink, while drawing
            self._set_range(min(x0, float(lo[0])), max(x1, float(hi[0])), min(y0, float(lo[1])), max(y1, float(hi[1])))

    def _set_range(self, x0: float, x1: float, y0: float, y1: float) -> None:
        self._range = (x0, x1, y0, y1)
        self.plot.getPlotItem().getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.06)


def demo() -> PenTrajectoryPanel:
    """The panel on the demo '7' read by the shipped pen LSTM (or an untrained one)."""
    from explorer.ui.digit.demo import demo_pen_view
    panel = PenTrajectoryPanel()
    panel.show_view(demo_pen_view())
    panel.resize(420, 340)
    return panel


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
