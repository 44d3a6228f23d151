"""The Sequence Lab's fast pyqtgraph items: an axis whose tick labels change on every key,
and an image item that renders only the columns that changed."""

from __future__ import annotations

from typing import cast

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui


class FastTickAxis(pg.AxisItem):
    """An AxisItem for explicit ticks (setTicks) whose labels change on every key.

    pyqtgraph's generic generateDrawSpecs measures every label with QPainter.boundingRect on
    every change (~1 ms for 30 character ticks); here the tick positions are mapped in one
    numpy expression and each distinct label is measured once (the font is fixed). The
    drawing (axis line, ticks, centred labels) is pyqtgraph's own drawPicture: same look.
    Only the first tick level is drawn, as our character axes have one."""

    picture: QtGui.QPicture | bool | None     # pyqtgraph's cache flag (its own type mypy cannot infer)

    def __init__(self, orientation: str, **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self._text_rects: dict[str, QtCore.QRectF] = {}
        self._static_texts: dict[str, QtGui.QStaticText] = {}
        self._labels: dict[str, tuple[float, float, QtGui.QStaticText, float]] = {}
        self._lines_at: dict[float, tuple] = {}
        self._ticks: tuple[tuple, dict] = ((), {})     # (geometry, (position, label) -> its drawing)
        self._lines: list[QtCore.QLineF] = []
        self._draws: list[tuple[QtCore.QPointF, QtGui.QStaticText]] = []

    def paint(self, p: QtGui.QPainter, opt: object, widget: object) -> None:
        """Draw the specs directly (no QPicture recorded and replayed): the labels change on
        nearly every key, so a recording would be replayed about once. Labels are cached
        QStaticText placed where pyqtgraph's drawText(rect, align) would put them."""
        if self._tickLevels is None or self.grid is not False or self.orientation not in ("left", "bottom"):
            super().paint(p, opt, widget)
            return
        if self.picture is None:               # pyqtgraph resets it on any change: recompute the specs
            self._specs = self.generateDrawSpecs(p)
            self.picture = True
        if self._specs is None:
            return
        (pen, p1, p2), tick_specs, text_specs = self._specs
        p.setRenderHint(p.RenderHint.Antialiasing, False)
        p.setRenderHint(p.RenderHint.TextAntialiasing, True)
        p.setPen(pen)
        p.drawLine(p1, p2)
        if tick_specs:
            p.setPen(tick_specs[0][0])
            p.drawLines(self._lines)
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        p.setPen(self.textPen())
        p.setClipRect(self.boundingRect().toAlignedRect())
        draw = p.drawStaticText
        for at, st in self._draws:
            draw(at, st)

    def _static_text(self, p: QtGui.QPainter, s: str) -> QtGui.QStaticText:
        st = self._static_texts.get(s)
        if st is None:
            st = QtGui.QStaticText(s)
            st.setTextFormat(QtCore.Qt.TextFormat.PlainText)
            st.prepare(QtGui.QTransform(), p.font())
            self._static_texts[s] = st
        return st

    def setStyle(self, **kwds: object) -> None:  # noqa: N802 (pyqtgraph)
        super().setStyle(**kwds)
        if "tickFont" in kwds:
            self._text_rects, self._static_texts, self._labels = {}, {}, {}

    def _text_rect(self, p: QtGui.QPainter, s: str) -> QtCore.QRectF:
        br = self._text_rects.get(s)
        if br is None:
            br = p.boundingRect(QtCore.QRectF(0, 0, 100, 100), QtCore.Qt.AlignmentFlag.AlignCenter, s)
            br.setHeight(br.height() * 0.8)
            self._text_rects[s] = br
        return br

    def generateDrawSpecs(self, p: QtGui.QPainter) -> tuple | None:  # noqa: N802 (pyqtgraph)
        if self._tickLevels is None or self.grid is not False or self.orientation not in ("left", "bottom"):
            return super().generateDrawSpecs(p)
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        bounds = self.mapRectFromParent(self.geometry())
        lo, hi = self.range
        if hi == lo:
            return None
        ticks = self._tickLevels[0] if self._tickLevels else []
        values = np.array([v for v, _ in ticks], float)
        left = self.orientation == "left"
        if left:              # as pyqtgraph: x = v * scale - offset, y grows downwards
            scale = -bounds.height() / (hi - lo)
            offset = lo * scale - bounds.height()
            span = (bounds.topRight() + QtCore.QPointF(-1, -1), bounds.bottomRight() + QtCore.QPointF(-1, 1))
            stop, direction = bounds.right(), -1
        else:
            scale = bounds.width() / (hi - lo)
            offset = lo * scale
            span = (bounds.topLeft() + QtCore.QPointF(-1, 1), bounds.topRight() + QtCore.QPointF(1, 1))
            stop, direction = bounds.top(), 1
        pos = values * scale - offset
        ends = sorted((lo * scale - offset, hi * scale - offset))
        keep = (pos >= ends[0]) & (pos <= ends[1])
        tick_len = self.style["tickLength"]
        pen = self.tickPen()
        if pen.brush().style() == QtCore.Qt.BrushStyle.SolidPattern:
            pen = QtGui.QPen(pen)
            colour = QtGui.QColor(pen.color())
            alpha = self.style["tickAlpha"]
            if alpha is None:
                alpha = 255
            colour.setAlpha(int(round(255 * alpha)) if isinstance(alpha, float) else int(alpha))
            pen.setColor(colour)
        tick_specs, text_specs, size2 = [], [], 0.0
        gap = max(0, tick_len) + self.style["tickTextOffset"][0 if left else 1]
        br = self.boundingRect()
        geometry = (left, stop, tick_len, gap, br.getRect(), bool(self.style["showValues"]), p.font().key())
        if self._ticks[0] != geometry or len(self._ticks[1]) > 4096:
            self._ticks = (geometry, {})
            self._lines_at = {}
        cache, lines_at = self._ticks[1], self._lines_at
        bounds = (br.left(), br.top(), br.right(), br.bottom())
        end = stop + tick_len * direction
        show = bool(self.style["showValues"])
        lines, draws = [], []
        for (_, label), x, ok in zip(ticks, pos.tolist(), keep.tolist()):
            if not ok:
                continue
            tick = cache.get((x, label))        # a label seen at this place before: its drawing is known
            if tick is None:
                line = lines_at.get(x)          # the tick's line depends on its place only,
                if line is None:                # its text's size on its label only
                    line = lines_at[x] = self._line(x, left, stop, end)
                tick = cache[(x, label)] = self._tick(p, x, label, left, stop, gap, bounds, line, show)
            a, b, line, size, spec, at = tick
            tick_specs.append((pen, a, b))
            lines.append(line)
            if spec is not None:
                text_specs.append(spec)
                draws.append(at)
            size2 = max(size2, size)
        self._lines, self._draws = lines, draws
        self._updateMaxTextSize(size2)
        return (self.pen(), span[0], span[1]), tick_specs, text_specs

    @staticmethod
    def _line(x: float, left: bool, stop: float, end: float) -> tuple:
        a, b = (QtCore.QPointF(stop, x), QtCore.QPointF(end, x)) if left else (QtCore.QPointF(x, stop),
                                                                              QtCore.QPointF(x, end))
        return a, b, QtCore.QLineF(a, b)

    def _label(self, p: QtGui.QPainter, label: str) -> tuple[float, float, QtGui.QStaticText, float]:
        """A label's text rectangle's width and height, its static text and that text's width."""
        info = self._labels.get(label)
        if info is None:
            r = self._text_rect(p, label)
            st = self._static_text(p, label)
            info = self._labels[label] = (r.width(), r.height(), st, st.size().width())
        return info

    def _tick(self, p: QtGui.QPainter, x: float, label: str, left: bool, stop: float, gap: float,
              bounds: tuple[float, float, float, float], line: tuple, show: bool) -> tuple:
        """One tick at position x: its line's ends, the line, its label's size across the axis, its
        text spec (pyqtgraph's rectangle, or None when not shown) and where its text is drawn."""
        a, b, qline = line
        if not show or not label:
            return a, b, qline, 0.0, None, None
        w, h, st, width = self._label(p, label)
        x0, y0 = (stop - gap - w, x - h / 2) if left else (x - w / 2, stop + gap)
        spec = at = None
        bl, bt, br, bb = bounds                     # shown only when inside the axis' rectangle
        if w > 0 and h > 0 and bl <= x0 and x0 + w <= br and bt <= y0 and y0 + h <= bb:
            spec = (QtCore.QRectF(x0, y0, w, h), _LEFT_FLAGS if left else _BOTTOM_FLAGS, label)
            # placed where pyqtgraph's drawText(rect, align) puts it
            at = (QtCore.QPointF(x0 + w - width, y0 + h / 2 - h / 0.8 / 2) if left
                  else QtCore.QPointF(x0 + w / 2 - width / 2, y0), st)
        return a, b, qline, (w if left else h), spec, at


_ALIGN = QtCore.Qt.AlignmentFlag
_LEFT_FLAGS = (_ALIGN.AlignRight | _ALIGN.AlignVCenter) | QtCore.Qt.TextFlag.TextDontClip
_BOTTOM_FLAGS = (_ALIGN.AlignHCenter | _ALIGN.AlignTop) | QtCore.Qt.TextFlag.TextDontClip


class FastImageItem(pg.ImageItem):
    """An ImageItem whose colour-mapped QImage is made as ARGB32_Premultiplied by numpy, and
    incrementally: columns equal to the last rendered image's are kept.

    pyqtgraph renders a LUT-mapped image as an Indexed8 QImage (rebuilding its 256-entry colour
    table with qRgb on every render), and Qt draws an indexed image scaled to a panel about 6x
    slower than an RGB one. Here a float32 image with fixed levels and an opaque <= 256-entry LUT
    is rescaled exactly as pyqtgraph does (float32: (v - lo) * n / (hi - lo), clipped, truncated)
    and looked up in a cached table of 32-bit pixels: same colours, same nearest-neighbour cells.
    Typing at the end of a text adds one column to the time window: when the image's first
    columns equal those last rendered, only the new columns are rescaled and looked up."""

    _imageHasNans: bool | None                 # pyqtgraph's (its own type mypy cannot infer)

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._table: tuple[object, np.ndarray] | None = None      # (lut, its uint32 pixels)
        self._src: np.ndarray | None = None                        # (rows, capacity) last rendered values
        self._pixels: np.ndarray | None = None                     # (rows, capacity) their ARGB pixels
        self._src_key: tuple | None = None                         # (lut, levels) they were rendered with
        self._src_w = 0
        self.last_rendered = (0, 0)                                # columns [a, b) rendered last time
        self._valid: int | None = None        # set_window: columns >= this are empty (transparent)
        self._window: np.ndarray | None = None   # set_window's image (rows, width)
        self._same = 0                        # set_window: its first columns equal the last ones
        super().__init__(*args, **kwargs)

    def set_window(self, image: np.ndarray, width: int, levels: tuple[float, float]) -> None:
        """Show ``image`` (rows, n) as the first n columns of a ``width``-column image whose other
        columns are empty (transparent; NaN in ``self.image``, as pyqtgraph draws NaN), n <= width.

        While a time window fills, one key adds one column: the item keeps its size, so Qt does
        not repaint all of it (a size change marks the whole old rectangle dirty); the columns
        that changed are found now (rendered now) and only they are marked for repainting."""
        rows, n = image.shape
        if n > width:
            raise ValueError(f"{n} columns do not fit a window of {width}")
        before = self._src_w                   # columns that had values last time
        buf = self._window
        same = 0                               # leading columns known equal to the last ones
        if buf is None or buf.shape != (rows, width) or self._valid is None or self.image is None \
                or self.image.base is not buf:
            buf = self._window = np.full((rows, width), np.nan, np.float32)   # kept between keys
        else:
            m = min(n, self._valid)
            if m and np.array_equal(image[:, :m], buf[:, :m]):
                same = m                       # typing at the end: only the new columns are copied
            if n < self._valid:
                buf[:, n:self._valid] = np.nan
        buf[:, same:n] = image[:, same:]
        self._valid, self._same = n, same
        lv = self.levels
        if not (self.image is not None and self.image.base is buf and lv is not None and np.ndim(lv) == 1
                and float(lv[0]) == levels[0] and float(lv[1]) == levels[1]):
            self.setImage(buf, levels=levels)  # (it repaints the whole item: a new buffer or levels)
        self.render()                          # (the buffer itself already holds the new values)
        if self.qimage is None or self._src_w != n:      # not the fast path: repaint it all
            self.update()
            return
        a, b = self.last_rendered[0], max(n, before)
        if b > a:
            self.update(QtCore.QRectF(a, 0, b - a, rows))

    def _fast_qimage(self) -> QtGui.QImage | None:
        image, lut, levels = self.image, self.lut, self.levels
        if (image is None or image.ndim != 2 or image.dtype != np.float32 or not isinstance(lut, np.ndarray)
                or lut.dtype != np.uint8 or lut.ndim != 2 or lut.shape[1] != 3 or len(lut) > 256
                or levels is None or np.ndim(levels) != 1 or self.autoDownsample
                or self.axisOrder != "row-major" or self._xp is not np):
            return None
        if self._table is None or self._table[0] is not lut:
            rgb = lut.astype(np.uint32)
            self._table = (lut, (0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]).astype(np.uint32))
        lo, hi = float(levels[0]), float(levels[1])
        rows, w = image.shape
        if self._valid is not None and (self._window is None or image.base is not self._window):
            self._valid = None                  # a whole image was set (setImage): no empty columns
        valid = w if self._valid is None else min(self._valid, w)     # columns with values
        src = self._src
        if src is None or src.shape[0] != rows or src.shape[1] < w or self._src_key != (lut, lo, hi):
            cap = max(w, 256)
            src = self._src = np.empty((rows, cap), np.float32)
            self._pixels = np.empty((rows, cap), np.uint32)
            self._src_key, self._src_w = (lut, lo, hi), 0
        pixels = self._pixels
        assert pixels is not None               # made with self._src above
        keep = min(valid, self._src_w)
        known, self._same = (self._same if self._valid is not None else 0), 0   # set_window compared them
        if keep > known and not np.array_equal(image[:, :keep], src[:, :keep]):
            keep = 0
        if self._valid is not None:         # NaN stand for the empty columns: only values checked
            if valid > keep and np.isnan(image[:, keep:valid].min()):
                self._src_w = 0
                return None
        else:
            if self._imageHasNans is None:  # the kept columns were rendered, so they have none
                self._imageHasNans = bool(w > keep and np.isnan(image[:, keep:].min()))
            if self._imageHasNans:
                self._src_w = 0
                return None
        if valid > keep:
            part = image[:, keep:valid]
            src[:, keep:valid] = part
            n = len(lut)
            work = np.subtract(part, np.float32(lo), dtype=np.float32)
            work *= np.float32(n / ((hi - lo) or 1.0))
            np.clip(work, 0, n - 1, out=work)
            pixels[:, keep:valid] = np.take(self._table[1], work.astype(np.uint8))
        if w > valid:
            pixels[:, valid:w] = 0    # empty columns: transparent
        self._src_w, self.last_rendered = valid, (keep, valid)
        buffer = cast(memoryview, pixels)      # PySide6 takes any buffer; its stubs name memoryview
        qimage = QtGui.QImage(buffer, w, rows, pixels.strides[0], QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        qimage.data = pixels  # type: ignore[attr-defined]  # keeps the shared buffer alive, as pyqtgraph does
        return qimage

    def render(self) -> None:
        qimage = self._fast_qimage()
        if qimage is not None:
            self.qimage = qimage
            self._renderRequired = False
            self._unrenderable = False
            return
        super().render()
        if self.qimage is not None and self.qimage.format() == QtGui.QImage.Format.Format_Indexed8:
            self.qimage = self.qimage.convertToFormat(QtGui.QImage.Format.Format_ARGB32_Premultiplied)
