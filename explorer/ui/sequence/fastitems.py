"""The Sequence Lab's fast pyqtgraph item: an axis whose tick labels change on every key."""

from __future__ import annotations

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
