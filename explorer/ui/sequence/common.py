"""Shared look of the Sequence Lab panels: plot styling, colours, empty-state text."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.style import ACCENT, DIVERGING, FG, GATE_MAP, MUTED, SELECT  # noqa: F401 (re-exported)
from explorer.ui.widgets.style import style_plot as shared_style_plot

MONO = QtGui.QFont("DejaVu Sans Mono")
MONO.setStyleHint(QtGui.QFont.StyleHint.Monospace)


class CachedScrollBarStyle(QtWidgets.QProxyStyle):
    """The application style, but a scroll bar is drawn once per state into a pixmap and then
    blitted: Fusion paints a 700 px editor scroll bar in ~2 ms, and the scroll bar is repainted
    with the window on every keystroke. Same pixels (it IS the base style's drawing)."""

    def __init__(self) -> None:
        super().__init__()
        self._pixmaps: dict[tuple, QtGui.QPixmap] = {}

    def drawComplexControl(self, control: QtWidgets.QStyle.ComplexControl,  # noqa: N802 (Qt)
                           option: QtWidgets.QStyleOptionComplex, painter: QtGui.QPainter,
                           widget: QtWidgets.QWidget | None = None) -> None:
        if control != QtWidgets.QStyle.ComplexControl.CC_ScrollBar or not isinstance(
                option, QtWidgets.QStyleOptionSlider):
            super().drawComplexControl(control, option, painter, widget)
            return
        dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        size = option.rect.size()
        key = (size.width(), size.height(), dpr, option.minimum, option.maximum, option.sliderPosition,
               option.pageStep, option.orientation, option.upsideDown, int(option.state.value),
               int(option.activeSubControls.value), int(option.subControls.value), option.palette.cacheKey())
        pm = self._pixmaps.get(key)
        if pm is None:
            pm = QtGui.QPixmap(int(size.width() * dpr), int(size.height() * dpr))
            pm.setDevicePixelRatio(dpr)
            pm.fill(QtCore.Qt.GlobalColor.transparent)
            local = QtWidgets.QStyleOptionSlider(option)
            local.rect = QtCore.QRect(QtCore.QPoint(0, 0), size)
            p = QtGui.QPainter(pm)
            super().drawComplexControl(control, local, p, widget)
            p.end()
            if len(self._pixmaps) > 16:
                self._pixmaps.clear()
            self._pixmaps[key] = pm
        painter.drawPixmap(option.rect.topLeft(), pm)


def cache_scroll_bars(area: QtWidgets.QAbstractScrollArea) -> None:
    """Give the scroll area's scroll bars the CachedScrollBarStyle (kept alive by the area)."""
    style = CachedScrollBarStyle()
    style.setParent(area)
    for bar in (area.verticalScrollBar(), area.horizontalScrollBar()):
        bar.setStyle(style)


# the shared plot styling with the options of panels redrawn on every key: no grid, no legend
style_plot = partial(shared_style_plot, legend=False, grid=False, live=True)


def one_update_rect(view: pg.GraphicsView) -> None:
    """Repaint the bounding rectangle of everything that changed as ONE rectangle: a key changes
    the image, the cursor line, labels... all over a panel, and Qt's default minimal update paints
    their many small rectangles (and the axes under each) separately; measured ~0.1 ms/view less."""
    view.setViewportUpdateMode(QtWidgets.QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)


def new_view() -> pg.GraphicsLayoutWidget:
    view = pg.GraphicsLayoutWidget()
    one_update_rect(view)
    view.setBackground("w")
    view.ci.setContentsMargins(4, 4, 4, 4)
    return view


def empty_text(plot: pg.PlotItem, message: str) -> pg.TextItem:
    """A centred grey message shown while there is nothing to draw (hide it otherwise)."""
    item = pg.TextItem(message, color=MUTED, anchor=(0.5, 0.5))
    item.setFont(QtGui.QFont("DejaVu Sans", 10))
    plot.addItem(item, ignoreBounds=True)
    item.setZValue(100)
    return item


def signed_colour(v: float, alpha: int = 150) -> QtGui.QColor:
    """Text colouring: green for positive, red for negative, strength |v| (clipped to 1)."""
    a = int(alpha * min(abs(float(v)), 1.0))
    return QtGui.QColor(30, 160, 60, a) if v >= 0 else QtGui.QColor(215, 40, 40, a)


def probability_colour(p: float) -> QtGui.QColor:
    """0 -> red (surprised), 1 -> green (expected), through yellow."""
    p = float(np.clip(p, 0.0, 1.0))
    hue = 0.33 * p
    return QtGui.QColor.fromHsvF(hue, 0.75, 0.92)


def char_label(c: str) -> str:
    """A visible label for a character: space ␣, newline ⏎, tab ⇥, control -> U+XXXX."""
    special = {" ": "\u2423", "\n": "\u23ce", "\t": "\u21e5"}
    if c in special:
        return special[c]
    if not c.isprintable():
        return f"U+{ord(c):04X}"
    return c


def set_tip(widget: QtWidgets.QWidget, text: str) -> None:
    widget.setToolTip(text)
    widget.setToolTipDuration(30000)


__all__ = ["QtCore", "CachedScrollBarStyle", "cache_scroll_bars",
           "style_plot", "one_update_rect", "new_view", "empty_text",
           "signed_colour", "probability_colour", "char_label", "set_tip"]
