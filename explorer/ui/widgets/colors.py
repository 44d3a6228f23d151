"""One diverging colour scale centred on zero, its scopes, and a small legend widget.

Signed values are divided by a scale ``m`` (max |value| of the map, the layer or the whole
network, by the chosen *scope*) and drawn with fixed levels (-1, 1): blue < 0 < red,
zero is neutral. Fixed levels + a 256-entry uint8 LUT keep pyqtgraph on its fast path.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.style import DIVERGING

SCOPES = {"map": "per map", "layer": "per layer", "network": "whole network"}
LEVELS = (-1.0, 1.0)


def diverging() -> pg.ColorMap:
    return pg.colormap.get(DIVERGING)


def qcolor(value: float) -> QtGui.QColor:
    """value in [-1, 1] -> the diverging colour as a QColor."""
    t = float(np.clip((value + 1.0) / 2.0, 0.0, 1.0))
    return diverging().map(t, mode="qcolor")


def fmt(v: float) -> str:
    """Compact number: 3 significant digits."""
    return f"{v:.3g}"


class ScaleLegend(QtWidgets.QWidget):
    """A horizontal gradient bar with '−m', '0', '+m' under it (m as text, or 'each map')."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._lut = diverging().getLookupTable(0.0, 1.0, 64, alpha=False)
        self._label = "max |value|"
        self.setMinimumSize(160, 34)
        self.setToolTip("Diverging colour scale: blue = negative, neutral = 0, red = positive.\n"
                        "Values are divided by m (the largest |value| in the chosen scope).")

    def set_label(self, text: str) -> None:
        """What m is: a number (whole-network scope) or a phrase ("its layer's max")."""
        if text != self._label:
            self._label = text
            self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        p = QtGui.QPainter(self)
        w, bar = self.width() - 16, QtCore.QRectF(8, 2, self.width() - 16, 12)
        grad = QtGui.QLinearGradient(bar.topLeft(), bar.topRight())
        for i, rgb in enumerate(self._lut):
            grad.setColorAt(i / (len(self._lut) - 1), QtGui.QColor(*map(int, rgb)))
        p.fillRect(bar, grad)
        p.setPen(self.palette().color(QtGui.QPalette.ColorRole.Mid))
        p.drawRect(bar)
        p.setPen(self.palette().color(QtGui.QPalette.ColorRole.WindowText))
        y, h = 16, self.height() - 16
        p.drawText(QtCore.QRectF(8, y, w / 3, h), QtCore.Qt.AlignmentFlag.AlignLeft, f"−{self._label}")
        p.drawText(QtCore.QRectF(8 + w / 3, y, w / 3, h), QtCore.Qt.AlignmentFlag.AlignHCenter, "0")
        p.drawText(QtCore.QRectF(8 + 2 * w / 3, y, w / 3, h), QtCore.Qt.AlignmentFlag.AlignRight, f"+{self._label}")
        p.end()
