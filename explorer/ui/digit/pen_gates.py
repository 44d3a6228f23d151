"""PenGatesPanel: the pen RNN's gates over pen time, one band per gate, one row per unit.

One pixmap item (built once) shows the latest ``WINDOW`` pen steps of every sigmoid gate
(LSTM i, f, o; GRU r, z) as bands of one image in 0..1; ticks on top mark stroke starts.
A pen movement writes the window into a buffer kept between frames and sets it once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.digit.pen_trajectory import panel_header
from explorer.ui.widgets.style import FG, GATE_MAP, MUTED, style_plot

if TYPE_CHECKING:
    from explorer.session.pen_reader import PenView

WINDOW = 160            # pen steps shown (the latest): the cost of a frame does not grow with the drawing
STEP = 20               # pen steps the axis widens or slides by
BANDS = {"LSTM": ("i", "f", "o"), "GRU": ("r", "z")}
NAMES = {"i": "input i", "f": "forget f", "o": "output o", "r": "reset r", "z": "update z"}
TIP = ("Gates of the pen RNN over pen time: one band per gate, one row per hidden unit, one column\n"
       "per pen step (the latest at the right); 0 dark … 1 yellow. LSTM: i input, f forget, o output\n"
       "gate: f ≈ 1 keeps the memory, i ≈ 1 writes to it, o ≈ 1 shows it. GRU: z update gate ≈ 1\n"
       "keeps the old state, r reset gate feeds it to the candidate. Ticks on top: a stroke starts.\n"
       "The axis grows 20 pen steps at a time: empty columns at the right are steps not drawn yet.")


class PenGatesPanel(QtWidgets.QFrame):
    """``show_view(frame)`` with a PenView (or None: empty)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        head, self.help_button = panel_header("gates over pen time", "gates", compact=True)
        self.plot = pg.PlotWidget(background="w")
        # no cached background: its blit (a large image draw, split over Qt's GUI threads) cost more than
        # filling the background, and waited on other threads whenever the machine was busy
        self.plot.setCacheMode(QtWidgets.QGraphicsView.CacheModeFlag.CacheNone)
        self.plot.setMinimumSize(120, 100)      # readable; a narrower column folds it into a tab
        pi = self.plot.getPlotItem()
        style_plot(pi, "", "pen step", "", TIP, legend=False)
        pi.setTitle(None)
        pi.showGrid(x=False, y=False)
        pi.invertY(True)
        # coloured here through a packed 32-bit table and shown as a pixmap: the float image with
        # NaN gaps went through pyqtgraph's NaN search and RGBA lookup inside every paint
        lut = np.asarray(pg.colormap.get(GATE_MAP).getLookupTable(0.0, 1.0, 256, alpha=False), np.uint32)
        self.lut = np.asarray(0xFF000000 | (lut[:, 0] << 16) | (lut[:, 1] << 8) | lut[:, 2], np.uint32)
        self.image = QtWidgets.QGraphicsPixmapItem()
        self.image.setTransformationMode(QtCore.Qt.TransformationMode.FastTransformation)
        self.pixels = np.zeros((0, 0), np.uint32)    # what the image shows: 0xAARRGGBB, 0 in the gaps
        pi.addItem(self.image)
        self.starts = pg.ScatterPlotItem(size=7, symbol="t", pen=None, brush=pg.mkBrush(FG))
        pi.addItem(self.starts)
        self.empty = pg.TextItem("draw a digit", color=MUTED, anchor=(0.5, 0.5))
        pi.addItem(self.empty)
        legend = QtWidgets.QLabel("0 <span style='background:qlineargradient(x1:0,y1:0,x2:1,y2:0,"
                                  "stop:0 #440154, stop:0.5 #21918c, stop:1 #fde725)'>"
                                  "&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;</span> 1")
        legend.setToolTip("gate value: 0 (closed) dark … 1 (open) yellow")
        legend.setMinimumWidth(1)
        self.setToolTip(TIP)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addWidget(self.plot, 1)
        lay.addWidget(legend)        # under the plot: the title row fits a 240 px column
        self._buf = np.zeros((0, WINDOW), np.float32)
        self._layout: tuple[str, int] | None = None
        self._xrange: tuple[int, int] | None = None
        self.bands: tuple[str, ...] = ()            # the gates shown, top to bottom
        self._starts_key: object = None

    def _set_layout(self, cell: str, hidden: int) -> None:
        """Bands for this cell and width: the buffer, the y ticks, the view range (once per model)."""
        self._layout = (cell, hidden)
        bands = self.bands = BANDS.get(cell, ())
        gap = max(1, hidden // 8)
        rows = len(bands) * hidden + (len(bands) - 1) * gap
        self._buf = np.full((rows, WINDOW), np.nan, np.float32)      # NaN rows: the gaps (transparent)
        ticks = [((hidden + gap) * b + hidden / 2, g) for b, g in enumerate(bands)]
        pi = self.plot.getPlotItem()
        left = pi.getAxis("left")
        left.setTicks([ticks, []])
        left.setWidth(22)
        pi.getViewBox().setYRange(-4, rows, padding=0.01)
        self.empty.setPos(20, rows / 2)

    def _show(self, values: np.ndarray) -> None:
        self.pixels = px = np.ascontiguousarray(gate_pixels(values, self.lut))
        rows, n = px.shape
        img = QtGui.QImage(px, n, rows, px.strides[0], QtGui.QImage.Format.Format_ARGB32_Premultiplied)  # type: ignore[call-overload]  # any buffer; the stub names bytes/memoryview
        self.image.setPixmap(QtGui.QPixmap.fromImage(img))      # a copy: ``pixels`` may be replaced

    def show_view(self, frame: PenView | None) -> None:
        if frame is None or frame.steps == 0:
            self.image.setPixmap(QtGui.QPixmap())
            self.pixels = np.zeros((0, 0), np.uint32)
            self.starts.setData([], [])
            self._starts_key = None
            self.empty.setVisible(True)
            return
        r = frame.reading
        hidden = r.hidden.shape[1]
        if self._layout != (r.cell, hidden):
            self._set_layout(r.cell, hidden)
        self.empty.setVisible(False)
        t = frame.steps
        lo = max(0, -(-(t - WINDOW) // STEP) * STEP)  # the window slides STEP steps at a time (axis redrawn less)
        n = t - lo
        bands = BANDS.get(r.cell, ())
        gap = max(1, hidden // 8)
        for b, g in enumerate(bands):
            top = b * (hidden + gap)
            self._buf[top: top + hidden, :n] = r.gates[g][lo:t].T
        self._show(self._buf[:, :n])
        self.image.setPos(float(lo), 0.0)             # one column per pen step, one row per unit
        # a short drawing is not a sliver at the left; the axis widens 20 pen steps at a time (a new
        # range regenerates the axis and repaints the whole plot), the columns right of the latest
        # step wait for the steps to come
        span = max(40, -(-n // STEP) * STEP)
        if (lo, span) != self._xrange:
            self._xrange = (lo, span)
            self.plot.getPlotItem().getViewBox().setXRange(lo, lo + span, padding=0.01)
        stroke = r.stroke[lo:t]
        first = np.flatnonzero(np.diff(stroke, prepend=-1 if lo == 0 else r.stroke[lo - 1]) != 0) + lo
        key = (lo, len(first))
        if key != self._starts_key:
            self._starts_key = key
            self.starts.setData(first + 0.5, np.full(len(first), -1.5))


def gate_pixels(values: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """(rows, n) gate values in 0..1 (NaN: a gap) -> (rows, n) uint32 0xAARRGGBB through a 256-entry
    table, as pyqtgraph's levels (0, 1) map them (index = trunc(v * 256) clipped to 0..255);
    NaN -> 0 (transparent)."""
    gaps = np.isnan(values)
    idx = np.clip(np.where(gaps, 0.0, values) * np.float32(256.0), 0, 255).astype(np.uint8)
    return np.where(gaps, np.uint32(0), lut[idx])


def demo() -> PenGatesPanel:
    """The panel on the demo '7' read by the shipped pen LSTM (or an untrained one)."""
    from explorer.ui.digit.demo import demo_pen_view
    panel = PenGatesPanel()
    panel.show_view(demo_pen_view())
    panel.resize(460, 340)
    return panel


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
