"""Shared bits of the experiment panels: ten class colours, a class-probability plot, a digit image."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from explorer.ui.style import plot_widget

# ten distinguishable colours (tab10), one per digit class, in every experiment plot
CLASS_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def class_plot(title: str, bottom: str, tip: str) -> tuple[pg.PlotWidget, list[pg.PlotDataItem]]:
    """A plot of P(class) in [0, 1] with ten curves (built once) and a legend."""
    w = plot_widget(title, bottom, "probability", tip)
    plot = w.getPlotItem()
    curves = [plot.plot([], [], pen=pg.mkPen(c, width=2), name=str(k)) for k, c in enumerate(CLASS_COLOURS)]
    plot.setYRange(0, 1.3, padding=0)                 # headroom above 1 for the legend
    plot.getViewBox().disableAutoRange(pg.ViewBox.YAxis)
    plot.getAxis("left").setTicks([[(v, f"{v:.1f}") for v in np.linspace(0, 1, 6)]])
    if plot.legend is not None:
        plot.legend.setColumnCount(10)
        plot.legend.setOffset((-4, 4))
    w.setMinimumHeight(220)
    return w, curves


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

    def show(self, ink: np.ndarray | None) -> None:  # type: ignore[override]
        img = np.ones((28, 28), np.float32) if ink is None else 1.0 - np.asarray(ink, np.float32).reshape(28, 28)
        self.image.setImage(np.ascontiguousarray(img), autoLevels=False, levels=(0.0, 1.0))
