"""MemoryPanel: how strongly each earlier character moves the prediction at the cursor.

A PaintedPlot: the bars are one array of rectangles filled in per frame and drawn in one call,
the character axis's labels (they change on every key) one glyph run assembled from kept
pieces (SlotTicks), and the title that names the predicted character is drawn over the cached
static layer, so a new title does not rebuild it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence.common import ACCENT, char_label, set_tip
from explorer.ui.sequence.glyphs import on_screen
from explorer.ui.sequence.live_axis import RectBuffer, SlotTicks, TitleCache
from explorer.ui.sequence.painted_image import LivePlot
from explorer.ui.widgets.painted_plot import PAD

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView

HELP = ("Memory: for the prediction read at the cursor (the correct next character, or the\n"
        "model's best guess at the end of the text), the squared gradient of its logit with\n"
        "respect to each earlier input vector x(s), computed by backpropagation through time\n"
        "with the engine's own LSTM/GRU/RNN backward. Scaled so the strongest is 1; the same\n"
        "numbers colour the text when 'Colour text by: memory' is chosen.")

N_TICKS = 40
SPAN = 60            # characters on the x axis (the lab asks for a 60-character memory window)
TITLE = "Memory: influence of earlier characters"
EMPTY = "put the cursor after a character"
BAR = 0.8            # a bar's width, in characters
GROW = 8             # the x axis grows by this many characters at a time


_LABELS: dict[str, str] = {}     # character -> its axis label (char_label), kept: 30-60 per key


def _label(c: str) -> str:
    if len(_LABELS) > 4096:
        _LABELS.clear()
    hit = _LABELS[c] = char_label(c)
    return hit


class MemoryPanel(LivePlot):
    """show_memory(start, weights (n,), chars, label, actual) — or None for the empty state."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        # the static layer keeps a blank title's room; the title itself changes per key (paint_overlay)
        super().__init__(" ", "character (newest right)", "relative influence", parent=parent)
        set_tip(self, HELP)
        mono = QtGui.QFont("DejaVu Sans Mono", 8)
        mono.setStyleHint(QtGui.QFont.StyleHint.Monospace)
        self.tick_font = mono
        self.set_y_range(0.0, 1.05)
        self.set_x_range(0.4 - SPAN, 0.6)
        self.axis = SlotTicks(self)             # the characters under the bars change on every key
        self.set_message(EMPTY)
        self._heading = TITLE
        self._heights = np.zeros(0)              # the bars shown, oldest first (the newest at x = 0)
        self.chars, self.start = "", 0
        self._rects: tuple[tuple, int] | None = None   # (geometry, how many bars _buffer holds)
        self._buffer = RectBuffer(SPAN)
        self._titles = TitleCache()
        self._frame: tuple | None = None         # (size and ranges, the bars' rows (left, -, width, -), the axis y)
        self._brush = QtGui.QColor(ACCENT)
        self._shown: tuple | None = None         # what show_memory was last given (with _weights)
        self._weights: np.ndarray | None = None
        self._values: tuple[tuple[int, int], tuple[float, ...]] | None = None   # _tick_values'
        self._feed: Callable[[], None] | None = None   # show_when_painted's: called at the next paint
        self._feeding = False

    def show_when_painted(self, feed: Callable[[], None]) -> None:
        """The next numbers are being computed elsewhere (the memory worker, while the frame's
        other panels paint): ``feed()``, which calls show_memory, is called when this panel
        paints (after the others: it is the lab's last panel) or what it shows is read."""
        self._feed = feed
        self.update()

    def feed_now(self) -> None:
        """Show the numbers show_when_painted was promised, now (nothing if none are due)."""
        if self._feed is not None:
            feed, self._feed = self._feed, None
            self._feeding = True
            try:
                feed()
            finally:
                self._feeding = False

    def update(self, *args: object) -> None:
        # fed as it paints, the paint under way draws the new numbers: no second paint is asked for
        if not getattr(self, "_feeding", False):          # (update() runs inside __init__ too)
            super().update(*args)

    @property
    def heights(self) -> np.ndarray:
        """The bars shown, oldest first (the newest at x = 0), relative to the strongest."""
        self.feed_now()
        return self._heights

    def title(self) -> str:
        self.feed_now()
        return self._heading

    def tick_labels(self) -> list[str]:
        """The characters the x axis names, newest first."""
        self.feed_now()
        return self.axis.labels()

    def show_memory(self, start: int, weights: np.ndarray | None, chars: str, label: str, actual: bool,
                    noun: str = "next char") -> None:
        if not self._feeding:
            self._feed = None                    # these numbers replace any still to come
        key = (start, chars, label, actual, noun)
        if key == self._shown and (weights is None and self._weights is None or weights is not None
                                   and self._weights is not None and np.array_equal(weights, self._weights)):
            return                               # the same frame again: nothing is re-set or repainted
        self._shown, self._weights = key, None if weights is None else np.array(weights)
        self._rects = None
        if weights is None or not len(weights):
            self._heights, self.chars = np.zeros(0), ""
            self._heading = TITLE                # not the last text's character: nothing is shown now
            self.set_message(EMPTY)
            self.axis.set([])
            self.update()
            return
        self.set_message("")
        n = len(weights)
        self._heights = weights / max(float(weights.max()), 1e-30)
        self.chars, self.start = chars, start
        # fixed while n <= SPAN; a transformer's window grows per key: the axis grows in steps of
        # GROW characters (a new range lays the bars, marks and labels out again)
        self.set_x_range(0.4 - max(-(-n // GROW) * GROW, SPAN), 0.6)
        step = max(1, -(-n // N_TICKS))
        known = _LABELS.get
        if len(chars) >= n:                      # (always, from the lab) a tick per step characters, newest first
            values = self._tick_values(n, step)
            self.axis.set(list(zip(values, [known(c) or _label(c) for c in chars[n - 1::-step]])), values)
        else:
            self.axis.set([(float(i + 1 - n), known(chars[i]) or _label(chars[i]))
                           for i in range(n - 1, -1, -step) if i < len(chars)])
        how = "actual" if actual else "predicted"
        shown = char_label(label) if noun == "next char" else label
        self._heading = f"Memory → {how} {noun} '{shown}'"   # short: fits a 1024 px window
        self.update()

    def _tick_values(self, n: int, step: int) -> tuple[float, ...]:
        """The ticks' x for n bars, a tick every ``step`` from the newest (x = 0): one tuple kept
        per (n, step), so the axis sees the same object while they hold."""
        key = (n, step)
        if self._values is None or self._values[0] != key:
            self._values = (key, tuple(float(i + 1 - n) for i in range(n - 1, -1, -step)))
        return self._values[1]

    def _bar_rects(self) -> int:
        """The bars in pixels, filled into _buffer (those flatter than half a pixel left out); how many."""
        n = len(self.heights)
        geometry = (self.data_rect().getRect(), self.x_range(), self.y_range(), n)
        if self._rects is None or self._rects[0] != geometry:
            # the bars' sides depend on the size and range alone: kept for the most bars asked for
            # (a transformer's window grows a bar per key), the newest n of them used
            sides = geometry[:-1]
            if self._frame is None or self._frame[0] != sides or len(self._frame[1]) < n:
                x = np.arange(1 - max(n, SPAN), 1, dtype=float)         # 0 = the newest, left of the cursor
                left, right = self.px_x(x - BAR / 2), self.px_x(x + BAR / 2)
                # a row per bar: its left side and width kept, its top and height written per frame
                rows = np.zeros((len(x), 4))
                rows[:, 0] = left
                rows[:, 2] = right - left
                self._frame = (sides, rows, float(self.px_y(0.0)))
            _, every, bottom = self._frame
            bars = every[len(every) - n:]
            r, (lo, hi) = self.data_rect(), self.y_range()
            tops = np.subtract(self._heights, lo)         # px_y's arithmetic, in place
            tops /= (hi - lo) or 1.0
            tops *= r.height()
            np.subtract(r.bottom(), tops, out=tops)
            bars[:, 1] = tops
            np.subtract(bottom, tops, out=bars[:, 3])
            seen = bars[:, 3] >= 0.5                      # a flatter bar is no pixel above the axis line
            k = int(np.count_nonzero(seen))
            np.compress(seen, bars, axis=0, out=self._buffer.rows(k))
            self._rects = (geometry, k)
        return self._rects[1]

    def bar_rects(self) -> list[QtCore.QRectF]:
        """The bars drawn, in widget pixels (left to right)."""
        n = self._bar_rects()
        return [QtCore.QRectF(*row) for row in self._buffer.rows(n).tolist()]

    def paint_data(self, p: QtGui.QPainter) -> None:
        if len(self.heights):
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(self._brush)
            self._buffer.draw(p, self._bar_rects())

    def paint_overlay(self, p: QtGui.QPainter) -> None:
        self.axis.paint(p)
        p.setFont(self.title_font)
        p.setPen(self.fg)
        self.texts.draw(p, self.data_rect().center().x(), PAD, self._heading, self.title_font,
                        QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignTop)

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        """What PaintedPlot's paint draws (the layer, the bars, the axes, the labels, the title),
        with the tick marks in the layer under the bars (once they hold) and the title a kept pixmap on the white
        band the static layer leaves for it; no clip around the bars (the x range holds them all,
        see show_memory, and they are no taller than the y range)."""
        self.feed_now()
        p = QtGui.QPainter(self)
        if not on_screen(p):                     # an export (SVG, PDF): the title and labels as text
            p.end()
            super().paintEvent(ev)
            return
        r = self.data_rect()
        key = self._axes_key(r)
        layer, ticks_in = self._under_data(r, key)
        layer, marked = self.axis.with_marks(layer)
        p.drawPixmap(0, 0, layer)
        self.paint_data(p)
        self._paint_axes(p, r, ticks=not ticks_in, key=key)
        self.axis.paint(p, marks=not marked)
        self._titles.draw(p, self, r.center().x(), PAD, self._heading, self.title_font)
        if self.message():
            p.setFont(self.label_font)
            p.setPen(self.muted)
            p.drawText(r, QtCore.Qt.AlignmentFlag.AlignCenter | QtCore.Qt.TextFlag.TextWordWrap, self.message())
        p.end()

    def tooltip_at(self, x: float, y: float) -> str | None:
        n = len(self.heights)
        i = int(np.floor(x + 0.5)) + n - 1                  # the bar under x (x = i + 1 - n)
        if not 0 <= i < n:
            return None
        c = self.chars[i] if i < len(self.chars) else "?"
        return f"character #{self.start + i} '{char_label(c)}': relative influence {self.heights[i]:.3f}"


def demo(session: SequenceSession, view: SequenceView) -> QtWidgets.QWidget:
    """The panel fed from one frame of a shipped model (``python -m explorer.ui.sequence.memory_panel``)."""
    w = MemoryPanel()
    m = view.memory
    if m is not None:
        w.show_memory(m.start, m.weights, view.memory_chars, m.label, m.actual, view.memory_noun)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
