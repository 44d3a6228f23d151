"""What the model predicts: top-5 at the cursor (PredictionsPanel) and ProbStrip under the text."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence.common import (
    ACCENT,
    FG,
    MONO,
    MUTED,
    char_label,
    empty_text,
    one_update_rect,
    probability_colour,
    set_tip,
    style_plot,
)
from explorer.ui.sequence.fastitems import FastTickAxis

K = 5
if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView

HELP_TOP = ("The model's output at the cursor: the five most likely next characters (text models)\n"
            "or classes (toy languages), read from the hidden state after the character left of\n"
            "the cursor, with their softmax probabilities. The real next character, when there is\n"
            "one, is drawn in green. Orange outlines: the same characters with the Write pane's\n"
            "unit clamped (from the cursor on).")
HELP_STRIP = ("Probability strip: under each character, the probability the model gave to it\n"
              "BEFORE reading it (toy languages: to the right answer after reading it).\n"
              "Tall green = expected, short red = surprising; hatched = unknown character.")


class PredictionsPanel(pg.GraphicsLayoutWidget):
    """show_top(items [(label, p, id)], actual_id | None): horizontal bars, best on top."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        one_update_rect(self)
        self.ci.setContentsMargins(4, 4, 10, 4)
        self.plot = self.addPlot(axisItems={"left": FastTickAxis("left")})   # labels change per key
        style_plot(self.plot, "Next character at the cursor", "probability", None)
        self.plot.invertY(True)
        self.plot.setRange(xRange=(0, 1.0), yRange=(-0.6, K - 0.4), padding=0)
        self.bars = pg.BarGraphItem(x0=np.zeros(K), y=np.arange(K), height=0.7, width=np.zeros(K),
                                    brush=pg.mkBrush("#4a7fc1"), pen=None)
        self.plot.addItem(self.bars)
        # the Write pane's clamp: the same labels' probabilities with the unit held (orange outline)
        self.clamped = pg.BarGraphItem(x0=np.zeros(K), y=np.arange(K), height=0.7, width=np.zeros(K),
                                       brush=None, pen=pg.mkPen("#e08000", width=2))
        self.clamped.hide()
        self.plot.addItem(self.clamped)
        # the percentages change on every key: plain QGraphicsSimpleTextItems (no QTextDocument to
        # re-layout, unlike pg.TextItem), unscaled, placed like TextItem(anchor=(0, 0.5)) with its 4 px margin
        self.values: list[QtWidgets.QGraphicsSimpleTextItem] = []
        shift = QtGui.QTransform.fromTranslate(4, -QtGui.QFontMetricsF(QtGui.QFont()).height() / 2)
        for _ in range(K):
            t = QtWidgets.QGraphicsSimpleTextItem("")
            t.setBrush(pg.mkBrush(FG))
            t.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            t.setTransform(shift)
            self.plot.addItem(t, ignoreBounds=True)
            self.values.append(t)
        self._value_state: list[tuple[str, float]] = [("", -1.0)] * K
        axis = self.plot.getAxis("left")
        axis.setStyle(tickFont=QtGui.QFont("DejaVu Sans Mono", 12), tickLength=0)
        axis.setWidth(44)
        self.empty = empty_text(self.plot, "no prediction yet")
        self.empty.setPos(0.5, K / 2 - 0.5)
        self._labels: list[str] = []
        self._bar_state: tuple[bytes, tuple[bool, ...]] | None = None
        set_tip(self, HELP_TOP)

    def set_title(self, title: str) -> None:
        self.plot.setTitle(f"<b>{title}</b>", color=FG, size="10pt")

    def show_top(self, items: list[tuple[str, float, int]], actual: int | None,
                 clamped: np.ndarray | None = None) -> None:
        """clamped: (len(items),) the same labels' probabilities with the Write pane's unit clamped."""
        n = len(items)
        self.clamped.setVisible(clamped is not None and n > 0)
        if clamped is not None and n:
            widths = np.zeros(K)
            widths[:n] = clamped[:n]
            self.clamped.setOpts(width=widths)
        self.empty.setVisible(n == 0)
        probs = np.zeros(K)
        probs[:n] = [p for _, p, _ in items]
        green = tuple(i < n and items[i][2] == actual for i in range(K))
        if (probs.tobytes(), green) != self._bar_state:       # the same bars: nothing to re-set
            self._bar_state = (probs.tobytes(), green)
            self.bars.setOpts(width=probs, brushes=[_ACTUAL if g else _OTHER for g in green])
        labels = [char_label(lab) if len(lab) == 1 else lab for lab, _, _ in items] + [""] * (K - n)
        if labels != self._labels:
            self.plot.getAxis("left").setTicks([[(i, s) for i, s in enumerate(labels)]])
            self._labels = labels
        for i, t in enumerate(self.values):
            state = (f"{100 * probs[i]:.1f}%" if i < n else "", float(min(probs[i], 0.82) + 0.01))
            if state != self._value_state[i]:
                if state[0] != self._value_state[i][0]:
                    t.setText(state[0])
                t.setPos(state[1], i)
                self._value_state[i] = state


class ProbStrip(QtWidgets.QWidget):
    """One cell per character around the cursor: the glyph and a bar of P(that character)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        # its paint covers every pixel (a white static layer first): the widgets under it need no repaint
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.font_ = QtGui.QFont(MONO)
        self.font_.setPointSize(10)
        self.cell = QtGui.QFontMetrics(self.font_).horizontalAdvance("M") + 5
        self.setMinimumHeight(58)
        self.setMaximumHeight(58)
        self.chars, self.probs, self.cursor_index, self.unknown = "", np.zeros(0), -1, np.zeros(0, bool)
        self.title = "P(actual character)"
        self._static: tuple[tuple, QtGui.QPixmap] | None = None
        self._glyphs: dict[str, tuple[QtGui.QStaticText, float, float]] = {}
        set_tip(self, HELP_STRIP)

    def capacity(self) -> int:
        return max((self.width() - 110) // self.cell, 1)

    def set_cells(self, chars: str, probs: np.ndarray, cursor_index: int, unknown: np.ndarray) -> None:
        """chars and probs (n,) for consecutive characters; cursor_index: cell left of the cursor.
        The same cells again schedule no repaint."""
        if (chars == self.chars and cursor_index == self.cursor_index and np.array_equal(probs, self.probs, equal_nan=True)
                and np.array_equal(unknown, self.unknown)):
            return
        self.chars, self.probs, self.cursor_index, self.unknown = chars, probs, cursor_index, unknown
        self.update()

    def _static_layer(self) -> QtGui.QPixmap:
        """White ground, the caption and the colour legend: they change only with size and title."""
        dpr = self.devicePixelRatioF()
        key = (self.width(), self.height(), dpr, self.title if self.chars else "")
        if self._static is None or self._static[0] != key:
            pm = QtGui.QPixmap(int(self.width() * dpr), int(self.height() * dpr))
            pm.setDevicePixelRatio(dpr)
            pm.fill(QtGui.QColor("white"))
            p = QtGui.QPainter(pm)
            p.setFont(self.font_)
            p.setPen(QtGui.QColor(FG))
            p.drawText(QtCore.QRectF(4, self.height() - 18, 300, 16), QtCore.Qt.AlignmentFlag.AlignLeft,
                       self.title if self.chars else "probability strip (empty text)")
            top, lx = 4, self.width() - 100
            grad = QtGui.QLinearGradient(lx, 0, lx + 70, 0)
            for t in np.linspace(0, 1, 6):
                grad.setColorAt(float(t), probability_colour(float(t)))
            p.fillRect(QtCore.QRectF(lx + 8, top + 6, 70, 10), grad)
            p.setPen(QtGui.QColor(MUTED))
            p.drawText(QtCore.QRectF(lx, top + 18, 90, 14), QtCore.Qt.AlignmentFlag.AlignLeft, " 0")
            p.drawText(QtCore.QRectF(lx, top + 18, 86, 14), QtCore.Qt.AlignmentFlag.AlignRight, "1")
            p.end()
            self._static = (key, pm)
        return self._static[1]

    def _glyph(self, c: str) -> tuple[QtGui.QStaticText, float, float]:
        """The cell's glyph as prepared static text and its offset to be centred in a 16 px row."""
        hit = self._glyphs.get(c)
        if hit is None:
            st = QtGui.QStaticText(char_label(c) if c in " \n\t" or c.isprintable() else "?")
            st.setTextFormat(QtCore.Qt.TextFormat.PlainText)
            st.prepare(QtGui.QTransform(), self.font_)
            size = st.size()
            hit = (st, (self.cell - 1 - size.width()) / 2, (16 - size.height()) / 2)
            self._glyphs[c] = hit
        return hit

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        """Per key only the cells are drawn: grey slots in one call, bars from a 101-colour table,
        glyphs as cached QStaticText; the caption and legend come from a cached pixmap."""
        p = QtGui.QPainter(self)
        p.drawPixmap(0, 0, self._static_layer())
        n = len(self.chars)
        if n:
            top, bar_h, w = 4, self.height() - 28, self.cell - 1
            xs = (4 + np.arange(n) * self.cell).tolist()
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(_SLOT)
            p.drawRects([QtCore.QRectF(x, top, w, bar_h) for x in xs])
            probs = np.full(n, np.nan)
            m = min(n, len(self.probs))
            probs[:m] = np.asarray(self.probs[:m], float)
            ok = np.isfinite(probs)
            pr = np.clip(np.where(ok, probs, 0.0), 0.0, 1.0)
            heights = np.maximum(2.0, bar_h * pr).tolist()
            shades = np.rint(pr * 100).astype(int).tolist()
            for i in np.flatnonzero(ok).tolist():
                p.fillRect(QtCore.QRectF(xs[i], top + bar_h - heights[i], w, heights[i]), _PROB_COLOURS[shades[i]])
            unknown = np.flatnonzero(np.asarray(self.unknown[:n], bool)).tolist()
            for i in unknown:
                p.fillRect(QtCore.QRectF(xs[i], top, w, bar_h), _HATCH)
            if 0 <= self.cursor_index < n:
                p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
                p.setPen(QtGui.QPen(QtGui.QColor(ACCENT), 2))
                p.drawRect(QtCore.QRectF(xs[self.cursor_index], top, w, bar_h))
            p.setFont(self.font_)
            p.setPen(QtGui.QColor(FG))
            for x, c in zip(xs, self.chars):
                st, dx, dy = self._glyph(c)
                p.drawStaticText(QtCore.QPointF(x + dx, top + dy), st)
        p.end()


_ACTUAL, _OTHER = pg.mkBrush("#2e9e4f"), pg.mkBrush("#4a7fc1")   # the real next character / the others
_SLOT = QtGui.QColor(245, 245, 245)
_HATCH = QtGui.QBrush(QtGui.QColor(150, 60, 200, 120), QtCore.Qt.BrushStyle.BDiagPattern)
_PROB_COLOURS = [probability_colour(k / 100) for k in range(101)]


def demo(session: SequenceSession, view: SequenceView) -> QtWidgets.QWidget:
    """The panel fed from one frame of a shipped model (``python -m explorer.ui.sequence.predictions``)."""
    w = QtWidgets.QWidget()
    lay = QtWidgets.QVBoxLayout(w)
    bars, strip = PredictionsPanel(), ProbStrip()
    bars.show_top(view.top, view.actual, view.clamped_p)
    strip.set_cells(view.strip_chars, view.strip_probs, view.cursor - 1 - view.strip_start, view.strip_unknown)
    lay.addWidget(bars, 1)
    lay.addWidget(strip)
    w.bars, w.strip = bars, strip  # type: ignore[attr-defined]  # the test reads them
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
