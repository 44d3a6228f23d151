"""MemoryPanel: how strongly each earlier character moves the prediction at the cursor."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

from explorer.ui.sequence.common import (
    ACCENT,
    apply_range_now,
    char_label,
    empty_text,
    one_update_rect,
    set_tip,
    set_title_text,
    set_x_range,
    style_plot,
)
from explorer.ui.sequence.fastitems import FastTickAxis

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView

HELP = ("Memory: for the prediction read at the cursor (the correct next character, or the\n"
        "model's best guess at the end of the text), the squared gradient of its logit with\n"
        "respect to each earlier input vector x(s), computed by backpropagation through time\n"
        "with the engine's own LSTM/GRU/RNN backward. Scaled so the strongest is 1; the same\n"
        "numbers colour the text when 'Colour text by: memory' is chosen.")

N_TICKS = 40
SPAN = 60            # characters on the x axis (the lab asks for a 60-character memory window)


class MemoryPanel(pg.GraphicsLayoutWidget):
    """show_memory(start, weights (n,), chars, label, actual) — or None for the empty state."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        one_update_rect(self)
        self.ci.setContentsMargins(4, 4, 10, 4)
        self.plot = self.addPlot(axisItems={"bottom": FastTickAxis("bottom")})   # labels change per key
        style_plot(self.plot, "Memory: influence of earlier characters", "character (newest right)",
                   "relative influence")
        self.bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.8,
                                    brush=pg.mkBrush(ACCENT), pen=None)
        self.plot.addItem(self.bars)
        self.plot.setRange(yRange=(0, 1.05), xRange=(0.4 - SPAN, 0.6), padding=0)
        self.plot.getAxis("bottom").setStyle(tickFont=QtGui.QFont("DejaVu Sans Mono", 8))
        self.empty = empty_text(self.plot, "put the cursor after a character")
        self.empty.setPos(0.5 - SPAN / 2, 0.5)
        self._title = ""
        self._ticks: list[tuple[float, str]] | None = None
        self._shown: tuple | None = None         # what show_memory was last given (with _weights)
        self._weights: np.ndarray | None = None
        set_tip(self, HELP)

    def show_memory(self, start: int, weights: np.ndarray | None, chars: str, label: str, actual: bool,
                    noun: str = "next char") -> None:
        key = (start, chars, label, actual, noun)
        if key == self._shown and (weights is None and self._weights is None or weights is not None
                                   and self._weights is not None and np.array_equal(weights, self._weights)):
            return                               # the same frame again: nothing is re-set or repainted
        self._shown, self._weights = key, None if weights is None else np.array(weights)
        if weights is None or not len(weights):
            self.bars.setOpts(x=np.zeros(0), height=np.zeros(0))
            self.empty.show()
            if self._ticks != []:
                self.plot.getAxis("bottom").setTicks([[]])
                self._ticks = []
            return
        self.empty.hide()
        n = len(weights)
        w = weights / max(float(weights.max()), 1e-30)
        x = np.arange(1 - n, 1, dtype=float)             # 0 = the newest character, left of the cursor
        self.bars.setOpts(x=x, height=w)
        if set_x_range(self.plot, (0.4 - max(n, SPAN), 0.6)):   # fixed while n <= SPAN; a transformer's
            apply_range_now(self.plot)                          # window grows per key: one paint, not two
        step = max(1, -(-n // N_TICKS))
        ticks = [(float(i + 1 - n), char_label(chars[i])) for i in range(n - 1, -1, -step) if i < len(chars)]
        if ticks != self._ticks:
            self.plot.getAxis("bottom").setTicks([ticks])
            self._ticks = ticks
        what = noun
        how = "actual" if actual else "predicted"
        shown = char_label(label) if noun == "next char" else label
        title = f"Memory → {how} {what} '{shown}'"   # short: fits a 1024 px window
        if title != self._title:
            set_title_text(self.plot, title)
            self._title = title


def demo(session: SequenceSession, view: SequenceView) -> QtWidgets.QWidget:
    """The panel fed from one frame of a shipped model (``python -m explorer.ui.sequence.memory_panel``)."""
    w = MemoryPanel()
    m = view.memory
    if m is not None:
        w.show_memory(m.start, m.weights, view.memory_chars, m.label, m.actual, view.memory_noun)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
