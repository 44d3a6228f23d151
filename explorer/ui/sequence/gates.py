"""GatesPanel: LSTM input / forget / output gates and cell state, GRU reset / update gates.

Left: every gate over time as bands of ONE image (units x characters, the heat map's
window), the cell state in a second image with its own signed scale. Right: at the cursor,
how the units' values are spread (one histogram per band), the selected unit marked.
Two plots in total, so a keystroke repaints two views, not eight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence.common import (
    ACCENT,
    DIVERGING,
    GATE_MAP,
    MUTED,
    SELECT,
    cmap,
    empty_text,
    legend_bar,
    set_tip,
    set_x_range,
    style_plot,
)
from explorer.ui.sequence.fastitems import FastImageItem

NAMES = {"i": "input i", "f": "forget f", "o": "output o", "c": "cell c", "r": "reset r", "z": "update z"}
C_LEVEL = 2.0
BINS = 12
GAP = 0.25          # gap between bands, as a fraction of the number of units

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView

HELP = ("Gates over time (left: one band per gate, units × characters, the heat map's window) and\n"
        "at the cursor (right: how many units have each value; the blue tick is the selected unit).\n"
        "LSTM: c(t) = f·c(t−1) + i·g, h(t) = o·tanh(c(t)). f ≈ 1 keeps the memory, i ≈ 1 writes,\n"
        "o ≈ 1 shows it. GRU: h(t) = (1−z)·n + z·h(t−1); z ≈ 1 keeps the old state, r gates how\n"
        "much of it feeds the candidate n. Gates are in 0…1 (dark → yellow); the cell state is\n"
        "signed, −2…2 (blue < 0 < red).")


class GatesPanel(pg.GraphicsLayoutWidget):
    """set_model(gate_names, n_units, window, cell); show_gates(name -> (n, H), start, step, unit)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        # the two plots' changes apart (a key changes a column at the left and the bars at the
        # right): their bounding rectangle would repaint every image column and axis between
        self.setViewportUpdateMode(QtWidgets.QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.ci.setContentsMargins(4, 4, 4, 4)
        self.names: tuple[str, ...] = ()
        self.n_units, self.window = 1, 200
        self._stack: np.ndarray | None = None
        self._bar_heights: np.ndarray | None = None
        self._sel: tuple[np.ndarray, np.ndarray] | None = None
        self._shown_key: tuple | None = None     # what show_gates was last given (with _shown)
        self._shown: dict[str, np.ndarray] = {}
        set_tip(self, HELP)

    def _band(self, k: int) -> int:
        """First image row of band k (rows = units; bands separated by a gap of blank rows)."""
        return k * (self.n_units + max(1, int(round(GAP * self.n_units))))

    def set_model(self, names: tuple[str, ...], n_units: int, window: int, cell: str) -> None:
        self.clear()
        self._stack, self._bar_heights, self._sel, self._shown_key = None, None, None, None
        self.names, self.n_units, self.window = names, n_units, window
        if not names:
            plot = self.addPlot()
            style_plot(plot, f"Gates — a plain {cell} has none", None, None)
            plot.hideAxis("bottom")
            plot.hideAxis("left")
            msg = empty_text(plot, "h(t) = tanh(W·x(t) + U·h(t−1) + b)\nno gate decides what to keep:\n"
                                   "the whole state is rewritten at every step.")
            plot.setRange(xRange=(0, 1), yRange=(0, 1))
            msg.setPos(0.5, 0.5)
            return
        gate_names = [n for n in names if n != "c"]
        total = self._band(len(names) - 1) + n_units
        self.time_plot = self.addPlot(row=0, col=0)
        style_plot(self.time_plot, f"{cell} gates over time", "character position", None, size="9pt")
        self.time_plot.invertY(True)
        self.time_plot.setRange(yRange=(0, total), xRange=(0, window), padding=0)
        ticks = [(self._band(k) + n_units / 2, NAMES[n]) for k, n in enumerate(names)]
        self.time_plot.getAxis("left").setTicks([ticks])
        self.gate_img = FastImageItem(axisOrder="row-major", autoLevels=False, levels=(0.0, 1.0))
        self.gate_img.setColorMap(cmap(GATE_MAP))
        self.cell_img = FastImageItem(axisOrder="row-major", autoLevels=False, levels=(-C_LEVEL, C_LEVEL))
        self.cell_img.setColorMap(cmap(DIVERGING))
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen(ACCENT, width=2))
        for item in (self.gate_img, self.cell_img):
            self.time_plot.addItem(item)
            item.hide()
        self.time_plot.addItem(self.cursor, ignoreBounds=True)
        gap = self._band(1) - n_units
        for k in range(1, len(names)):                  # white separators between the bands (static)
            sep = QtWidgets.QGraphicsRectItem(-1e7, self._band(k) - gap, 2e7, gap)
            sep.setBrush(QtGui.QBrush(QtGui.QColor("white")))
            sep.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
            sep.setZValue(5)
            self.time_plot.addItem(sep, ignoreBounds=True)
        self.hist_plot = self.addPlot(row=0, col=1)
        style_plot(self.hist_plot, "at the cursor", "value (cell: −2…2)" if "c" in names else "value", None,
                   size="9pt")
        self.hist_plot.invertY(True)
        self.hist_plot.getAxis("left").setTicks([[(t, "") for t, _ in ticks]])
        self.hist_plot.getAxis("left").setWidth(4)
        self.hist_plot.setRange(xRange=(0, 1), yRange=(0, total), padding=0.02)
        self.hist_plot.getAxis("bottom").setTicks([[(0.0, "0"), (0.5, "½"), (1.0, "1")]])
        edges = np.linspace(0, 1, BINS + 1)
        self._edges = edges
        n = len(names)
        self.bars = pg.BarGraphItem(x0=np.tile(edges[:-1], n), width=np.full(n * BINS, 0.9 / BINS),
                                    y0=np.repeat([self._band(k) + n_units for k in range(n)], BINS),
                                    height=np.zeros(n * BINS), brush=pg.mkBrush(MUTED), pen=None)
        self.hist_plot.addItem(self.bars)
        self.sel = pg.PlotCurveItem(pen=pg.mkPen(SELECT, width=3), connect="pairs")   # lighter than PlotDataItem
        self.hist_plot.addItem(self.sel)
        self.ci.layout.setColumnStretchFactor(0, 3)
        self.ci.layout.setColumnStretchFactor(1, 1)
        legend_bar(self.ci, GATE_MAP, (0.0, 1.0), "gate", 0, 2, width=10)
        if "c" in names:
            legend_bar(self.ci, DIVERGING, (-C_LEVEL, C_LEVEL), "cell", 0, 3, width=10)
        self._gate_rows = gate_names

    def show_gates(self, gates: dict[str, np.ndarray], start: int, step: int, unit: int | None,
                   view: tuple[float, float] | None = None) -> None:
        """gates: name -> (n, H) for characters start..start+n-1; step: the cursor's character;
        view: the x range of the time plot (default: the window from start)."""
        if not self.names:
            return
        key = (start, step, unit, view, tuple(gates))
        if key == self._shown_key and all(np.array_equal(g, self._shown[k]) for k, g in gates.items()):
            return                               # the same frame again: nothing is re-set or repainted
        self._shown_key, self._shown = key, {k: np.array(g) for k, g in gates.items()}
        n = len(next(iter(gates.values()))) if gates else 0
        if n == 0:
            self.gate_img.hide()
            self.cell_img.hide()
            self.cursor.hide()
            self._show_histograms(gates, None, None)
            return
        H = self.n_units
        rows = self._band(len(self._gate_rows) - 1) + H
        width = max(n, self.window)               # a fixed width: a key repaints its column, not all
        if self._stack is None or self._stack.shape != (rows, width):
            self._stack = np.zeros((rows, width), np.float32)      # kept; the gaps stay 0 (covered)
        stack = self._stack
        for k, name in enumerate(self._gate_rows):
            stack[self._band(k):self._band(k) + H, :n] = gates[name].T
        self.gate_img.set_window(stack[:, :n], width, (0.0, 1.0))
        self.gate_img.setRect(QtCore.QRectF(start, 0, width, rows))
        self.gate_img.show()
        if "c" in self.names:
            k = self.names.index("c")
            self.cell_img.set_window(gates["c"].T, width, (-C_LEVEL, C_LEVEL))
            self.cell_img.setRect(QtCore.QRectF(start, self._band(k), width, H))
            self.cell_img.show()
        set_x_range(self.time_plot, view or (start, start + (max(n, 40) if start == 0 else self.window)))
        j = step - start
        self.cursor.setVisible(0 <= j < n)
        self.cursor.setPos(step + 0.5)
        self._show_histograms(gates, j if 0 <= j < n else None, unit)

    def _show_histograms(self, gates: dict[str, np.ndarray], j: int | None, unit: int | None) -> None:
        """Per band, how many units have each value at column j (bars), the selected unit marked.
        All bands are counted at once (one bincount); unchanged bars and marks are not re-set."""
        H, nb = self.n_units, len(self.names)
        heights, sx, sy = np.zeros((nb, BINS)), np.zeros(0), np.zeros(0)
        if j is not None:
            v = np.stack([gates[name][j] for name in self.names])     # (bands, H), the gates' own dtype
            if "c" in self.names:
                c = self.names.index("c")
                v[c] = (np.clip(v[c], -C_LEVEL, C_LEVEL) + C_LEVEL) / (2 * C_LEVEL)
            v = np.clip(v, 0.0, 1.0)
            bins = np.minimum((v * BINS).astype(np.intp), BINS - 1) + (np.arange(nb) * BINS)[:, None]
            counts = np.bincount(bins.ravel(), minlength=nb * BINS).reshape(nb, BINS)
            heights = counts / np.maximum(counts.max(axis=1), 1)[:, None] * H * 0.95
            if unit is not None:
                sx = np.repeat(v[:, unit], 2).astype(float)
                sy = np.array([(self._band(k), self._band(k) + H) for k in range(nb)], float).ravel()
        bars = -heights.ravel()
        if self._bar_heights is None or not np.array_equal(bars, self._bar_heights):
            self._bar_heights = bars
            self.bars.setOpts(height=bars)
        if self._sel is None or not (np.array_equal(sx, self._sel[0]) and np.array_equal(sy, self._sel[1])):
            self._sel = (sx, sy)
            self.sel.setData(sx, sy)


def demo(session: SequenceSession, view: SequenceView) -> QtWidgets.QWidget:
    """The panel fed from one frame of a shipped model (``python -m explorer.ui.sequence.gates``)."""
    w = GatesPanel()
    w.set_model(session.gate_names, session.hidden_size, 120, session.cell)
    w.show_gates(view.gates, view.start, view.step, view.unit, view.x_range)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
