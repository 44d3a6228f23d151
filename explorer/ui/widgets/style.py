"""The one style module: text colours, the networks' colours, plot styling, panel headers.

Every lab takes its greys, accents and plot styling from here (the Sequence Lab's
``explorer.ui.sequence.common`` re-exports them with the options its live panels use)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

FG = "#2b2d33"
MUTED = "#8a8c99"
CNN = "#1f77b4"          # the convolutional network, everywhere
RNN = "#d62728"          # the recurrent network, everywhere
TRANSFORMER = "#9467bd"  # the transformer (attention), everywhere
VAL = "#2ca02c"
RF = (255, 170, 0)       # receptive field highlight
ACCENT = "#e07b00"       # the cursor everywhere
SELECT = "#1f6fd1"       # the selected unit everywhere
DIVERGING = "CET-D1"     # blue < 0 < red: signed values, centred on zero
GATE_MAP = "viridis"     # values in [0, 1] (gates)


class BelowLegend(pg.LegendItem):
    """A legend under its plot's x axis, never over the data: as many entries a row as the
    plot's width holds (more rows when it narrows), so it never sets the plot's minimum width."""

    columnCount: int                    # pyqtgraph's, set in its __init__

    def __init__(self) -> None:
        super().__init__(offset=None, horSpacing=6, labelTextColor=FG, frame=False)
        # the whole width under the plot: resizeEvent then fits as many entries a row as it holds
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Preferred)

    def _widest(self) -> float:
        # a label item stretches to its cell: measure its text instead
        return max((sample.boundingRect().width() + label.item.boundingRect().width() + 2 * self.layout.horizontalSpacing()
                    for sample, label in self.items), default=0.0)

    def updateSize(self) -> None:  # noqa: N802 (pyqtgraph)
        self.updateGeometry()           # the plot's layout places and sizes it

    def sizeHint(self, which: QtCore.Qt.SizeHint, constraint: QtCore.QSizeF | None = None) -> QtCore.QSizeF:  # noqa: N802 (Qt)
        hint = super().sizeHint(which, QtCore.QSizeF() if constraint is None else constraint)
        if which == QtCore.Qt.SizeHint.MinimumSize and self.items:
            return QtCore.QSizeF(min(hint.width(), self._widest()), hint.height())
        return hint

    def resizeEvent(self, ev: QtWidgets.QGraphicsSceneResizeEvent) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        widest = self._widest()
        if widest > 0:
            columns = max(1, min(len(self.items), int(ev.newSize().width() // widest)))
            if columns != self.columnCount:
                self.setColumnCount(columns)

    def addItem(self, item: object, name: str) -> None:  # noqa: N802 (pyqtgraph)
        super().addItem(item, name)
        columns = self.columnCount
        self.columnCount = 0            # lay the entries out again for the current width
        self.setColumnCount(max(1, columns))


def style_plot(plot: pg.PlotItem, title: str, bottom: str | None, left: str | None, tip: str = "",
               legend: bool = True, *, size: str = "10pt", grid: bool = True,
               live: bool = False) -> pg.LegendItem | None:
    """Title, axis labels (None: no label), light axes, mouse zoom off; a light grid and a
    legend under the x axis unless turned off.

    ``live``: a plot redrawn on every input (the Sequence Lab's panels, on every key). Its
    stock axes are then cached as pixmaps — mostly static, a key's image update drawn over
    them blits them — while a custom axis that paints itself (the Sequence Lab's character
    axis, whose labels change on every key) is left as it is; and auto-range is off, as the
    panel sets its own ranges."""
    plot.setTitle(f"<b>{title}</b>", color=FG, size=size)
    for name, text in (("bottom", bottom), ("left", left)):
        axis = plot.getAxis(name)
        axis.enableAutoSIPrefix(False)        # otherwise every range change re-renders the label HTML
        axis.setPen(pg.mkPen(MUTED))
        axis.setTextPen(pg.mkPen(FG))
        if text is not None:
            plot.setLabel(name, text, color=FG)
        if live and type(axis) is pg.AxisItem:
            axis.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.getViewBox().setMouseEnabled(False, False)
    if live:
        plot.disableAutoRange()
    if grid:
        plot.showGrid(x=True, y=True, alpha=0.15)
    if tip:
        plot.setToolTip(tip)
    if not legend:
        return None
    leg = BelowLegend()
    plot.layout.addItem(leg, 4, 1)      # the row under the bottom axis
    plot.legend = leg                   # named items added to the plot join it
    return leg


def plot_widget(title: str, bottom: str, left: str, tip: str = "", legend: bool = True
                ) -> pg.PlotWidget:
    """A white PlotWidget styled by ``style_plot``; the tooltip says how to read it."""
    w = pg.PlotWidget(background="w")
    style_plot(w.getPlotItem(), title, bottom, left, tip, legend)
    if tip:
        w.setToolTip(tip)
    w.setMinimumSize(200, 150)
    return w


def pen(colour: str, width: float = 2.0, style: QtCore.Qt.PenStyle | None = None) -> QtGui.QPen:
    p = pg.mkPen(colour, width=width)
    if style is not None:
        p.setStyle(style)
    return p


def header(text: str, tip: str = "") -> QtWidgets.QLabel:
    """A bold section title with an explanatory tooltip."""
    label = QtWidgets.QLabel(f"<b style='font-size:11pt; color:{FG}'>{text}</b>")
    label.setToolTip(tip)
    return label


def note(text: str) -> QtWidgets.QLabel:
    """A wrapped, muted explanation line."""
    label = QtWidgets.QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {MUTED};")
    return label
