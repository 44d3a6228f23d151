"""Colour the editor's characters by a value per character, painted under the text.

The colour runs of the visible part (plus a margin) are kept as arrays of document positions
and painted in the viewport's paint event, before the editor draws its text: the cost is that
of the runs on screen, whatever the length of the text (Qt's ExtraSelections redraw the text
once per selection, which at 800 runs took 8 ms a frame). Edits shift the runs as the document
would shift a cursor, so a frame painted before the next ``apply`` is still in place.
Unknown characters always get a violet background and explain themselves in a tooltip.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.data.vocab import UNKNOWN
from explorer.ui.sequence import textrects

STEPS = 5                      # colour steps per sign
UNKNOWN_BG = QtGui.QColor(170, 90, 230, 110)
_UNKNOWN_LEVEL = 99            # the level of a run of unknown characters
_CACHE_LIMIT = 2048            # blocks' rects kept; beyond, only those of the last paint
_FEW = 48                      # up to this many levels or runs are compared in Python, not numpy


class PosMap:
    """Python character index <-> QTextDocument position (UTF-16: an emoji counts twice)."""

    def __init__(self, text: str) -> None:
        self.n = len(text)
        self.doc: np.ndarray | None = None
        # a str holds a character above U+FFFF only if its widest one is (ASCII: known at once);
        # otherwise the positions are the same in both (no array per key)
        if text.isascii() or max(text) <= "\uffff":
            return
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        self.doc = np.arange(self.n + 1) + np.concatenate([[0], np.cumsum(cps > 0xFFFF)])

    def to_doc(self, i: int) -> int:
        i = min(max(int(i), 0), self.n)
        return i if self.doc is None else int(self.doc[i])

    def to_docs(self, i: np.ndarray) -> np.ndarray:
        i = np.clip(i, 0, self.n)
        return i if self.doc is None else self.doc[i]

    def to_char(self, pos: int) -> int:
        if self.doc is None:
            return min(max(int(pos), 0), self.n)
        return int(np.searchsorted(self.doc, pos, side="right") - 1)


def _colour(level: int, positive_rgb: tuple[int, int, int], negative_rgb: tuple[int, int, int]) -> QtGui.QColor:
    rgb = positive_rgb if level > 0 else negative_rgb
    return QtGui.QColor(*rgb, int(200 * abs(level) / STEPS))


def _level_runs(levels: np.ndarray, base: int) -> np.ndarray:
    """(start, end, level) of each run of equal nonzero levels, positions from ``base``."""
    n = len(levels)
    if n <= _FEW:                                       # a short tail (typing): fewer calls in Python
        lv = levels.tolist()
        out = []
        s = 0
        for i in range(1, n + 1):
            if i == n or lv[i] != lv[s]:
                if lv[s]:
                    out.append((base + s, base + i, lv[s]))
                s = i
        return np.array(out, np.int64).reshape(-1, 3)
    cuts = np.flatnonzero(np.diff(levels)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [n]])
    keep = levels[starts] != 0
    return np.stack([base + starts[keep], base + ends[keep], levels[starts][keep]], axis=1).astype(np.int64)


def _on_grid(y: float) -> bool:
    """On Qt's text grid (1/64 px): sums of such numbers are exact, so whole-pixel shifts are too."""
    return (y * 64).is_integer()


class TextColourer:
    """apply(values (T,) in [-1, 1] or None, unknown (T,) bool) on a QPlainTextEdit."""

    def __init__(self, editor: QtWidgets.QPlainTextEdit) -> None:
        self.editor = editor
        self.positive, self.negative = (20, 170, 60), (220, 40, 40)
        self._unknown = np.zeros(0, bool)
        self.pos = PosMap("")
        self._runs = np.zeros((0, 3), np.int64)       # (doc start, doc end, level), in paint order
        # the last frame's value levels and runs (characters): a new frame's runs are the kept
        # ones up to its first changed level, and the runs of its levels from there
        self._kept: tuple[int, np.ndarray, np.ndarray] | None = None
        self._intact = 0                                 # leading runs no edit has moved since apply
        self._block_keys: dict[int, tuple] = {}          # block number -> its key in the cache
        self._colours: dict[int, QtGui.QColor] = {}
        self._cache: dict[tuple, dict[float, dict[int, list[QtCore.QRect]]]] = {}
        self._env: tuple = ()
        self._metrics = (0.0, 0)                         # (a space's advance, half of it in whole pixels)
        self.misses = 0                                  # blocks whose rects were computed
        editor.viewport().installEventFilter(_Painter(editor, self))
        editor.document().contentsChange.connect(self._on_contents_change)

    @property
    def _runs(self) -> np.ndarray:
        return self._run_array

    @_runs.setter
    def _runs(self, runs: np.ndarray) -> None:
        self._store(runs, ordered=False)
        self._intact = 0

    def _store(self, runs: np.ndarray, ordered: bool) -> None:
        """New runs: sorted by start once here (with how far the runs so far reach), not per paint.
        ``ordered``: already sorted by start and apart (value runs only), so they are their own
        sorted copy and reach as far as each one ends."""
        self._run_array = runs.copy() if ordered else runs  # its own memory: insertions shift it in place
        if ordered:
            self._sorted = self._run_array                 # one array: shifted once
            self._starts = runs[:, 0].copy()
            self._reach = runs[:, 1].copy()
        else:
            self._sorted = runs[np.argsort(runs[:, 0], kind="stable")]
            self._starts = self._sorted[:, 0].copy()
            self._reach = np.maximum.accumulate(self._sorted[:, 1]) if len(runs) else self._starts.copy()
        self._levels = list(dict.fromkeys(runs[:, 2].tolist()))   # paint order: unknown last

    def set_palette(self, positive: tuple[int, int, int], negative: tuple[int, int, int]) -> None:
        if (positive, negative) != (self.positive, self.negative):
            self._colours.clear()
            self.editor.viewport().update()
        self.positive, self.negative = positive, negative

    def colour(self, level: int) -> QtGui.QColor:
        c = self._colours.get(level)
        if c is None:
            c = UNKNOWN_BG if level == _UNKNOWN_LEVEL else _colour(level, self.positive, self.negative)
            self._colours[level] = c
        return c

    def spans(self) -> list[tuple[int, int, QtGui.QColor]]:
        """What is painted: (document start, document end, colour) per run, in paint order."""
        return [(a, b, self.colour(level)) for a, b, level in self._runs.tolist()]

    def _on_contents_change(self, position: int, removed: int, added: int) -> None:
        """Move the runs as the document moves a cursor: those inside a removal shrink."""
        if not (removed or added) or not len(self._runs):
            return
        if removed == 0:
            # an insertion moves positions at or after it: a strictly increasing map, so the
            # runs keep their order, reach and levels — shifted in place, nothing re-sorted
            # (typing at the end of a long text: a few small numpy calls, not a re-sort per key)
            if self._reach[-1] < position:
                return                                    # every run ends before it
            if self._sorted is self._run_array:
                # runs apart in start order (no unknown runs): starts and ends both increase
                # down the rows, so those at or after it are a tail of each (typing at the
                # end: the last run's end); the runs before it are as the last apply left them
                k = int(self._reach.searchsorted(position))
                j = int(self._starts.searchsorted(position))
                self._intact = min(self._intact, k)
                self._run_array[k:, 1] += added
                self._reach[k:] += added
                self._run_array[j:, 0] += added
                self._starts[j:] += added
                return
            self._intact = 0
            for ends in (self._run_array[:, :2], self._sorted[:, :2], self._starts, self._reach):
                ends[ends >= position] += added
            return
        ends = self._runs[:, :2]
        shifted = np.where(ends >= position + removed, ends + (added - removed),
                           np.where(ends > position, position, ends))
        runs = np.concatenate([shifted, self._runs[:, 2:]], axis=1)
        self._runs = runs[runs[:, 1] > runs[:, 0]]

    def visible_range(self, margin: int = 80) -> tuple[int, int]:
        ed = self.editor
        a = ed.cursorForPosition(QtCore.QPoint(0, 0)).position()
        vp = ed.viewport().rect()
        b = ed.cursorForPosition(vp.bottomRight()).position()
        return max(self.pos.to_char(a) - margin, 0), self.pos.to_char(b) + margin

    def apply(self, values: np.ndarray | None, unknown: np.ndarray, offset: int = 0,
              pos: PosMap | None = None, visible: tuple[int, int] | None = None) -> None:
        """values[k] colours character offset+k (NaN: not coloured); pos maps characters to the document.

        Neighbouring characters in the same colour step form one run; the runs of unknown
        characters are painted over the value runs. The runs are those of the visible part's
        colour steps; the work is that of the steps that changed since the last frame (typing at
        the end: the last run or two), the rest are the last frame's runs."""
        self.pos = pos or self.pos
        lo, hi = visible if visible is not None else self.visible_range()
        self._unknown = unknown
        runs, kept = self._value_runs(values, offset, lo, hi)
        ordered = True
        unk = np.asarray(unknown[lo:hi], np.int8)
        if unk.any():                                   # one run per run of unknown characters
            edges = np.flatnonzero(np.diff(np.concatenate([[0], unk, [0]])))
            runs = np.concatenate([runs, np.stack([lo + edges[::2], lo + edges[1::2],
                                                   np.full(len(edges) // 2, _UNKNOWN_LEVEL)], axis=1)])
            ordered = False
        if self.pos.doc is not None:                    # characters above U+FFFF count twice in the document
            runs = runs.copy()
            runs[:, :2] = self.pos.to_docs(runs[:, :2])
            kept = 0
        # the first min(kept, intact) runs are equal on screen and in the new frame: compared after them
        if self._update_changed(self._runs, runs, min(kept, self._intact)):
            self._store(runs, ordered)
        self._intact = len(runs) if self.pos.doc is None else 0    # (kept runs count characters)

    def _value_runs(self, values: np.ndarray | None, offset: int, lo: int, hi: int) -> tuple[np.ndarray, int]:
        """(start, end, level) of the value runs in characters lo..hi-1 (level 0: none), and how
        many leading ones are the last frame's (the levels up to their ends did not change)."""
        if values is None or min(hi, offset + len(values)) <= max(lo, offset):
            self._kept = None
            return np.zeros((0, 3), np.int64), 0
        a, b = max(lo, offset), min(hi, offset + len(values))
        v = values[a - offset:b - offset] * STEPS            # in the values' own precision (ties round alike)
        np.rint(v, out=v)
        np.maximum(v, -STEPS, out=v)
        np.minimum(v, STEPS, out=v)
        v[np.isnan(v)] = 0.0                              # NaN: not coloured
        levels = v.astype(np.int64)
        k, r0, old = 0, a, self._kept
        if old is not None and old[0] == a:
            m = min(len(old[1]), len(levels))
            differ = old[1][:m] != levels[:m]
            d = int(differ.argmax()) if m else 0
            d = d if m and differ[d] else m                  # the first changed level
            # a run ending before it ends there still (its next level is unchanged); the runs
            # from the end of the last of those are read from the new levels
            k = int(old[2][:, 1].searchsorted(a + d))
            r0 = int(old[2][k - 1, 1]) if k else a
        tail = _level_runs(levels[r0 - a:], r0)
        runs = np.concatenate([old[2][:k], tail]) if old is not None and k else tail
        self._kept = (a, levels, runs)
        return runs, k

    def is_unknown(self, i: int) -> bool:
        """Whether character i of the text is outside the model's vocabulary (as last applied)."""
        return 0 <= i < len(self._unknown) and bool(self._unknown[i])

    def _update_changed(self, old: np.ndarray, new: np.ndarray, same: int = 0) -> bool:
        """Repaint the lines from the first run that changed to the last (typing at the end of
        a long text repaints its last line, not the whole viewport); False if none changed.
        ``same``: this many leading runs are known to be equal."""
        old, new = old[same:], new[same:]
        if len(old) + len(new) <= _FEW:                  # a few runs: Python's lists beat numpy's calls
            was, now = old.tolist(), new.tolist()
            n = min(len(was), len(now))
            j = 0
            while j < n and was[j] == now[j]:
                j += 1
            t = 0
            while t < n - j and was[-1 - t] == now[-1 - t]:
                t += 1
            changed = was[j:len(was) - t] + now[j:len(now) - t]
            if not changed:
                return False
            a, b = min(r[0] for r in changed), max(r[1] for r in changed)
        else:
            n = min(len(old), len(new))
            same_rows = np.all(old[:n] == new[:n], axis=1) if n else np.zeros(0, bool)
            j = int(n if same_rows.all() else np.argmin(same_rows))
            m = n - j
            tail = np.all(old[len(old) - m:] == new[len(new) - m:], axis=1) if m > 0 else np.zeros(0, bool)
            t = int(m if tail.all() else np.argmin(tail[::-1]))   # equal runs at the end
            rows = np.concatenate([old[j:len(old) - t], new[j:len(new) - t]])
            if not len(rows):
                return False
            a, b = int(rows[:, 0].min()), int(rows[:, 1].max())
        ed = self.editor
        doc, offset = ed.document(), ed.contentOffset()
        first = doc.findBlock(a)
        last = doc.findBlock(max(b - 1, 0))
        top = ed.blockBoundingGeometry(first).translated(offset).top() if first.isValid() else 0.0
        bottom = (ed.blockBoundingGeometry(last).translated(offset).bottom() if last.isValid()
                  else float(ed.viewport().height()))
        vp = ed.viewport()
        vp.update(QtCore.QRect(0, int(np.floor(top)) - 1, vp.width(), int(np.ceil(bottom - top)) + 3))
        return True

    def paint(self, painter: QtGui.QPainter, clip: QtCore.QRect, cached: bool = True) -> None:
        """Fill each run's background on the lines it covers (as a selection would)."""
        rects = self.rects(clip, cached)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        for level in self._levels:                      # value colours first, unknown last
            if level in rects:
                painter.setBrush(self.colour(level))
                painter.drawRects(rects[level])

    def _environment(self) -> tuple:
        """What every block's layout depends on besides its own text: a change drops the cache.
        (The fonts as QFonts, compared as Qt compares them: not their key strings, built anew
        on every paint.)"""
        ed = self.editor
        doc = ed.document()
        return (ed.viewport().width(), ed.font(), doc.defaultFont(), ed.tabStopDistance(),
                ed.lineWrapMode(), ed.wordWrapMode(), doc.documentMargin())

    def rects(self, clip: QtCore.QRect, cached: bool = True) -> dict[int, list[QtCore.QRect]]:
        """The rectangles painted per level, for the blocks that meet ``clip``.

        Each block's rects are kept under a key of everything they follow from — its text,
        left/width/height, the runs that touch it (relative to the block) and the editor's
        environment — with the top they were computed at. A block seen again at the same top
        reuses them; at a top a whole number of pixels away (on the 1/64 px grid Qt lays text
        on, where the sums are exact) they are translated; otherwise they are computed again
        (``misses`` counts those)."""
        if not len(self._runs):
            return {}
        ed = self.editor
        env = self._environment()
        if env != self._env:
            self._cache.clear()
            self._block_keys.clear()
            self._env = env
            font = ed.font()                                # the monospace advance, once per font
            self._metrics = (QtGui.QFontMetricsF(font).horizontalAdvance(" "),
                             QtGui.QFontMetrics(font).horizontalAdvance(" ") // 2)
        offset = ed.contentOffset()
        srt, starts, reach = self._sorted, self._starts, self._reach
        cache = self._cache
        used: dict[tuple, dict[float, dict[int, list[QtCore.QRect]]]] = {}
        stale: list[tuple] = []             # keys the blocks painted here had before (edited since)
        block_keys = self._block_keys
        rects: dict[int, list[QtCore.QRect]] = {}
        metrics = self._metrics
        block = self._first_block(clip, offset)
        while block.isValid():
            geo = ed.blockBoundingGeometry(block).translated(offset)
            if geo.top() > clip.bottom():
                break
            if geo.bottom() >= clip.top() and block.isVisible() and (layout := block.layout()) is not None:
                p0, n = block.position(), block.length()
                k = int(reach.searchsorted(p0, side="right"))
                k_end = int(starts.searchsorted(p0 + n, side="left"))
                if k_end > k:
                    seg = srt[k:k_end]
                    key = (block.text(), geo.left(), geo.width(), geo.height(),
                           np.minimum(np.maximum(seg[:, :2] - p0, 0), n).tobytes(), seg[:, 2].tobytes())
                    top = geo.top()
                    seen = cache.get(key, {}) if cached else {}     # top -> rects, for equal blocks
                    mine = seen.get(top)
                    if mine is None and seen and _on_grid(top):
                        was = next(iter(seen))
                        if _on_grid(was) and (top - was).is_integer():
                            dy = int(top - was)
                            mine = {level: [r.translated(0, dy) for r in rs] for level, rs in seen[was].items()}
                    if mine is None:
                        mine = self._block_rects(block, layout, geo, p0, n, seg, *metrics)
                        self.misses += 1
                    used.setdefault(key, {})[top] = mine
                    if cached:
                        former = block_keys.get(number := block.blockNumber())
                        if former is not None and former != key:
                            stale.append(former)
                        block_keys[number] = key
                    for level, rs in mine.items():
                        rects.setdefault(level, []).extend(rs)
            block = block.next()
        if cached:
            # a block's rects from before its last edit are dropped (unless another block has
            # that key now): typing in a line keeps one entry for it, not one per key typed,
            # so the cache does not grow by a few hundred objects a key for the collector
            for key in stale:
                if key not in used:
                    cache.pop(key, None)
            cache.update(used)
            if len(cache) > _CACHE_LIMIT:                   # bounded: keep what this paint used
                self._cache = used
            if len(block_keys) > 2 * _CACHE_LIMIT:
                block_keys.clear()
        return rects

    def _first_block(self, clip: QtCore.QRect, offset: QtCore.QPointF) -> QtGui.QTextBlock:
        """The first block whose bottom reaches the clip: found by Qt's hit test, then stepped
        back over blocks ending exactly at the clip's top (a partial paint at the bottom of
        the viewport need not walk the blocks above it)."""
        ed = self.editor
        first = ed.firstVisibleBlock()
        if clip.top() <= 0 or not first.isValid():
            return first
        block = ed.cursorForPosition(QtCore.QPoint(0, clip.top())).block()
        if not block.isValid() or block.blockNumber() <= first.blockNumber():
            return first
        while block.blockNumber() > first.blockNumber():
            before = block.previous()
            if ed.blockBoundingGeometry(before).translated(offset).bottom() < clip.top():
                break
            block = before
        return block

    def _block_rects(self, block: QtGui.QTextBlock, layout: QtGui.QTextLayout, geo: QtCore.QRectF,
                     p0: int, n: int, seg: np.ndarray, advance: float, half: int) -> dict[int, list[QtCore.QRect]]:
        """The rects of the runs ``seg`` (sorted by start, those that may touch the block) in one block."""
        rects: dict[int, list[QtCore.QRect]] = {}
        k = 0
        if self._even_line(block, layout, advance):
            self._even_rects(rects, layout.lineAt(0), geo, p0, n, seg[:, 0], seg[:, 1], seg[:, 2], advance, half)
            k = len(seg)
        elif self._even_lines(block, layout, advance):
            self._wrapped_rects(rects, layout, geo, p0, n, seg, advance, half)
            k = len(seg)
        lines: list[tuple[QtGui.QTextLine, int, int, bool, float, dict[int, float]]] | None = None
        for start, end, level in seg[k:].tolist():
            a, b = max(start - p0, 0), min(end - p0, n)
            if b <= a:
                continue
            if lines is None:                           # once per block: its lines
                count = layout.lineCount()
                ends = [(layout.lineAt(li), li == count - 1) for li in range(count)]
                lines = [(line, line.textStart(), line.textStart() + line.textLength(), last,
                          geo.top() + line.y(), {}) for line, last in ends]
            for line, la, lb, last, top, xs in lines:
                if la >= b:
                    break
                sa, sb = max(a, la), min(b, lb)
                rect = QtCore.QRect()
                if sb > sa:
                    x0 = xs.get(sa)
                    if x0 is None:
                        x0 = xs[sa] = textrects.x_at(line, sa)
                    x1 = xs.get(sb)
                    if x1 is None:
                        x1 = xs[sb] = textrects.x_at(line, sb)
                    if not last:                        # a wrap's trailing spaces: not drawn
                        x1 = min(x1, line.x() + line.naturalTextWidth())
                    if x1 > x0:                         # outward to whole pixels, as Qt
                        rect = QtCore.QRectF(geo.left() + x0, top, x1 - x0, line.height()).toAlignedRect()
                if last and b > lb >= a:                # the newline: half a space, as Qt
                    rect = rect.united(QtCore.QRectF(
                        geo.left() + np.floor(textrects.x_at(line, lb) + 0.5), top, half, line.height()
                    ).toAlignedRect())
                if not rect.isEmpty():
                    rects.setdefault(level, []).append(rect)
        return rects

    # the monospace fast paths (explorer.ui.sequence.textrects); class attributes, so tests can spy on them
    _even_line = staticmethod(textrects.even_line)
    _even_lines = staticmethod(textrects.even_lines)
    _wrapped_rects = staticmethod(textrects.wrapped_rects)
    _even_rects = staticmethod(textrects.even_rects)


class _Painter(QtCore.QObject):
    """Paints the colour runs under the text, and the tooltip over an unknown character."""

    def __init__(self, editor: QtWidgets.QPlainTextEdit, colourer: TextColourer) -> None:
        super().__init__(editor)
        self.editor, self.colourer = editor, colourer

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt)
        if event.type() == QtCore.QEvent.Type.Paint:
            painter = QtGui.QPainter(cast(QtWidgets.QWidget, obj))      # the editor's viewport
            try:
                self.colourer.paint(painter, cast(QtGui.QPaintEvent, event).rect())
            finally:
                painter.end()
            return False                                  # the editor paints its text on top
        if event.type() == QtCore.QEvent.Type.ToolTip:
            tip = cast(QtGui.QHelpEvent, event)
            doc_pos = self.editor.cursorForPosition(tip.pos()).position()
            pos = self.colourer.pos.to_char(doc_pos)
            text = self.editor.toPlainText()
            for i in (pos, pos - 1):
                if self.colourer.is_unknown(i) and i < len(text):
                    QtWidgets.QToolTip.showText(
                        tip.globalPos(),
                        f"U+{ord(text[i]):04X} is not in this model's vocabulary:\n"
                        f"the network reads it as the unknown symbol {UNKNOWN}", self.editor)
                    return True
            QtWidgets.QToolTip.hideText()
            return True
        return False
