"""PenGatesPanel: the pen RNN's gates over pen time, one band per gate, one row per unit.

One image shows the latest ``WINDOW`` pen steps of every sigmoid gate (LSTM i, f, o; GRU r, z)
as bands of rows in 0..1; ticks on top mark stroke starts. A pen movement writes the window
into a buffer kept between frames and colours it once; the plot paints the image by hand
(a PaintedPlot: its update joins the window repaint every other panel is part of).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.digit.pen_trajectory import dense_ticks, panel_header
from explorer.ui.widgets.painted_plot import PaintedPlot, argb_table
from explorer.ui.widgets.style import FG, GATE_MAP

if TYPE_CHECKING:
    from explorer.session.pen_reader import PenView

WINDOW = 160            # pen steps shown (the latest): the cost of a frame does not grow with the drawing
STEP = 20               # pen steps the axis widens or slides by
PADDING = 0.01          # room around the x and y ranges, as a fraction of each
START_SIZE = 7.0        # px: the stroke-start triangles
BANDS = {"LSTM": ("i", "f", "o"), "GRU": ("r", "z")}
NAMES = {"i": "input i", "f": "forget f", "o": "output o", "r": "reset r", "z": "update z"}
WHITE = np.uint32(0xFFFFFFFF)
TIP = ("Gates of the pen RNN over pen time: one band per gate, one row per hidden unit, one column\n"
       "per pen step (the latest at the right); 0 dark … 1 yellow. LSTM: i input, f forget, o output\n"
       "gate: f ≈ 1 keeps the memory, i ≈ 1 writes to it, o ≈ 1 shows it. GRU: z update gate ≈ 1\n"
       "keeps the old state, r reset gate feeds it to the candidate. Ticks on top: a stroke starts.\n"
       "The axis grows 20 pen steps at a time: empty columns at the right are steps not drawn yet.")


def gate_pixels(values: np.ndarray, lut: np.ndarray, gap: int = 0) -> np.ndarray:
    """(rows, n) gate values in 0..1 (NaN: a gap) -> (rows, n) uint32 0xAARRGGBB through a 256-entry
    table, as pyqtgraph's levels (0, 1) map them (index = trunc(v * 256) clipped to 0..255);
    NaN -> ``gap`` (0: transparent)."""
    gaps = np.isnan(values)
    idx = np.clip(np.where(gaps, 0.0, values) * np.float32(256.0), 0, 255).astype(np.uint8)
    return np.where(gaps, np.uint32(gap), lut[idx])


class GatesPlot(PaintedPlot):
    """The bands' image over pen steps (x) and rows (y, top first), stroke starts above them."""

    def __init__(self) -> None:
        super().__init__("", "pen step", None, TIP)
        self.setMinimumSize(120, 100)      # readable; a narrower column folds it into a tab
        self.values = np.zeros((0, 0), np.float32)     # the rows shown (NaN: gaps), one column a step
        self.pixels = np.zeros((0, 0), np.uint32)      # the same coloured: 0xffRRGGBB, white in the gaps
        self._image = QtGui.QImage()
        self.first_step = 0                            # the pen step of the image's first column
        self.units = 0                                 # hidden units (rows a band)
        self.bands: tuple[str, ...] = ()
        self.starts = np.zeros(0, np.float64)          # pen steps where a stroke starts (shown ones)
        self._start_brush = QtGui.QBrush(QtGui.QColor(FG))
        half = START_SIZE / 2
        self._triangle = QtGui.QPolygonF([QtCore.QPointF(-half, -half), QtCore.QPointF(half, -half),
                                          QtCore.QPointF(0.0, half)])       # pointing down at the bands
        self.set_message("draw a digit")

    def set_bands(self, bands: tuple[str, ...], units: int) -> None:
        """The layout of rows: ``units`` rows a band, a gap of units // 8 (at least 1) between bands."""
        self.bands, self.units = bands, units
        gap = max(1, units // 8)
        rows = len(bands) * units + (len(bands) - 1) * gap
        self.set_y_ticks([((units + gap) * b + units / 2, g) for b, g in enumerate(bands)])
        lo, hi = -4.0, float(rows)
        pad = PADDING * (hi - lo)
        self.set_y_range(lo - pad, hi + pad, inverted=True)

    def show_columns(self, values: np.ndarray, pixels: np.ndarray, first_step: int, span: int,
                     starts: np.ndarray) -> None:
        """The window's rows (values and their colours) from pen step ``first_step`` on, the x axis
        over ``span`` pen steps from there, stroke starts at pen steps ``starts``."""
        self.values, self.pixels, self.first_step = values, np.ascontiguousarray(pixels, np.uint32), first_step
        rows, n = self.pixels.shape
        self._image = QtGui.QImage(self.pixels.data, n, rows, self.pixels.strides[0], QtGui.QImage.Format.Format_RGB32)
        self.starts = starts
        pad = PADDING * span
        if self.set_x_range(first_step - pad, first_step + span + pad):
            dense_ticks(self)
        self.set_message("")
        self.update()

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        dense_ticks(self)

    def clear(self) -> None:
        self.values = np.zeros((0, 0), np.float32)
        self.pixels = np.zeros((0, 0), np.uint32)
        self._image = QtGui.QImage()
        self.starts = np.zeros(0, np.float64)
        self.set_message("draw a digit")
        self.update()

    def image_span(self) -> tuple[int, int]:
        """(first, last + 1) pen steps the image covers."""
        return self.first_step, self.first_step + self.pixels.shape[1]

    def paint_data(self, p: QtGui.QPainter) -> None:
        if self._image.isNull():
            return
        rows, n = self.pixels.shape
        x0, x1 = self.px_x(np.array([self.first_step, self.first_step + n], np.float64)).tolist()
        y0, y1 = self.px_y(np.array([0.0, float(rows)])).tolist()
        p.drawImage(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0), self._image)     # nearest: a cell, a block
        if len(self.starts):
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(self._start_brush)
            y = float(self.px_y(-1.5))
            for x in self.px_x(self.starts + 0.5).tolist():
                p.drawPolygon(self._triangle.translated(x, y))

    def tooltip_at(self, x: float, y: float) -> str | None:
        col, row = int(np.floor(x)) - self.first_step, int(np.floor(y))
        if not (0 <= col < self.values.shape[1] and 0 <= row < self.values.shape[0]):
            return None
        v = float(self.values[row, col])
        if np.isnan(v) or not self.units:
            return None
        band, unit = divmod(row, self.units + max(1, self.units // 8))
        return f"pen step {self.first_step + col + 1} · unit {unit} · {NAMES.get(self.bands[band], self.bands[band])} gate = {v:.3f}"


class PenGatesPanel(QtWidgets.QFrame):
    """``show_view(frame)`` with a PenView (or None: empty)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        head, self.help_button = panel_header("gates over pen time", "gates", compact=True)
        self.plot = GatesPlot()
        # coloured here through a packed 32-bit table (white in the gaps between bands)
        self.lut = argb_table(pg.colormap.get(GATE_MAP).getLookupTable(0.0, 1.0, 256, alpha=False))
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
        self._starts_key: object = None
        self._starts = np.zeros(0, np.float64)

    @property
    def bands(self) -> tuple[str, ...]:
        """The gates shown, top to bottom."""
        return self.plot.bands

    @property
    def pixels(self) -> np.ndarray:
        """What the image shows: 0xffRRGGBB, one column a pen step (white in the gaps)."""
        return self.plot.pixels

    def _set_layout(self, cell: str, hidden: int) -> None:
        """Bands for this cell and width: the buffer, the y ticks, the y range (once per model)."""
        self._layout = (cell, hidden)
        bands = BANDS.get(cell, ())
        gap = max(1, hidden // 8)
        rows = len(bands) * hidden + (len(bands) - 1) * gap
        self._buf = np.full((rows, WINDOW), np.nan, np.float32)      # NaN rows: the gaps
        self.plot.set_bands(bands, hidden)

    def show_view(self, frame: PenView | None) -> None:
        if frame is None or frame.steps == 0:
            self.plot.clear()
            self._starts_key = None
            return
        r = frame.reading
        hidden = r.hidden.shape[1]
        if self._layout != (r.cell, hidden):
            self._set_layout(r.cell, hidden)
        t = frame.steps
        lo = max(0, -(-(t - WINDOW) // STEP) * STEP)  # the window slides STEP steps at a time (axis redrawn less)
        n = t - lo
        gap = max(1, hidden // 8)
        for b, g in enumerate(self.plot.bands):
            top = b * (hidden + gap)
            self._buf[top: top + hidden, :n] = r.gates[g][lo:t].T
        values = self._buf[:, :n]
        # a short drawing is not a sliver at the left; the axis widens 20 pen steps at a time, the
        # columns right of the latest step wait for the steps to come
        span = max(40, -(-n // STEP) * STEP)
        stroke = r.stroke[lo:t]
        first = np.flatnonzero(np.diff(stroke, prepend=-1 if lo == 0 else r.stroke[lo - 1]) != 0) + lo
        key = (lo, len(first))
        if key != self._starts_key:
            self._starts_key = key
            self._starts = first.astype(np.float64)
        self.plot.show_columns(values, gate_pixels(values, self.lut, int(WHITE)), lo, span, self._starts)


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
