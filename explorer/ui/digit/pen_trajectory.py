"""PenTrajectoryPanel: the pen RNN's hidden state, pen step by pen step, on a frozen 2-D basis.

A PaintedPlot (its update joins the window repaint every other panel is part of): the grey
cloud (the states the basis was fitted on) and the path so far are kept in an image, the
cloud drawn again only when the basis or the range changes, the path's new steps added to it;
each paint blits it and draws the stroke starts and the current state over it. The range follows the cloud, widened only when the path leaves it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph.functions as pgf
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.digit.data_layer import DataLayer
from explorer.ui.help.pen import PAGES
from explorer.ui.widgets.howto import HowToButton
from explorer.ui.widgets.painted_plot import PaintedPlot, nice_ticks
from explorer.ui.widgets.style import ACCENT, FG, RNN

if TYPE_CHECKING:
    from explorer.session.pen_reader import PenView

TIP = ("The pen RNN's hidden state after every pen step, on the two principal axes of its states\n"
       "over synthetic digits (grey; fitted once per model, then frozen). Orange: the state now;\n"
       "squares: where a stroke began.")
PADDING = 0.06           # room around the range, as a fraction of it on each side
WIDEN = 0.1              # how far past the path the range widens when the path leaves it (of its span)
CLOUD = (170, 172, 185, 70)
CLOUD_DOT = 3.0          # px: diameter of a cloud dot
START_SIDE = 8.0         # px: a stroke start's square
HEAD_RADIUS = 6.0        # px: the current state's dot
TICK_PX = 22.0           # least room between x ticks, px (pyqtgraph ticked about that densely)
TICK_PX_Y = 24.0         # and between y ticks (no more than Y_TICKS of them, though)
Y_TICKS = 7
TICK_GAP = 10.0          # px between two x tick labels at least
SHORT_RUN = 8            # paths this short are drawn from point lists
HIT_PX = 8.0             # px: how near the mouse a pen step is to be named in the tooltip


def panel_header(title: str, help_key: str, *extra: QtWidgets.QWidget, compact: bool = False
                 ) -> tuple[QtWidgets.QHBoxLayout, HowToButton]:
    """A panel's title row: bold title, optional controls, the "How to read this" button."""
    row = QtWidgets.QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    label = QtWidgets.QLabel(f"<b style='color:{FG}'>{title}</b>")
    label.setMinimumWidth(10)
    row.addWidget(label, 1)
    for w in extra:
        row.addWidget(w)
    button = HowToButton(title, PAGES[help_key], compact=compact)
    row.addWidget(button)
    return row, button


def dense_ticks(plot: PaintedPlot, y: bool = False) -> None:
    """Ticks on ``plot``'s x axis (and y axis) as dense as their labels allow: TICK_PX (TICK_PX_Y)
    apart at least, and on x the widest label plus a gap (the base's default leaves a narrow plot one or
    two ticks). Call after a range or size change."""
    r = plot.data_rect()
    lo, hi = plot.x_range()
    ticks = nice_ticks(lo, hi, r.width(), TICK_PX)
    if len(ticks) > 1 and hi > lo:
        widest = max(QtGui.QFontMetricsF(plot.tick_font).horizontalAdvance(s) for _, s in ticks)
        spacing = (ticks[1][0] - ticks[0][0]) * r.width() / (hi - lo)
        if spacing < widest + TICK_GAP:
            ticks = nice_ticks(lo, hi, r.width(), widest + TICK_GAP)
    plot.set_x_ticks(ticks)
    if y:
        plot.set_y_ticks(nice_ticks(*plot.y_range(), r.height(), max(TICK_PX_Y, r.height() / (Y_TICKS + 0.5))))


def dot_alpha(diameter: float, alpha: int) -> np.ndarray:
    """(k, k) float coverage x alpha (0..1) of one antialiased dot centred at (k/2, k/2)."""
    k = int(np.ceil(diameter)) + 2
    img = QtGui.QImage(k, k, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(0)
    p = QtGui.QPainter(img)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
    p.setPen(QtCore.Qt.PenStyle.NoPen)
    p.setBrush(QtGui.QColor(0, 0, 0, alpha))
    p.drawEllipse(QtCore.QPointF(k / 2, k / 2), diameter / 2, diameter / 2)
    p.end()
    a = np.frombuffer(img.constBits(), np.uint32).reshape(k, img.bytesPerLine() // 4)[:, :k] >> 24
    return a.astype(np.float64) / 255.0


def cloud_pixels(xy: np.ndarray, w: int, h: int, dot: np.ndarray, rgb: tuple[int, ...]) -> np.ndarray:
    """Dots of colour ``rgb`` with coverage ``dot`` (k, k) at pixel positions ``xy`` (N, 2), each
    blended over the others and a white (h, w) background as a painter would blend them one by
    one (over white, n dots of one colour leave white + (colour - white) x (1 - prod(1 - a))),
    -> (h, w) uint32 0xffRRGGBB."""
    k = dot.shape[0]
    ty, tx = np.nonzero(dot > 0)
    keep = np.log1p(-dot[ty, tx])                                  # log of what each tap lets through
    corner = np.round(np.asarray(xy, np.float64) - k / 2).astype(np.int64)
    ys, xs = corner[:, 1:2] + ty[None], corner[:, 0:1] + tx[None]   # (N, taps)
    inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    blocked = -np.bincount((ys * w + xs)[inside], weights=np.broadcast_to(keep, ys.shape)[inside], minlength=w * h)
    # colour from -log(light let through) by a table in steps of 1/STEPS (a colour is then off by
    # at most (255 - 170) / STEPS / 2 < 0.5 of a level): no exp and no float colour per pixel
    table = _cloud_table(tuple(int(v) for v in rgb))
    at = np.minimum((blocked * CLOUD_STEPS + 0.5).astype(np.int64), len(table) - 1)
    return table[at].reshape(h, w)


CLOUD_STEPS = 256         # table entries per unit of -log(light let through)
_tables: dict[tuple[int, ...], np.ndarray] = {}


def _cloud_table(rgb: tuple[int, ...]) -> np.ndarray:
    """0xffRRGGBB of white under dots of ``rgb`` that let exp(-i / CLOUD_STEPS) of it through."""
    if rgb not in _tables:
        through = np.exp(-np.arange(24 * CLOUD_STEPS) / CLOUD_STEPS)      # past e^-24 it is the colour
        c = np.asarray(rgb, np.float64)
        out = np.rint(c[None] + (255.0 - c)[None] * through[:, None]).astype(np.uint32)
        _tables[rgb] = 0xFF000000 | (out[:, 0] << 16) | (out[:, 1] << 8) | out[:, 2]
    return _tables[rgb]


class TrajectoryPlot(PaintedPlot):
    """The cloud (static), the path, the stroke starts and the current state (per paint)."""

    def __init__(self) -> None:
        super().__init__("", "axis 1", "axis 2", TIP)
        self.setMinimumSize(120, 100)      # readable; a narrower column folds it into a tab
        self.cloud = np.zeros((0, 2), np.float64)
        self.xy = np.zeros((0, 2), np.float64)          # the path so far, one row a pen step
        self.starts = np.zeros((0, 2), np.float64)      # where strokes began
        self.path_pen = QtGui.QPen(QtGui.QColor(RNN), 1.6)
        self.head_pen = QtGui.QPen(QtGui.QColor("white"), 1.5)
        self.head_brush = QtGui.QBrush(QtGui.QColor(ACCENT))
        self.start_pen = QtGui.QPen(QtGui.QColor(FG), 1.0)
        self.start_pen.setCosmetic(True)
        self._dot: tuple[float, np.ndarray] | None = None        # (pixel ratio, a cloud dot's alpha)
        self._cloud_px = np.zeros((0, 0), np.uint32)               # what the cloud's image wraps
        _cloud_table(tuple(CLOUD[:3]))                             # made now, not on the first pen move
        # the cloud and the path drawn so far, kept in an image: a pen step draws its own segment only
        self.layer = DataLayer()
        self._drawn = self.xy.copy()                     # the path the layer shows
        self.set_message("draw a digit")

    def set_cloud(self, cloud: np.ndarray) -> None:
        self.cloud = np.asarray(cloud, np.float64)
        self.layer.reset()
        self.update()

    def set_range(self, x0: float, x1: float, y0: float, y1: float) -> None:
        """Show x0..x1 × y0..y1 with PADDING around it."""
        px, py = PADDING * (x1 - x0), PADDING * (y1 - y0)
        changed = self.set_x_range(x0 - px, x1 + px)
        changed = self.set_y_range(y0 - py, y1 + py) or changed
        if changed:
            dense_ticks(self, y=True)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        dense_ticks(self, y=True)

    def show_path(self, xy: np.ndarray, starts: np.ndarray) -> None:
        self.xy, self.starts = np.asarray(xy, np.float64), np.asarray(starts, np.float64)
        self.update()

    def paint_data(self, p: QtGui.QPainter) -> None:
        layer, fresh = self.layer.begin(self, (self.x_range(), self.y_range()))
        n = len(self._drawn)
        if not fresh and not (len(self.xy) >= n and np.array_equal(self.xy[:n], self._drawn)):
            layer.end()                         # a step already drawn changed (an undo, a new drawing)
            self.layer.reset()
            layer, fresh = self.layer.begin(self, (self.x_range(), self.y_range()))
        if fresh:
            self.draw_cloud(layer)
            n = 0
        self.draw_path(layer, max(n - 1, 0))
        layer.end()
        self._drawn = self.xy.copy()
        self.layer.blit(p, self)
        if not len(self.xy):
            return
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        if len(self.starts):
            p.setPen(self.start_pen)
            p.setBrush(QtGui.QColor("white"))
            h = START_SIDE / 2
            for x, y in zip(self.px_x(self.starts[:, 0]).tolist(), self.px_y(self.starts[:, 1]).tolist(), strict=True):
                p.drawRect(QtCore.QRectF(x - h, y - h, START_SIDE, START_SIDE))
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setPen(self.head_pen)
        p.setBrush(self.head_brush)
        p.drawEllipse(QtCore.QPointF(float(self.px_x(self.xy[-1, 0])), float(self.px_y(self.xy[-1, 1]))),
                      HEAD_RADIUS, HEAD_RADIUS)

    def draw_cloud(self, p: QtGui.QPainter) -> None:
        """The cloud over the white data area, blended in numpy (1,500 antialiased dots drawn by
        the painter cost ~1.5 ms, and a widened range draws them again)."""
        if not len(self.cloud):
            return
        r, dpr = self.data_rect(), self.devicePixelRatioF()
        if self._dot is None or self._dot[0] != dpr:
            self._dot = (dpr, dot_alpha(CLOUD_DOT * dpr, CLOUD[3]))
        w, h = max(1, round(r.width() * dpr)), max(1, round(r.height() * dpr))
        xy = np.stack([(self.px_x(self.cloud[:, 0]) - r.left()) * dpr, (self.px_y(self.cloud[:, 1]) - r.top()) * dpr], axis=1)
        self._cloud_px = cloud_pixels(xy, w, h, self._dot[1], CLOUD[:3])
        img = QtGui.QImage(self._cloud_px.data, w, h, self._cloud_px.strides[0], QtGui.QImage.Format.Format_RGB32)
        img.setDevicePixelRatio(dpr)
        p.drawImage(r.topLeft(), img)

    def draw_path(self, p: QtGui.QPainter, first: int = 0) -> None:
        """The path from pen step ``first`` on, in pixels."""
        if len(self.xy) - first < 2:
            return
        xs, ys = self.px_x(self.xy[first:, 0]), self.px_y(self.xy[first:, 1])
        if len(xs) <= SHORT_RUN:                # a pen step's segment: no numpy-backed polygon (~70 us)
            poly = QtGui.QPolygonF([QtCore.QPointF(u, v) for u, v in zip(xs.tolist(), ys.tolist(), strict=True)])
        else:
            poly = pgf.create_qpolygonf(len(xs))
            pts = pgf.ndarray_from_qpolygonf(poly)
            pts[:, 0], pts[:, 1] = xs, ys
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setPen(self.path_pen)
        p.drawPolyline(poly)

    def tooltip_at(self, x: float, y: float) -> str | None:
        """The pen step whose state is nearest the mouse (within HIT_PX)."""
        if not len(self.xy):
            return None
        d = np.hypot(self.px_x(self.xy[:, 0]) - float(self.px_x(x)), self.px_y(self.xy[:, 1]) - float(self.px_y(y)))
        k = int(np.argmin(d))
        if d[k] > HIT_PX:
            return None
        return f"pen step {k + 1} of {len(self.xy)}: ({self.xy[k, 0]:.2f}, {self.xy[k, 1]:.2f})"


class PenTrajectoryPanel(QtWidgets.QFrame):
    """``show_view(frame)`` with a PenView (or None: empty)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        head, self.help_button = panel_header("hidden state", "trajectory", compact=True)
        self.plot = TrajectoryPlot()
        self.setToolTip(TIP)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addWidget(self.plot, 1)
        self._cloud_of: object = None
        self._range = (0.0, 0.0, 0.0, 0.0)
        self._labels: tuple[float, float] | None = None
        self._starts_key: object = None
        self._starts = np.zeros((0, 2), np.float64)

    @property
    def xy(self) -> np.ndarray:
        """The path shown, one row a pen step."""
        return self.plot.xy

    def show_view(self, frame: PenView | None) -> None:
        if frame is None or frame.steps == 0:
            self.plot.show_path(np.zeros((0, 2)), np.zeros((0, 2)))
            self._starts_key = None
            self.plot.set_message("draw a digit" if frame is None or frame.note is None else frame.note.split(":")[0])
            return
        self.plot.set_message("")
        if frame.cloud is not self._cloud_of:
            self._cloud_of = frame.cloud
            self.plot.set_cloud(frame.cloud)
            lo, hi = np.percentile(frame.cloud, [1, 99], axis=0) if len(frame.cloud) else (np.zeros(2), np.ones(2))
            self._set_range(float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        ex = (round(float(frame.explained[0]) * 100), round(float(frame.explained[1]) * 100))
        if ex != self._labels:
            self._labels = ex
            self.plot.set_labels(f"axis 1 ({ex[0]} %)", f"axis 2 ({ex[1]} %)")
        xy = frame.xy
        stroke = frame.reading.stroke
        first = np.flatnonzero(np.diff(stroke, prepend=-1) != 0)
        key = (len(first), float(xy[first[-1], 0]), float(xy[first[-1], 1]))
        if key != self._starts_key:                 # stroke starts change when a stroke begins, not per step
            self._starts_key = key
            self._starts = np.asarray(xy[first], np.float64)
        x0, x1, y0, y1 = self._range
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        if lo[0] < x0 or hi[0] > x1 or lo[1] < y0 or hi[1] > y1:       # widen, never shrink, while drawing
            # a path heading out would widen the range (and redraw the cloud) on every pen step:
            # widen past it, by WIDEN of the span, on the side it left by
            mx, my = WIDEN * (x1 - x0), WIDEN * (y1 - y0)
            self._set_range(min(x0, float(lo[0]) - mx) if lo[0] < x0 else x0, max(x1, float(hi[0]) + mx) if hi[0] > x1 else x1,
                            min(y0, float(lo[1]) - my) if lo[1] < y0 else y0, max(y1, float(hi[1]) + my) if hi[1] > y1 else y1)
        self.plot.show_path(xy, self._starts)

    def _set_range(self, x0: float, x1: float, y0: float, y1: float) -> None:
        self._range = (x0, x1, y0, y1)
        self.plot.set_range(x0, x1, y0, y1)


def demo() -> PenTrajectoryPanel:
    """The panel on the demo '7' read by the shipped pen LSTM (or an untrained one)."""
    from explorer.ui.digit.demo import demo_pen_view
    panel = PenTrajectoryPanel()
    panel.show_view(demo_pen_view())
    panel.resize(420, 340)
    return panel


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
