"""Train lab panels: live loss / accuracy curves, the CNN's kernels, the RNN's trajectory.

Items are made once; every update is one ``setData`` / ``setImage`` (making items per update is what
made panels slow).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.ui.widgets.style import CNN, FG, MUTED, RNN, VAL, pen, plot_widget

EMA = 0.9


class CurvePanel(QtWidgets.QWidget):
    """One metric against the step: raw training values (light), their running mean, validation."""

    def __init__(self, metric: str, title: str, unit: str, tip: str,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.metric_name = metric          # not `metric`: that is QPaintDevice.metric()
        self.plot = plot_widget(title, "optimiser step", unit, tip)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        p = self.plot.getPlotItem()
        self.raw = p.plot(pen=pg.mkPen((31, 119, 180, 70), width=1), name="train (each step)")
        self.smooth = p.plot(pen=pen(CNN, 2), name="train (running mean)")
        self.val = p.plot(pen=pen(VAL, 2), symbol="o", symbolSize=7, symbolBrush=VAL,
                          symbolPen=None, name="validation (each epoch)")
        for item in (self.raw, self.smooth, self.val):
            item.setSkipFiniteCheck(True)
        self.clear()

    def clear(self) -> None:
        self.steps: list[int] = []
        self.values: list[float] = []
        self.means: list[float] = []
        self.val_steps: list[int] = []
        self.val_values: list[float] = []
        for item in (self.raw, self.smooth, self.val):
            item.setData([], [])

    def add(self, points: list[tuple[int, float]]) -> None:
        for step, v in points:
            if not np.isfinite(v):
                continue
            self.steps.append(step)
            self.values.append(v)
            self.means.append(v if not self.means else EMA * self.means[-1] + (1 - EMA) * v)
        x = np.asarray(self.steps, np.float64)
        self.raw.setData(x, np.asarray(self.values))
        self.smooth.setData(x, np.asarray(self.means))

    def add_val(self, step: int, value: float) -> None:
        self.val_steps.append(step)
        self.val_values.append(value)
        self.val.setData(np.asarray(self.val_steps, np.float64), np.asarray(self.val_values))

    def n_points(self) -> int:
        return len(self.steps)


class KernelPanel(pg.GraphicsLayoutWidget):
    """The first convolution's kernels tiled in one ImageItem, blue < 0 < red, shared scale."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.plot = self.addPlot()
        self.plot.setTitle("<b>First-layer kernels as they learn</b> (red = positive weight, blue = negative)", color=FG, size="10pt")
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.getViewBox().setMouseEnabled(False, False)
        self.image = pg.ImageItem(axisOrder="row-major", autoLevels=False, levels=(-1, 1))
        self.image.setColorMap(pg.colormap.get("CET-D1"))
        self.plot.addItem(self.image)
        self.scale = pg.TextItem("", color=MUTED, anchor=(0, 0))
        self.plot.addItem(self.scale, ignoreBounds=True)
        self.setToolTip("Each tile is one 3×3 kernel of the first Conv2d (weights for the one input "
                        "channel). Red = positive weight, blue = negative, white = 0; one colour "
                        "scale for all kernels (±max |w|, shown top-left). Watch random noise turn "
                        "into edge and stroke detectors.")
        self._shape: tuple[int, ...] | None = None

    def show_kernels(self, k: np.ndarray) -> None:
        c, h, w = k.shape
        cols = min(c, 4) if c <= 8 else int(np.ceil(np.sqrt(c)))
        rows = -(-c // cols)
        tile = np.zeros((rows * (h + 1) - 1, cols * (w + 1) - 1), np.float32)
        m = float(np.abs(k).max()) or 1.0
        for i in range(c):
            r, q = divmod(i, cols)
            tile[r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = k[i] / m
        self.image.setImage(tile, levels=(-1, 1))
        self.scale.setText(f"±{m:.3g}")
        self.scale.setPos(0, -0.9)
        if self._shape != tile.shape:
            self._shape = tile.shape
            self.plot.setRange(QtCore.QRectF(0, -1, tile.shape[1], tile.shape[0] + 1), padding=0.02)


class TrajectoryPanel(QtWidgets.QWidget):
    """The hidden state of one fixed probe input, step by step, on its 2 principal axes."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = plot_widget(
            "Hidden-state trajectory of one probe input", "principal axis 1", "principal axis 2",
            "The recurrent layer's hidden state after each step of one fixed input (a digit's 28 "
            "rows, or a sequence), projected on its two main directions of variation. Early in "
            "training it wanders randomly; as the model learns the path re-forms into a route "
            "that separates the classes. Green = first step, red = last.")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        p = self.plot.getPlotItem()
        self.path = p.plot(pen=pen(RNN, 2), symbol="o", symbolSize=4, symbolBrush=RNN,
                           symbolPen=None, name="hidden state, step by step")
        self.start = p.plot(pen=None, symbol="s", symbolSize=11, symbolBrush="#2ca02c", name="first step")
        self.end = p.plot(pen=None, symbol="star", symbolSize=15, symbolBrush="#a01010", name="last step")

    def show_path(self, xy: np.ndarray) -> None:
        self.path.setData(xy[:, 0], xy[:, 1])
        self.start.setData(xy[:1, 0], xy[:1, 1])
        self.end.setData(xy[-1:, 0], xy[-1:, 1])
        span = float(np.abs(xy).max()) if xy.size else 1.0
        span = span * 1.15 if span > 0 else 1.0
        self.plot.getPlotItem().setRange(xRange=(-span, span), yRange=(-span, span), padding=0)
