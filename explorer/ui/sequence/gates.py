"""GatesPanel: LSTM input / forget / output gates and cell state, GRU reset / update gates.

Left: every gate over time as bands of ONE image (units x characters, the heat map's
window), the cell state in the same image with its own signed scale. Right: at the cursor,
how the units' values are spread (one histogram per band), the selected unit marked.
Hand-painted (LivePlot): a key colours the image's new column only, and the panel
repaints in the same window update as the editor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence.common import ACCENT, DIVERGING, GATE_MAP, MUTED, SELECT, set_tip
from explorer.ui.sequence.painted_image import Band, LivePlot, WindowImage, colour_rgb
from explorer.ui.widgets.painted_plot import nice_ticks

NAMES = {"i": "input i", "f": "forget f", "o": "output o", "c": "cell c", "r": "reset r", "z": "update z"}
C_LEVEL = 2.0
BINS = 12
GAP = 0.25          # gap between bands, as a fraction of the number of units
HIST_PAD = 0.02     # the histogram plot's margin around its data, as a fraction of its range

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView

HELP = ("Gates over time (left: one band per gate, units × characters, the heat map's window) and\n"
        "at the cursor (right: how many units have each value; the blue tick is the selected unit).\n"
        "LSTM: c(t) = f·c(t−1) + i·g, h(t) = o·tanh(c(t)). f ≈ 1 keeps the memory, i ≈ 1 writes,\n"
        "o ≈ 1 shows it. GRU: h(t) = (1−z)·n + z·h(t−1); z ≈ 1 keeps the old state, r gates how\n"
        "much of it feeds the candidate n. Gates are in 0…1 (dark → yellow); the cell state is\n"
        "signed, −2…2 (blue < 0 < red).")


def band_top(k: int, n_units: int) -> int:
    """First image row of band k (rows = units; bands separated by a gap of blank rows)."""
    return k * (n_units + max(1, int(round(GAP * n_units))))


class GateTimePlot(LivePlot):
    """The bands over time: one WindowImage, the cursor line; a tooltip names gate, unit and value."""

    def __init__(self) -> None:
        super().__init__("gates over time", "character position", None)
        self.title_font.setPointSizeF(9.0)
        self.image = WindowImage()
        self.names: tuple[str, ...] = ()
        self.n_units, self.start, self.n = 1, 0, 0
        self.cursor_x: float | None = None
        self.gates: dict[str, np.ndarray] = {}
        self.chars = ""
        self._pen = QtGui.QPen(QtGui.QColor(ACCENT), 2)

    def paint_data(self, p: QtGui.QPainter) -> None:
        if self.n == 0:
            return
        x0, x1 = self.px_x(np.array([self.start, self.start + self.image.width])).tolist()
        y0, y1 = self.px_y(np.array([0.0, self.image.rows])).tolist()
        self.image.draw(p, QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        if self.cursor_x is not None:
            r, x = self.data_rect(), float(self.px_x(self.cursor_x))
            p.setPen(self._pen)
            p.drawLine(QtCore.QPointF(x, r.top()), QtCore.QPointF(x, r.bottom()))

    def tooltip_at(self, x: float, y: float) -> str | None:
        t, row = int(np.floor(x)), int(np.floor(y))
        if not self.start <= t < self.start + self.n:
            return None
        for k, name in enumerate(self.names):
            u = row - band_top(k, self.n_units)
            if 0 <= u < self.n_units:
                v = float(self.gates[name][t - self.start, u])
                return f"{NAMES[name]}, unit {u}, character #{t}: {v:.3f}"
        return None


class GateHistPlot(LivePlot):
    """Per band, a histogram of the units' values at the cursor and the selected unit's mark."""

    def __init__(self) -> None:
        super().__init__("at the cursor", "value", None)
        self.title_font.setPointSizeF(9.0)
        self.set_x_range(-HIST_PAD, 1 + HIST_PAD)
        self.set_x_ticks([(0.0, "0"), (0.5, "½"), (1.0, "1")])
        self.n_units, self.n_bands = 1, 0
        self.heights = np.zeros((0, BINS))          # (bands, BINS) bar heights in rows (up from a band's foot)
        self.marks = (np.zeros(0), np.zeros(0))     # the selected unit: x pairs, y pairs (one line per band)
        self.names: tuple[str, ...] = ()
        self.counts = np.zeros((0, BINS), np.intp)  # units per bin, per band (what the bars show)
        self._rects: tuple[tuple, list[QtCore.QRectF]] | None = None
        self._frame: tuple | None = None            # (geometry, bar lefts, rights, feet in pixels, feet)
        self._brush = QtGui.QColor(MUTED)
        self._pen = QtGui.QPen(QtGui.QColor(SELECT), 3)
        self._pen.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)

    def bar_rects(self) -> list[QtCore.QRectF]:
        """The bars in pixels, made again only when the heights or the geometry change."""
        r = self.data_rect()
        geometry = (r.left(), r.top(), r.width(), r.height(), self.y_range(), self.n_bands, self.n_units)
        if self._rects is None or self._rects[0] != geometry:
            if self._frame is None or self._frame[0] != geometry:       # what depends on the size only
                edges = np.linspace(0, 1, BINS + 1)[:-1]
                feet = np.array([band_top(k, self.n_units) + self.n_units for k in range(self.n_bands)], float)
                self._frame = (geometry, np.tile(self.px_x(edges), self.n_bands),
                               np.tile(self.px_x(edges + 0.9 / BINS), self.n_bands),
                               np.repeat(self.px_y(feet), BINS), feet[:, None])
            _, x0, x1, foot_px, feet_col = self._frame
            tops = self.px_y(feet_col - self.heights).ravel()        # all bands' bars at once
            shown = np.flatnonzero(self.heights.ravel() > 0)
            rects = [QtCore.QRectF(a, t, b - a, f - t) for a, b, t, f in
                     zip(x0[shown].tolist(), x1[shown].tolist(), tops[shown].tolist(), foot_px[shown].tolist(),
                         strict=True)]
            self._rects = (geometry, rects)
        return self._rects[1]

    def set_heights(self, heights: np.ndarray) -> bool:
        """True when they changed (the bars are then made again at the next paint)."""
        if heights.shape == self.heights.shape and np.array_equal(heights, self.heights):
            return False
        self.heights, self._rects = heights, None
        self.update()
        return True

    def tooltip_at(self, x: float, y: float) -> str | None:
        b = int(np.clip(np.floor(x * BINS), 0, BINS - 1))
        for k, name in enumerate(self.names[:len(self.counts)]):
            top = band_top(k, self.n_units)
            if top <= y < top + self.n_units:
                lo, hi = (-C_LEVEL + 2 * C_LEVEL * b / BINS, -C_LEVEL + 2 * C_LEVEL * (b + 1) / BINS) \
                    if name == "c" else (b / BINS, (b + 1) / BINS)
                return f"{NAMES[name]}: {int(self.counts[k, b])} of {self.n_units} units at {lo:.2f}…{hi:.2f}"
        return None

    def set_marks(self, sx: np.ndarray, sy: np.ndarray) -> bool:
        if np.array_equal(sx, self.marks[0]) and np.array_equal(sy, self.marks[1]):
            return False
        self.marks = (sx, sy)
        self.update()
        return True

    def paint_data(self, p: QtGui.QPainter) -> None:
        rects = self.bar_rects()
        if rects:
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(self._brush)
            p.drawRects(rects)
        sx, sy = self.marks
        if len(sx):
            xs, ys = self.px_x(sx).tolist(), self.px_y(sy).tolist()
            p.setPen(self._pen)
            p.drawLines([QtCore.QLineF(xs[i], ys[i], xs[i + 1], ys[i + 1]) for i in range(0, len(xs), 2)])


class LegendStrip(LivePlot):
    """A colour legend alone (no axes, no data), beside another plot."""

    def __init__(self, colour_map: str, lo: float, hi: float, label: str) -> None:
        # blank title and x label: the bar spans the neighbouring plots' height (its end labels fit)
        super().__init__(" ", " ", None)
        self.show_axes(True, False)
        self.set_x_ticks([])
        self.set_legend(colour_rgb(colour_map), lo, hi, label, nice_ticks(lo, hi, 150, 30))
        self.setMinimumSize(10, 110)
        self.setFixedWidth(58)


class GatesPanel(QtWidgets.QWidget):
    """set_model(gate_names, n_units, window, cell); show_gates(name -> (n, H), start, step, unit)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.names: tuple[str, ...] = ()
        self.n_units, self.window_chars = 1, 200
        self._stack: np.ndarray | None = None
        self._shown_key: tuple | None = None     # what show_gates was last given (with _shown)
        self._shown: dict[str, np.ndarray] = {}
        self.time_plot = GateTimePlot()
        self.hist_plot = GateHistPlot()
        self.gate_legend = LegendStrip(GATE_MAP, 0.0, 1.0, "gate")
        self.cell_legend = LegendStrip(DIVERGING, -C_LEVEL, C_LEVEL, "cell")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(0)
        lay.addWidget(self.time_plot, 3)
        lay.addWidget(self.hist_plot, 1)
        lay.addWidget(self.gate_legend)
        lay.addWidget(self.cell_legend)
        for w in (self, self.time_plot, self.hist_plot, self.gate_legend, self.cell_legend):
            set_tip(w, HELP)
        self.setMinimumSize(200, 110)
        pal = self.palette()                     # white between the plots, as one plot
        pal.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor("white"))
        self.setPalette(pal)
        self.setAutoFillBackground(True)
        self.set_model((), 1, 200, "RNN")

    def _band(self, k: int) -> int:
        return band_top(k, self.n_units)

    def set_model(self, names: tuple[str, ...], n_units: int, window: int, cell: str) -> None:
        self._stack, self._shown_key = None, None
        self.names, self.n_units, self.window_chars = tuple(names), n_units, window
        t, hist = self.time_plot, self.hist_plot
        t.names, t.n_units, t.n, t.gates, t.cursor_x = self.names, n_units, 0, {}, None
        hist.n_units, hist.n_bands, hist.names = n_units, len(self.names), self.names
        hist.counts = np.zeros((0, BINS), np.intp)
        hist.set_heights(np.zeros((len(self.names), BINS)))
        hist.set_marks(np.zeros(0), np.zeros(0))
        for w in (hist, self.gate_legend):
            w.setVisible(bool(names))
        self.cell_legend.setVisible("c" in names)
        if not names:
            t.set_title(f"Gates — a plain {cell} has none")
            t.show_axes(False, False)
            t.set_y_ticks(None)
            t.set_message("h(t) = tanh(W·x(t) + U·h(t−1) + b)\nno gate decides what to keep:\n"
                          "the whole state is rewritten at every step.")
            return
        total = self._band(len(names) - 1) + n_units
        t.set_message("")
        t.set_title(f"{cell} gates over time")
        t.show_axes(True, True)
        t.set_y_range(0, total, inverted=True)
        t.set_x_range(0, window)
        ticks = [(self._band(k) + n_units / 2, NAMES[n]) for k, n in enumerate(names)]
        t.set_y_ticks(ticks)
        hist.set_labels("value (cell: −2…2)" if "c" in names else "value", None)
        hist.set_y_range(-HIST_PAD * total, (1 + HIST_PAD) * total, inverted=True)
        hist.set_y_ticks([(v, "") for v, _ in ticks])

    def _bands(self) -> tuple[Band, ...]:
        H = self.n_units
        return tuple((self._band(k), self._band(k) + H, *((-C_LEVEL, C_LEVEL, DIVERGING) if name == "c"
                                                          else (0.0, 1.0, GATE_MAP)))
                     for k, name in enumerate(self.names))

    def show_gates(self, gates: dict[str, np.ndarray], start: int, step: int, unit: int | None,
                   view: tuple[float, float] | None = None) -> None:
        """gates: name -> (n, H) for characters start..start+n-1; step: the cursor's character;
        view: the x range of the time plot (default: the window from start)."""
        if not self.names:
            return
        key = (start, step, unit, view, tuple(gates))
        if key == self._shown_key and all(np.array_equal(g, self._shown[k]) for k, g in gates.items()):
            return                               # the same frame again: nothing is re-set or repainted
        t = self.time_plot
        n = len(next(iter(gates.values()))) if gates else 0
        in_stack = n > 0 and list(gates) == list(self.names)
        # kept for the next frame's comparison and the tooltips: the stack below holds a copy of
        # the gates (views of it are kept); other shapes are copied
        self._shown_key, self._shown = key, {} if in_stack else {k: np.array(g) for k, g in gates.items()}
        before = (t.start, t.n > 0, t.cursor_x)
        t.gates, t.start, t.n = self._shown, start, n
        if n == 0:
            t.cursor_x = None
            t.update()
            self._show_histograms(gates, None, None)
            return
        H = self.n_units
        rows = self._band(len(self.names) - 1) + H
        width = max(n, self.window_chars)         # a fixed width: a key colours its column, not all
        # kept, a character per row (each gate's (n, H) rows copy in whole); the gaps are in no band (white)
        if self._stack is None or self._stack.shape[1] != rows or self._stack.shape[0] < n:
            self._stack = np.zeros((width, rows), np.float32)
        stack = self._stack[:n]
        for k, name in enumerate(self.names):
            stack[:, self._band(k):self._band(k) + H] = gates[name]
            if in_stack:
                self._shown[name] = stack[:, self._band(k):self._band(k) + H]
        columns = t.image.set_window(stack.T, width, self._bands())
        moved = t.set_x_range(*(view or (start, start + (max(n, 40) if start == 0 else self.window_chars))))
        j = step - start
        t.cursor_x = step + 0.5 if 0 <= j < n else None
        if moved or before[:2] != (start, True):
            t.update()
        else:                                     # typing at the end: the new column and the cursor
            spans = [(start + columns[0], start + columns[1])] if columns[1] > columns[0] else []
            t.update_spans(spans + [(x, x) for x in (before[2], t.cursor_x) if x is not None])
        self._show_histograms(gates, j if 0 <= j < n else None, unit)

    def _show_histograms(self, gates: dict[str, np.ndarray], j: int | None, unit: int | None) -> None:
        """Per band, how many units have each value at column j (bars), the selected unit marked.
        All bands are counted at once (one bincount); unchanged bars and marks are not re-set."""
        H, nb = self.n_units, len(self.names)
        heights, sx, sy = np.zeros((nb, BINS)), np.zeros(0), np.zeros(0)
        counts = np.zeros((0, BINS), np.intp)
        if j is not None:
            v = np.stack([gates[name][j] for name in self.names])     # (bands, H), the gates' own dtype
            if "c" in self.names:
                c = self.names.index("c")
                v[c] = (np.clip(v[c], -C_LEVEL, C_LEVEL) + C_LEVEL) / (2 * C_LEVEL)
            v = np.clip(v, 0.0, 1.0)
            bins = np.minimum((v * BINS).astype(np.intp), BINS - 1) + (np.arange(nb) * BINS)[:, None]
            counts = np.bincount(bins.ravel(), minlength=nb * BINS).reshape(nb, BINS)
            heights = counts / np.maximum(counts.max(axis=1), 1)[:, None] * H * 0.95
            if unit is not None:
                sx = np.repeat(v[:, unit], 2).astype(float)
                sy = np.array([(self._band(k), self._band(k) + H) for k in range(nb)], float).ravel()
        self.hist_plot.counts = counts
        self.hist_plot.set_heights(heights)
        self.hist_plot.set_marks(sx, sy)


def demo(session: SequenceSession, view: SequenceView) -> QtWidgets.QWidget:
    """The panel fed from one frame of a shipped model (``python -m explorer.ui.sequence.gates``)."""
    w = GatesPanel()
    w.set_model(session.gate_names, session.hidden_size, 120, session.cell)
    w.show_gates(view.gates, view.start, view.step, view.unit, view.x_range)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
