"""PenTrajectoryPanel: the pen RNN's hidden state, pen step by pen step, on a frozen 2-D basis.

Items are built once; ``show(frame)`` feeds them: the grey cloud (the states the basis was
fitted on: set again only when the basis changes), the path so far, the stroke starts and
the current state. The view range follows the cloud, widened only when the path leaves it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from explorer.ui.help.pen import PAGES
from explorer.ui.style import ACCENT, FG, MUTED, RNN, style_plot
from explorer.ui.widgets.howto import HowToButton

if TYPE_CHECKING:
    from explorer.session.pen_reader import PenFrame

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


class PenTrajectoryPanel(QtWidgets.QFrame):
    """``show(frame)`` with a PenFrame (or None: empty)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        head, self.help_button = panel_header("hidden state", "trajectory", compact=True)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumSize(160, 120)
        pi = self.plot.getPlotItem()
        style_plot(pi, "", "axis 1", "axis 2", TIP, legend=False)
        pi.setTitle(None)
        self.cloud = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(170, 172, 185, 70))
        self.path = pg.PlotDataItem(pen=pg.mkPen(RNN, width=1.6), skipFiniteCheck=True)
        self.starts = pg.ScatterPlotItem(size=8, symbol="s", pen=pg.mkPen(FG), brush=pg.mkBrush(255, 255, 255))
        self.now = pg.ScatterPlotItem(size=13, pen=pg.mkPen("w", width=1.5), brush=pg.mkBrush(ACCENT))
        for item in (self.cloud, self.path, self.starts, self.now):
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

    def show_frame(self, frame: PenFrame | None) -> None:
        if frame is None or frame.steps == 0:
            self.path.setData([], [])
            self.starts.setData([], [])
            self.now.setData([], [])
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
            pi.setLabel("bottom", f"axis 1 ({ex[0]} % of variance)", color=FG)
            pi.setLabel("left", f"axis 2 ({ex[1]} %)", color=FG)
        xy = frame.xy
        self.path.setData(xy[:, 0], xy[:, 1])
        stroke = frame.reading.stroke
        first = np.flatnonzero(np.diff(stroke, prepend=-1) != 0)
        self.starts.setData(xy[first, 0], xy[first, 1])
        self.now.setData(xy[-1:, 0], xy[-1:, 1])
        x0, x1, y0, y1 = self._range
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        if lo[0] < x0 or hi[0] > x1 or lo[1] < y0 or hi[1] > y1:       # widen, never shrink, while drawing
            self._set_range(min(x0, float(lo[0])), max(x1, float(hi[0])), min(y0, float(lo[1])), max(y1, float(hi[1])))

    def _set_range(self, x0: float, x1: float, y0: float, y1: float) -> None:
        self._range = (x0, x1, y0, y1)
        self.plot.getPlotItem().getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.06)


def demo() -> PenTrajectoryPanel:
    """The panel on the demo '7' read by the shipped pen LSTM (or an untrained one)."""
    from explorer.ui.digit.demo import demo_pen_frame
    panel = PenTrajectoryPanel()
    panel.show_frame(demo_pen_frame())
    panel.resize(420, 340)
    return panel


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
