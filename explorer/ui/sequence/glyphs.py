"""GlyphAtlas: short labels drawn many at a time from one cached pixmap.

The live panels label every character they show (the probability strip's cells, the
trajectory's newest points, the predictions' bars): as one ``drawText``/``drawStaticText`` per
label that is 2–30 µs of Python and text layout each, per key. Here every distinct label is
rendered once into an atlas image, and a paint draws all of its labels in ONE
``drawPixmapFragments`` call whose fragments are gathered from a per-label table with numpy.

``draw`` places and blits in one go; ``place`` / ``place_runs`` place a frame's labels once
into a ``Fragments`` buffer the panel keeps (reused frame after frame, Qt's pointer to it made
once per growth) and every paint of that frame blits them: work per change, not per paint.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shiboken6
from PySide6 import QtCore, QtGui

from explorer.ui.widgets.painted_plot import laid_out

# the labels of characters: printable ASCII and the signs for a space, a newline, a tab
CHARACTERS = [chr(c) for c in range(33, 127)] + ["\u2423", "\u23ce", "\u21e5", "?", "%", "."]
PAD = 2                     # px around each label in the atlas: overhanging ink, no bleeding between neighbours


class Fragments:
    """QPainter.PixmapFragment records placed once (a frame's labels or markers) and blitted by
    every paint of that frame in one ``drawPixmapFragments`` call. The records live in a buffer
    reused frame after frame: Qt's pointer to it is made once per growth (numpy's ``ctypes``
    costs ~6 µs a call)."""

    def __init__(self) -> None:
        self.records = np.zeros((0, 10))          # x, y, source x, y, w, h, scales, rotation, opacity
        self.n = 0
        self.pixmap: QtGui.QPixmap | None = None
        self._ptr: Any = None

    def reserve(self, n: int) -> np.ndarray:
        """The first n records (their content undefined), to be filled by the caller."""
        if len(self.records) < n:
            self.records = np.zeros((max(n, 2 * len(self.records), 16), 10))
            self._ptr = shiboken6.wrapInstance(self.records.ctypes.data, QtGui.QPainter.PixmapFragment)
        self.n = n
        return self.records[:n]

    def blit(self, p: QtGui.QPainter) -> None:
        if self.n and self.pixmap is not None:
            # PySide takes a pointer to the first of n fragments (as pyqtgraph's ScatterPlotItem draws)
            p.drawPixmapFragments(self._ptr, self.n, self.pixmap)


class GlyphAtlas:
    """Labels in one font and colour: ``size(text)`` (logical px), ``draw(p, xs, ys, texts)``."""

    def __init__(self, font: QtGui.QFont, colour: QtGui.QColor | str, width: int = 512,
                 warm: Sequence[str] = ()) -> None:
        """warm: labels rendered up front, in one go (those expected, e.g. ``CHARACTERS``)."""
        self.font = QtGui.QFont(font)
        self.warm = list(warm)
        self.colour = QtGui.QColor(colour)
        self._line = QtGui.QFontMetricsF(self.font).height()
        self._width = width
        self._dpr = 1.0
        self._image: QtGui.QImage | None = None
        self._pixmap: QtGui.QPixmap | None = None
        self._index: dict[str, int] = {}                 # label -> its row in _rows
        self._rows = np.zeros((0, 12))                   # per label: a fragment at anchor (0, 0), then w, h
        self._anchored: dict[tuple[float, float], np.ndarray] = {}   # _rows' fragments at other anchors
        self._sizes: dict[str, tuple[float, float]] = {}
        self._runs: dict[str, tuple[list[str], list[float], float]] = {}   # draw_runs' layouts per text
        self._placed_runs: dict[tuple[str, tuple[float, float]], np.ndarray] = {}   # place_runs' records per text
        self._expected_runs: tuple[list[str], tuple[float, float]] | None = None
        self._cursor = (0, 0, 0)                         # where the next label goes: x, y, row height (device px)
        self._frags = np.zeros((0, 10))                  # QPainter.PixmapFragment records, reused
        self._frags_ptr: Any = None                   # the same memory as a PixmapFragment* for Qt

    def size(self, text: str) -> tuple[float, float]:
        """The label's box in logical px: its advance and line height, as drawStaticText lays it out."""
        hit = self._sizes.get(text)
        if hit is None:
            hit = self._sizes[text] = laid_out(text, self.font)[1:]
        return hit

    def _reset(self, dpr: float) -> None:
        self._dpr = dpr
        self._image = QtGui.QImage(int(self._width * dpr), int(4 * math.ceil(self._line + 2 * PAD) * dpr),
                                   QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        self._image.fill(QtCore.Qt.GlobalColor.transparent)
        self._index, self._rows, self._anchored, self._placed_runs = {}, np.zeros((0, 12)), {}, {}
        self._cursor, self._pixmap = (0, 0, 0), None
        self._add_many(self.warm)

    def _add(self, text: str) -> int:
        """Render ``text`` into the atlas; its row in the table."""
        return self._add_many([text])[0]

    def _ids_for(self, texts: Sequence[str], dpr: float) -> list[int]:
        """The atlas rows of ``texts`` for a device with ``dpr`` (the atlas remade for a new
        ratio, new labels added in one go) and its pixmap made if it is not yet."""
        if self._image is None or dpr != self._dpr:
            self._reset(dpr)
        get = self._index.get
        ids = [get(t, -1) for t in texts]
        if -1 in ids:                                    # new labels, added in one go
            ids = self._add_many(texts)
        if self._pixmap is None:
            assert self._image is not None
            self._pixmap = QtGui.QPixmap.fromImage(self._image)
        return ids

    def _add_many(self, texts: Sequence[str]) -> list[int]:
        """Render labels into the atlas (growing it when full) with one painter; their rows."""
        assert self._image is not None
        dpr = self._dpr
        todo = [t for t in dict.fromkeys(texts) if t not in self._index]
        placed, rows = [], []
        x, y, row_h = self._cursor
        for text in todo:
            w, h = self.size(text)
            dw, dh = int(math.ceil((w + 2 * PAD) * dpr)), int(math.ceil((h + 2 * PAD) * dpr))
            if x + dw > self._image.width():               # next row
                x, y, row_h = 0, y + row_h, 0
            placed.append((text, x, y))
            # a fragment is placed by its centre: the label's corner + half the padded source - the padding
            rows.append([dw / (2 * dpr) - PAD, dh / (2 * dpr) - PAD, x, y, dw, dh, 1 / dpr, 1 / dpr, 0.0, 1.0, w, h])
            x, row_h = x + dw, max(row_h, dh)
        if not todo:
            return [self._index[t] for t in texts]
        width = max([self._image.width()] + [int(r[4]) for r in rows])
        if width > self._image.width() or y + row_h > self._image.height():
            grown = QtGui.QImage(width, max(2 * self._image.height(), y + row_h),
                                 QtGui.QImage.Format.Format_ARGB32_Premultiplied)
            grown.fill(QtCore.Qt.GlobalColor.transparent)
            p = QtGui.QPainter(grown)
            p.drawImage(0, 0, self._image)
            p.end()
            self._image = grown
        p = QtGui.QPainter(self._image)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        p.scale(dpr, dpr)
        p.setFont(self.font)
        p.setPen(self.colour)
        for text, lx, ly in placed:
            st = QtGui.QStaticText(text)
            st.setTextFormat(QtCore.Qt.TextFormat.PlainText)
            p.drawStaticText(QtCore.QPointF(lx / dpr + PAD, ly / dpr + PAD), st)
        p.end()
        self._cursor = (x, y, row_h)
        first = len(self._rows)
        self._rows = np.vstack([self._rows, rows])
        self._index.update({text: first + i for i, text in enumerate(todo)})
        self._anchored = {}
        self._pixmap = None
        return [self._index[t] for t in texts]

    def _table(self, anchor: tuple[float, float]) -> np.ndarray:
        if anchor == (0.0, 0.0):
            return self._rows[:, :10]
        t = self._anchored.get(anchor)
        if t is None:
            t = self._rows[:, :10].copy()
            t[:, 0] -= anchor[0] * self._rows[:, 10]
            t[:, 1] -= anchor[1] * self._rows[:, 11]
            self._anchored[anchor] = t
        return t

    def place(self, xs: Sequence[float] | np.ndarray | float, ys: Sequence[float] | np.ndarray | float,
              texts: Sequence[str], opacity: Sequence[float] | np.ndarray | None = None,
              anchor: tuple[float, float] = (0.0, 0.0), dpr: float = 1.0, out: Fragments | None = None) -> Fragments:
        """As ``draw`` places the labels (for a device with ``dpr``), into ``out`` (a new buffer
        by default) that the caller keeps and blits (``Fragments.blit``) on every paint of the frame."""
        out = Fragments() if out is None else out
        ids = self._ids_for(texts, dpr)
        f = out.reserve(len(ids))
        np.take(self._table(anchor), ids, axis=0, out=f, mode="clip")   # (ids are rows: "raise" buffers the out)
        f[:, 0] += xs
        f[:, 1] += ys
        if opacity is not None:
            f[:, 9] = opacity
        out.pixmap = self._pixmap
        return out

    def place_runs(self, xs: Sequence[float], ys: Sequence[float], texts: Sequence[str],
                   anchor: tuple[float, float] = (0.0, 0.0), dpr: float = 1.0, out: Fragments | None = None) -> Fragments:
        """As ``draw_runs`` places the texts (each laid out from its characters' glyphs), into
        ``out`` (``Fragments.blit``); a text's records are made once and kept."""
        out = Fragments() if out is None else out
        if self._image is None or dpr != self._dpr:
            self._reset(dpr)
        cache = self._placed_runs
        if self._expected_runs is not None and self._expected_runs[1] == anchor and not cache:
            self._lay_out_runs(*self._expected_runs)
        records = []
        for text in texts:
            rec = cache.get((text, anchor))
            if rec is None:                              # its characters at their offsets from its start
                chars = list(text)
                offsets = list(itertools.accumulate((self.size(c)[0] for c in chars), initial=0.0))
                get = self._index.get
                ids = [get(c, -1) for c in chars]
                if -1 in ids:
                    ids = self._add_many(chars)
                rec = self._table((0.0, anchor[1]))[ids]
                rec[:, 0] += np.array(offsets[:-1]) - anchor[0] * offsets[-1]
                if len(cache) >= 4096:                   # (the expected ones are laid out again)
                    cache.clear()
                cache[(text, anchor)] = rec
            records.append(rec)
        if self._pixmap is None:
            assert self._image is not None
            self._pixmap = QtGui.QPixmap.fromImage(self._image)
        out.pixmap = self._pixmap
        lengths = [len(r) for r in records]
        f = out.reserve(sum(lengths))
        if records:
            np.concatenate(records, out=f)
            f[:, 0] += np.array(xs, float).repeat(lengths)
            f[:, 1] += np.array(ys, float).repeat(lengths)
        return out

    def expect_runs(self, texts: Sequence[str], anchor: tuple[float, float]) -> None:
        """The texts ``place_runs`` will be asked for at ``anchor`` (e.g. every percentage from
        0.0% to 100.0%): laid out all in one go at the first placement (and again after a change
        of device), so that a new value while typing is never a layout of its own."""
        self._expected_runs = (list(texts), anchor)

    def _lay_out_runs(self, texts: list[str], anchor: tuple[float, float]) -> None:
        """place_runs' records of many texts at once: the same arithmetic per text (each text's
        offsets summed from its first character), vectorized over all of them."""
        if not texts:
            return
        lengths = [len(t) for t in texts]
        flat = "".join(texts)
        get = self._index.get
        ids = [get(c, -1) for c in flat]
        if -1 in ids:
            ids = self._add_many(list(flat))
        rows = self._table((0.0, anchor[1]))[ids]
        width = max(lengths)
        adv = np.zeros((len(texts), width + 1))              # each text's advances from column 1 on
        cols = np.concatenate([np.arange(1, n + 1) for n in lengths])
        which = np.repeat(np.arange(len(texts)), lengths)
        adv[which, cols] = self._rows[ids, 10]
        offsets = np.cumsum(adv, axis=1)                     # column j: the start of character j
        total = offsets[np.arange(len(texts)), lengths]
        rows[:, 0] += offsets[which, cols - 1] - anchor[0] * total[which]
        cache = self._placed_runs
        for text, rec in zip(texts, np.split(rows, np.cumsum(lengths)[:-1]), strict=True):
            cache[(text, anchor)] = rec

    def draw_runs(self, p: QtGui.QPainter, xs: Sequence[float] | np.ndarray, ys: Sequence[float] | np.ndarray,
                  texts: Sequence[str], anchor: tuple[float, float] = (0.0, 0.0)) -> None:
        """As ``draw``, but each text laid out from its characters' glyphs: for texts that take
        many values (percentages), whose every new value would otherwise be a new atlas entry."""
        chars: list[str] = []
        cx: list[float] = []
        cy: list[float] = []
        runs = self._runs
        for x, y, text in zip(list(xs), list(ys) if isinstance(ys, (list, tuple, np.ndarray)) else [ys] * len(texts),
                              texts, strict=True):
            run = runs.get(text)
            if run is None:                          # its characters and their offsets from its start
                offsets = np.cumsum([0.0] + [self.size(c)[0] for c in text]).tolist()
                run = runs[text] = (list(text), offsets[:-1], offsets[-1])
            left = float(x) - anchor[0] * run[2]
            chars += run[0]
            cx += [left + o for o in run[1]]
            cy += [float(y)] * len(run[0])
        self.draw(p, cx, cy, chars, anchor=(0.0, anchor[1]))

    def draw(self, p: QtGui.QPainter, xs: Sequence[float] | np.ndarray | float, ys: Sequence[float] | np.ndarray | float,
             texts: Sequence[str], opacity: Sequence[float] | np.ndarray | None = None,
             anchor: tuple[float, float] = (0.0, 0.0)) -> None:
        """Each text at (xs[i], ys[i]): its top-left corner, or the point ``anchor`` of it
        (fractions of its width and height: (0.5, 0.5) centres it), at opacity[i] (default 1);
        all in one call. Pixmaps are drawn at whole pixels, as text is."""
        n = len(texts)
        if not n:
            return
        device = p.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        ids = self._ids_for(texts, dpr)
        if len(self._frags) < n:
            self._frags = np.zeros((max(n, 2 * len(self._frags), 16), 10))
            self._frags_ptr = shiboken6.wrapInstance(self._frags.ctypes.data, QtGui.QPainter.PixmapFragment)
        f = self._frags[:n]
        f[:] = self._table(anchor)[ids]
        f[:, 0] += xs
        f[:, 1] += ys
        if opacity is not None:
            f[:, 9] = opacity
        # PySide takes a pointer to the first of n fragments (as pyqtgraph's ScatterPlotItem draws)
        if not on_screen(p):                             # SVG, PDF, a picture: real text, one by one
            self._draw_text(p, f, texts, dpr)
            return
        assert self._pixmap is not None                  # made by _ids_for
        p.drawPixmapFragments(self._frags_ptr, n, self._pixmap)

    def _draw_text(self, p: QtGui.QPainter, f: np.ndarray, texts: Sequence[str], dpr: float) -> None:
        """The labels as text where the fragments would put them (exports keep text as text)."""
        p.save()
        p.setFont(self.font)
        p.setPen(self.colour)
        for (cx, cy, sw, sh, opacity), text in zip(f[:, [0, 1, 4, 5, 9]].tolist(), texts, strict=True):
            st = QtGui.QStaticText(text)
            st.setTextFormat(QtCore.Qt.TextFormat.PlainText)
            p.setOpacity(opacity)
            p.drawStaticText(QtCore.QPointF(cx - sw / (2 * dpr) + PAD, cy - sh / (2 * dpr) + PAD), st)
        p.restore()


def on_screen(p: QtGui.QPainter) -> bool:
    """True when the painter rasterizes (a widget, an image): drawPixmapFragments is then one
    blit per fragment; other engines (SVG, PDF) draw fragments wrongly, so they get each item
    drawn on its own."""
    engine = p.paintEngine()
    return engine is not None and engine.type() == _RASTER


_RASTER = QtGui.QPaintEngine.Type.Raster          # (looked up once: a Qt module's attributes are found on each access)
