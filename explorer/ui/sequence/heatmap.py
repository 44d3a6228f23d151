"""HiddenHeatmapPanel: hidden units x time around the cursor, painted by hand (one image blit).

A PaintedPlot (one QWidget): its repaint joins the window's, and a key colours only the
new column of the window's image (``WindowImage``), known by index when the states are the
session's kept window (``SequenceSession.hidden_rows``, ``kept_rows``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.session.sequence import kept_rows
from explorer.ui.sequence.common import ACCENT, DIVERGING, SELECT, char_label, set_tip
from explorer.ui.sequence.painted_image import Band, LivePlot, WindowImage, colour_rgb
from explorer.ui.widgets.painted_plot import nice_ticks

WINDOW = 200
EMPTY = "Type in the editor, or pick a preset,\nto watch the hidden state change."

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView

HELP = ("Hidden state h(t): one row per hidden unit, one column per character read.\n"
        "Blue = negative, white = 0, red = positive (tanh range −1…1).\n"
        "The orange line is the cursor; the blue line marks the selected unit.\n"
        "Click a cell: the cursor moves to that character and that unit is selected.\n"
        "Rows are ordered so that units that move together sit together (fixed per model;\n"
        "'Rows' beside the unit picker: by unit number or by r with the finder's signal).")


class HiddenHeatmapPanel(LivePlot):
    """show_states(h (n, H), start, step, unit, chars): the states of characters start..start+n-1."""

    cell_clicked = QtCore.Signal(int, int)      # character index, unit

    def __init__(self, window: int = WINDOW, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Hidden state h(t) — units × time", "character position", "hidden unit", parent=parent)
        set_tip(self, HELP)
        self.window_chars, self.n_units, self.start, self.chars = window, 1, 0, ""
        self.states: np.ndarray | None = None    # the last h shown (rows in row order)
        self.level = 1.0                         # the colour scale is -level..level (tanh: 1)
        self.rows = np.arange(1)                 # row r of the image shows unit rows[r]
        self.cursor_x: float | None = None       # the cursor line's x (None: hidden)
        self.unit_y: float | None = None         # the selected unit's line (None: hidden)
        self.image = WindowImage()
        self._row_labels: list[str] = []
        self._shown: tuple | None = None         # what show_states was last given (the image holds the states)
        self._h_empty = False                    # the last frame had no states
        self._cursor_colour, self._unit_colour = QtGui.QColor(ACCENT), QtGui.QColor(SELECT)   # 2-px lines
        self.set_legend(colour_rgb(DIVERGING), -1.0, 1.0, "activation h", nice_ticks(-1.0, 1.0, 150, 30))
        self.set_message(EMPTY)
        self.clicked.connect(self._on_clicked)
        self.set_units(1)

    def set_units(self, n_units: int) -> None:
        self.n_units = max(int(n_units), 1)
        self.rows = np.arange(self.n_units)
        self._shown = None
        self.set_y_range(0, self.n_units, inverted=True)
        if self.states is None or not len(self.states):
            self.set_x_range(0, self.window_chars)
        self._set_ticks()

    def set_scale(self, level: float, title: str, label: str, rows: str = "hidden unit") -> None:
        """The colour scale -level..level (1 for tanh states; a transformer's residual stream is
        unbounded), the plot's title and the legend's label; the next frame is drawn anew."""
        self.level = float(level)
        self._shown = None
        self.set_legend(colour_rgb(DIVERGING), -self.level, self.level, label,
                        nice_ticks(-self.level, self.level, 150, 30))
        self.set_title(title)
        self.set_labels("character position", rows)

    def set_rows(self, rows: np.ndarray) -> None:
        """Row r shows unit rows[r] (the axis names the units); unchanged rows: nothing to do."""
        if len(rows) == self.n_units and not np.array_equal(rows, self.rows):
            self.rows = np.asarray(rows).copy()
            self._set_ticks()

    def _set_ticks(self) -> None:
        step = max(1, self.n_units // 8)
        ticks = [(r + 0.5, str(int(self.rows[r]))) for r in range(0, self.n_units, step)]
        self._row_labels = [s for _, s in ticks]
        self.set_y_ticks(ticks)

    def row_labels(self) -> list[str]:
        """The unit numbers the left axis names, top to bottom."""
        return list(self._row_labels)

    def show_states(self, h: np.ndarray, start: int, step: int, unit: int | None, chars: str,
                    view: tuple[float, float] | None = None) -> None:
        """h: (n, H) states of characters start..start+n-1, columns in row order (``set_rows``);
        step: the cursor's character (-1: none); unit: the selected unit's ROW; view: the x range."""
        key = (start, step, unit, chars, view, self.n_units)
        n = len(h)
        h32 = np.asarray(h, np.float32)
        known = self._columns_known(h, start, n)
        # the image keeps its own copy of the values it shows (the caller's array may be reused)
        if key == self._shown and (self._h_empty if n == 0 else known == n == self.image.n or self.image.holds(h32.T)):
            return                               # the same frame again: nothing is re-set or repainted
        self._shown, self._h_empty = key, n == 0
        before = (self.start, self.unit_y, self.cursor_x, self.states is not None and len(self.states) > 0)
        self.start, self.chars, self.states = start, chars, h
        moved = True                             # the axes moved: repaint it all
        columns = (0, 0)
        if n == 0:
            self.cursor_x = None
            self.set_message(EMPTY)
            self.set_x_range(0.0, float(self.window_chars))
        else:
            self.set_message("")
            width = max(n, self.window_chars)     # a fixed width: a key colours its column, not all
            if not known and before[3]:
                known = self._scrolled_on(h32, start - before[0], width)
            if known:                             # typed on (or scrolled): the new columns only
                self.image.held()[known:n] = h32[known:n]
                columns = self.image.recolour(known, n)
            else:
                columns = self.image.set_window(h32.T, width, self._bands())
            moved = self.set_x_range(*(view or (start, start + (max(n, 40) if start == 0 else self.window_chars))))
            self.cursor_x = step + 0.5 if step >= start else None
        self.unit_y = unit + 0.5 if unit is not None and n > 0 else None
        if moved or before[:2] != (start, self.unit_y) or not before[3] or n == 0:
            self.update()
            return
        # typing at the end: the new column and the cursor's old and new places
        spans = [(start + columns[0], start + columns[1])] if columns[1] > columns[0] else []
        self.update_spans(spans + [(x, x) for x in (before[2], self.cursor_x) if x is not None])

    def _bands(self) -> tuple[Band, ...]:
        return ((0, self.n_units, -self.level, self.level, DIVERGING),)

    def _columns_known(self, h: np.ndarray, start: int, n: int) -> int:
        """How many leading columns the image already shows, known by index: the session's
        kept window typed on (``kept_rows`` of the last states and these), the same start and
        image. 0 when not known (the values are then compared)."""
        last = self.states
        if not n or last is None or start != self.start or self._shown is None or len(last) != self.image.n:
            return 0
        width = max(n, self.window_chars)
        if self.image.shape(self.n_units, width, self._bands()):
            return 0                              # (emptied: a new width)
        return kept_rows(last, h)

    def _scrolled_on(self, h32: np.ndarray, d: int, width: int) -> int:
        """The window scrolled on by d characters and its first columns are the image's from d
        on (one comparison): they are moved, not coloured again. Returns how many (0: not so)."""
        image = self.image
        m = min(len(h32), image.n - d)
        if d <= 0 or m <= 0 or image.shape(self.n_units, width, self._bands()) \
                or not np.array_equal(h32[:m], image.held()[d:d + m]):
            return 0
        image.shift(d)
        return m

    def paint_data(self, p: QtGui.QPainter) -> None:
        if self.states is None or not len(self.states):
            return
        # x_px / y_px and line_2px's rectangles, the same arithmetic with the plot area read once
        r, (x_lo, x_hi), (y_lo, y_hi) = self.data_rect(), self.x_range(), self.y_range()
        left, top, right, bottom, height = r.left(), r.top(), r.right(), r.bottom(), r.height()
        sx, dy = r.width() / ((x_hi - x_lo) or 1.0), (y_hi - y_lo) or 1.0

        def y_px(y: float) -> float:
            f = (y - y_lo) / dy
            return top + f * height if self.y_inverted else bottom - f * height
        x0, x1 = left + (self.start - x_lo) * sx, left + (self.start + self.image.width - x_lo) * sx
        y0, y1 = y_px(0.0), y_px(float(self.n_units))
        self.image.draw(p, QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        if self.cursor_x is not None:                  # 2 px wide, from the area's top to its bottom
            x = left + (self.cursor_x - x_lo) * sx
            p.fillRect(QtCore.QRectF(x - 1, top - 1, 2.0, bottom - top + 2), self._cursor_colour)
        if self.unit_y is not None:
            y = y_px(self.unit_y)
            p.fillRect(QtCore.QRectF(left - 1, y - 1, right - left + 2, 2.0), self._unit_colour)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(character, row) of the cell at data (x, y), None outside the shown states."""
        h = self.states
        t, u = int(np.floor(x)), int(np.floor(y))
        if h is not None and self.start <= t < self.start + len(h) and 0 <= u < self.n_units:
            return t, u
        return None

    def _on_clicked(self, x: float, y: float) -> None:
        cell = self.cell_at(x, y)
        if cell is not None:
            self.cell_clicked.emit(cell[0], int(self.rows[cell[1]]))

    def tooltip_at(self, x: float, y: float) -> str | None:
        cell = self.cell_at(x, y)
        if cell is None or self.states is None:
            return None
        t, row = cell
        u = int(self.rows[row])
        c = self.chars[t - self.start] if 0 <= t - self.start < len(self.chars) else "?"
        return (f"character #{t} '{char_label(c)}', unit {u}: "
                f"h = {self.states[t - self.start, row]:+.3f}\nclick: move the cursor here, select unit {u}")


def demo(session: SequenceSession, view: SequenceView) -> HiddenHeatmapPanel:
    """The panel fed from one frame of a shipped model (``python -m explorer.ui.sequence.heatmap``)."""
    w = HiddenHeatmapPanel()
    w.set_units(session.hidden_size)
    w.set_rows(view.rows)
    w.show_states(view.h_rows, view.start, view.step, view.unit_row, view.chars, view.x_range)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
