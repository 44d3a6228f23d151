"""Parameters: fully connected vs CNN vs RNN on the same input, sizes editable."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.analysis.params import CELL_GATES, ParamSizeError, Sizes, compare_counts
from explorer.ui.widgets.style import CNN, FG, MUTED, RNN, note, plot_widget

COLUMNS = ["network", "first layer", "weights = formula", "weights", "biases", "total",
           "weights shared across", "without sharing"]
COLOURS = ["#7f7f7f", CNN, RNN]


class ParamsPanel(QtWidgets.QWidget):
    """Spin boxes for the sizes, a table of counts and a log-scale bar chart of weights."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        s = Sizes()
        self.spins: dict[str, QtWidgets.QSpinBox] = {}
        form = QtWidgets.QHBoxLayout()
        tips = {"height": "image height (rows = RNN time steps)", "width": "image width (pixels per row)",
                "channels": "input channels (1 = grey, 3 = colour)",
                "units": "fully connected units = CNN kernels = RNN hidden units",
                "kernel": "CNN kernel side (k×k)"}
        for name, label, hi in (("height", "Height", 1024), ("width", "Width", 1024), ("channels", "Channels", 64),
                                ("units", "Units / kernels", 4096), ("kernel", "Kernel", 31)):
            spin = QtWidgets.QSpinBox(minimum=1, maximum=hi, value=getattr(s, name))
            spin.setToolTip(tips[name])
            spin.valueChanged.connect(self.refresh)
            self.spins[name] = spin
            form.addWidget(QtWidgets.QLabel(label))
            form.addWidget(spin)
        self.cell = QtWidgets.QComboBox()
        self.cell.addItems(list(CELL_GATES))
        self.cell.setToolTip("Recurrent cell: an LSTM has 4 gates (4× the weights), a GRU 3.")
        self.cell.currentIndexChanged.connect(self.refresh)
        form.addWidget(QtWidgets.QLabel("Cell"))
        form.addWidget(self.cell)
        form.addStretch(1)

        self.table = QtWidgets.QTableWidget(3, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setToolTip("One first layer of each kind on the same input, with the same number of "
                              "units. 'Without sharing': the weights if every position (CNN) or time "
                              "step (RNN) had its own copy.")
        self.table.setMaximumHeight(130)
        self.error = QtWidgets.QLabel()
        self.error.setStyleSheet("color:#b00020;")

        self.chart = plot_widget("Weights of the first layer (log scale)", "network",
                                 "weights", "Solid bars: the layer's weights. Pale bars: what the same "
                                 "layer would need without weight sharing. The axis is logarithmic: "
                                 "each grid line is ×10.")
        p = self.chart.getPlotItem()
        p.setLogMode(y=True)
        self.real = pg.BarGraphItem(x=[0, 1, 2], height=[1, 1, 1], width=0.35, brushes=COLOURS)
        self.ghost = pg.BarGraphItem(x=[0.38, 1.38, 2.38], height=[1, 1, 1], width=0.35,
                                     brushes=[pg.mkBrush(c + "55") for c in COLOURS], pen=pg.mkPen(MUTED))
        p.addItem(self.real)
        p.addItem(self.ghost)
        p.legend.addItem(self.real, "solid: weights with sharing")
        p.legend.addItem(self.ghost, "pale: without sharing")
        self.labels = [pg.TextItem("", color=FG, anchor=(0.5, 1)) for _ in range(6)]
        for t in self.labels:
            p.addItem(t)

        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(note("Change the sizes. A kernel is reused at every position of the image and an "
                           "RNN's weights at every time step, so their counts do not grow with the image; "
                           "a fully connected layer needs a weight per pixel per unit. Textbook check: "
                           "32 kernels of 3×3 on one channel = 32·1·3·3 = 288 weights."))
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.table)
        lay.addWidget(self.chart, 1)
        self.rows = compare_counts(s)
        self.refresh()

    def sizes(self) -> Sizes:
        v = {k: s.value() for k, s in self.spins.items()}
        return Sizes(cell=self.cell.currentText(), **v)

    def set_sizes(self, **kw: int) -> None:
        for k, v in kw.items():
            self.spins[k].setValue(int(v))

    def refresh(self) -> None:
        try:
            self.rows = compare_counts(self.sizes())
        except ParamSizeError as exc:
            self.error.setText(str(exc))
            return
        self.error.setText("")
        for r, row in enumerate(self.rows):
            cells = [row.network, row.layer, row.formula, f"{row.weights:,}", f"{row.biases:,}",
                     f"{row.total:,}", row.shared_over, f"{row.unshared:,}"]
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if c >= 3 and c != 6:
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        w = np.array([row.weights for row in self.rows], np.float64)
        u = np.array([row.unshared for row in self.rows], np.float64)
        self.real.setOpts(height=np.log10(w))
        self.ghost.setOpts(height=np.log10(u))
        for i, (a, b) in enumerate(zip(w, u)):
            self.labels[2 * i].setText(f"{int(a):,}")
            self.labels[2 * i].setPos(i, np.log10(a))
            self.labels[2 * i + 1].setText(f"{int(b):,}" if b != a else "")
            self.labels[2 * i + 1].setPos(i + 0.38, np.log10(b))
        p = self.chart.getPlotItem()
        p.getAxis("bottom").setTicks([[(i + 0.19, row.network) for i, row in enumerate(self.rows)]])
        p.setXRange(-0.4, 2.8, padding=0)
        p.setYRange(0, float(np.log10(u.max())) + 0.6, padding=0)

    def cell_text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.text() if item is not None else ""
