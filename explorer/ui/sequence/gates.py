"""GatesPanel: LSTM input / forget / output gates and cell state, GRU reset / update gates.

Per gate: units x time (the same window as the heat map) and, at the cursor, how the
units' gate values are spread (a histogram), with the selected unit marked.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.ui.sequence.common import (ACCENT, DIVERGING, FG, GATE_MAP, MUTED, SELECT, cmap, empty_text,
                                         legend_bar, set_tip, style_plot)

NAMES = {"i": "input i", "f": "forget f", "o": "output o", "c": "cell c",
         "r": "reset r", "z": "update z"}
C_LEVEL = 2.0
BINS = 12

HELP = ("Gates over time (left, units × characters, same window as the heat map) and at the\n"
        "cursor (right: how many units have each gate value).\n"
        "LSTM: c(t) = f·c(t−1) + i·g, h(t) = o·tanh(c(t)). f ≈ 1 keeps the memory, i ≈ 1 writes,\n"
        "o ≈ 1 shows it. GRU: h(t) = (1−z)·n + z·h(t−1); z ≈ 1 keeps the old state, r gates\n"
        "how much of it feeds the candidate n. Gates are in 0…1 (dark → yellow); the cell\n"
        "state is signed (blue < 0 < red). The blue mark is the selected unit.")


class GatesPanel(pg.GraphicsLayoutWidget):
    """set_model(gate_names, n_units); show_gates(gates name -> (n, H), start, step, unit)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.ci.setContentsMargins(4, 4, 4, 4)
        self.rows: dict[str, tuple[pg.PlotItem, pg.ImageItem, pg.InfiniteLine, pg.BarGraphItem,
                                   pg.InfiniteLine, np.ndarray]] = {}
        self.names: tuple[str, ...] = ()
        self.n_units, self.window = 1, 200
        self.empty_plot: pg.PlotItem | None = None
        set_tip(self, HELP)

    def set_model(self, names: tuple[str, ...], n_units: int, window: int, cell: str) -> None:
        self.clear()
        self.rows, self.names, self.n_units, self.window = {}, names, n_units, window
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
        for r, name in enumerate(names):
            signed = name == "c"
            levels = (-C_LEVEL, C_LEVEL) if signed else (0.0, 1.0)
            img_plot = self.addPlot(row=r, col=0)
            last, first = r == len(names) - 1, r == 0
            style_plot(img_plot, "", "character position" if last else None, NAMES[name], size="9pt")
            img_plot.setTitle(f"<b>{'Gates over time (units × characters)' if first else ''}</b>",
                              color=FG, size="9pt")
            if not first:
                img_plot.titleLabel.setMaximumHeight(0)
                img_plot.layout.setRowFixedHeight(0, 0)
            img_plot.getAxis("left").setStyle(showValues=False)
            if not last:
                img_plot.hideAxis("bottom")
            img_plot.invertY(True)
            img_plot.setRange(yRange=(0, n_units), xRange=(0, window), padding=0)
            img = pg.ImageItem(axisOrder="row-major", autoLevels=False, levels=levels)
            img.setColorMap(cmap(DIVERGING if signed else GATE_MAP))
            img_plot.addItem(img)
            cur = pg.InfiniteLine(angle=90, pen=pg.mkPen(ACCENT, width=2))
            img_plot.addItem(cur, ignoreBounds=True)
            hist_plot = self.addPlot(row=r, col=1)
            style_plot(hist_plot, "at the cursor" if first else "", "value" if last else None, None, size="9pt")
            if not first:
                hist_plot.titleLabel.setMaximumHeight(0)
                hist_plot.layout.setRowFixedHeight(0, 0)
            hist_plot.getAxis("left").setStyle(showValues=False)
            hist_plot.getAxis("left").setWidth(4)
            if not last:
                hist_plot.hideAxis("bottom")
            edges = np.linspace(*levels, BINS + 1)
            bars = pg.BarGraphItem(x0=edges[:-1], width=np.diff(edges) * 0.9, height=np.zeros(BINS), y0=0,
                                   brush=pg.mkBrush(MUTED), pen=None)
            hist_plot.addItem(bars)
            hist_plot.setRange(xRange=levels, yRange=(0, n_units), padding=0.02)
            sel = pg.InfiniteLine(angle=90, pen=pg.mkPen(SELECT, width=2))
            hist_plot.addItem(sel, ignoreBounds=True)
            self.rows[name] = (img_plot, img, cur, bars, sel, edges)
        self.ci.layout.setColumnStretchFactor(0, 3)
        self.ci.layout.setColumnStretchFactor(1, 1)
        n = len(names)
        legend_bar(self.ci, GATE_MAP, (0.0, 1.0), "gate", 0, 2, width=10)
        if "c" in names:
            legend_bar(self.ci, DIVERGING, (-C_LEVEL, C_LEVEL), "cell", n - 1, 2, width=10)

    def show_gates(self, gates: dict[str, np.ndarray], start: int, step: int, unit: int | None) -> None:
        """gates: name -> (n, H) for characters start..start+n-1; step: the cursor's character."""
        for name, (plot, img, cur, bars, sel, edges) in self.rows.items():
            g = gates.get(name)
            if g is None or not len(g):
                img.hide()
                cur.hide()
                bars.setOpts(height=np.zeros(BINS))
                sel.hide()
                continue
            img.setImage(np.ascontiguousarray(g.T, dtype=np.float32), levels=(edges[0], edges[-1]))
            img.setRect(QtCore.QRectF(start, 0, len(g), self.n_units))
            img.show()
            plot.setRange(xRange=(start, start + max(self.window, len(g))), padding=0)
            j = step - start
            cur.setVisible(0 <= j < len(g))
            cur.setPos(step + 0.5)
            if 0 <= j < len(g):
                lo, hi = edges[0], edges[-1]
                counts, _ = np.histogram(np.clip(g[j], lo, hi), bins=edges)
                bars.setOpts(height=counts.astype(float))
                sel.setVisible(unit is not None)
                if unit is not None:
                    sel.setPos(float(np.clip(g[j, unit], lo, hi)))
            else:
                bars.setOpts(height=np.zeros(BINS))
                sel.hide()
