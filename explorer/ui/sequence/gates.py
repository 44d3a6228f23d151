"""GatesPanel: LSTM input / forget / output gates and cell state, GRU reset / update gates.

Left: every gate over time as bands of ONE image (units x characters, the heat map's
window), the cell state in the same image with its own signed scale. Right: at the cursor,
how the units' values are spread (one histogram per band), the selected unit marked.
Hand-painted (LivePlot): a key colours the image's new column only (known by index when
the gates are the session's kept window, ``kept_rows``) and counts the histograms from it,
and the panel repaints in the same window update as the editor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.session.sequence import kept_rows
from explorer.ui.sequence.common import ACCENT, DIVERGING, GATE_MAP, MUTED, SELECT, set_tip
from explorer.ui.sequence.live_axis import RectBuffer
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


def same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    """a and b hold the same numbers, bit for bit (their shape and dtype too): np.array_equal's
    answer for the few small arrays a key compares, without its Python wrapper. -0.0 and 0.0 (or
    two dtypes) differ here: at worst an unchanged item is repainted, never a changed one kept."""
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


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
        self.chars = ""
        self._cursor_colour = QtGui.QColor(ACCENT)              # a 2-px line

    def paint_data(self, p: QtGui.QPainter) -> None:
        if self.n == 0:
            return
        x0, x1 = self.x_px(self.start), self.x_px(self.start + self.image.width)
        y0, y1 = self.y_px(0.0), self.y_px(float(self.image.rows))
        self.image.draw(p, QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        if self.cursor_x is not None:
            r, x = self.data_rect(), self.x_px(self.cursor_x)
            self.line_2px(p, QtCore.QPointF(x, r.top()), QtCore.QPointF(x, r.bottom()), self._cursor_colour)

    def tooltip_at(self, x: float, y: float) -> str | None:
        t, row = int(np.floor(x)), int(np.floor(y))
        if not self.start <= t < self.start + self.n:
            return None
        for k, name in enumerate(self.names):
            u = row - band_top(k, self.n_units)
            if 0 <= u < self.n_units:
                v = float(self.image.held()[t - self.start, row])      # what the image shows
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
        self._rects: tuple[tuple, np.ndarray] | None = None        # (geometry, the bars drawn)
        # per bin, band after band: x, width, foot in pixels (what depends on the size only), and the feet
        self._frame: tuple[tuple, np.ndarray, np.ndarray] | None = None
        self._buffer = RectBuffer(4 * BINS)         # the bars handed to Qt in one call
        self._mark_rects: tuple[tuple, tuple, list[QtCore.QRectF]] | None = None   # (geometry, marks, rects)
        self._brush = QtGui.QColor(MUTED)
        self._mark = QtGui.QColor(SELECT)           # the marks: 3 px wide, flat ends

    def bar_rects(self) -> np.ndarray:
        """The bars in pixels, (bars, 4) x, y, width, height rows (the non-empty bins', band after
        band), made again only when the heights or the geometry change: a few numpy calls, no
        QRectF per bar (a key changes nearly every bin: the cursor's column is new)."""
        r = self.data_rect()
        geometry = (r.left(), r.top(), r.width(), r.height(), self.y_range(), self.y_inverted, self.n_bands, self.n_units)
        if self._rects is not None and self._rects[0] == geometry:
            return self._rects[1]
        if self._frame is None or self._frame[0] != geometry:
            edges = np.linspace(0, 1, BINS + 1)[:-1]
            feet = np.repeat(np.array([band_top(k, self.n_units) + self.n_units for k in range(self.n_bands)], float), BINS)
            x0 = np.tile(self.px_x(edges), self.n_bands)
            x1 = np.tile(self.px_x(edges + 0.9 / BINS), self.n_bands)
            # column 1 is filled per key with the tops; column 3 holds the foot until the height replaces it
            template = np.stack([x0, np.zeros_like(x0), x1 - x0, self.px_y(feet)], axis=1) if len(feet) else np.zeros((0, 4))
            self._frame = (geometry, template, feet)
        _, template, feet = self._frame
        flat = self.heights.ravel()
        shown = flat > 0
        rects = template[shown]                      # a copy: the selected bins' x, width, foot
        tops = self.px_y(feet[shown] - flat[shown])
        rects[:, 1] = tops
        rects[:, 3] -= tops                          # foot - top
        self._rects = (geometry, rects)
        return rects

    def set_heights(self, heights: np.ndarray) -> bool:
        """True when they changed (the bars are then made again at the next paint)."""
        if same_bytes(heights, self.heights):
            return False
        self.heights, self._rects = heights, None
        self.update_data()
        return True

    def update_data(self) -> None:
        """Repaint the plot area only (bars and marks are clipped to it; titles, ticks and
        labels outside it do not change with them)."""
        self.update(self.data_rect().toAlignedRect().adjusted(-1, -1, 1, 1))

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
        if same_bytes(sx, self.marks[0]) and same_bytes(sy, self.marks[1]):
            return False
        self.marks = (sx, sy)
        self.update_data()
        return True

    def mark_rects(self) -> list[QtCore.QRectF]:
        """The marks as the pixels a 3-px flat-capped pen covers (filled, no stroker): made
        again only when the marks or the geometry change."""
        r = self.data_rect()
        geometry = (r.left(), r.top(), r.width(), r.height(), self.x_range(), self.y_range(), self.y_inverted)
        cached = self._mark_rects
        if cached is not None and cached[0] == geometry and cached[1] is self.marks:    # (set_marks: a new tuple)
            return cached[2]
        sx, sy = self.marks
        # px_x / px_y's arithmetic in plain floats (bit for bit the same): 8 numbers, no arrays
        (x_lo, x_hi), (y_lo, y_hi) = self.x_range(), self.y_range()
        left, top, width, height = r.left(), r.top(), r.width(), r.height()
        x_scale, y_span = width / ((x_hi - x_lo) or 1.0), (y_hi - y_lo) or 1.0
        xs = [left + (x - x_lo) * x_scale for x in sx.tolist()]
        ys = [top + (y - y_lo) / y_span * height if self.y_inverted else r.bottom() - (y - y_lo) / y_span * height
              for y in sy.tolist()]
        rects = []
        for i in range(0, len(xs), 2):
            y0, y1 = sorted((ys[i], ys[i + 1]))
            rects.append(QtCore.QRectF(xs[i] - 1.5, y0, 3.0, y1 - y0))
        self._mark_rects = (geometry, self.marks, rects)
        return rects

    def paint_data(self, p: QtGui.QPainter) -> None:
        rects = self.bar_rects()
        n = len(rects)
        if n:
            self._buffer.rows(n)[:] = rects
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(self._brush)
            self._buffer.draw(p, n)
        for rect in self.mark_rects():
            p.fillRect(rect, self._mark)


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
        self._given: dict[str, np.ndarray] = {}  # the arrays the image was last set from (kept_rows)
        self._shown_key: tuple | None = None     # (start, step, unit, view) last shown
        self._layout: tuple[tuple[int, int, str], ...] = ()    # per band: first row, end row, name
        self._band_spec: tuple[Band, ...] = ()   # ... and its colour scale (WindowImage's bands)
        # per band row: image row, clip lo, hi, span, bin offset; and the marks' ys
        self._hist: tuple[np.ndarray, ...] = ()
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
        self._given, self._shown_key = {}, None
        self.names, self.n_units, self.window_chars = tuple(names), n_units, window
        # the band layout, worked out once: a key then touches only its column
        self._layout = tuple((self._band(k), self._band(k) + n_units, name) for k, name in enumerate(self.names))
        self._band_spec = self._band_spec_of()
        rows = np.concatenate([np.arange(r0, r1) for r0, r1, _ in self._layout]) if names else np.zeros(0, np.intp)
        lo = np.repeat([-C_LEVEL if n == "c" else 0.0 for n in self.names], n_units).astype(np.float32)
        hi = np.repeat([C_LEVEL if n == "c" else 1.0 for n in self.names], n_units).astype(np.float32)
        self._hist = (rows, lo, hi, hi - lo, np.repeat(np.arange(len(self.names)) * BINS, n_units),
                      np.array([(r0, r1) for r0, r1, _ in self._layout], float).ravel())   # the marks' ys
        t, hist = self.time_plot, self.hist_plot
        t.names, t.n_units, t.n, t.cursor_x = self.names, n_units, 0, None
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
        return self._band_spec

    def _band_spec_of(self) -> tuple[Band, ...]:
        return tuple((r0, r1, *((-C_LEVEL, C_LEVEL, DIVERGING) if name == "c" else (0.0, 1.0, GATE_MAP)))
                     for r0, r1, name in self._layout)

    def _rows_shown(self, gates: dict[str, np.ndarray], n: int, start: int) -> int:
        """How many leading columns of the image already show these gates. By index when the
        session says so (``kept_rows``: the same window typed on), else by comparing values
        (the first row where any gate differs). A window scrolled on by d characters whose
        columns are the image's from d on: those are moved (``WindowImage.shift``), not coloured."""
        image, t = self.time_plot.image, self.time_plot
        m = min(n, image.n)
        if not m or list(gates) != list(self._given):
            return 0
        held, d = image.held(), start - t.start
        if d:
            m = min(n, image.n - d)
            if d < 0 or m <= 0 or not all(
                    np.array_equal(gates[name][:m].astype(np.float32, copy=False), held[d:d + m, r0:r1])
                    for r0, r1, name in self._layout):
                return 0
            image.shift(d)
            return m
        if min(kept_rows(self._given[k], g) for k, g in gates.items()) >= m:
            return m
        first = m
        for r0, r1, name in self._layout:
            g = gates[name][:first].astype(np.float32, copy=False)        # (as the image holds it)
            if not np.array_equal(g, held[:first, r0:r1]):
                differs = np.flatnonzero((g != held[:first, r0:r1]).any(axis=1))
                if len(differs):
                    first = int(differs[0])
        return first

    def show_gates(self, gates: dict[str, np.ndarray], start: int, step: int, unit: int | None,
                   view: tuple[float, float] | None = None) -> None:
        """gates: name -> (n, H) for characters start..start+n-1; step: the cursor's character;
        view: the x range of the time plot (default: the window from start)."""
        if not self.names:
            return
        t = self.time_plot
        n = len(next(iter(gates.values()))) if gates else 0
        if n and list(gates) != list(self.names):
            gates = {name: gates[name] for name in self.names}
        key = (start, step, unit, view)
        before = (t.start, t.n > 0, t.cursor_x)
        if n == 0:
            self._given, self._shown_key = {}, key
            t.start, t.n, t.cursor_x = start, 0, None
            t.update()
            self._show_histograms(None, None)
            return
        image = t.image
        width = max(n, self.window_chars)         # a fixed width: a key colours its column, not all
        rows = self._layout[-1][1]
        emptied = image.shape(rows, width, self._bands())
        first = 0 if emptied else self._rows_shown(gates, n, start)
        if first == n == image.n and key == self._shown_key:
            self._given = gates
            return                               # the same frame again: nothing is re-set or repainted
        held = image.held()
        if n > first:                             # the new rows only (a key: one), band by band
            for r0, r1, name in self._layout:
                held[first:n, r0:r1] = gates[name][first:n]
        columns = image.recolour(first, n)
        # kept to tell the next frame's unchanged rows (read-only session windows: by index)
        self._given, self._shown_key = gates, key
        t.start, t.n = start, n
        moved = t.set_x_range(*(view or (start, start + (max(n, 40) if start == 0 else self.window_chars))))
        j = step - start
        t.cursor_x = step + 0.5 if 0 <= j < n else None
        if moved or before[:2] != (start, True):
            t.update()
        else:                                     # typing at the end: the new column and the cursor
            spans = [(start + columns[0], start + columns[1])] if columns[1] > columns[0] else []
            t.update_spans(spans + [(x, x) for x in (before[2], t.cursor_x) if x is not None])
        self._show_histograms(j if 0 <= j < n else None, unit)

    def _show_histograms(self, j: int | None, unit: int | None) -> None:
        """Per band, how many units have each value at column j of the image (bars), the
        selected unit marked. All bands at once, from the column the image holds (a handful
        of numpy calls whatever the bands); unchanged bars and marks are not re-set."""
        H, nb = self.n_units, len(self.names)
        hist = self.hist_plot
        if j is None:
            hist.counts = np.zeros((0, BINS), np.intp)
            hist.set_heights(np.zeros((nb, BINS)))
            hist.set_marks(np.zeros(0), np.zeros(0))
            return
        rows, lo, hi, span, offset, marks_y = self._hist
        v = self.time_plot.image.held()[j, rows]            # (bands * H,) float32, a copy
        np.maximum(v, lo, out=v)                             # (np.clip, in two ufunc calls: no wrapper)
        np.minimum(v, hi, out=v)
        v -= lo                                              # gates: v; the cell: (c + 2) / 4
        v /= span
        bins = (v * BINS).astype(np.intp)
        np.maximum(bins, 0, out=bins)
        np.minimum(bins, BINS - 1, out=bins)
        bins += offset
        counts = np.bincount(bins, minlength=nb * BINS).reshape(nb, BINS)
        if not same_bytes(counts, hist.counts):
            hist.counts = counts
            hist.set_heights(counts / np.maximum(counts.max(axis=1), 1)[:, None] * H * 0.95)
        if unit is None:
            hist.set_marks(np.zeros(0), np.zeros(0))
        else:
            sx = [x for x in v[unit::H].tolist() for _ in (0, 1)]      # (x, x) per band
            if sx != hist.marks[0].tolist() or marks_y is not hist.marks[1]:
                hist.set_marks(np.array(sx), marks_y)


def demo(session: SequenceSession, view: SequenceView) -> QtWidgets.QWidget:
    """The panel fed from one frame of a shipped model (``python -m explorer.ui.sequence.gates``)."""
    w = GatesPanel()
    w.set_model(session.gate_names, session.hidden_size, 120, session.cell)
    w.show_gates(view.gates, view.start, view.step, view.unit, view.x_range)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
