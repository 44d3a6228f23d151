"""OrderPanel: the same drawing drawn differently, read by the CNN and by the pen RNN side by side.

Top: the drawing as drawn, reversed, in every other stroke order and with one stroke left
out — one row each, the CNN's answer next to the pen RNN's (a changed answer in bold red);
double-click a row to put that version on the canvas. Bottom: the drawing moved (shift,
scale, rotate) or drawn with a thicker pen, each reader's probability of the answer it gives
as drawn. The readings take a few milliseconds: they run on click, in the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.engine import Model
from explorer.session.both_readers import SWEEPS, Reading, read_variants, sweep_both
from explorer.ui.digit.pen_trajectory import panel_header
from explorer.ui.widgets.style import CNN, FG, MUTED, RNN, style_plot

TIP = ("The CNN reads the picture, which does not change when the strokes are drawn in another order or\n"
       "direction: its answer stays the same, bit for bit. The pen RNN reads the pen: its answer can\n"
       "change. Double-click a row to put that version of the drawing on the canvas.")


def _answer(p: np.ndarray | None) -> str:
    if p is None:
        return "—"
    k = int(np.argmax(p))
    return f"{k}  ({100 * float(p[k]):.0f} %)"


class OrderPanel(QtWidgets.QFrame):
    """``show_order(strokes, cnn, pen)``, ``show_sweep(strokes, cnn, pen)``; ``variant_chosen(list)``."""

    order_requested = QtCore.Signal()
    sweep_requested = QtCore.Signal()
    variant_chosen = QtCore.Signal(object)        # list of (K, 2) strokes, reference units

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.readings: list[Reading] = []
        self.sweep: tuple[str, np.ndarray, np.ndarray, np.ndarray] | None = None
        self.order_button = QtWidgets.QPushButton("Read it in other orders")
        self.order_button.setToolTip("Reversed, every other stroke order, one stroke left out: both readers")
        self.order_button.clicked.connect(self.order_requested)
        head, self.help_button = panel_header("stroke order", "order", self.order_button)
        self.table = QtWidgets.QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["drawn", "CNN (picture)", "pen RNN (pen)"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setToolTip(TIP)
        self.table.setMinimumHeight(90)
        self.table.cellDoubleClicked.connect(self._on_double_click)
        self.transform = QtWidgets.QComboBox()
        for name, (unit, _) in SWEEPS.items():
            self.transform.addItem(f"{name} ({unit})", name)
        self.transform.setToolTip("Move the drawing itself or thicken the pen; both readers read every version")
        self.sweep_button = QtWidgets.QPushButton("Sweep both")
        self.sweep_button.clicked.connect(self.sweep_requested)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumSize(180, 120)
        pi = self.plot.getPlotItem()
        # "its answer": each reader's answer to the drawing as drawn (the long form in the tooltip)
        style_plot(pi, "", "transform value", "P(its answer)", TIP + "\nLeft axis: each reader's probability for "
                   "the answer it gave to the drawing as drawn.", legend=False)
        pi.setTitle(None)
        pi.setYRange(0, 1.02, padding=0)
        pi.getViewBox().disableAutoRange(pg.ViewBox.YAxis)
        self.curve_cnn = pi.plot([], [], pen=pg.mkPen(CNN, width=2), symbol="o", symbolSize=5,
                                 symbolBrush=CNN, symbolPen=None, connect="finite")
        self.curve_pen = pi.plot([], [], pen=pg.mkPen(RNN, width=2), symbol="s", symbolSize=5,
                                 symbolBrush=RNN, symbolPen=None, connect="finite")
        self.identity = pg.InfiniteLine(angle=90, pen=pg.mkPen(MUTED, style=QtCore.Qt.PenStyle.DotLine))
        pi.addItem(self.identity)
        self.sweep_note = QtWidgets.QLabel(f"<span style='color:{CNN}'>■ CNN</span> &nbsp; "
                                           f"<span style='color:{RNN}'>■ pen RNN</span> &nbsp; "
                                           f"<span style='color:{MUTED}'>draw a digit, then sweep</span>")
        self.sweep_note.setWordWrap(True)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("move / thicken"))
        row.addWidget(self.transform, 1)
        row.addWidget(self.sweep_button)
        self.readout = QtWidgets.QLabel(f"<span style='color:{MUTED}'>Draw a digit (two or more strokes show the most).</span>")
        self.readout.setWordWrap(True)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(3)
        lay.addLayout(head)
        lay.addWidget(self.readout)
        lay.addWidget(self.table, 3)
        lay.addLayout(row)
        lay.addWidget(self.sweep_note)
        lay.addWidget(self.plot, 2)
        self.setToolTip(TIP)

    # -- stroke orders ----------------------------------------------------------------------
    def show_order(self, strokes: Sequence[np.ndarray], cnn: Model, pen: Model) -> list[Reading]:
        if not strokes:
            self.readings = []
            self.table.setRowCount(0)
            self.readout.setText("Nothing drawn with the pen (an opened image has no strokes).")
            return []
        self.readings = read_variants(strokes, cnn, pen)
        base = self.readings[0]
        self.table.setRowCount(len(self.readings))
        bold = QtGui.QFont()
        bold.setBold(True)
        for r, rd in enumerate(self.readings):
            cells = [(rd.label, None, None), (_answer(rd.cnn), rd.cnn, base.cnn), (_answer(rd.pen), rd.pen, base.pen)]
            for c, (text, p, p0) in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if c and p is not None and p0 is not None and int(np.argmax(p)) != int(np.argmax(p0)):
                    item.setForeground(QtGui.QColor("#c82828"))
                    item.setFont(bold)
                if c == 1 and p is not None and p0 is not None and np.array_equal(p, p0):
                    item.setToolTip("the same probabilities as drawn, bit for bit")
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        reorder = [rd for rd in self.readings[1:] if not rd.label.startswith("without")]
        cnn_same = all(rd.cnn is not None and base.cnn is not None and np.array_equal(rd.cnn, base.cnn) for rd in reorder)
        pen_flips = sum(rd.pen is not None and base.pen is not None and int(np.argmax(rd.pen)) != int(np.argmax(base.pen))
                        for rd in reorder)
        self.readout.setText(
            f"<span style='color:{FG}'>Reordered or reversed ({len(reorder)} versions): the CNN's probabilities are "
            f"{'identical, bit for bit' if cnn_same else 'NOT identical'}; the pen RNN changes its answer in "
            f"<b>{pen_flips}</b>.</span>")
        return self.readings

    def _on_double_click(self, row: int, _col: int) -> None:
        if 0 <= row < len(self.readings):
            self.variant_chosen.emit([np.asarray(s, np.float32) for s in self.readings[row].strokes])

    # -- moving and thickening -----------------------------------------------------------------
    def show_sweep(self, strokes: Sequence[np.ndarray], cnn: Model, pen: Model) -> None:
        name = str(self.transform.currentData())
        if not strokes:
            self.sweep_note.setText("Nothing drawn with the pen to sweep.")
            return
        values, p_cnn, p_pen = sweep_both(name, strokes, cnn, pen)
        self.sweep = (name, values, p_cnn, p_pen)
        ident = float(values[int(np.argmin(np.abs(values - (1.0 if name in ("scale", "thicker") else 0.0))))])
        i0 = int(np.flatnonzero(values == ident)[0])
        texts = []
        for curve, probs, label in ((self.curve_cnn, p_cnn, "CNN"), (self.curve_pen, p_pen, "pen RNN")):
            k = int(np.nanargmax(probs[i0])) if not np.isnan(probs[i0]).all() else 0
            curve.setData(values, probs[:, k])
            keeps = ~np.isnan(probs).any(axis=1) & (np.nan_to_num(probs).argmax(axis=1) == k)
            texts.append(f"{label} keeps its {k} in {int(keeps.sum())} of {len(values)}")
        self.identity.setValue(ident)
        pi = self.plot.getPlotItem()
        pi.setLabel("bottom", f"{name} ({SWEEPS[name][0]})", color=FG)
        pi.setXRange(float(values[0]), float(values[-1]), padding=0.04)
        self.sweep_note.setText(f"<span style='color:{CNN}'>■ CNN</span> &nbsp; <span style='color:{RNN}'>■ pen RNN</span>"
                                f" &nbsp; {'; '.join(texts)}")


def demo() -> OrderPanel:
    """The panel on a two-stroke demo '7' (bar, then diagonal), read by the demo CNN and pen model."""
    from explorer.ui.digit.demo import demo_model, demo_pen_model, seven
    pts = np.asarray(seven(), np.float32)
    strokes = [pts[:25], pts[25:]]
    panel = OrderPanel()
    cnn, pen = demo_model(), demo_pen_model()
    panel.show_order(strokes, cnn, pen)
    panel.show_sweep(strokes, cnn, pen)
    panel.resize(480, 560)
    return panel


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
