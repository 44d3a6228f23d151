"""ProbabilityPanel: the top two classes called out big, and one bar per class.

Shows "draw a digit" (no guess) while there is nothing to classify.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.painted_plot import TextCache, laid_out
from explorer.ui.widgets.style import MUTED

TOP = QtGui.QColor(200, 40, 40)
SECOND = QtGui.QColor(230, 140, 120)
OTHER = QtGui.QColor(170, 175, 190)
BAND = 64                  # rows per blit of a static layer (see ProbabilityBars.paintEvent)
COMPACT_BELOW = 250        # px: a shorter panel puts the call-out beside the bars
TRACK = QtGui.QColor(236, 237, 242)
TOP_TEXT, SECOND_TEXT, RUNNER_UP = QtGui.QColor("#c82828"), QtGui.QColor("#d9826f"), QtGui.QColor("#666666")
GHOST_PEN = QtGui.QPen(QtGui.QColor(40, 40, 40), 1.5, QtCore.Qt.PenStyle.DashLine)


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


class _FontFollower:
    """The document takes the widget's font only when it changed: setDefaultFont lays the whole
    document out again (half a millisecond), and a live label's text changes on every pen move."""

    doc: QtGui.QTextDocument
    _font_key: str = ""

    def _use_font(self) -> None:
        font = self.font()  # type: ignore[attr-defined]  # a QWidget's
        key = font.key()
        if key != self._font_key:
            self._font_key = key
            self.doc.setDefaultFont(font)


class RichLabel(_FontFollower, QtWidgets.QWidget):
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
        self._use_font()
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


class WrappedRichLabel(_FontFollower, QtWidgets.QWidget):
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
        self._use_font()
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


class FontTexts:
    """QStaticText per text in one font (a TextCache without its per-call font key and alignment
    flags, which cost more than the drawing in a paint of twenty labels)."""

    def __init__(self) -> None:
        self._key = ""
        self._items: dict[str, tuple[QtGui.QStaticText, float, float]] = {}

    def get(self, text: str, font: QtGui.QFont) -> tuple[QtGui.QStaticText, float, float]:
        hit = self._items.get(text)
        if hit is None:
            key = font.key()
            if key != self._key or len(self._items) > 4096:
                self._key, self._items = key, {}
            hit = self._items[text] = laid_out(text, font)
        return hit

    def clear(self) -> None:
        self._items = {}


Run = tuple[str, float, bool, "QtGui.QColor | None"]     # text, point size, bold, colour (None: the text's)


class CallOut(QtWidgets.QWidget):
    """Lines of text runs in a few sizes on a common baseline, hand-painted as RichLabel draws the
    same spans (left, vertically centred): a new value costs a few cached QStaticTexts and asks
    for no layout; its size hint comes from ``templates`` (the widest values it will show), so
    it changes only when the templates do (the compact arrangement), not with the numbers."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines: list[list[Run]] = []
        self._rows: list[tuple[float, float]] | None = None    # (ascent, descent) per line shown
        self.changes = 0                        # new contents so far (each repaints it)
        self._hint = QtCore.QSize(0, 0)
        self._fonts: dict[tuple[float, bool], tuple[QtGui.QFont, float, float]] = {}   # font, ascent, descent
        self._cache = TextCache()
        # it fills its own background: a repaint does not paint the panels behind it first
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def _font(self, size: float, bold: bool) -> tuple[QtGui.QFont, float, float]:
        key = (size, bold)
        hit = self._fonts.get(key)
        if hit is None:
            font = QtGui.QFont(self.font())
            font.setPointSizeF(size)
            if bold:
                font.setWeight(QtGui.QFont.Weight.DemiBold)
            fm = QtGui.QFontMetricsF(font)
            hit = self._fonts[key] = (font, fm.ascent(), fm.descent())
        return hit

    def _measure(self, lines: list[list[Run]]) -> tuple[float, list[tuple[float, float]]]:
        """-> (width, [(ascent, descent) per line])."""
        width, rows = 0.0, []
        for line in lines:
            w, asc, desc = 0.0, 0.0, 0.0
            for text, size, bold, _ in line:
                font, a, d = self._font(size, bold)
                w += self._cache.get(text, font)[1]
                asc, desc = max(asc, a), max(desc, d)
            width = max(width, w)
            rows.append((asc, desc))
        return width, rows

    def set_templates(self, templates: list[list[list[Run]]]) -> None:
        """The widest contents it will show (each a list of lines): its size hint covers them all."""
        w = h = 0.0
        for lines in templates:
            tw, rows = self._measure(lines)
            w, h = max(w, tw), max(h, sum(a + d + 1 for a, d in rows))
        hint = QtCore.QSize(int(np.ceil(w)), int(np.ceil(h)))
        if hint != self._hint:
            self._hint = hint
            self.updateGeometry()

    def set_lines(self, lines: list[list[Run]]) -> None:
        if lines == self._lines:
            return
        self._lines = lines
        self._rows = None
        self.changes += 1
        self.update()

    def text(self) -> str:
        """The plain text shown (one line per line)."""
        return "\n".join("".join(run[0] for run in line) for line in self._lines).replace("\u00a0", " ")

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        return self._hint

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        return self._hint

    def changeEvent(self, ev: QtCore.QEvent) -> None:  # noqa: N802 (Qt)
        if ev.type() == QtCore.QEvent.Type.FontChange:
            self._fonts.clear()
            self._rows = None
        super().changeEvent(ev)

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        p = QtGui.QPainter(self)
        p.fillRect(ev.rect(), self.palette().color(self.backgroundRole()))
        if not self._lines:
            p.end()
            return
        if self._rows is None:                  # measured once per new contents, not per paint
            self._rows = self._measure(self._lines)[1]
        rows = self._rows
        cr = QtCore.QRectF(self.contentsRect())
        y = cr.y() + max((cr.height() - sum(a + d + 1 for a, d in rows)) / 2, 0.0)
        p.setClipRect(cr)
        text = self.palette().color(self.foregroundRole())
        for line, (asc, desc) in zip(self._lines, rows):
            x = cr.x()
            for s, size, bold, colour in line:
                font, a, _ = self._font(size, bold)
                p.setFont(font)
                p.setPen(text if colour is None else colour)
                st, w, _ = self._cache.get(s, font)
                p.drawStaticText(QtCore.QPointF(x, y + asc - a), st)
                x += w
            y += asc + desc + 1
        p.end()


class ProbabilityBars(QtWidgets.QWidget):
    """One horizontal bar per class, label on the left, percentage on the right.

    The labels and empty tracks are drawn once into a pixmap (again after a resize, or a new font
    or palette); a new answer repaints only the rows whose bar, colour or text changed."""

    def __init__(self, labels: list[str], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels = labels
        self.probs: np.ndarray | None = None
        self.ghost: np.ndarray | None = None      # the unedited network's answer, beside an edited one's
        self.setMinimumHeight(12 * len(labels))
        self._text = FontTexts()
        self._static: QtGui.QPixmap | None = None
        self._geo: tuple[tuple[int, int, str], tuple[float, float, float, float]] | None = None
        self._rows: list[tuple[object, ...]] = []  # what each row shows (see _row_states)
        self.changes = 0                           # answers that changed what it shows (each repaints)
        # it fills its own background: a repaint does not paint the panels behind it first
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def _geometry(self) -> tuple[float, float, float, float]:
        """-> (row height, label column, percentage column, bar length) in pixels."""
        key = (self.width(), self.height(), self.font().key())
        if self._geo is None or self._geo[0] != key:
            fm = self.fontMetrics()
            lab_w, pct_w = fm.horizontalAdvance("00") + 8, fm.horizontalAdvance("100.0 %") + 8
            self._geo = (key, (self.height() / len(self.labels), lab_w, pct_w, max(self.width() - lab_w - pct_w, 10)))
        return self._geo[1]

    def _row_states(self) -> list[tuple[object, ...]]:
        """Per row what it shows: (bar pixels, colour, text, ghost pixels), on the pixel grid."""
        if self.probs is None:
            return [()] * len(self.labels)
        _, _, _, bar_w = self._geometry()
        probs = self.probs.tolist()
        order = np.argsort(-self.probs).tolist()
        ghost = None if self.ghost is None else self.ghost.tolist()
        return [(round(bar_w * v * 4), 0 if i == order[0] else 1 if i == order[1] else 2, f"{100 * v:.1f} %",
                 None if ghost is None else round(bar_w * ghost[i] * 4)) for i, v in enumerate(probs)]

    def _changed(self) -> None:
        """Repaint the rows whose state changed."""
        rows = self._row_states()
        if len(rows) != len(self._rows):
            self._rows = rows
            self.changes += 1
            self.update()
            return
        row = self.height() / len(self.labels)
        changed = False
        for i, (a, b) in enumerate(zip(rows, self._rows)):
            if a != b:
                changed = True
                self.update(0, int(i * row) - 1, self.width(), int(np.ceil(row)) + 3)
        self.changes += changed
        self._rows = rows

    def set_probs(self, probs: np.ndarray | None) -> None:
        self.probs = None if probs is None else np.asarray(probs, np.float32).copy()
        self._changed()

    def set_ghost(self, probs: np.ndarray | None) -> None:
        """Outline bars at these probabilities (the unedited network); None hides them."""
        self.ghost = None if probs is None else np.asarray(probs, np.float32).copy()
        self._changed()

    def changeEvent(self, ev: QtCore.QEvent) -> None:  # noqa: N802 (Qt)
        if ev.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.PaletteChange):
            self._text.clear()
            self._static = None
            self._rows = []
        super().changeEvent(ev)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        self._static = None
        self._rows = self._row_states()
        super().resizeEvent(ev)

    def _static_layer(self) -> QtGui.QPixmap:
        """Background, labels and empty tracks at this size."""
        dpr = self.devicePixelRatioF()
        pix = self._static
        if pix is not None and pix.size() == self.size() * dpr:
            return pix
        pix = QtGui.QPixmap(self.size() * dpr)
        pix.setDevicePixelRatio(dpr)
        pix.fill(self.palette().color(self.backgroundRole()))
        p = QtGui.QPainter(pix)
        p.setFont(self.font())
        p.setPen(self.palette().color(QtGui.QPalette.ColorRole.WindowText))
        row, lab_w, _, bar_w = self._geometry()
        top, h = row * 0.18, row * 0.64
        for i, label in enumerate(self.labels):
            y = i * row
            st, w, th = self._text.get(label, self.font())
            p.drawStaticText(QtCore.QPointF(lab_w - 6 - w, y + (row - th) / 2), st)     # right-aligned, centred
            p.fillRect(QtCore.QRectF(lab_w, y + top, bar_w, h), TRACK)
        p.end()
        self._static = pix
        return pix

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        p = QtGui.QPainter(self)
        static, dpr = self._static_layer(), self.devicePixelRatioF()
        # in bands of at most BAND rows: the raster engine splits a blit of more scanlines than
        # that over its thread pool when the clip is not a rectangle (a few rows repainted), and
        # waiting for the pool cost far more than the blit itself
        r = ev.rect()
        for y0 in range(r.top(), r.bottom() + 1, BAND):
            band = QtCore.QRectF(r.left(), y0, r.width(), min(BAND, r.bottom() + 1 - y0))
            p.drawPixmap(band, static, QtCore.QRectF(band.x() * dpr, band.y() * dpr, band.width() * dpr,
                                                     band.height() * dpr))
        if self.probs is None:
            p.end()
            return
        n = len(self.labels)
        row, lab_w, _, bar_w = self._geometry()
        r = ev.rect()
        first, last = max(int(r.top() / row) - 1, 0), min(int(r.bottom() / row) + 1, n - 1)
        probs = self.probs.tolist()
        order = np.argsort(-self.probs).tolist()
        ghost = None if self.ghost is None else self.ghost.tolist()
        text = self.palette().color(QtGui.QPalette.ColorRole.WindowText)
        p.setPen(text)
        font, get = self.font(), self._text.get
        top, h = row * 0.18, row * 0.64
        for i in range(first, last + 1):
            y = i * row
            v = probs[i]
            colour = TOP if i == order[0] else SECOND if i == order[1] else OTHER
            p.fillRect(QtCore.QRectF(lab_w, y + top, bar_w * v, h), colour)
            if ghost is not None:                              # the unedited network, outlined
                p.setPen(GHOST_PEN)
                p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
                p.drawRect(QtCore.QRectF(lab_w, y + top + 1, bar_w * ghost[i], h - 2))
                p.setPen(text)
            st, w, th = get(f"{100 * v:.1f} %", font)
            p.drawStaticText(QtCore.QPointF(lab_w + bar_w + 4, y + (row - th) / 2), st)
        p.end()


class ProbabilityPanel(QtWidgets.QFrame):
    """Top-2 call-out (label + confidence, large) above the per-class bars."""

    def __init__(self, labels: list[str] | None = None, parent: QtWidgets.QWidget | None = None,
                 title: str = "<b>prediction</b> · softmax over 10 classes") -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.labels = labels or [str(i) for i in range(10)]
        self.first = CallOut()
        self.first.setObjectName("topGuess")
        self.second = CallOut()
        self.second.setObjectName("secondGuess")
        self.bars = ProbabilityBars(self.labels)
        self.setToolTip("The network's answer: softmax of the last layer, one probability per\n"
                        "class (they sum to 100 %). The two most likely classes are called out.")
        self.compact = False       # short: the call-out sits beside the bars, in smaller type
        self._probs: np.ndarray | None = None
        self._sized_for = 0.0                      # the type scale the call-outs' size hints are for
        self._shown_key: tuple[int, int, int] | None = None
        self._shown: object = object()
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

    @property
    def shown(self) -> object:
        """What the panel shows: the same object until a new answer changes a bar, a percentage
        or a call-out (an answer that changes nothing on screen repaints nothing)."""
        key = (self.first.changes, self.second.changes, self.bars.changes)
        if key != self._shown_key:
            self._shown_key, self._shown = key, object()
        return self._shown

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        # what the compact arrangement needs: a short window keeps every bar readable
        return QtCore.QSize(super().minimumSizeHint().width(), 12 * len(self.labels) + 40)

    def set_probs(self, probs: np.ndarray | None) -> None:
        self._probs = probs
        self.bars.set_probs(probs)
        k = 0.6 if self.compact else 1.0           # type sizes in the compact arrangement
        if k != self._sized_for:                   # the widest texts each call-out will show
            self._sized_for = k
            widest = max(self.labels, key=len)
            self.first.set_templates([self._first(widest, 1.0, k), self._empty(k)])
            self.second.set_templates([self._second(widest, 1.0, k)])
        if probs is None:
            self.first.set_lines(self._empty(k))
            self.second.set_lines([])
            return
        a, b = np.argsort(-probs)[:2]
        self.first.set_lines(self._first(self.labels[a], float(probs[a]), k))
        self.second.set_lines(self._second(self.labels[b], float(probs[b]), k))

    @staticmethod
    def _empty(k: float) -> list[list[Run]]:
        return [[("draw a digit", round(24 * k), False, QtGui.QColor(MUTED))]]

    @staticmethod
    def _first(label: str, p: float, k: float) -> list[list[Run]]:
        return [[(label, round(40 * k), True, TOP_TEXT), (f"\u00a0{100 * p:.1f}\u00a0%", round(20 * k), False, None)]]

    @staticmethod
    def _second(label: str, p: float, k: float) -> list[list[Run]]:
        return [[("runner-up", round(11 * min(1.0, k + 0.2)), False, RUNNER_UP)],
                [(label, round(20 * k), True, SECOND_TEXT), (f"\u00a0{100 * p:.1f}\u00a0%", round(13 * k), False, None)]]


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
