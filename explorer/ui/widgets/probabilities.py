"""ProbabilityPanel: the top two classes called out big, and one bar per class.

Shows "draw a digit" (no guess) while there is nothing to classify.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.style import MUTED

TOP = QtGui.QColor(200, 40, 40)
SECOND = QtGui.QColor(230, 140, 120)
OTHER = QtGui.QColor(170, 175, 190)
COMPACT_BELOW = 250        # px: a shorter panel puts the call-out beside the bars
TRACK = QtGui.QColor(236, 237, 242)
GHOST_PEN = QtGui.QPen(QtGui.QColor(40, 40, 40), 1.5, QtCore.Qt.PenStyle.DashLine)
# combined once: a Python enum "|" costs microseconds, and a paint used twenty of them
RIGHT_MIDDLE = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
LEFT_MIDDLE = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter


def paint_document(widget: QtWidgets.QWidget, doc: QtGui.QTextDocument) -> None:
    """Draw ``doc`` in ``widget`` as QLabel draws rich text: left, vertically centred, in the
    widget's text colour, clipped to its contents."""
    p = QtGui.QPainter(widget)
    cr = QtCore.QRectF(widget.contentsRect())
    p.translate(cr.x(), cr.y() + max((cr.height() - doc.size().height()) / 2, 0.0))
    ctx = QtGui.QAbstractTextDocumentLayout.PaintContext()
    ctx.palette = widget.palette()
    ctx.palette.setColor(QtGui.QPalette.ColorRole.Text, widget.palette().color(widget.foregroundRole()))
    ctx.clip = QtCore.QRectF(0, 0, cr.width(), cr.height())
    p.setClipRect(ctx.clip)
    doc.documentLayout().draw(p, ctx)
    p.end()


class RichLabel(QtWidgets.QWidget):
    """A one-paragraph rich-text label drawn as QLabel draws it (left, vertically centred, no
    margins), whose new text asks for a new layout only when its size hint changes.

    A QLabel's setText always posts a layout request up the widget tree; the prediction's
    call-out changes its text on every pen move while its size stays the same."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = QtGui.QTextDocument(self)
        self.doc.setDocumentMargin(0)
        self.doc.setUndoRedoEnabled(False)
        self._text: str | None = None
        self._hint = QtCore.QSize(0, 0)
        self.setText("")

    def text(self) -> str:
        return self._text or ""

    def setText(self, html: str) -> None:  # noqa: N802 (QLabel's name)
        if html == self._text:
            return
        self._text = html
        self.doc.setDefaultFont(self.font())
        self.doc.setHtml(html)
        if html:
            size = self.doc.size()
            hint = QtCore.QSize(int(np.ceil(size.width())), int(np.ceil(size.height())))
        else:                                   # an empty QLabel still asks for a little room
            sizer = QtWidgets.QLabel()
            sizer.setFont(self.font())
            sizer.setTextFormat(QtCore.Qt.TextFormat.RichText)
            hint = sizer.sizeHint()
        if hint != self._hint:
            self._hint = hint
            self.updateGeometry()
        self.update()

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        return self._hint

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        return self._hint

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        paint_document(self, self.doc)


class WrappedRichLabel(QtWidgets.QWidget):
    """A word-wrapped rich-text label drawn as QLabel draws it (left, vertically centred, no
    margins), whose new text asks for a new layout only when its height at its width changes.

    A word-wrapped QLabel's setText always posts a layout request, and the layout then lays its
    text out again for every width it tries; the pen time readout changes on every pen move at a
    fixed height. The size hints a layout asks for come from a hidden QLabel holding the same
    text (updated only when they are asked for), so the label sizes itself as a QLabel would."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = QtGui.QTextDocument(self)
        self.doc.setDocumentMargin(0)
        self.doc.setUndoRedoEnabled(False)
        option = self.doc.defaultTextOption()
        option.setWrapMode(QtGui.QTextOption.WrapMode.WordWrap)
        self.doc.setDefaultTextOption(option)
        self._sizer = QtWidgets.QLabel()
        self._sizer.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self._sizer.setWordWrap(True)
        policy = self.sizePolicy()
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self._text: str | None = None
        self._height = -1
        self.setText("")

    def text(self) -> str:
        return self._text or ""

    def setText(self, html: str) -> None:  # noqa: N802 (QLabel's name)
        if html == self._text:
            return
        self._text = html
        self.doc.setDefaultFont(self.font())
        self.doc.setHtml(html)
        self._wrap()
        self.update()

    def _wrap(self) -> None:
        self.doc.setTextWidth(self.contentsRect().width())
        height = int(np.ceil(self.doc.size().height())) if self._text else 0
        if height != self._height:
            self._height = height
            self.updateGeometry()

    def _sized(self) -> QtWidgets.QLabel:
        sizer = self._sizer
        if sizer.minimumSize() != self.minimumSize() or sizer.maximumSize() != self.maximumSize():
            sizer.setMinimumSize(self.minimumSize())      # a word-wrapped QLabel's hints depend on them
            sizer.setMaximumSize(self.maximumSize())
            sizer.clear()                                 # its cached hints are stale now
        if sizer.text() != self.text() or sizer.font() != self.font():
            sizer.setFont(self.font())
            sizer.setText(self.text())
        return sizer

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        return self._sized().sizeHint()

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        return self._sized().minimumSizeHint()

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt)
        return self._sized().heightForWidth(width)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        self._wrap()
        super().resizeEvent(ev)

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        paint_document(self, self.doc)


class ProbabilityBars(QtWidgets.QWidget):
    """One horizontal bar per class, label on the left, percentage on the right."""

    def __init__(self, labels: list[str], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels = labels
        self.probs: np.ndarray | None = None
        self.ghost: np.ndarray | None = None      # the unedited network's answer, beside an edited one's
        self.setMinimumHeight(12 * len(labels))

    def set_probs(self, probs: np.ndarray | None) -> None:
        self.probs = None if probs is None else np.asarray(probs, np.float32).copy()
        self.update()

    def set_ghost(self, probs: np.ndarray | None) -> None:
        """Outline bars at these probabilities (the unedited network); None hides them."""
        self.ghost = None if probs is None else np.asarray(probs, np.float32).copy()
        self.update()

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        p = QtGui.QPainter(self)
        n = len(self.labels)
        row = self.height() / n
        fm = p.fontMetrics()
        lab_w, pct_w = fm.horizontalAdvance("00") + 8, fm.horizontalAdvance("100.0 %") + 8
        bar_w = max(self.width() - lab_w - pct_w, 10)
        probs = None if self.probs is None else self.probs.tolist()
        order = np.argsort(-self.probs).tolist() if self.probs is not None else []
        ghost = None if self.ghost is None else self.ghost.tolist()
        text = self.palette().color(QtGui.QPalette.ColorRole.WindowText)
        p.setPen(text)
        top, h = row * 0.18, row * 0.64
        for i, label in enumerate(self.labels):
            y = i * row
            p.drawText(QtCore.QRectF(0, y, lab_w - 6, row), RIGHT_MIDDLE, label)
            p.fillRect(QtCore.QRectF(lab_w, y + top, bar_w, h), TRACK)
            if probs is None:
                continue
            v = probs[i]
            colour = TOP if i == order[0] else SECOND if i == order[1] else OTHER
            p.fillRect(QtCore.QRectF(lab_w, y + top, bar_w * v, h), colour)
            if ghost is not None:                              # the unedited network, outlined
                p.setPen(GHOST_PEN)
                p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
                p.drawRect(QtCore.QRectF(lab_w, y + top + 1, bar_w * ghost[i], h - 2))
                p.setPen(text)
            p.drawText(QtCore.QRectF(lab_w + bar_w + 4, y, pct_w, row), LEFT_MIDDLE, f"{100 * v:.1f} %")
        p.end()


class ProbabilityPanel(QtWidgets.QFrame):
    """Top-2 call-out (label + confidence, large) above the per-class bars."""

    def __init__(self, labels: list[str] | None = None, parent: QtWidgets.QWidget | None = None,
                 title: str = "<b>prediction</b> · softmax over 10 classes") -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.labels = labels or [str(i) for i in range(10)]
        self.first = RichLabel()
        self.first.setObjectName("topGuess")
        self.second = RichLabel()
        self.second.setObjectName("secondGuess")
        self.bars = ProbabilityBars(self.labels)
        self.setToolTip("The network's answer: softmax of the last layer, one probability per\n"
                        "class (they sum to 100 %). The two most likely classes are called out.")
        self.compact = False       # short: the call-out sits beside the bars, in smaller type
        self._probs: np.ndarray | None = None
        self.head = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.LeftToRight)
        self.head.addWidget(self.first, 3)
        self.head.addWidget(self.second, 2, QtCore.Qt.AlignmentFlag.AlignBottom)
        self.body = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.TopToBottom)
        self.body.addLayout(self.head)
        self.body.addWidget(self.bars, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 6)
        self.title = QtWidgets.QLabel(title)
        lay.addWidget(self.title)
        lay.addLayout(self.body, 1)
        self.set_probs(None)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        compact = ev.size().height() < COMPACT_BELOW
        if compact != self.compact:
            self.compact = compact
            D = QtWidgets.QBoxLayout.Direction
            self.body.setDirection(D.LeftToRight if compact else D.TopToBottom)
            self.head.setDirection(D.TopToBottom if compact else D.LeftToRight)
            self.body.setStretch(0, 0)
            self.set_probs(self._probs)

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        # what the compact arrangement needs: a short window keeps every bar readable
        return QtCore.QSize(super().minimumSizeHint().width(), 12 * len(self.labels) + 40)

    def set_probs(self, probs: np.ndarray | None) -> None:
        self._probs = probs
        self.bars.set_probs(probs)
        k = 0.6 if self.compact else 1.0           # type sizes in the compact arrangement
        if probs is None:
            self.first.setText(f"<span style='font-size:{24 * k:.0f}pt; color:{MUTED}'>draw a digit</span>")
            self.second.setText("")
            return
        a, b = np.argsort(-probs)[:2]
        self.first.setText(
            f"<span style='font-size:{40 * k:.0f}pt; font-weight:600; color:#c82828'>{self.labels[a]}</span>"
            f"<span style='font-size:{20 * k:.0f}pt'>&nbsp;{100 * probs[a]:.1f}&nbsp;%</span>")
        self.second.setText(
            f"<span style='font-size:{11 * min(1.0, k + 0.2):.0f}pt; color:#666'>runner-up</span><br>"
            f"<span style='font-size:{20 * k:.0f}pt; font-weight:600; color:#d9826f'>{self.labels[b]}</span>"
            f"<span style='font-size:{13 * k:.0f}pt'>&nbsp;{100 * probs[b]:.1f}&nbsp;%</span>")


def demo() -> ProbabilityPanel:
    """Demo data: a confident '7' with a '9' as runner-up."""
    panel = ProbabilityPanel()
    probs = np.full(10, 0.01, np.float32)
    probs[7], probs[9] = 0.84, 0.08
    panel.set_probs(probs)
    panel.resize(420, 300)
    return panel


if __name__ == "__main__":
    from explorer.ui.widgets.demo import run
    raise SystemExit(run(demo))
