"""What the model predicts: top-5 at the cursor (PredictionsPanel) and ProbStrip under the text."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence.common import (
    ACCENT,
    FG,
    MONO,
    MUTED,
    char_label,
    probability_colour,
    set_tip,
)
from explorer.ui.sequence.glyphs import CHARACTERS, Fragments, GlyphAtlas, on_screen
from explorer.ui.widgets.painted_plot import PaintedPlot

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


class _Geometry(NamedTuple):
    """What the panel paints for its bars, in widget pixels: placed once per change of the bars,
    of the layout or of the device, blitted by every paint."""

    key: tuple
    bars: list[tuple[QtCore.QRectF, QtGui.QColor]]
    clamped: list[QtCore.QRectF]
    values: list[str]
    value_x: list[float]
    row_y: list[float]
    value_glyphs: Fragments | None               # the percentages (None on a vector device)
    label_glyphs: Fragments | None               # the rows' characters


class PredictionsPanel(PaintedPlot):
    """show_top(items [(label, p, id)], actual_id | None): horizontal bars, best on top."""

    LABEL_W = 41                                   # px left of the plot for the labels (as pyqtgraph's 44 px axis)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Next character at the cursor", "probability", None, HELP_TOP, parent)
        self.show_axes(x=True, y=False)            # the rows are labelled by their characters (paint_overlay)
        self.set_x_range(0.0, 1.0)
        self.set_y_range(-0.6, K - 0.4, inverted=True)
        self.set_message("no prediction yet")
        self.char_glyphs = GlyphAtlas(QtGui.QFont("DejaVu Sans Mono", 12), FG, warm=CHARACTERS)
        self.value_glyphs = GlyphAtlas(self.font(), FG, warm=list("0123456789.%"))
        self.value_glyphs.expect_runs([f"{k / 10:.1f}%" for k in range(1001)], (0.0, 0.5))   # every percentage
        self.labels: list[str] = []                # the rows' labels, best first
        self.widths = np.zeros(K)                  # the bars' probabilities (0 past the items)
        self.actual_row: int | None = None         # the row of the real next character (green)
        self.clamped_widths: np.ndarray | None = None   # the Write pane's clamp: the same labels' probabilities
        self._version = 0                          # bumped when the bars change: _geometry is made again
        self._geo: _Geometry | None = None
        self._rows_kept: tuple[tuple, tuple[float, float, list[float], float]] | None = None   # _rows_geometry's
        self._values_placed, self._labels_placed = Fragments(), Fragments()   # buffers reused frame after frame
        self._rows_area: tuple[tuple[float, float], QtCore.QRect] | None = None   # per layout and rows' range

    def data_rect(self) -> QtCore.QRectF:
        """The plot area, right of the labels' column."""
        return super().data_rect().adjusted(self.LABEL_W, 0, 0, 0)

    def show_top(self, items: list[tuple[str, float, int]], actual: int | None,
                 clamped: np.ndarray | None = None) -> None:
        """clamped: (len(items),) the same labels' probabilities with the Write pane's unit clamped.
        The same bars again schedule no repaint."""
        n = min(len(items), K)
        widths = np.zeros(K)
        widths[:n] = [p for _, p, _ in items[:n]]
        labels = [char_label(lab) if len(lab) == 1 else lab for lab, _, _ in items[:n]]
        row = next((i for i in range(n) if items[i][2] == actual), None)
        clamp = None
        if clamped is not None and n:
            clamp = np.zeros(K)
            clamp[:n] = np.asarray(clamped, float)[:n]
        same_clamp = (clamp is None and self.clamped_widths is None) or (
            clamp is not None and self.clamped_widths is not None and np.array_equal(clamp, self.clamped_widths))
        if labels == self.labels and row == self.actual_row and np.array_equal(widths, self.widths) and same_clamp:
            return
        self.labels, self.widths, self.actual_row, self.clamped_widths = labels, widths, row, clamp
        self._version += 1
        self.set_message("" if n else "no prediction yet")
        self.update(self.rows_area())

    def rows_area(self) -> QtCore.QRect:
        """Where the bars, percentages and row labels are painted (their rows, the labels' column
        left of the plot area): the title and the probability axis around them stay as they are."""
        rows = self.y_range()
        if self._rows_area is not None and self._rows_area[0] == rows:   # (dropped with the layout)
            return self._rows_area[1]
        r, (y_lo, y_hi) = self.data_rect(), rows
        half = self.char_glyphs.size("M")[1] / 2 + 3     # a label's half box and its padding
        dy = (y_hi - y_lo) or 1.0
        first, last = (r.top() + (row - y_lo) / dy * r.height() for row in (0, K - 1))
        top, bottom = min(r.top(), first - half), max(r.bottom(), last + half)
        area = QtCore.QRectF(0, top, r.right() + 1, bottom - top).toAlignedRect().adjusted(0, -1, 1, 1)
        self._rows_area = (rows, area)
        return area

    def invalidate(self) -> None:
        self._rows_area = None                           # (the layout may have changed: titles, axes, ranges)
        super().invalidate()

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        self._rows_area = None
        super().resizeEvent(ev)

    def changeEvent(self, ev: QtCore.QEvent) -> None:  # noqa: N802 (Qt)
        self._rows_area = None                           # (a font or style change lays the plot out again)
        super().changeEvent(ev)

    def value_labels(self) -> list[tuple[str, float]]:
        """Each row's percentage and the x (px) where it starts: right of its bar (never past 83%)."""
        g = self._geometry(1.0, False)
        return list(zip(g.values, g.value_x, strict=True))

    def _geometry(self, dpr: float, glyphs: bool = True) -> _Geometry:
        """What paint_data and paint_overlay draw, in pixels (px_x / px_y's arithmetic in plain
        floats: five bars are cheaper without numpy); with ``glyphs`` the percentages and the
        labels placed as glyph fragments for a device with ``dpr``."""
        r, (x_lo, x_hi), (y_lo, y_hi) = self.data_rect(), self.x_range(), self.y_range()
        key = (self._version, r, x_lo, x_hi, y_lo, y_hi, dpr, glyphs)
        g = self._geo
        if g is not None and g.key == key:
            return g
        n = len(self.labels)
        x0, sx, mids, half = self._rows_geometry(key[1:6])
        widths = self.widths[:n].tolist()

        def rects(ws: list[float]) -> list[QtCore.QRectF]:
            return [QtCore.QRectF(x0, mids[i] - half, sx * w, 2 * half) for i, w in enumerate(ws)]
        values = [f"{100 * w:.1f}%" for w in widths]
        value_x = [x0 + sx * (min(w, 0.82) + 0.01) + 4 for w in widths]
        row_y = mids[:n]
        self._geo = _Geometry(
            key, [(b, _ACTUAL if i == self.actual_row else _OTHER) for i, b in enumerate(rects(widths))],
            rects(self.clamped_widths[:n].tolist()) if self.clamped_widths is not None else [],
            values, value_x, row_y,
            self.value_glyphs.place_runs(value_x, row_y, values, (0.0, 0.5), dpr, self._values_placed) if glyphs else None,
            self.char_glyphs.place(r.left() - 6, row_y, self.labels, None, (1.0, 0.5), dpr, self._labels_placed)
            if glyphs else None)
        return self._geo

    def _rows_geometry(self, layout: tuple) -> tuple[float, float, list[float], float]:
        """Where bars start (x0), the px of probability 1 (sx), the rows' middles and the bars'
        half height: px_x / px_y's arithmetic in plain floats, once per layout (r and ranges)."""
        kept = self._rows_kept
        if kept is not None and kept[0] == layout:
            return kept[1]
        r, x_lo, x_hi, y_lo, y_hi = layout
        ax, dy, top, h = r.width() / ((x_hi - x_lo) or 1.0), (y_hi - y_lo) or 1.0, r.top(), r.height()
        x0 = r.left() + (0.0 - x_lo) * ax
        sx = (r.left() + (1.0 - x_lo) * ax) - x0
        mids = [top + (i - y_lo) / dy * h for i in range(K)]
        half = abs((top + (0.35 - y_lo) / dy * h) - mids[0])
        self._rows_kept = (layout, (x0, sx, mids, half))
        return x0, sx, mids, half

    def paint_static(self, p: QtGui.QPainter) -> None:
        r = self.data_rect()
        p.setPen(self.muted)                       # the left axis line (its labels are the characters)
        p.drawLine(QtCore.QLineF(r.left(), r.top(), r.left(), r.bottom()))

    def _device(self, p: QtGui.QPainter) -> tuple[float, bool]:
        """The painter's device pixel ratio, and whether it rasterizes (glyphs are blitted)."""
        device = p.device()
        return (device.devicePixelRatioF() if device is not None else 1.0), on_screen(p)

    def paint_data(self, p: QtGui.QPainter) -> None:
        if not self.labels:
            return
        dpr, raster = self._device(p)
        g = self._geometry(dpr, raster)
        for rect, colour in g.bars:
            p.fillRect(rect, colour)
        if g.clamped:
            p.setPen(_CLAMP_PEN)
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawRects(g.clamped)
        if g.value_glyphs is not None:
            g.value_glyphs.blit(p)
        else:                                      # SVG, PDF: the percentages as text
            self.value_glyphs.draw_runs(p, g.value_x, g.row_y, g.values, anchor=(0.0, 0.5))

    def paint_overlay(self, p: QtGui.QPainter) -> None:
        g = self._geo                                    # (placed by this paint's paint_data)
        if self.labels and g is not None:
            if g.label_glyphs is not None:
                g.label_glyphs.blit(p)
            else:
                self.char_glyphs.draw(p, self.data_rect().left() - 6, g.row_y, self.labels, anchor=(1.0, 0.5))

    def tooltip_at(self, x: float, y: float) -> str | None:
        i = int(round(y))
        if not 0 <= i < len(self.labels) or abs(y - i) > 0.4:
            return None
        text = f"'{self.labels[i]}': {100 * self.widths[i]:.1f}%"
        if self.clamped_widths is not None:
            text += f" (with the unit clamped: {100 * self.clamped_widths[i]:.1f}%)"
        if i == self.actual_row:
            text += " — the real next character"
        return text


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
        self._tiles: tuple[tuple[int, int], np.ndarray] | None = None
        self._cells: tuple[tuple, QtGui.QImage, np.ndarray] | None = None    # the cells image, per size
        self._cells_current = False                      # whether it shows the cells set last
        self.glyphs = GlyphAtlas(self.font_, FG, warm=CHARACTERS)
        self._labels: dict[str, str] = {}
        self._centre_cache: tuple[tuple[int, int], np.ndarray] | None = None
        self._cursor_pen = QtGui.QPen(QtGui.QColor(ACCENT), 2)
        self._outline_cache: tuple[tuple[int, int], QtGui.QPixmap] | None = None
        self._glyphs_placed = Fragments()                # the cells' glyphs, a buffer reused paint after paint
        set_tip(self, HELP_STRIP)

    def capacity(self) -> int:
        return max((self.width() - 110) // self.cell, 1)

    def set_cells(self, chars: str, probs: np.ndarray, cursor_index: int, unknown: np.ndarray) -> None:
        """chars and probs (n,) for consecutive characters; cursor_index: cell left of the cursor.
        The same cells again schedule no repaint."""
        if (chars == self.chars and cursor_index == self.cursor_index and np.array_equal(probs, self.probs, equal_nan=True)
                and np.array_equal(unknown, self.unknown)):
            return
        cells = max(len(chars), len(self.chars))
        # the caption (the title, or the empty strip's name) as last painted
        caption_same = self._static is not None and self._static[0][3] == (self.title if chars else "")
        self.chars, self.probs, self.cursor_index, self.unknown = chars, probs, cursor_index, unknown
        self._cells_current = False
        if caption_same:                                 # the cells' band: not the caption and the legend
            self.update(QtCore.QRect(0, 0, 4 + cells * self.cell + 3, self.height() - 28 + 4 + 3))
        else:
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

    def _tile_columns(self, bar_h: int) -> np.ndarray:
        """(bar_h, 102) RGB32: the column of a cell's slot and bar for P = k/100 (k ≤ 100; 101:
        P unknown, the slot alone). Made once per height."""
        if self._tiles is None or self._tiles[0] != (bar_h, self.cell):
            k = np.minimum(np.arange(102), 100)
            top = bar_h - np.rint(np.maximum(2.0, bar_h * k / 100))            # the bar's first row
            top[101] = bar_h
            rows = np.arange(bar_h)[:, None]
            column = np.where(rows >= top[None, :], _PROB_TABLE[k][None, :], _SLOT_ARGB).astype(np.uint32)
            self._tiles = ((bar_h, self.cell), column)
        return self._tiles[1]

    def cells_image(self, n: int, bar_h: int) -> QtGui.QImage:
        """The n cells' slots and bars as one RGB32 image (n × cell px wide, bar_h px tall): each
        cell its P's column (P rounded to 1/100, the colour table's step) repeated across the
        cell, then the white gap; made once per change of the cells, reused by repaints. Its
        pixels are written in place into a buffer (and image) kept while the size holds."""
        key = (n, bar_h, self.cell)
        if self._cells is not None and self._cells[0] == key and self._cells_current:
            return self._cells[1]
        if self._cells is None or self._cells[0] != key:
            buffer = np.empty((bar_h, n * self.cell), np.uint32)
            img = QtGui.QImage(buffer.data, n * self.cell, bar_h, buffer.strides[0], QtGui.QImage.Format.Format_RGB32)
            self._cells = (key, img, buffer)             # buffer: the image's pixels, kept alive with it
        _, img, buffer = self._cells
        # each cell's tile: P rounded to 1/100 (101: unknown); plain floats, there are ~30 cells
        probs = np.asarray(self.probs[:n], float).tolist()
        shade = [101 if not p == p else round(min(max(p, 0.0), 1.0) * 100) for p in probs] + [101] * (n - len(probs))
        # (each cell's column broadcast across it, then the gaps: numpy's fancy indexing of whole
        # tiles walked every pixel through its index machinery)
        buffer.reshape(bar_h, n, self.cell)[:] = self._tile_columns(bar_h)[:, shade, None]
        buffer[:, self.cell - 1::self.cell] = _WHITE_ARGB
        self._cells_current = True
        return img

    def _outline(self, w: int, bar_h: int) -> QtGui.QPixmap:
        """The cursor's outline (a 2 px pen around a w × bar_h cell) on a transparent pixmap,
        _OUTLINE_PAD px around the cell: stroked once per size, blitted on each paint (a wide
        pen's stroke is a path filled anew on every call; the same whole-pixel outline moved
        by whole pixels is the same pixels)."""
        if self._outline_cache is None or self._outline_cache[0] != (w, bar_h):
            pm = QtGui.QPixmap(w + 2 * _OUTLINE_PAD, bar_h + 2 * _OUTLINE_PAD)
            pm.fill(QtCore.Qt.GlobalColor.transparent)
            p = QtGui.QPainter(pm)
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.setPen(self._cursor_pen)
            p.drawRect(QtCore.QRectF(_OUTLINE_PAD, _OUTLINE_PAD, w, bar_h))
            p.end()
            self._outline_cache = ((w, bar_h), pm)
        return self._outline_cache[1]

    def _centres(self, n: int) -> np.ndarray:
        """The x of the first n cells' centres (made once per count and cell size)."""
        if self._centre_cache is None or self._centre_cache[0] != (n, self.cell):
            self._centre_cache = ((n, self.cell), 4 + (self.cell - 1) / 2 + self.cell * np.arange(n))
        return self._centre_cache[1]

    def _label(self, c: str) -> str:
        """What a cell shows for c: a visible sign for blanks, '?' for the unprintable."""
        label = char_label(c) if c in " \n\t" or c.isprintable() else "?"
        self._labels[c] = label
        return label

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        """Per key: the cached caption and legend, the cells' slots and bars as one image, the
        unknown cells' hatching, the cursor's outline and every glyph in one call."""
        p = QtGui.QPainter(self)
        p.drawPixmap(0, 0, self._static_layer())
        n = len(self.chars)
        if n:
            top, bar_h, w = 4, self.height() - 28, self.cell - 1
            p.drawImage(QtCore.QPointF(4, top), self.cells_image(n, bar_h))
            if np.count_nonzero(self.unknown[:n]):
                for i in np.flatnonzero(np.asarray(self.unknown[:n], bool)).tolist():
                    p.fillRect(QtCore.QRectF(4 + i * self.cell, top, w, bar_h), _HATCH)
            raster = on_screen(p)
            if 0 <= self.cursor_index < n:
                x = 4 + self.cursor_index * self.cell
                if raster and self.devicePixelRatioF() == 1.0:   # the outline as drawn once
                    p.drawPixmap(x - _OUTLINE_PAD, top - _OUTLINE_PAD, self._outline(w, bar_h))
                else:
                    p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
                    p.setPen(self._cursor_pen)
                    p.drawRect(QtCore.QRectF(x, top, w, bar_h))
            get = self._labels.get
            labels = [get(c) or self._label(c) for c in self.chars]
            if raster:                                   # (blitted from a kept buffer: no second engine check)
                self.glyphs.place(self._centres(n), top + 8, labels, None, (0.5, 0.5), self.devicePixelRatioF(),
                                  self._glyphs_placed).blit(p)
            else:
                self.glyphs.draw(p, self._centres(n), top + 8, labels, anchor=(0.5, 0.5))
        p.end()


_ACTUAL, _OTHER = QtGui.QColor("#2e9e4f"), QtGui.QColor("#4a7fc1")   # the real next character / the others
_CLAMP_PEN = QtGui.QPen(QtGui.QColor("#e08000"), 2)
_SLOT_ARGB, _WHITE_ARGB = np.uint32(0xFFF5F5F5), np.uint32(0xFFFFFFFF)
_OUTLINE_PAD = 3                # px of the cursor's outline pixmap around the cell (the pen reaches 1 px out)
_HATCH = QtGui.QBrush(QtGui.QColor(150, 60, 200, 120), QtCore.Qt.BrushStyle.BDiagPattern)
_PROB_TABLE = np.array([probability_colour(k / 100).rgb() for k in range(101)], np.uint64).astype(np.uint32)


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
