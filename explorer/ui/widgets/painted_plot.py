"""PaintedPlot: a plot drawn by hand with QPainter, for the panels redrawn on every input.

Why not a pyqtgraph plot here: a pyqtgraph plot is a QGraphicsView whose items (view box,
axes, labels, each data item) are Python objects that Qt calls back (``boundingRect``,
``paint``) on every repaint — about 0.3 ms for an empty plot, 1–1.5 ms for a live panel —
and a QGraphicsScene applies its changes in a queued call of its own, so every such panel
painted in a separate window update after a key or a pen move (measured: five pyqtgraph panels
after one key were five successive repaints of the window, ~10 ms in all). A PaintedPlot is
one QWidget: its static part (background, title, axis lines, axis labels, a colour legend and
whatever ``paint_static`` draws) is one cached pixmap, rebuilt only when its size or one of
those changes; ticks and the data are painted over it on each paint, with cached text
layouts. Its update is part of the same window repaint as every other widget's.

A subclass fills ``paint_data`` (and, for content that does not change per input,
``paint_static``), maps data to pixels with ``px_x``/``px_y`` (numpy arrays welcome), and may
answer ``tooltip_at`` (a hover tooltip for the point under the mouse; otherwise the widget's
own tooltip, how to read the panel, is shown). Left clicks inside the plot area emit
``clicked`` with data coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.style import FG, MUTED

Ticks = Sequence[tuple[float, str]]

TICK = 4                  # tick mark length, px
PAD = 3                   # between tick labels, axis labels and the widget's edge
LEGEND_BAR = 12           # colour legend bar width, px


def nice_ticks(lo: float, hi: float, room_px: float, min_px: float = 45.0) -> list[tuple[float, str]]:
    """Ticks at 1, 2 or 5 × 10^k spaced at least ``min_px`` apart over ``room_px`` pixels,
    labelled with as many decimals as their step needs (no '-0')."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi == lo or room_px <= 0:
        return []
    a, b = min(lo, hi), max(lo, hi)
    most = max(1, int(room_px // min_px))
    raw = (b - a) / most
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 5.0, 10.0) if m * mag >= raw)
    decimals = max(0, -int(math.floor(math.log10(step) + 1e-9)))
    first = math.ceil(a / step - 1e-9)
    out = []
    for k in range(first, int(math.floor(b / step + 1e-9)) + 1):
        v = k * step
        text = f"{v:.{decimals}f}"
        if float(text) == 0.0:
            text = "0" if decimals == 0 else f"{0:.{decimals}f}"
        out.append((v, text))
    return out


def laid_out(text: str, font: QtGui.QFont) -> tuple[QtGui.QStaticText, float, float]:
    """``text`` as plain QStaticText laid out once in ``font``, with its width and height."""
    st = QtGui.QStaticText(text)
    st.setTextFormat(QtCore.Qt.TextFormat.PlainText)
    st.prepare(QtGui.QTransform(), font)
    size = st.size()
    return st, size.width(), size.height()


class TextCache:
    """QStaticText per (text, font) and its size: a label drawn on every paint is laid out once."""

    def __init__(self, limit: int = 2048) -> None:
        self._items: dict[tuple[str, int], tuple[QtGui.QStaticText, float, float]] = {}
        self._fonts: dict[str, int] = {}          # font.key() -> a small number (keys are long strings)
        self._limit = limit

    def font_number(self, font: QtGui.QFont) -> int:
        """A small number per distinct font (its key)."""
        return self._fonts.setdefault(font.key(), len(self._fonts))

    def get(self, text: str, font: QtGui.QFont) -> tuple[QtGui.QStaticText, float, float]:
        key = (text, self.font_number(font))
        hit = self._items.get(key)
        if hit is None:
            hit = laid_out(text, font)
            if len(self._items) >= self._limit:
                self._items.clear()
            self._items[key] = hit
        return hit

    def draw(self, p: QtGui.QPainter, x: float, y: float, text: str, font: QtGui.QFont,
             align: QtCore.Qt.AlignmentFlag = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop
             ) -> QtCore.QRectF:
        """Draw ``text`` anchored at (x, y) by ``align`` (left/hcenter/right × top/vcenter/bottom);
        the painter's font and pen must already be set. Returns the text's rectangle."""
        st, w, h = self.get(text, font)
        A = QtCore.Qt.AlignmentFlag
        if align & A.AlignHCenter:
            x -= w / 2
        elif align & A.AlignRight:
            x -= w
        if align & A.AlignVCenter:
            y -= h / 2
        elif align & A.AlignBottom:
            y -= h
        p.drawStaticText(QtCore.QPointF(x, y), st)
        return QtCore.QRectF(x, y, w, h)


def argb_table(rgb: np.ndarray) -> np.ndarray:
    """(k, 3) colours 0..255 -> (k,) uint32 0xffRRGGBB, a QImage.Format_RGB32 lookup table."""
    c = np.asarray(rgb, np.uint32)
    return np.asarray(0xFF000000 | (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2], np.uint32)


def rgb32_image(pixels: np.ndarray) -> QtGui.QImage:
    """(H, W) uint32 0xffRRGGBB -> a QImage that owns a copy (the array may be reused)."""
    px = np.ascontiguousarray(pixels, np.uint32)
    h, w = px.shape
    return QtGui.QImage(px.data, w, h, px.strides[0], QtGui.QImage.Format.Format_RGB32).copy()


class PaintedPlot(QtWidgets.QWidget):
    """Title, axes with ticks and labels, an optional colour legend; data painted by a subclass."""

    clicked = QtCore.Signal(float, float)          # data x, y of a left click in the plot area

    def __init__(self, title: str = "", bottom: str | None = None, left: str | None = None, tip: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._title, self._bottom, self._left = title, bottom, left
        self._x = (0.0, 1.0)
        self._y = (0.0, 1.0)
        self._y_inverted = False
        self._x_ticks: list[tuple[float, str]] | None = None       # None: nice ticks
        self._y_ticks: list[tuple[float, str]] | None = None
        self._x_axis, self._y_axis = True, True
        self._ticks_version = 0                                       # bumped when fixed ticks change
        self._legend: tuple[np.ndarray, float, float, str, list[tuple[float, str]]] | None = None
        self._message = ""
        self._static: QtGui.QPixmap | None = None
        self._axes: tuple[tuple, list[QtCore.QLineF], list[tuple[QtCore.QPointF, QtGui.QStaticText]]] | None = None
        # the static layer with the tick marks and labels drawn in, once the same axes were painted twice
        self._with_ticks: tuple[tuple, QtGui.QPixmap | None, QtGui.QPixmap] | None = None
        self._last_axes_key: tuple | None = None
        self._rect = QtCore.QRectF()
        self.texts = TextCache()
        self.title_font = QtGui.QFont(self.font())
        self.title_font.setPointSizeF(10.0)
        self.title_font.setBold(True)
        self.label_font = QtGui.QFont(self.font())
        self.tick_font = QtGui.QFont(self.font())
        self.tick_font.setPointSizeF(max(7.0, self.font().pointSizeF() - 0.5))
        self.fg, self.muted = QtGui.QColor(FG), QtGui.QColor(MUTED)
        self.setAutoFillBackground(False)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent)     # the static layer covers it all
        self.setMinimumSize(160, 110)
        if tip:
            self.setToolTip(tip)
            self.setToolTipDuration(30000)

    # -- what is shown (the static layer is rebuilt when one of these changes) -----------------
    def set_title(self, text: str) -> None:
        if text != self._title:
            self._title = text
            self._relayout()

    def title(self) -> str:
        return self._title

    def set_labels(self, bottom: str | None = None, left: str | None = None) -> None:
        if (bottom, left) != (self._bottom, self._left):
            self._bottom, self._left = bottom, left
            self._relayout()

    def show_axes(self, x: bool = True, y: bool = True) -> None:
        """Hide an axis (its line, ticks and label room) for panels that label themselves."""
        if (x, y) != (self._x_axis, self._y_axis):
            self._x_axis, self._y_axis = x, y
            self._relayout()

    def set_x_range(self, lo: float, hi: float) -> bool:
        """True when it changed (then the widget repaints)."""
        if (float(lo), float(hi)) == self._x:
            return False
        self._x = (float(lo), float(hi))
        self._margins_changed()
        return True

    def set_y_range(self, lo: float, hi: float, inverted: bool = False) -> bool:
        """y grows upwards, or downwards when ``inverted`` (rows of an image, top first)."""
        if (float(lo), float(hi)) == self._y and inverted == self._y_inverted:
            return False
        self._y, self._y_inverted = (float(lo), float(hi)), inverted
        self._margins_changed()
        return True

    def x_range(self) -> tuple[float, float]:
        return self._x

    def y_range(self) -> tuple[float, float]:
        return self._y

    def set_x_ticks(self, ticks: Ticks | None) -> None:
        """Fixed (value, label) ticks, or None for nice numeric ones."""
        new = None if ticks is None else [(float(v), str(s)) for v, s in ticks]
        if new != self._x_ticks:
            self._x_ticks = new
            self._ticks_version += 1
            self._margins_changed()

    def set_y_ticks(self, ticks: Ticks | None) -> None:
        new = None if ticks is None else [(float(v), str(s)) for v, s in ticks]
        if new != self._y_ticks:
            self._y_ticks = new
            self._ticks_version += 1
            self._margins_changed()

    def set_legend(self, rgb: np.ndarray | None, lo: float = 0.0, hi: float = 1.0, label: str = "",
                   ticks: Ticks | None = None) -> None:
        """A vertical colour bar at the right: ``rgb`` (k, 3) from ``lo`` (bottom) to ``hi`` (top),
        its ticks (default: nice numbers) and a rotated label. None removes it."""
        if rgb is None:
            if self._legend is not None:
                self._legend = None
                self._relayout()
            return
        t = [(float(v), str(s)) for v, s in ticks] if ticks is not None else nice_ticks(lo, hi, 100, 30)
        self._legend = (np.asarray(rgb, np.uint8).copy(), float(lo), float(hi), label, t)
        self._relayout()

    def set_message(self, text: str) -> None:
        """A centred grey message over the plot area ('' hides it): shown while there is no data."""
        if text != self._message:
            self._message = text
            self.update()

    def message(self) -> str:
        return self._message

    def _relayout(self) -> None:
        self._rect = QtCore.QRectF()
        self.invalidate()

    def invalidate(self) -> None:
        """The static layer is out of date: rebuild it at the next paint."""
        self._static = None
        self.update()

    # -- geometry ------------------------------------------------------------------------
    def data_rect(self) -> QtCore.QRectF:
        """The plot area in widget pixels."""
        if self._rect.isNull():
            self._rect = self._layout_rect()
        return QtCore.QRectF(self._rect)

    def px_x(self, x: np.ndarray | float) -> np.ndarray:
        r, (lo, hi) = self.data_rect(), self._x
        return r.left() + (np.asarray(x, np.float64) - lo) * (r.width() / ((hi - lo) or 1.0))

    def px_y(self, y: np.ndarray | float) -> np.ndarray:
        r, (lo, hi) = self.data_rect(), self._y
        f = (np.asarray(y, np.float64) - lo) / ((hi - lo) or 1.0)
        return r.top() + f * r.height() if self._y_inverted else r.bottom() - f * r.height()

    def data_at(self, pos: QtCore.QPointF) -> tuple[float, float] | None:
        """Widget position -> data (x, y), None outside the plot area."""
        r = self.data_rect()
        if not r.contains(pos):
            return None
        (x0, x1), (y0, y1) = self._x, self._y
        fx = (pos.x() - r.left()) / (r.width() or 1.0)
        fy = (pos.y() - r.top()) / (r.height() or 1.0)
        y = y0 + fy * (y1 - y0) if self._y_inverted else y1 - fy * (y1 - y0)
        return x0 + fx * (x1 - x0), y

    def _margins_changed(self) -> None:
        old = self._rect
        self._rect = QtCore.QRectF()
        if self.data_rect() != old:
            self.invalidate()
        else:
            self.update()

    def _text_size(self, text: str, font: QtGui.QFont) -> tuple[float, float]:
        _, w, h = self.texts.get(text, font)
        return w, h

    def _tick_list(self, horizontal: bool, room: float) -> list[tuple[float, str]]:
        fixed = self._x_ticks if horizontal else self._y_ticks
        if fixed is not None:
            return fixed
        lo, hi = self._x if horizontal else self._y
        return nice_ticks(lo, hi, room, 55.0 if horizontal else 28.0)

    def _layout_rect(self) -> QtCore.QRectF:
        w, h = float(self.width()), float(self.height())
        _, line = self._text_size("0", self.tick_font)
        top = PAD + (self._text_size(self._title, self.title_font)[1] + PAD if self._title else 2 * PAD)
        bottom = float(PAD)
        if self._x_axis:
            bottom += TICK + line + PAD
            if self._bottom:
                bottom += self._text_size(self._bottom, self.label_font)[1]
        left = float(PAD)
        if self._y_axis:
            ticks = self._tick_list(False, max(h - top - bottom, 1.0))
            widest = max((self._text_size(s, self.tick_font)[0] for _, s in ticks), default=0.0)
            left += widest + TICK + PAD
            if self._left:
                left += self._text_size(self._left, self.label_font)[1] + PAD
        right = 2.0 * PAD + 4
        if self._legend is not None:
            _, _, _, label, t = self._legend
            widest = max((self._text_size(s, self.tick_font)[0] for _, s in t), default=0.0)
            label_h = self._text_size(label, self.label_font)[1] if label else 0.0
            right = 2 * PAD + LEGEND_BAR + TICK + 1 + widest + 2 * PAD + label_h + PAD
        return QtCore.QRectF(left, top, max(w - left - right, 1.0), max(h - top - bottom, 1.0))

    # -- painting ------------------------------------------------------------------------
    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        self._rect = QtCore.QRectF()
        self._static = None
        super().resizeEvent(ev)

    def changeEvent(self, ev: QtCore.QEvent) -> None:  # noqa: N802 (Qt)
        if ev.type() in (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.FontChange,
                         QtCore.QEvent.Type.StyleChange):
            self._rect = QtCore.QRectF()
            self._static = None
        super().changeEvent(ev)

    def paint_static(self, p: QtGui.QPainter) -> None:
        """Content of the plot area that changes rarely (call ``invalidate`` when it does)."""

    def paint_data(self, p: QtGui.QPainter) -> None:
        """What the current input shows; clipped to the plot area."""

    def paint_overlay(self, p: QtGui.QPainter) -> None:
        """Drawn last, unclipped (e.g. labels that may cross the plot area's edge)."""

    def _static_layer(self) -> QtGui.QPixmap:
        if self._static is not None:
            return self._static
        dpr = self.devicePixelRatioF()
        pm = QtGui.QPixmap(max(1, int(self.width() * dpr)), max(1, int(self.height() * dpr)))
        pm.setDevicePixelRatio(dpr)
        pm.fill(QtGui.QColor("white"))
        p = QtGui.QPainter(pm)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        r = self.data_rect()
        if self._title:
            p.setFont(self.title_font)
            p.setPen(self.fg)
            self.texts.draw(p, r.center().x(), PAD, self._title, self.title_font,
                            QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignTop)
        p.setFont(self.label_font)
        p.setPen(self.fg)
        if self._x_axis and self._bottom:
            self.texts.draw(p, r.center().x(), self.height() - PAD, self._bottom, self.label_font,
                            QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignBottom)
        if self._y_axis and self._left:
            p.save()
            p.translate(PAD, r.center().y())
            p.rotate(-90)
            self.texts.draw(p, 0, 0, self._left, self.label_font,
                            QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignTop)
            p.restore()
        if self._legend is not None:
            self._paint_legend(p, r)
        p.save()
        p.setClipRect(r)
        self.paint_static(p)
        p.restore()
        p.end()
        self._static = pm
        return pm

    def _paint_legend(self, p: QtGui.QPainter, r: QtCore.QRectF) -> None:
        assert self._legend is not None
        rgb, lo, hi, label, ticks = self._legend
        x = r.right() + 2 * PAD
        bar = QtCore.QRectF(x, r.top(), LEGEND_BAR, r.height())
        grad = QtGui.QLinearGradient(bar.bottomLeft(), bar.topLeft())
        for i, c in enumerate(rgb):
            grad.setColorAt(i / max(len(rgb) - 1, 1), QtGui.QColor(int(c[0]), int(c[1]), int(c[2])))
        p.fillRect(bar, grad)
        p.setPen(self.muted)
        p.drawRect(bar)
        p.setFont(self.tick_font)
        widest = 0.0
        for v, s in ticks:
            if hi == lo:
                break
            y = bar.bottom() - (v - lo) / (hi - lo) * bar.height()
            p.setPen(self.muted)
            p.drawLine(QtCore.QPointF(bar.right(), y), QtCore.QPointF(bar.right() + TICK, y))
            p.setPen(self.fg)
            t = self.texts.draw(p, bar.right() + TICK + 1, y, s, self.tick_font,
                                QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
            widest = max(widest, t.width())
        if label:
            p.save()
            p.setFont(self.label_font)
            p.setPen(self.muted)
            p.translate(bar.right() + TICK + widest + 2 * PAD, bar.center().y())
            p.rotate(90)
            self.texts.draw(p, 0, 0, label, self.label_font,
                            QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignBottom)
            p.restore()

    def _axes_key(self, r: QtCore.QRectF) -> tuple:
        # one call for the rectangle (a paint asks for this key twice, every panel on every input).
        # An axis set to no ticks draws the same whatever its range: a range that moves on every
        # few inputs (the memory panel's growing window) then keeps the ticks in the layer.
        x = self._x if self._x_ticks != [] else None
        y = (self._y, self._y_inverted) if self._y_ticks != [] else None
        return (r.getRect(), x, y, self._x_axis, self._y_axis, self._ticks_version)

    def _axes_items(self, r: QtCore.QRectF, key: tuple | None = None
                    ) -> tuple[list[QtCore.QLineF], list[tuple[QtCore.QPointF, QtGui.QStaticText]]]:
        """The axis lines (the first one or two), tick marks and tick labels, made once per range,
        ticks and size. ``key``: ``_axes_key(r)`` if the caller has it."""
        key = self._axes_key(r) if key is None else key
        if self._axes is not None and self._axes[0] == key:
            return self._axes[1], self._axes[2]
        lines: list[QtCore.QLineF] = [QtCore.QLineF(r.bottomLeft(), r.bottomRight())] if self._x_axis else []
        if self._y_axis:
            lines.append(QtCore.QLineF(r.topLeft(), r.bottomLeft()))
        labels: list[tuple[QtCore.QPointF, QtGui.QStaticText]] = []
        if self._x_axis:
            xs = self._tick_list(True, r.width())
            for (_, s), x in zip(xs, self.px_x(np.array([v for v, _ in xs])).tolist(), strict=True):
                if r.left() - 0.5 <= x <= r.right() + 0.5:
                    lines.append(QtCore.QLineF(x, r.bottom(), x, r.bottom() + TICK))
                    st, w, _ = self.texts.get(s, self.tick_font)
                    if 0 <= x - w / 2 and x + w / 2 <= self.width():   # a label cut by the edge ('.920'): left out
                        labels.append((QtCore.QPointF(x - w / 2, r.bottom() + TICK + 1), st))
        if self._y_axis:
            ys = self._tick_list(False, r.height())
            for (_, s), y in zip(ys, self.px_y(np.array([v for v, _ in ys])).tolist(), strict=True):
                if r.top() - 0.5 <= y <= r.bottom() + 0.5:
                    lines.append(QtCore.QLineF(r.left() - TICK, y, r.left(), y))
                    st, w, h = self.texts.get(s, self.tick_font)
                    labels.append((QtCore.QPointF(r.left() - TICK - 2 - w, y - h / 2), st))
        self._axes = (key, lines, labels)
        return lines, labels

    def _paint_axes(self, p: QtGui.QPainter, r: QtCore.QRectF, ticks: bool = True, key: tuple | None = None) -> None:
        """The axis lines and, unless ``ticks`` is False (they are in the layer under the data),
        the tick marks and labels."""
        lines, labels = self._axes_items(r, key)
        p.setPen(self.muted)
        if not ticks:                              # the one or two axis lines: no list to convert
            for line in lines[:int(self._x_axis) + int(self._y_axis)]:
                p.drawLine(line)
            return
        p.drawLines(lines)
        p.setPen(self.fg)
        p.setFont(self.tick_font)
        for at, st in labels:
            p.drawStaticText(at, st)

    def _under_data(self, r: QtCore.QRectF, key: tuple | None = None) -> tuple[QtGui.QPixmap, bool]:
        """The layer under the data, and whether the tick marks and labels are in it. They are
        drawn in (one copy of the static layer) once the same axes are painted a second time:
        a plot whose range holds still blits them, one whose range moves on every input draws
        them, as before. Tick marks and labels lie outside the plot area, where the data never
        paints, so drawing them under the data changes no pixel; the axis lines on the plot
        area's edge are still drawn over it."""
        static = self._static_layer()
        key = self._axes_key(r) if key is None else key
        cached = self._with_ticks
        if cached is not None and cached[0] == key and cached[1] is static:
            return cached[2], True
        if key != self._last_axes_key:
            self._last_axes_key = key
            return static, False
        pm = static.copy()
        p = QtGui.QPainter(pm)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        lines, labels = self._axes_items(r, key)
        p.setPen(self.muted)
        p.drawLines(lines[int(self._x_axis) + int(self._y_axis):])
        p.setPen(self.fg)
        p.setFont(self.tick_font)
        for at, st in labels:
            p.drawStaticText(at, st)
        p.end()
        self._with_ticks = (key, static, pm)
        return pm, True

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        p = QtGui.QPainter(self)
        r = self.data_rect()
        key = self._axes_key(r)
        layer, ticks_in = self._under_data(r, key)
        p.drawPixmap(0, 0, layer)
        p.save()
        p.setClipRect(r)
        self.paint_data(p)
        p.restore()
        self._paint_axes(p, r, ticks=not ticks_in, key=key)
        self.paint_overlay(p)
        if self._message:
            p.setFont(self.label_font)
            p.setPen(self.muted)
            p.drawText(r, QtCore.Qt.AlignmentFlag.AlignCenter | QtCore.Qt.TextFlag.TextWordWrap, self._message)
        p.end()

    # -- mouse ---------------------------------------------------------------------------
    def tooltip_at(self, x: float, y: float) -> str | None:
        """A tooltip for the data point (x, y) under the mouse, or None for the widget's own."""
        return None

    def event(self, ev: QtCore.QEvent) -> bool:
        if ev.type() == QtCore.QEvent.Type.ToolTip and isinstance(ev, QtGui.QHelpEvent):
            at = self.data_at(QtCore.QPointF(ev.pos()))
            text = self.tooltip_at(*at) if at is not None else None
            if text:
                QtWidgets.QToolTip.showText(ev.globalPos(), text, self)
                return True
        return super().event(ev)

    def mousePressEvent(self, ev: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt)
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            at = self.data_at(ev.position())
            if at is not None:
                self.clicked.emit(*at)
                ev.accept()
                return
        super().mousePressEvent(ev)
