"""What the model predicts: top-5 at the cursor (PredictionsPanel) and ProbStrip under the text."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence.common import (ACCENT, FG, MONO, MUTED, char_label, empty_text,
                                         probability_colour, set_tip, style_plot)

K = 5
HELP_TOP = ("The model's output at the cursor: the five most likely next characters (text models)\n"
            "or classes (toy languages), read from the hidden state after the character left of\n"
            "the cursor, with their softmax probabilities. The real next character, when there is\n"
            "one, is drawn in green.")
HELP_STRIP = ("Probability strip: under each character, the probability the model gave to it\n"
              "BEFORE reading it (toy languages: to the right answer after reading it).\n"
              "Tall green = expected, short red = surprising; hatched = unknown character.")


class PredictionsPanel(pg.GraphicsLayoutWidget):
    """show_top(items [(label, p, id)], actual_id | None): horizontal bars, best on top."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.ci.setContentsMargins(4, 4, 10, 4)
        self.plot = self.addPlot()
        style_plot(self.plot, "Next character at the cursor", "probability", None)
        self.plot.invertY(True)
        self.plot.setRange(xRange=(0, 1.0), yRange=(-0.6, K - 0.4), padding=0)
        self.bars = pg.BarGraphItem(x0=np.zeros(K), y=np.arange(K), height=0.7, width=np.zeros(K),
                                    brush=pg.mkBrush("#4a7fc1"), pen=None)
        self.plot.addItem(self.bars)
        self.values: list[pg.TextItem] = []
        for i in range(K):
            t = pg.TextItem("", color=FG, anchor=(0, 0.5))
            self.plot.addItem(t, ignoreBounds=True)
            self.values.append(t)
        axis = self.plot.getAxis("left")
        axis.setStyle(tickFont=QtGui.QFont("DejaVu Sans Mono", 12), tickLength=0)
        axis.setWidth(44)
        self.empty = empty_text(self.plot, "no prediction yet")
        self.empty.setPos(0.5, K / 2 - 0.5)
        self._labels: list[str] = []
        set_tip(self, HELP_TOP)

    def set_title(self, title: str) -> None:
        self.plot.setTitle(f"<b>{title}</b>", color=FG, size="10pt")

    def show_top(self, items: list[tuple[str, float, int]], actual: int | None) -> None:
        n = len(items)
        self.empty.setVisible(n == 0)
        probs = np.zeros(K)
        probs[:n] = [p for _, p, _ in items]
        brushes = [pg.mkBrush("#2e9e4f" if i < n and items[i][2] == actual else "#4a7fc1") for i in range(K)]
        self.bars.setOpts(width=probs, brushes=brushes)
        labels = [char_label(lab) if len(lab) == 1 else lab for lab, _, _ in items] + [""] * (K - n)
        if labels != self._labels:
            self.plot.getAxis("left").setTicks([[(i, s) for i, s in enumerate(labels)]])
            self._labels = labels
        for i, t in enumerate(self.values):
            t.setText(f"{100 * probs[i]:.1f}%" if i < n else "")
            t.setPos(min(probs[i], 0.82) + 0.01, i)


class ProbStrip(QtWidgets.QWidget):
    """One cell per character around the cursor: the glyph and a bar of P(that character)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.font_ = QtGui.QFont(MONO)
        self.font_.setPointSize(10)
        self.cell = QtGui.QFontMetrics(self.font_).horizontalAdvance("M") + 5
        self.setMinimumHeight(58)
        self.setMaximumHeight(58)
        self.chars, self.probs, self.cursor_index, self.unknown = "", np.zeros(0), -1, np.zeros(0, bool)
        self.title = "P(actual character)"
        set_tip(self, HELP_STRIP)

    def capacity(self) -> int:
        return max((self.width() - 110) // self.cell, 1)

    def set_cells(self, chars: str, probs: np.ndarray, cursor_index: int, unknown: np.ndarray) -> None:
        """chars and probs (n,) for consecutive characters; cursor_index: cell left of the cursor."""
        self.chars, self.probs, self.cursor_index, self.unknown = chars, probs, cursor_index, unknown
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor("white"))
        p.setFont(self.font_)
        top, bar_h = 4, self.height() - 28
        p.setPen(QtGui.QColor(FG))
        p.drawText(QtCore.QRectF(4, self.height() - 18, 300, 16), QtCore.Qt.AlignmentFlag.AlignLeft,
                   self.title if self.chars else "probability strip (empty text)")
        for i, c in enumerate(self.chars):
            x = 4 + i * self.cell
            pr = float(self.probs[i]) if i < len(self.probs) else float("nan")
            rect = QtCore.QRectF(x, top, self.cell - 1, bar_h)
            p.fillRect(rect, QtGui.QColor(245, 245, 245))
            if np.isfinite(pr):
                h = max(2.0, bar_h * pr)
                p.fillRect(QtCore.QRectF(x, top + bar_h - h, self.cell - 1, h), probability_colour(pr))
            if i < len(self.unknown) and self.unknown[i]:
                p.fillRect(rect, QtGui.QBrush(QtGui.QColor(150, 60, 200, 120), QtCore.Qt.BrushStyle.BDiagPattern))
            if i == self.cursor_index:
                p.setPen(QtGui.QPen(QtGui.QColor(ACCENT), 2))
                p.drawRect(rect.adjusted(0, 0, 0, 0))
            p.setPen(QtGui.QColor(FG))
            p.drawText(QtCore.QRectF(x, top, self.cell - 1, 16), QtCore.Qt.AlignmentFlag.AlignCenter,
                       char_label(c) if c in " \n\t" or c.isprintable() else "?")
        lx = self.width() - 100
        grad = QtGui.QLinearGradient(lx, 0, lx + 70, 0)
        for t in np.linspace(0, 1, 6):
            grad.setColorAt(float(t), probability_colour(float(t)))
        p.fillRect(QtCore.QRectF(lx + 8, top + 6, 70, 10), grad)
        p.setPen(QtGui.QColor(MUTED))
        p.drawText(QtCore.QRectF(lx, top + 18, 90, 14), QtCore.Qt.AlignmentFlag.AlignLeft, " 0")
        p.drawText(QtCore.QRectF(lx, top + 18, 86, 14), QtCore.Qt.AlignmentFlag.AlignRight, "1")
        p.end()
