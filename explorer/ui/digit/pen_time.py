"""PenTimePanel: both readers' probabilities over pen time, and when each knew.

Two plots sharing the pen-step axis: the pen RNN's probabilities after every pen step (top)
and the CNN's reading of the drawing as it was at that step (bottom), ten class curves each
(built once, fed per frame), a dashed line at the first step from which each stays right.
"The digit is" picks what right means (``target_changed(int)``, -1: each reader's last answer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
import pyqtgraph.functions as pgf
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.digit.pen_trajectory import panel_header
from explorer.ui.digit.plots import CLASS_COLOURS
from explorer.ui.widgets.probabilities import WrappedRichLabel
from explorer.ui.widgets.style import CNN, FG, MUTED, RNN, style_plot

if TYPE_CHECKING:
    from explorer.session.pen_reader import PenView

TIP = ("Probability of each class over pen time. Top: the pen RNN after every pen step. Bottom:\n"
       "the CNN reading the drawing as it was at that step. Dashed: the first step from which the\n"
       "answer stays right for good ('when did it know?').")


class ClassCurves(pg.GraphicsObject):
    """Ten class curves as ONE item: ``set_data(x (T,), probs (T, 10))``; NaN rows are gaps.

    Ten PlotDataItems cost ten setData calls and ten bounding-rect walks per pen step; this
    item keeps the arrays and draws ten polylines in one paint. A pen step appends one row (and
    the CNN's catching up fills a few older ones): only the strip from the first changed row on
    is repainted, and a paint draws only the points in (and just around) the exposed strip."""

    GROW = 64          # the bounding rect grows in blocks of pen steps (a new rect repaints everything)
    MARGIN_PX = 4.0    # drawn beyond the exposed strip: its caps and joins fall outside the strip

    def __init__(self, colours: list[str], width: float = 1.5) -> None:
        super().__init__()
        self.pens = [pg.mkPen(c, width=width) for c in colours]
        self.x = np.zeros(0, np.float64)
        self.y = np.zeros((0, len(colours)), np.float32)
        self._seen = self.y.copy()          # a copy of what was drawn (``y`` may be a view that changes)
        self._rect = QtCore.QRectF(0, 0, 1, 1)
        self.setFlag(self.GraphicsItemFlag.ItemUsesExtendedStyleOption)      # paint gets the exposed strip
        self.dirty_from: int | None = None      # first row the last set_data repainted from (None: all)

    def set_data(self, x: np.ndarray, probs: np.ndarray) -> None:
        first = self._first_changed(x, probs)
        self.x, self.y = x, probs
        self._seen = np.array(probs, np.float32, copy=True)
        if len(x):
            width = max(float(x[-1] - x[0]), 1.0)
            rect = QtCore.QRectF(float(x[0]), 0.0, float(np.ceil(width / self.GROW) * self.GROW), 1.0)
        else:
            rect = QtCore.QRectF(0.0, 0.0, 1.0, 1.0)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
            first = None
        self.dirty_from = first
        if first is None:
            self.update()
        elif first < len(x):
            a = float(x[max(first - 1, 0)])            # the segment into the first changed point too
            self.update(QtCore.QRectF(a, 0.0, float(x[-1]) - a, 1.0))

    def _first_changed(self, x: np.ndarray, probs: np.ndarray) -> int | None:
        """The first row that differs from what is drawn; None: everything (fewer rows, new x)."""
        n = len(self._seen)
        if len(probs) < n or len(x) < n or not np.array_equal(x[:n], self.x[:n]):
            return None
        old, new = self._seen, np.asarray(probs[:n], np.float32)
        if np.array_equal(old, new, equal_nan=True):
            return n
        same = (old == new) | (np.isnan(old) & np.isnan(new))
        return int(np.flatnonzero(~same.all(axis=1))[0])

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt)
        return self._rect

    def paint(self, p: QtGui.QPainter, opt: QtWidgets.QStyleOptionGraphicsItem, *_: object) -> None:
        if len(self.x) < 1:
            return
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)   # antialiased polylines cost ~10x in software
        lo, hi = 0, len(self.x)
        exposed = opt.exposedRect
        scale = abs(p.transform().m11())
        if not exposed.isEmpty() and scale > 0:
            pad = self.MARGIN_PX / scale
            lo = max(int(np.searchsorted(self.x, exposed.left() - pad)) - 2, 0)
            hi = min(int(np.searchsorted(self.x, exposed.right() + pad)) + 2, len(self.x))
        ok = ~np.isnan(self.y[lo:hi, 0])
        edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))) + lo
        for a, b in zip(edges[::2], edges[1::2]):                  # finite runs only
            if b - a == 1:
                for k, pen in enumerate(self.pens):
                    p.setPen(pen)
                    p.drawPoint(QtCore.QPointF(float(self.x[a]), float(self.y[a, k])))
                continue
            # one polygon per run, its y column refilled per class (drawPolyline copies nothing
            # it keeps): one polygon and one numpy view instead of ten of each
            poly = pgf.create_qpolygonf(b - a)
            xy = pgf.ndarray_from_qpolygonf(poly)
            xy[:, 0] = self.x[a:b]
            for k, pen in enumerate(self.pens):
                p.setPen(pen)
                xy[:, 1] = self.y[a:b, k]
                p.drawPolyline(poly)


def _knew_line(colour: str) -> pg.InfiniteLine:
    return pg.InfiniteLine(angle=90, pen=pg.mkPen(colour, width=2, style=QtCore.Qt.PenStyle.DashLine),
                           label="knew", labelOpts={"position": 0.92, "color": colour, "fill": (255, 255, 255, 200)})


class PenTimePanel(QtWidgets.QFrame):
    """``show_view(frame)``; ``target`` combo: "its last answer" or a digit."""

    target_changed = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.target = QtWidgets.QComboBox()
        self.target.addItem("its last answer", -1)
        for d in range(10):
            self.target.addItem(str(d), d)
        self.target.setToolTip("What 'right' means for 'when did it know?': the digit you meant, or\n"
                               "each reader's own last answer")
        self.target.currentIndexChanged.connect(lambda _: self.target_changed.emit(int(self.target.currentData())))
        self.target.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)   # 'its last answer' whole
        is_label = QtWidgets.QLabel("the digit is")
        is_label.setMinimumWidth(1)
        head, self.help_button = panel_header("over pen time", "time", compact=True)
        target_row = QtWidgets.QHBoxLayout()      # its own row: the panel fits a 240 px column at 1024x640
        target_row.setContentsMargins(0, 0, 0, 0)
        target_row.addWidget(is_label)
        target_row.addWidget(self.target)
        target_row.addStretch(1)
        self.view = pg.GraphicsLayoutWidget()
        # no cached background: its blit (a large image draw, split over Qt's GUI threads) cost more than
        # filling the background, and waited on other threads whenever the machine was busy
        self.view.setCacheMode(QtWidgets.QGraphicsView.CacheModeFlag.CacheNone)
        self.view.setBackground("w")
        self.view.setMinimumSize(90, 225)      # two readable plots; the folded tabs under it take the rest
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, ClassCurves] = {}
        self.knew: dict[str, pg.InfiniteLine] = {}
        for row, (key, title, colour) in enumerate((("pen", "pen RNN (the pen)", RNN),
                                                    ("cnn", "CNN (picture so far)", CNN))):
            pi = self.view.addPlot(row=row, col=0)
            style_plot(pi, "", "pen step" if key == "cnn" else "", "P", TIP, legend=False)
            pi.showGrid(x=False, y=False)      # a grid is drawn by the axes: every curve update would repaint them
            pi.setTitle(f"<span style='color:{colour}'><b>{title}</b></span>", size="9pt")
            pi.setYRange(0, 1.02, padding=0)
            pi.getViewBox().disableAutoRange(pg.ViewBox.YAxis)
            pi.getAxis("left").setTicks([[(0, "0"), (0.5, ".5"), (1, "1")]])
            pi.getAxis("left").setWidth(28)
            self.curves[key] = ClassCurves(CLASS_COLOURS)
            pi.addItem(self.curves[key])
            self.knew[key] = _knew_line(colour)
            pi.addItem(self.knew[key])
            # a curve strip at y = 0 reaches into the bottom axis (the view widens update rects for
            # antialiasing): cached, the axis blits that sliver instead of replaying all its ticks
            for name in ("left", "bottom"):
                pi.getAxis(name).setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.plots[key] = pi
        self.plots["cnn"].setXLink(self.plots["pen"])
        self.legend = QtWidgets.QLabel(" ".join(f"<span style='color:{c}'>■</span>{k}" for k, c in enumerate(CLASS_COLOURS)))
        self.legend.setToolTip("curve colour of each class")
        self.legend.setWordWrap(True)
        self.legend.setMinimumWidth(1)
        self.readout = WrappedRichLabel()       # a new text asks for no new layout
        self.readout.setMinimumWidth(1)
        self.readout.setFixedHeight(2 * self.readout.fontMetrics().lineSpacing() + 8)   # new text: no relayout
        self.setToolTip(TIP)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addLayout(target_row)
        lay.addWidget(self.readout)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.legend)
        self._x = np.zeros(0, np.float64)
        self._shown_len = -1
        self.show_view(None)

    def set_target(self, target: int | None) -> None:
        i = self.target.findData(-1 if target is None else int(target))
        if i >= 0 and i != self.target.currentIndex():
            self.target.setCurrentIndex(i)

    def show_view(self, frame: PenView | None) -> None:
        t = 0 if frame is None else frame.steps
        if t == 0:
            for key in self.curves:
                self.curves[key].set_data(np.zeros(0), np.zeros((0, 10), np.float32))
                self.knew[key].setVisible(False)
            note = None if frame is None else frame.note
            self.readout.setText(f"<span style='color:{MUTED}'>{note or 'draw a digit: both readers follow every pen movement'}</span>")
            self._shown_len = -1
            return
        assert frame is not None
        if len(self._x) < t:
            self._x = np.arange(1, max(t, 2 * len(self._x), 64) + 1, dtype=np.float64)   # pen steps count from 1
        x = self._x[:t]
        for key, probs in (("pen", frame.pen), ("cnn", frame.cnn)):
            self.curves[key].set_data(x, probs)
        span = max(20, -(-t // 20) * 20)                # the axis moves in steps of 20 pen steps, not every step
        if span != self._shown_len:
            self._shown_len = span
            self.plots["pen"].setXRange(1, span, padding=0.02)
        for key, at in (("pen", frame.knew_pen), ("cnn", frame.knew_cnn)):
            line = self.knew[key]
            if line.isVisible() != (at is not None):
                line.setVisible(at is not None)
            if at is not None and line.value() != at + 1:
                line.setValue(at + 1)
        text = self._readout(frame)
        if text != self.readout.text():
            self.readout.setText(text)

    @staticmethod
    def _readout(frame: PenView) -> str:
        def now(probs: np.ndarray, colour: str, name: str) -> str:
            p = probs[-1]
            if np.isnan(p).any():
                return f"<span style='color:{colour}'>{name}: …</span>"
            k = int(np.argmax(p))
            return f"<span style='color:{colour}'>{name} <b style='font-size:13pt'>{k}</b> {100 * p[k]:.0f} %</span>"

        def knew(at: int | None, missing: bool) -> str:
            if missing:
                return "…"
            return "not yet" if at is None else str(at + 1)
        t = frame.steps
        return (f"{now(frame.pen, RNN, 'pen RNN')} &nbsp; {now(frame.cnn, CNN, 'CNN')} &nbsp; "
                f"<span style='color:{FG}'>knew at step: {knew(frame.knew_pen, False)} · "
                f"{knew(frame.knew_cnn, frame.cnn_missing > 0)} (of {t})</span>")


def demo() -> PenTimePanel:
    """The panel on the demo '7' read by the shipped pen LSTM and CNN (or untrained ones)."""
    from explorer.ui.digit.demo import demo_pen_view
    panel = PenTimePanel()
    panel.show_view(demo_pen_view())
    panel.resize(520, 380)
    return panel


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
