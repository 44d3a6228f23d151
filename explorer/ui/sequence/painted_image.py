"""Colour tables, a fixed-width RGB32 image of a time window and the base of the Sequence Lab's
hand-painted panels (LivePlot).

The heat map and the gates show a window of characters as an image whose columns are
characters. Typing at the end adds one column, coloured in place in a pixel buffer that a
QImage shares (no copy); painting it is one scaled blit. Which columns changed is known by
index when the caller can tell (the session's kept windows, ``kept_rows``: ``held()`` and
``recolour``), else ``WindowImage.set_window`` compares the values with the ones it holds; a
scrolled window moves the columns it shares (``shift``). All bands of a column are coloured
in one pass (``RowColours``). The colours are
pyqtgraph's for the same levels (its 256-entry table of the colour map, index
``trunc((v - lo) * 256 / (hi - lo))`` clipped), so the panels look as they did.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.painted_plot import TICK, PaintedPlot, TextCache, argb_table

BACKGROUND = np.uint32(0xFFFFFFFF)      # empty columns and the gaps between bands: white


@cache
def colour_rgb(name: str) -> np.ndarray:
    """The (256, 3) uint8 table pyqtgraph's ImageItem uses for the colour map ``name``."""
    rgb = np.asarray(pg.colormap.get(name).getLookupTable(nPts=256, alpha=False), np.uint8)
    rgb.setflags(write=False)
    return rgb


@cache
def colour_table(name: str) -> np.ndarray:
    """(256,) uint32 0xffRRGGBB: the RGB32 lookup table of the colour map ``name``."""
    table = argb_table(colour_rgb(name))
    table.setflags(write=False)
    return table


def colour(values: np.ndarray, lo: float, hi: float, table: np.ndarray) -> np.ndarray:
    """values -> uint32 pixels as pyqtgraph maps them with levels (lo, hi); NaN -> white."""
    n = len(table)
    work = np.subtract(values, np.float32(lo), dtype=np.float32)
    work *= np.float32(n / ((hi - lo) or 1.0))
    np.clip(work, 0, n - 1, out=work)
    nan = np.isnan(work)
    if nan.any():
        work[nan] = 0
        return np.where(nan, BACKGROUND, np.take(table, work.astype(np.uint8)))
    return np.take(table, work.astype(np.uint8))


class FontKeyCache(TextCache):
    """A TextCache that asks each font object for its key once: QFont.key() costs ~5 µs and a
    panel whose tick labels change on every key looks its ~90 labels up again (its layout
    measures every tick label). The panels' fonts are set up before their first paint and not
    changed afterwards (``forget_fonts`` if one is)."""

    def __init__(self, limit: int = 2048) -> None:
        super().__init__(limit)
        self._font_ids: dict[int, tuple[QtGui.QFont, int]] = {}     # id -> (the font, kept; its number)

    def forget_fonts(self) -> None:
        self._font_ids.clear()

    def font_number(self, font: QtGui.QFont) -> int:
        known = self._font_ids.get(id(font))
        if known is None or known[0] is not font:
            known = self._font_ids[id(font)] = (font, super().font_number(font))
        return known[1]


class LivePlot(PaintedPlot):
    """A PaintedPlot redrawn on every key: its text layouts are looked up through FontKeyCache."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.y_inverted = False
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._font_keys = FontKeyCache()
        self.texts = self._font_keys

    def set_y_range(self, lo: float, hi: float, inverted: bool = False) -> bool:
        self.y_inverted = inverted
        return super().set_y_range(lo, hi, inverted)

    def x_px(self, x: float) -> float:
        """``px_x`` of one number in plain floats (the same arithmetic, without a numpy array:
        a paint maps a handful of numbers, and each small array costs microseconds)."""
        r, (lo, hi) = self.data_rect(), self.x_range()
        return r.left() + (x - lo) * (r.width() / ((hi - lo) or 1.0))

    def y_px(self, y: float) -> float:
        """``px_y`` of one number in plain floats."""
        r, (lo, hi) = self.data_rect(), self.y_range()
        f = (y - lo) / ((hi - lo) or 1.0)
        return r.top() + f * r.height() if self.y_inverted else r.bottom() - f * r.height()

    @staticmethod
    def line_2px(p: QtGui.QPainter, a: QtCore.QPointF, b: QtCore.QPointF, colour: QtGui.QColor) -> None:
        """A horizontal or vertical line as a 2-px QPen (square caps) draws it, the same pixels
        filled as one rectangle: no pen stroker (~10 µs a line for a wide pen)."""
        x0, x1 = sorted((a.x(), b.x()))
        y0, y1 = sorted((a.y(), b.y()))
        p.fillRect(QtCore.QRectF(x0 - 1, y0 - 1, x1 - x0 + 2, y1 - y0 + 2), colour)

    def update_span(self, x0: float, x1: float, pad: float = 3.0) -> None:
        """Repaint only the plot area's columns between data x0 and x1 (full height, ``pad`` px
        either side): a key that adds a column and moves the cursor repaints those strips."""
        r = self.data_rect()
        a, b = sorted((self.x_px(x0), self.x_px(x1)))
        self.update(QtCore.QRectF(a - pad, r.top() - 1, b - a + 2 * pad, r.height() + 2).toAlignedRect())

    def update_spans(self, spans: list[tuple[float, float]], gap: float = 4.0) -> None:
        """``update_span`` for each (x0, x1), spans less than ``gap`` apart (data x) merged into
        one: a key's new column and the cursor's old and new places are one strip, one call."""
        merged: list[list[float]] = []
        for a, b in sorted((a, b) if a <= b else (b, a) for a, b in spans):
            if merged and a - merged[-1][1] < gap:
                if b > merged[-1][1]:
                    merged[-1][1] = b
            else:
                merged.append([a, b])
        for a, b in merged:
            self.update_span(a, b)

    def changeEvent(self, ev: QtCore.QEvent) -> None:  # noqa: N802 (Qt)
        if ev.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.StyleChange):
            self._font_keys.forget_fonts()
        super().changeEvent(ev)


class LiveTicks:
    """Bottom-axis ticks whose labels change on every key (the memory panel's characters, the
    pattern's head entropies): drawn by ``paint`` (from the plot's ``paint_overlay``) where the
    plot would draw its own, marks and labels, so a new label or a range that grows per key
    does not make the plot lay its axes out again. The plot's own x ticks are set to none."""

    def __init__(self, plot: PaintedPlot) -> None:
        self.plot = plot
        self.ticks: list[tuple[float, str]] = []
        # the ticks' values, a tuple kept while they hold (a paint's layout key holds this object:
        # comparing it again is one identity check, not one per tick)
        self.values: tuple[float, ...] = ()
        self._at: tuple[tuple, list[float], list[QtCore.QLineF]] | None = None   # (geometry, x, marks)
        # the tick font's glyphs, loaded now: QRawFont.fromFont takes ~9 ms the first time (not on a key)
        self._raw: tuple[QtGui.QFont, QtGui.QRawFont] | None = (plot.tick_font, QtGui.QRawFont.fromFont(plot.tick_font))
        self._glyph_cache: dict[str, tuple[list[int], list[float], float] | None] = {}
        self._drawn: tuple | None = None        # (ticks, their glyph run, labels drawn as text)
        plot.set_x_ticks([])

    def set(self, ticks: list[tuple[float, str]], values: tuple[float, ...] | None = None) -> None:
        """New ticks: the plot repaints its labels' band (all of it when the positions moved).
        ``values``: the ticks' values as a tuple, when the caller keeps one."""
        if ticks == self.ticks:
            return
        if values is None:
            values = tuple(v for v, _ in ticks)
        moved = values != self.values
        self.ticks = ticks
        if moved:
            self.values = values
        if moved:
            self.plot.update()
        else:
            below = int(self.plot.data_rect().bottom()) + 1
            self.plot.update(QtCore.QRect(0, below, self.plot.width(), self.plot.height() - below))

    def labels(self) -> list[str]:
        return [s for _, s in self.ticks]

    def glyphs(self, label: str) -> tuple[list[int], list[float], float] | None:
        """The tick font's glyphs of ``label`` and their advances (None: a glyph it lacks)."""
        if self._raw is None or self._raw[0] is not self.plot.tick_font:
            self._raw = (self.plot.tick_font, QtGui.QRawFont.fromFont(self.plot.tick_font))
            self._glyph_cache.clear()
        hit = self._glyph_cache.get(label)
        if hit is None and label not in self._glyph_cache:
            raw = self._raw[1]
            idx = raw.glyphIndexesForString(label)
            if idx and all(idx):
                adv = [a.x() for a in raw.advancesForGlyphIndexes(idx)]
                hit = (list(idx), adv, sum(adv))
            self._glyph_cache[label] = hit
            if len(self._glyph_cache) > 4096:
                self._glyph_cache.clear()
        return hit

    def _glyph_run(self, indexes: list[int], at: list[QtCore.QPointF]) -> QtGui.QGlyphRun:
        """One glyph run of the tick font's glyphs ``indexes`` at ``at`` (empty without them)."""
        run = QtGui.QGlyphRun()
        if indexes and self._raw is not None:
            run.setRawFont(self._raw[1])
            run.setGlyphIndexes(indexes)
            run.setPositions(at)
        return run

    def _run(self, xs: list[float], y: float) -> tuple[QtGui.QGlyphRun, list[tuple[QtCore.QPointF, str]]]:
        """Every label in one glyph run (one draw call, not one per label); labels with a glyph
        the font lacks are left to QStaticText (its font fallback)."""
        indexes: list[int] = []
        at: list[QtCore.QPointF] = []
        others: list[tuple[QtCore.QPointF, str]] = []
        for (_, s), x in zip(self.ticks, xs, strict=True):
            if x != x:                                      # (NaN: outside the plot)
                continue
            g = self.glyphs(s)
            if g is None:
                others.append((QtCore.QPointF(x, y), s))
                continue
            idx, adv, width = g
            gx = x - width / 2
            for i, a in zip(idx, adv, strict=True):
                indexes.append(i)
                at.append(QtCore.QPointF(gx, 0.0))
                gx += a
        return self._glyph_run(indexes, at), others

    def paint(self, p: QtGui.QPainter) -> None:
        if not self.ticks:
            return
        plot, r = self.plot, self.plot.data_rect()
        values = self.values
        geometry = (r.left(), r.top(), r.width(), r.height(), plot.x_range(), values)
        if self._at is None or self._at[0] != geometry:
            xs = plot.px_x(np.array(values)).tolist()
            xs = [x if r.left() - 0.5 <= x <= r.right() + 0.5 else float("nan") for x in xs]
            marks = [QtCore.QLineF(x, r.bottom(), x, r.bottom() + TICK) for x in xs if x == x]
            self._at = (geometry, xs, marks)
            self._drawn = None
        _, xs, marks = self._at
        p.setPen(plot.muted)
        p.drawLines(marks)
        font = plot.tick_font
        p.setFont(font)
        p.setPen(plot.fg)
        top = r.bottom() + TICK + 1
        if self._drawn is None or self._drawn[0] != self.ticks:
            self._drawn = (self.ticks, *self._run(xs, top))
        _, run, others = self._drawn
        if run.glyphIndexes():
            assert self._raw is not None
            p.drawGlyphRun(QtCore.QPointF(0.0, top + self._raw[1].ascent()), run)
        for at, s in others:
            st, w, _ = plot.texts.get(s, font)
            p.drawStaticText(QtCore.QPointF(at.x() - w / 2, at.y()), st)


class RowLabels(QtWidgets.QWidget):
    """Left-axis labels of ``plot``'s rows in a widget of their own at its left (they change on
    every key; the plot's own left axis then has blank labels). A click chooses the row:
    ``clicked`` gives the data y of the click."""

    clicked = QtCore.Signal(float)

    def __init__(self, plot: PaintedPlot) -> None:
        super().__init__()
        self.plot = plot
        self.ticks: list[tuple[float, str]] = []
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFixedWidth(40)

    def set(self, ticks: list[tuple[float, str]]) -> None:
        if ticks == self.ticks:
            return
        self.ticks = ticks
        widest = max((self.plot.texts.get(s, self.plot.tick_font)[1] for _, s in ticks), default=0.0)
        width = int(np.ceil(widest)) + 4
        if width > self.width() or width < self.width() - 12:     # (not for every digit's pixel)
            self.setFixedWidth(width)
        self.update()

    def labels(self) -> list[str]:
        return [s for _, s in self.ticks]

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor("white"))
        plot = self.plot
        font = plot.tick_font
        p.setFont(font)
        p.setPen(plot.fg)
        r, dy = plot.data_rect(), self.plot.y() - self.y()
        right = self.width() - 2.0
        ys = plot.px_y(np.array([v for v, _ in self.ticks])).tolist() if self.ticks else []
        for (_, s), y in zip(self.ticks, ys, strict=True):
            if r.top() - 0.5 <= y <= r.bottom() + 0.5:
                st, w, h = plot.texts.get(s, font)
                p.drawStaticText(QtCore.QPointF(right - w, y + dy - h / 2), st)
        p.end()

    def mousePressEvent(self, ev: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt)
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            r = self.plot.data_rect()
            at = self.plot.data_at(QtCore.QPointF(r.center().x(), ev.position().y() + self.y() - self.plot.y()))
            if at is not None:
                self.clicked.emit(at[1])
                ev.accept()
                return
        super().mousePressEvent(ev)


Band = tuple[int, int, float, float, str]          # rows [r0, r1) coloured by map name over lo..hi


class RowColours:
    """The colouring of every row of a band layout at once: per row, the band's ``lo`` and its
    scale (float32, so ``(v - lo) * scale`` rounds exactly as ``colour`` does per band) and the
    offset of its map's table in one stacked table; rows in no band read an all-white table.
    A key's new column is then coloured in ONE pass, whatever the number of bands."""

    def __init__(self, rows: int, bands: Sequence[Band]) -> None:
        names = sorted({name for *_, name in bands})
        n = 256
        self.table = np.concatenate([np.full(n, BACKGROUND, np.uint32)] + [colour_table(m) for m in names])
        self.lo = np.zeros(rows, np.float32)
        self.scale = np.zeros(rows, np.float32)      # 0 in the gaps: always index 0 of the white table
        self.offset = np.zeros(rows, np.intp)
        self.in_band = np.zeros(rows, bool)
        for r0, r1, lo, hi, name in bands:
            self.lo[r0:r1] = np.float32(lo)
            self.scale[r0:r1] = np.float32(n / ((hi - lo) or 1.0))
            self.offset[r0:r1] = n * (1 + names.index(name))
            self.in_band[r0:r1] = True

    def pixels(self, columns: np.ndarray) -> np.ndarray:
        """columns (m, rows) float32 -> (m, rows) uint32 pixels, as ``colour`` gives band by band;
        NaN in a band -> white."""
        work = np.subtract(columns, self.lo, dtype=np.float32)
        work *= self.scale
        np.maximum(work, 0, out=work)                    # (np.clip, in two ufunc calls: no wrapper)
        np.minimum(work, 255, out=work)
        nan = np.isnan(work)
        if nan.any():
            work[nan] = 0
            index = work.astype(np.uint8) + self.offset
            index[nan] = 0                               # (white)
            return self.table.take(index)
        return self.table.take(work.astype(np.uint8) + self.offset)


class WindowImage:
    """(rows, width) RGB32 pixels for a time window: the first n columns hold values, the
    others are empty (white). Rows are grouped in bands, each with its own colour scale;
    rows in no band stay white (the gaps between a panel's bands).

    Two ways in: ``set_window`` compares the values it is given with the ones it holds;
    a caller that knows which columns changed (an index comparison) writes them into
    ``held()`` and calls ``recolour``."""

    def __init__(self) -> None:
        self.rows, self.width, self.n = 0, 0, 0
        self._bands: tuple[Band, ...] = ()
        # what the coloured columns show, a column per row of memory: comparing and storing the
        # columns of a (n, rows) array (the heat map's states, the gates' stack) is contiguous
        self._cols = np.zeros((0, 0), np.float32)
        self._colours = RowColours(0, ())
        self.pixels = np.zeros((0, 0), np.uint32)
        self.qimage = QtGui.QImage()
        self.recoloured = (0, 0)                          # columns [a, b) coloured by the last change

    def shape(self, rows: int, width: int, bands: Sequence[Band]) -> bool:
        """Make the image ``rows`` x ``width`` with these bands; True when that emptied it (a new
        shape or new bands), False when it already was (nothing changes)."""
        bands = tuple(bands)
        if (rows, width) == (self.rows, self.width) and bands == self._bands:
            return False
        self.rows, self.width, self._bands, self.n = rows, width, bands, 0
        self._cols = np.full((width, rows), np.nan, np.float32)
        self._colours = RowColours(rows, bands)
        self.pixels = np.full((rows, width), BACKGROUND, np.uint32)
        # the QImage shares the buffer: colouring a column in place is what the next paint shows
        self.qimage = QtGui.QImage(self.pixels.data, width, rows, self.pixels.strides[0],
                                   QtGui.QImage.Format.Format_RGB32)
        return True

    def held(self) -> np.ndarray:
        """(width, rows) the values the columns show, a column per row (writable: ``recolour``)."""
        return self._cols

    def recolour(self, first: int, n: int) -> tuple[int, int]:
        """Columns [first, n) of ``held()`` were written: colour them; the columns from n to the
        former n become empty. Returns the columns [a, b) whose pixels changed (a == b: none)."""
        if n > self.width:
            raise ValueError(f"{n} columns do not fit a window of {self.width}")
        first = min(first, n)
        old = self.n
        if n > first:
            self.pixels[:, first:n] = self._colours.pixels(self._cols[first:n]).T
        if old > n:
            self._cols[n:old] = np.nan
            self.pixels[:, n:old] = BACKGROUND
        self.n = n
        self.recoloured = (first, n)
        a, b = first, max(n, old)
        return (a, b) if b > a else (0, 0)

    def shift(self, d: int) -> None:
        """The window moved d columns on (the time axis scrolled): columns d..n-1 become the
        first n-d, moved (values and pixels), not coloured again; the last d are emptied."""
        n = self.n
        d = max(0, min(d, n))
        if d:
            self._cols[:n - d] = self._cols[d:n]
            self.pixels[:, :n - d] = self.pixels[:, d:n]
            self._cols[n - d:n] = np.nan
            self.pixels[:, n - d:n] = BACKGROUND
            self.n = n - d

    def set_window(self, values: np.ndarray, width: int, bands: Sequence[Band]) -> tuple[int, int]:
        """Show ``values`` (rows, n) as the first n of ``width`` columns, n <= width.
        Returns the columns [a, b) whose pixels changed (a == b: none). Fastest when ``values``
        is the transpose of a C-contiguous (n, rows) array."""
        rows, n = values.shape
        if n > width:
            raise ValueError(f"{n} columns do not fit a window of {width}")
        self.shape(rows, width, bands)
        columns = values.T                                # (n, rows)
        m = min(n, self.n)
        first = m                                         # the first column that differs
        if m and not np.array_equal(columns[:m], self._cols[:m]):    # (NaN differs, as below)
            differs = np.flatnonzero((columns[:m] != self._cols[:m]).any(axis=1))
            if len(differs):
                first = int(differs[0])
        if n > first:
            self._cols[first:n] = columns[first:n]
        return self.recolour(first, n)

    def holds(self, values: np.ndarray) -> bool:
        """Whether the coloured columns show exactly ``values`` (rows, n) (NaN never does)."""
        return values.shape == (self.rows, self.n) and bool(np.array_equal(values.T, self._cols[:self.n]))

    def draw(self, p: QtGui.QPainter, target: QtCore.QRectF, rows: tuple[int, int] | None = None) -> None:
        """Blit rows [r0, r1) (default all) of the whole width into ``target`` (nearest pixel)."""
        if self.qimage.isNull():
            return
        r0, r1 = rows if rows is not None else (0, self.rows)
        p.drawImage(target, self.qimage, QtCore.QRectF(0, r0, self.width, r1 - r0))
