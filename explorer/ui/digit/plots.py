"""Shared bits of the experiment panels: ten class colours, a class-probability plot, a digit image."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.ui.widgets.style import plot_widget

SIDE = 96          # px: the digit image beside an experiment's plot (the column is ~380 px at 1024×640)
# ten distinguishable colours (tab10), one per digit class, in every experiment plot
CLASS_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def class_plot(title: str, bottom: str, tip: str) -> tuple[pg.PlotWidget, list[pg.PlotDataItem]]:
    """A plot of P(class) in [0, 1] with ten curves (built once); its key is ``class_key()``,
    outside the plot, so no curve hides under a legend in a narrow column."""
    w = plot_widget(title, bottom, "probability", tip, legend=False)
    plot = w.getPlotItem()
    curves = [plot.plot([], [], pen=pg.mkPen(c, width=2), name=str(k)) for k, c in enumerate(CLASS_COLOURS)]
    plot.setYRange(0, 1.0, padding=0.03)
    plot.getViewBox().disableAutoRange(pg.ViewBox.YAxis)
    plot.getAxis("left").setTicks([[(v, f"{v:.1f}") for v in np.linspace(0, 1, 6)]])
    w.setMinimumSize(160, 130)
    return w, curves


def class_key() -> QtWidgets.QLabel:
    """The curves' key in one line of text: a coloured bar and the class, for each of the ten."""
    label = QtWidgets.QLabel("class " + " ".join(
        f"<span style='color:{c}'>&#9644;</span>{k}" for k, c in enumerate(CLASS_COLOURS)))
    label.setTextFormat(QtCore.Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setToolTip("The colour of each class's curve")
    return label


class DigitImage(pg.GraphicsLayoutWidget):
    """One 28x28 image, dark ink on white (as drawn), fixed levels; ``show(img)`` with ink in [0, 1]."""

    def __init__(self, side: int = 140, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(None)
        box = self.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
        box.setMenuEnabled(False)
        self.image = pg.ImageItem(np.ones((28, 28), np.float32), axisOrder="row-major", levels=(0.0, 1.0))
        box.addItem(self.image)
        box.setRange(xRange=(0, 28), yRange=(0, 28), padding=0.02)
        self.setFixedSize(side, side)

    def show(self, ink: np.ndarray | None) -> None:
        img = np.ones((28, 28), np.float32) if ink is None else 1.0 - np.asarray(ink, np.float32).reshape(28, 28)
        self.image.setImage(np.ascontiguousarray(img), autoLevels=False, levels=(0.0, 1.0))
