"""Shared look of the Sequence Lab panels: plot styling, colours, empty-state text."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

FG = "#333333"
MUTED = "#8a8a8a"
ACCENT = "#e07b00"            # the cursor everywhere
SELECT = "#1f6fd1"            # the selected unit everywhere
DIVERGING = "CET-D1"          # blue < 0 < red, for tanh states in [-1, 1]
GATE_MAP = "viridis"          # gates live in [0, 1]
MONO = QtGui.QFont("DejaVu Sans Mono")
MONO.setStyleHint(QtGui.QFont.StyleHint.Monospace)


def cmap(name: str) -> pg.ColorMap:
    return pg.colormap.get(name)


def style_plot(plot: pg.PlotItem, title: str, bottom: str | None, left: str | None,
               size: str = "10pt") -> None:
    """Title, axis labels and dark axis text on a light background; mouse interaction off."""
    plot.setTitle(f"<b>{title}</b>", color=FG, size=size)
    for name, text in (("bottom", bottom), ("left", left)):
        axis = plot.getAxis(name)
        axis.enableAutoSIPrefix(False)        # otherwise every range change re-renders the label HTML
        axis.setPen(pg.mkPen(MUTED))
        axis.setTextPen(pg.mkPen(FG))
        if text:
            plot.setLabel(name, text, color=FG)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.getViewBox().setMouseEnabled(False, False)
    plot.disableAutoRange()


def set_x_range(plot: pg.PlotItem, x_range: tuple[float, float]) -> None:
    """Set the x range only when it changes: a range change re-lays out the axis and makes the
    view paint twice, so per-key updates must not touch it needlessly."""
    lo, hi = plot.getViewBox().state["targetRange"][0]
    if abs(lo - x_range[0]) > 1e-9 or abs(hi - x_range[1]) > 1e-9:
        plot.setRange(xRange=x_range, padding=0)


def new_view() -> pg.GraphicsLayoutWidget:
    view = pg.GraphicsLayoutWidget()
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


def legend_bar(layout: pg.GraphicsLayout, colormap: str, values: tuple[float, float],
               label: str, row: int, col: int, width: float = 12) -> pg.ColorBarItem:
    """A non-interactive vertical colour bar used as a legend (not linked to an image)."""
    bar = pg.ColorBarItem(values=values, colorMap=cmap(colormap), width=width,
                          interactive=False, label=label)
    axis = bar.getAxis("right") if hasattr(bar, "getAxis") else None
    if axis is not None:
        axis.setTextPen(pg.mkPen(FG))
        axis.setPen(pg.mkPen(MUTED))
    layout.addItem(bar, row, col)
    return bar


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


__all__ = ["QtCore", "cmap", "style_plot", "set_x_range", "new_view", "empty_text", "legend_bar", "signed_colour",
           "probability_colour", "char_label", "set_tip"]
