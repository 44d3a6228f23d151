"""UnrolledPanel: the textbook unrolled RNN around the cursor, drawn with the real vectors."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.session.sequence_view import StepView
from explorer.ui.sequence.common import ACCENT, FG, MUTED, SELECT, char_label, set_tip
from explorer.ui.sequence.glyphs import CHARACTERS, Fragments, GlyphAtlas
from explorer.ui.sequence.live_axis import RectBuffer

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView

HELP = ("The network unrolled in time around the cursor: x(t) is the embedding of the character\n"
        "read at step t, h(t) = cell(x(t), h(t−1)) is the hidden state, and y(t) the prediction\n"
        "read from it. Bars are the real numbers (red > 0, blue < 0; the selected unit in dark\n"
        "blue). The same weights are used at every step — that is what makes it recurrent.")


_BIG = QtGui.QFont("DejaVu Sans Mono", 15)
_BIG.setBold(True)
_SMALL_MONO = QtGui.QFont("DejaVu Sans Mono", 8)
_AXIS_PEN = QtGui.QPen(QtGui.QColor("#cccccc"), 1)
_TOP_BAR = QtGui.QColor("#4a7fc1")
_PERCENTS = [f"{k}%" for k in range(101)]      # every label of an output's probability
_BAR_COLOURS = {"pos": QtGui.QColor(214, 80, 60), "neg": QtGui.QColor(60, 110, 200), "sel": QtGui.QColor(SELECT)}


class _Layout(NamedTuple):
    """The panel's layout for one size (see UnrolledPanel._layout)."""
    size: tuple[int, int]
    columns: list[QtCore.QRect]          # each column's card and a pixel around it
    origins: list[QtCore.QPointF]        # each column's card, top-left
    card: QtCore.QPointF                 # a card's width and height
    h_bars: QtCore.QRectF                # in a card: h's bars,
    x_at: QtCore.QPointF                 # the x box's corner and size,
    x_size: QtCore.QSizeF
    top: QtCore.QRectF                   # the top outputs


class _Records(NamedTuple):
    """Bars' QRectF records: the buffer Qt reads and its rows (x, y, width, height) to fill."""
    buffer: RectBuffer
    rows: np.ndarray


class UnrolledPanel(QtWidgets.QWidget):
    """show_steps([StepView | None] * 3, unit): x(t−1), x(t), x(t+1) → h → outputs."""

    MAX_BARS = 64

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        # its paint covers every pixel (a white static layer first): the widgets under it need no repaint
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.steps: list[StepView | None] = [None, None, None]
        self.unit: int | None = None
        self.cell = "RNN"
        self._static: tuple[tuple, QtGui.QPixmap] | None = None
        self._bar_frames: dict[tuple, tuple[float, float, _Records, _Records, QtCore.QLineF]] = {}   # see _bar_frame
        self._top_bars = RectBuffer(8)
        self._top_frame: tuple | None = None                     # see _top
        self._top_labels = Fragments()
        self._laid_out: _Layout | None = None
        self._prints: list[tuple | None] = [None, None, None]      # the shown steps' fingerprints
        self._cards: dict[tuple, QtGui.QPixmap] = {}               # the latest steps' cards, oldest first
        self._inputs: dict[tuple, QtGui.QPixmap] = {}              # x boxes per character and embedding
        self.big_glyphs = GlyphAtlas(_BIG, FG, warm=CHARACTERS)
        self.small_glyphs = GlyphAtlas(_SMALL_MONO, FG, warm=CHARACTERS + _PERCENTS)
        self.setMinimumSize(280, 240)            # the lab must fit an 800 px wide screen
        set_tip(self, HELP)

    def show_steps(self, steps: list[StepView | None], unit: int | None, cell: str) -> None:
        """Repaints only what changed: nothing for the same frame again, the columns whose step
        changed when the rest is as it was (typing at the end of the text: t−1 and t, not the
        "not typed yet" column)."""
        prints = [None if s is None else _fingerprint(s) for s in steps]
        if unit == self.unit and cell == self.cell and prints == self._prints:
            return
        old = self._prints
        same_frame = (unit == self.unit and cell == self.cell and len(prints) == len(old) == 3
                      and [s is None for s in prints] == [s is None for s in old])
        self.steps, self.unit, self.cell, self._prints = steps, unit, cell, prints
        changed = [k for k in range(3) if prints[k] != old[k]] if same_frame else []
        if not same_frame or len(changed) == 3:
            self.update()
            return
        columns = self._layout().columns
        self.update(columns[min(changed)].united(columns[max(changed)]))

    def _column_rect(self, k: int) -> QtCore.QRect:
        """Where step k's card is blitted (see _card), a pixel of margin around it."""
        return QtCore.QRect(self._layout().columns[k])

    def _column_rect_now(self, k: int) -> QtCore.QRect:
        col_w, box_h, y_pos = self._geometry()
        top_left = self._boxes(k)["y"].topLeft()
        size = QtCore.QSizeF(col_w - 16, y_pos["x"] + box_h - y_pos["y"])
        return QtCore.QRectF(top_left, size).adjusted(-1, -1, 2, 2).toAlignedRect()

    # -- painting --------------------------------------------------------------------
    def _geometry(self) -> tuple[float, float, dict[str, float]]:
        """Column width, box height and the top of each row (y, h, x)."""
        col_w = (self.width() - 60) / 3
        top_y, box_h = 28.0, (self.height() - 28 - 3 * 26) / 3
        return col_w, box_h, {"y": top_y, "h": top_y + box_h + 26, "x": top_y + 2 * (box_h + 26)}

    def _boxes(self, k: int) -> dict[str, QtCore.QRectF]:
        col_w, box_h, y_pos = self._geometry()
        x0 = float(round(40 + k * col_w + 8))      # whole pixels: a step's card looks the same in every column
        return {r: QtCore.QRectF(x0, y_pos[r], col_w - 16, box_h) for r in ("y", "h", "x")}

    def _layout(self) -> _Layout:
        """Where the cards go and, in a card's own coordinates, where its parts are: worked out
        once per size (a paint asks for them on every key)."""
        size = (self.width(), self.height())
        if self._laid_out is None or self._laid_out.size != size:
            boxes = [self._boxes(k) for k in range(3)]
            origin = boxes[0]["y"].topLeft()
            local = {r: rect.translated(-origin) for r, rect in boxes[0].items()}
            col_w, box_h, y_pos = self._geometry()
            self._laid_out = _Layout(size, [self._column_rect_now(k) for k in range(3)], [b["y"].topLeft() for b in boxes],
                                     QtCore.QPointF(col_w - 16, y_pos["x"] + box_h - y_pos["y"]),
                                     local["h"].adjusted(6, 16, -6, -6), local["x"].topLeft(), local["x"].size(),
                                     local["y"].adjusted(6, 16, -6, -4))
        return self._laid_out

    def _static_layer(self) -> QtGui.QPixmap:
        """Title, boxes, their names and the arrows: they change only with the size, the cell
        and which steps exist, so they are drawn once into a pixmap and blitted per key."""
        dpr = self.devicePixelRatioF()
        present = tuple(s is not None for s in self.steps)
        key = (self.width(), self.height(), dpr, self.cell, present)
        if self._static is not None and self._static[0] == key:
            return self._static[1]
        pm = QtGui.QPixmap(int(self.width() * dpr), int(self.height() * dpr))
        pm.setDevicePixelRatio(dpr)
        pm.fill(QtGui.QColor("white"))
        p = QtGui.QPainter(pm)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        title = QtGui.QFont("DejaVu Sans", 10)
        title.setBold(True)
        p.setFont(title)
        p.setPen(QtGui.QColor(FG))
        p.drawText(QtCore.QRectF(0, 4, self.width(), 18), QtCore.Qt.AlignmentFlag.AlignHCenter,
                   f"Unrolled {self.cell} around the cursor")
        if not any(present):
            p.setPen(QtGui.QColor(MUTED))
            p.drawText(QtCore.QRectF(self.rect()), QtCore.Qt.AlignmentFlag.AlignCenter,
                       "type something to unroll the network")
        else:
            for k in range(3):
                self._paint_frame(p, k, present[k])
        p.end()
        self._static = (key, pm)
        return pm

    def _paint_frame(self, p: QtGui.QPainter, k: int, present: bool) -> None:
        """Step k's three boxes, their names and the arrows into and out of them."""
        boxes = self._boxes(k)
        label_t = ("t−1", "t", "t+1")[k]
        for rect in boxes.values():
            p.setPen(QtGui.QPen(QtGui.QColor(ACCENT if k == 1 else "#b8b8b8"), 2 if k == 1 else 1))
            p.setBrush(QtGui.QColor(252, 252, 252) if present else QtGui.QColor(240, 240, 240))
            p.drawRoundedRect(rect, 6, 6)
        p.setFont(QtGui.QFont("DejaVu Sans", 8))
        p.setPen(QtGui.QColor(FG))
        for r, rect in boxes.items():
            p.drawText(rect.adjusted(5, 2, 0, 0), QtCore.Qt.AlignmentFlag.AlignLeft, f"{r}({label_t})")
        if not present:
            p.setPen(QtGui.QColor(MUTED))
            # wrapped: a narrow box (a small window) shows the words whole, on two lines
            p.drawText(boxes["h"].adjusted(3, 0, -3, 0), int(QtCore.Qt.AlignmentFlag.AlignCenter) | int(QtCore.Qt.TextFlag.TextWordWrap),
                       "not typed yet" if k == 2 else "start")
        p.setPen(QtGui.QPen(QtGui.QColor(MUTED), 1.5))
        self._arrow(p, boxes["x"].center().x(), boxes["x"].top(), boxes["x"].center().x(), boxes["h"].bottom())
        self._arrow(p, boxes["h"].center().x(), boxes["h"].top(), boxes["h"].center().x(), boxes["y"].bottom())
        left = 12 if k == 0 else boxes["h"].left() - 16
        self._arrow(p, left, boxes["h"].center().y(), boxes["h"].left(), boxes["h"].center().y())

    def _card(self, k: int, step: StepView, fingerprint: tuple | None = None) -> QtGui.QPixmap:
        """Step ``step``'s numbers (bars, character, top outputs) as a transparent pixmap over
        its column's three boxes. Every column has the same size, so when a key moves step t to
        t−1 its card is blitted again, not drawn: a key draws one new card (into the pixmap of
        the card it pushes out of the kept six)."""
        lay = self._layout()
        size = lay.card
        dpr = self.devicePixelRatioF()
        unit = self.unit if self.unit is not None and 0 <= self.unit < min(len(step.h), self.MAX_BARS) else None
        fingerprint = fingerprint or _fingerprint(step)
        key = (fingerprint, unit, size.x(), size.y(), dpr)
        pm = self._cards.get(key)
        if pm is not None:
            return pm
        width, height = int(np.ceil(size.x() * dpr)) + 1, int(np.ceil(size.y() * dpr)) + 1
        pm = None
        if len(self._cards) >= 6:
            pm = self._cards.pop(next(iter(self._cards)))
            if (pm.width(), pm.height(), pm.devicePixelRatio()) != (width, height, dpr):
                pm = None
        if pm is None:
            pm = QtGui.QPixmap(width, height)
            pm.setDevicePixelRatio(dpr)
        pm.fill(QtCore.Qt.GlobalColor.transparent)
        p = QtGui.QPainter(pm)                    # (no antialiasing: what _bars expects)
        self._bars(p, [(lay.h_bars, step.h, self.unit)])
        p.drawPixmap(lay.x_at, self._input_card(step, lay.x_size, fingerprint))
        self._top(p, lay.top, step.top)
        p.end()
        self._cards[key] = pm
        return pm

    def _input_card(self, step: StepView, size: QtCore.QSizeF, fingerprint: tuple | None = None) -> QtGui.QPixmap:
        """The x box's numbers: the character and its embedding's bars. They depend on the
        character alone, so they are drawn once per character (and size) and blitted after.
        (``fingerprint``: the step's, which holds the embedding's bytes already.)"""
        dpr = self.devicePixelRatioF()
        fingerprint = fingerprint or _fingerprint(step)
        key = (step.char, *fingerprint[6:], size.width(), size.height(), dpr)       # x's dtype, shape, bytes
        hit = self._inputs.get(key)
        if hit is not None:
            return hit
        pm = QtGui.QPixmap(int(np.ceil(size.width() * dpr)) + 1, int(np.ceil(size.height() * dpr)) + 1)
        pm.setDevicePixelRatio(dpr)
        pm.fill(QtCore.Qt.GlobalColor.transparent)
        p = QtGui.QPainter(pm)
        box = QtCore.QRectF(QtCore.QPointF(0, 0), size)
        self._bars(p, [(box.adjusted(34, 16, -6, -6), step.x, None)])
        self.big_glyphs.draw(p, [19.0], [16 + (size.height() - 20) / 2], [char_label(step.char)], anchor=(0.5, 0.5))
        p.end()
        if len(self._inputs) > 256:
            self._inputs.clear()
        self._inputs[key] = pm
        return pm

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        """The cached frame, then each step's card (see _card)."""
        p = QtGui.QPainter(self)
        p.drawPixmap(0, 0, self._static_layer())
        at = self._layout().origins
        for k, (s, fingerprint) in enumerate(zip(self.steps, self._prints, strict=True)):
            if s is not None:
                p.drawPixmap(at[k], self._card(k, s, fingerprint))
        p.end()

    def _arrow(self, p: QtGui.QPainter, x1: float, y1: float, x2: float, y2: float) -> None:
        p.drawLine(QtCore.QPointF(x1, y1), QtCore.QPointF(x2, y2))
        v = np.array([x2 - x1, y2 - y1], float)
        v /= max(np.hypot(*v), 1e-6)
        n = np.array([-v[1], v[0]])
        tip = np.array([x2, y2])
        a, b = tip - 7 * v + 4 * n, tip - 7 * v - 4 * n
        p.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(*tip), QtCore.QPointF(*a), QtCore.QPointF(*b)]))

    def _bars(self, p: QtGui.QPainter, jobs: list[tuple[QtCore.QRectF, np.ndarray, int | None]]) -> None:
        """Per job (rect, v, unit) one bar per entry of v (red > 0, blue < 0, the selected unit dark
        blue) around the rect's middle line, scaled to max(1, |v|max): every bar's part above the
        line in one drawRects call, below it in another (a bar of the other sign is empty there),
        from two arrays of QRectF records kept per rect and count (all but their heights, and the
        tops above the line, set once: a key writes three columns); then the selected unit's bar
        over its own. The painter draws without antialiasing (bars are axis-aligned): a card's or
        an input box's fresh painter."""
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        lines = []
        for rect, values, unit in jobs:
            v = np.asarray(values, float)[: self.MAX_BARS]
            n = len(v)
            if not n:
                continue
            mid, bw, above, below, line = self._bar_frame(rect, n)
            hgt = v * (rect.height() / 2 / max(1.0, float(np.abs(v).max())))
            up = np.maximum(hgt, 0.0, out=above.rows[:, 3])     # the heights above the line, in place
            np.subtract(mid, up, out=above.rows[:, 1])
            np.subtract(up, hgt, out=below.rows[:, 3])         # -hgt below the line, 0 for a positive bar
            p.setBrush(_BAR_COLOURS["pos"])
            above.buffer.draw(p, n)
            p.setBrush(_BAR_COLOURS["neg"])
            below.buffer.draw(p, n)
            if unit is not None and 0 <= unit < n:
                h = float(hgt[unit])
                p.setBrush(_BAR_COLOURS["sel"])
                p.drawRect(QtCore.QRectF(rect.left() + unit * bw, mid - max(h, 0.0), max(bw - 0.5, 0.8), abs(h)))
            lines.append(line)
        p.setPen(_AXIS_PEN)
        p.drawLines(lines)

    def _bar_frame(self, rect: QtCore.QRectF, n: int) -> tuple[float, float, _Records, _Records, QtCore.QLineF]:
        """n bars' records for ``rect``: the middle line's y, a bar's pitch, the records above the
        line and below it (x and width filled in, the tops below at the line) and the line;
        kept per (rect, n)."""
        key = (rect.left(), rect.top(), rect.width(), rect.height(), n)
        hit = self._bar_frames.get(key)
        if hit is None:
            if len(self._bar_frames) > 16:
                self._bar_frames.clear()
            bw, mid = rect.width() / n, rect.center().y()
            parts = []
            for _ in range(2):
                buffer = RectBuffer(n)
                rows = buffer.rows(n)
                rows[:, 0] = rect.left() + np.arange(n) * bw
                rows[:, 2] = max(bw - 0.5, 0.8)
                rows[:, 1] = mid
                parts.append(_Records(buffer, rows))
            hit = self._bar_frames[key] = (mid, bw, parts[0], parts[1], QtCore.QLineF(rect.left(), mid, rect.right(), mid))
        return hit

    def _top(self, p: QtGui.QPainter, rect: QtCore.QRectF, top: list[tuple[str, float]]) -> None:
        """The top outputs: a bar per probability, the labels at the left and the percentages at
        the right, all labels in one atlas blit. What depends on the place only (the bars' x, y and
        height, the labels' rows) is set once per rect and count: a key writes the bars' widths
        and places the labels (a few numbers: plain Python, not numpy)."""
        if not top:
            return
        k = len(top)
        frame = self._top_frame
        if frame is None or frame[0] != (rect.left(), rect.top(), rect.width(), rect.height(), k):
            y0, left, lh = rect.top(), rect.left(), rect.height() / k
            self._top_bars.rows(k)[:] = [[left + 54, y0 + i * lh + lh * 0.2, 0.0, lh * 0.6] for i in range(k)]
            ys = [y0 + lh * (i + 0.5) for i in range(k)]
            frame = self._top_frame = ((rect.left(), rect.top(), rect.width(), rect.height(), k),
                                       rect.width() - 96, [left] * k, np.array(ys + ys), rect.right())
        _, scale, lefts, ys, right = frame
        self._top_bars.rows(k)[:, 2] = [scale * prob for _, prob in top]
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(_TOP_BAR)
        self._top_bars.draw(p, k)
        percents = [_PERCENTS[round(100 * prob)] if 0 <= prob <= 1 else f"{100 * prob:.0f}%" for _, prob in top]
        size = self.small_glyphs.size
        labels = [char_label(label) if len(label) == 1 else label[:8] for label, _ in top]
        self.small_glyphs.place(lefts + [right - size(t)[0] for t in percents], ys, labels + percents,
                                anchor=(0.0, 0.5), dpr=p.device().devicePixelRatioF(), out=self._top_labels).blit(p)


def _fingerprint(step: StepView) -> tuple:
    """What a step's card shows, as one hashable value: its place, character, top outputs and
    the bytes of its vectors (two frames' steps are the same card when these are equal)."""
    h, x = np.asarray(step.h), np.asarray(step.x)
    return (step.step, step.char, tuple(step.top), h.dtype.str, h.shape, h.tobytes(), x.dtype.str, x.shape, x.tobytes())


def demo(session: SequenceSession, view: SequenceView) -> QtWidgets.QWidget:
    """The panel fed from one frame of a shipped model (``python -m explorer.ui.sequence.unrolled``)."""
    w = UnrolledPanel()
    w.show_steps(view.steps, view.unit, view.cell)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
