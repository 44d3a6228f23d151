"""HiddenHeatmapPanel: hidden units x time around the cursor, ONE ImageItem (STYLE R5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent
from PySide6 import QtCore

from explorer.ui.sequence.common import (
    ACCENT,
    DIVERGING,
    SELECT,
    char_label,
    cmap,
    empty_text,
    legend_bar,
    one_update_rect,
    set_tip,
    set_x_range,
    style_plot,
)
from explorer.ui.sequence.fastitems import FastImageItem

WINDOW = 200

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView

HELP = ("Hidden state h(t): one row per hidden unit, one column per character read.\n"
        "Blue = negative, white = 0, red = positive (tanh range −1…1).\n"
        "The orange line is the cursor; the blue line marks the selected unit.\n"
        "Click a cell: the cursor moves to that character and that unit is selected.\n"
        "Rows are ordered so that units that move together sit together (fixed per model;\n"
        "'Rows' beside the unit picker: by unit number or by r with the finder's signal).")


class HiddenHeatmapPanel(pg.GraphicsLayoutWidget):
    """show(h (n, H), start, step, unit, chars): the states of characters start..start+n-1."""

    cell_clicked = QtCore.Signal(int, int)      # character index, unit

    def __init__(self, window: int = WINDOW, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        one_update_rect(self)
        self.window, self.n_units, self._start, self._chars = window, 1, 0, ""
        self._h: np.ndarray | None = None
        self.level = 1.0                         # the colour scale is -level..level (tanh: 1)
        self.rows = np.arange(1)                 # row r of the image shows unit rows[r]
        self._shown: tuple | None = None         # what show_states was last given (with _h_seen)
        self._h_seen = np.zeros((0, 0), np.float32)
        self.plot = self.addPlot(row=0, col=0)
        style_plot(self.plot, "Hidden state h(t) — units × time", "character position", "hidden unit")
        self.plot.invertY(True)
        self.image = FastImageItem(axisOrder="row-major", autoLevels=False, levels=(-1.0, 1.0))
        self.image.setColorMap(cmap(DIVERGING))
        self.plot.addItem(self.image)
        self.cursor_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(ACCENT, width=2))
        self.unit_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(SELECT, width=2))
        for line in (self.cursor_line, self.unit_line):
            self.plot.addItem(line, ignoreBounds=True)
            line.hide()
        self.legend = legend_bar(self.ci, DIVERGING, (-1.0, 1.0), "activation h", 0, 1)
        self.empty = empty_text(self.plot, "Type in the editor, or pick a preset,\n"
                                           "to watch the hidden state change.")
        set_tip(self, HELP)
        self.scene().sigMouseClicked.connect(self._on_clicked)
        self.scene().sigMouseMoved.connect(self._on_moved)
        self.set_units(1)

    def set_units(self, n_units: int) -> None:
        self.n_units = max(int(n_units), 1)
        self.rows = np.arange(self.n_units)
        self._shown = None
        self.plot.setRange(xRange=(0, self.window), yRange=(0, self.n_units), padding=0)
        self._set_ticks()
        self.empty.setPos(self.window / 2, self.n_units / 2)

    def set_scale(self, level: float, title: str, label: str, rows: str = "hidden unit") -> None:
        """The colour scale -level..level (1 for tanh states; a transformer's residual stream is
        unbounded), the plot's title and the legend's label; the next frame is drawn anew."""
        self.level = float(level)
        self._shown = None
        self.legend.setLevels((-self.level, self.level))
        self.legend.getAxis("left").setLabel(label)
        style_plot(self.plot, title, None, rows)

    def set_rows(self, rows: np.ndarray) -> None:
        """Row r shows unit rows[r] (the axis names the units); unchanged rows: nothing to do."""
        if len(rows) == self.n_units and not np.array_equal(rows, self.rows):
            self.rows = np.asarray(rows).copy()
            self._set_ticks()

    def _set_ticks(self) -> None:
        step = max(1, self.n_units // 8)
        self.plot.getAxis("left").setTicks([[(r + 0.5, str(int(self.rows[r]))) for r in range(0, self.n_units, step)]])

    def show_states(self, h: np.ndarray, start: int, step: int, unit: int | None, chars: str,
                    view: tuple[float, float] | None = None) -> None:
        """h: (n, H) states of characters start..start+n-1, columns in row order (``set_rows``);
        step: the cursor's character (-1: none); unit: the selected unit's ROW; view: the x range."""
        key = (start, step, unit, chars, view, self.n_units)
        if key == self._shown and np.array_equal(h, self._h_seen):
            return                               # the same frame again: nothing is re-set or repainted
        self._shown, self._h_seen = key, np.array(h)   # (a copy: the caller's array may be reused)
        n = len(h)
        self._start, self._chars, self._h = start, chars, h
        if n == 0:
            self.image.hide()
            self.cursor_line.hide()
            self.empty.show()
            set_x_range(self.plot, (0.0, float(self.window)))
        else:
            self.empty.hide()
            width = max(n, self.window)           # a fixed width: a key repaints its column, not all
            self.image.set_window(h.T, width, (-self.level, self.level))
            self.image.setRect(QtCore.QRectF(start, 0, width, self.n_units))
            self.image.show()
            set_x_range(self.plot, view or (start, start + (max(n, 40) if start == 0 else self.window)))
            self.cursor_line.setVisible(step >= start)
            self.cursor_line.setPos(step + 0.5)
        self.unit_line.setVisible(unit is not None and n > 0)
        if unit is not None:
            self.unit_line.setPos(unit + 0.5)

    def _cell_at(self, scene_pos: QtCore.QPointF) -> tuple[int, int] | None:
        h = self._h
        if h is None or not len(h) or not self.plot.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plot.vb.mapSceneToView(scene_pos)
        t, u = int(np.floor(p.x())), int(np.floor(p.y()))
        if self._start <= t < self._start + len(h) and 0 <= u < self.n_units:
            return t, u                      # u: the row
        return None

    def _on_clicked(self, event: MouseClickEvent) -> None:
        cell = self._cell_at(event.scenePos())
        if cell is not None:
            self.cell_clicked.emit(cell[0], int(self.rows[cell[1]]))

    def _on_moved(self, scene_pos: QtCore.QPointF) -> None:
        cell = self._cell_at(scene_pos)
        if cell is None:
            self.setToolTip(HELP)
            return
        t, row = cell
        h = self._h
        assert h is not None                 # _cell_at found the cell in it
        u = int(self.rows[row])
        c = self._chars[t - self._start] if 0 <= t - self._start < len(self._chars) else "?"
        self.setToolTip(f"character #{t} '{char_label(c)}', unit {u}: "
                        f"h = {h[t - self._start, row]:+.3f}\nclick: move the cursor here, select unit {u}")


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
