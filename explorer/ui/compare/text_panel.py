"""CNN vs LSTM on real code: the shipped char-CNNs and the code LSTM on held-out Python.

Three parts, all from one shipped result (``explorer.session.compare_text``): closer
accuracy against how far back the opener is, each network's validation curve against the
characters it had seen in training (so a viewer can see both reached a plateau), and a table
of the figures with the training effort behind them (steps, characters seen, clock,
throughput, multiply-adds per character). ``python -m explorer.ui.compare.text_panel``
shows it alone.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.session.compare_text import TextCompareView, load_text_view
from explorer.ui.widgets.style import FG, RNN, note, pen, plot_widget

CNN_SHADES = ("#6baed6", "#4292c6", "#2171b5", "#08306b")   # narrow field pale, wide field dark
COLUMNS = ("network", "field", "params", "bits\n/ char", "closers\nright", "beyond field\n(LSTM there)",
           "steps", "chars\nseen", "training: wall\nclock (CPU)", "chars per\nCPU s", "mult-adds\n/ char",
           "reading it:\nCPU s")
HOW_TO_READ = (
    "How to read this: every network read the same 299,050 characters of standard-library code that "
    "none trained on. Left: at each closing bracket or quote, is the network's most likely next "
    "character that closer? Grouped by how far back its opener is; a CNN cannot see an opener farther "
    "back than its field. Middle: the validation bits per character while training, against the "
    "characters seen — flat at the end means trained to a plateau. Table: the held-out figures and "
    "the effort behind them.")


def _colour(view: TextCompareView, name: str) -> str:
    cnns = [m.name for m in sorted(view.models, key=lambda m: m.field or 0) if m.kind == "cnn"]
    if name not in cnns:
        return RNN
    return CNN_SHADES[min(len(CNN_SHADES) - 1, cnns.index(name) * len(CNN_SHADES) // max(1, len(cnns)))]


def _clock(seconds: float | None) -> str:
    if not seconds:
        return "—"
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


class TextComparePanel(QtWidgets.QWidget):
    """Shows one ``TextCompareView``; ``set_view(None)`` says that no result is shipped."""

    def __init__(self, view: TextCompareView | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: TextCompareView | None = None
        self.summary = QtWidgets.QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(f"color: {FG};")
        self.explain = note("")
        self.explain.setToolTip(HOW_TO_READ)
        self.acc_plot = plot_widget("Closers predicted, by opener distance", "opener distance (characters)",
                                    "accuracy", HOW_TO_READ.split("Middle:")[0])
        self.curve_plot = plot_widget("Validation while training (colours as left)", "characters seen (millions)",
                                      "bits per character",
                                      "Each network's validation bits per character during training, "
                                      "against the characters it had seen (each on its own validation "
                                      "text, so compare shapes, not heights: the table has the common "
                                      "held-out figure). A network without a recorded curve shows its "
                                      "final point. A wider CNN grew from the narrower one (the same "
                                      "function plus one more dilated layer) and trained on: its line "
                                      "continues where the narrower one's ends.", legend=False)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setToolTip("Held-out figures and training effort. 'Beyond its field': closers whose "
                              "opener the CNN cannot see, its accuracy and (in brackets) the LSTM's on "
                              "the same closers. Multiply-adds per character: the work to predict one "
                              "more character of a stream. 'Reading it': CPU seconds to read the whole "
                              "held-out text (a CNN reads every position at once; the LSTM one "
                              "character after another).")
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(5, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.verticalHeader().setDefaultSectionSize(20)
        plots = QtWidgets.QHBoxLayout()
        plots.addWidget(self.acc_plot, 1)
        plots.addWidget(self.curve_plot, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addLayout(plots, 1)
        lay.addWidget(self.table)
        lay.addWidget(self.explain)
        self._acc_items: dict[str, pg.PlotDataItem] = {}
        self._curve_items: dict[str, pg.PlotDataItem] = {}
        self.set_view(view)

    def set_view(self, view: TextCompareView | None) -> None:
        self.view = view
        if view is None:
            self.summary.setText("No shipped result: run <code>python -m explorer.training.compare_text "
                                 "--out resources/compare/text.json</code>.")
            self.table.setRowCount(0)
            for item in (*self._acc_items.values(), *self._curve_items.values()):
                item.setData([], [])
            return
        self._ensure_items(view)
        x = np.arange(len(view.bins))
        for m in view.models:
            acc = np.array([np.nan if a is None else a for a in view.accuracy[m.name]], np.float64)
            self._acc_items[m.name].setData(x, acc, connect="finite")
            if m.curve:
                c = np.asarray(m.own_curve(), np.float64)   # a grown CNN: its parent draws the start
                self._curve_items[m.name].setData(c[:, 0] / 1e6, c[:, 1])
            elif m.chars_seen:
                self._curve_items[m.name].setData([m.chars_seen / 1e6], [m.bpc])
        self.acc_plot.getPlotItem().getAxis("bottom").setTicks(
            [[(i, b) for i, b in enumerate(view.bins)]])
        # the key is under the axis: no headroom above 100 %; room for the 0 % and 100 % labels
        self.acc_plot.getPlotItem().setYRange(-0.04, 1.06, padding=0)
        self.acc_plot.getPlotItem().getAxis("left").setTicks([[(v / 5, f"{v * 20} %") for v in range(6)]])
        self.acc_plot.getPlotItem().legend.setColumnCount(2)
        self._fill_table(view)
        self.summary.setText(" ".join(view.verdicts()))
        self.explain.setText(
            "A CNN reads a window in parallel (every position at once in training) and wins where a local "
            "pattern decides — see the motif task in 'Same task, three networks'; an LSTM carries a state "
            "and can use an opener however far back it is" + _attention_clause(view)
            + ". Hover for how to read this panel.")

    def drawn_curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(characters seen in millions, bits per character) the validation plot draws for a network."""
        xs, ys = self._curve_items[name].getData()
        return (np.asarray([] if xs is None else xs, np.float64), np.asarray([] if ys is None else ys, np.float64))

    def _ensure_items(self, view: TextCompareView) -> None:
        """One curve per model name, created the first time that name is seen, then only fed."""
        ap, cp = self.acc_plot.getPlotItem(), self.curve_plot.getPlotItem()
        for m in view.models:
            if m.name in self._acc_items:
                continue
            colour = _colour(view, m.name)
            label = m.name + (f" (field {m.field})" if m.field else "")
            symbol = "t" if m.kind == "rnn" else "o"
            self._acc_items[m.name] = ap.plot(pen=pen(colour, 2), symbol=symbol, symbolSize=6,
                                              symbolBrush=colour, symbolPen=None, name=label)
            self._curve_items[m.name] = cp.plot(pen=pen(colour, 2), symbol=symbol, symbolSize=5,
                                                symbolBrush=colour, symbolPen=None)

    def _fill_table(self, view: TextCompareView) -> None:
        self.table.setRowCount(len(view.models))
        best_bpc = min(m.bpc for m in view.models)
        for r, m in enumerate(view.models):
            beyond = "—" if m.beyond is None else f"{m.beyond[1]:.1%} ({m.beyond[2]:.1%}) of {m.beyond[0]:,}"
            cells = (m.name, m.sees(), f"{m.params:,}", f"{m.bpc:.3f}",
                     f"{m.closer_accuracy:.1%}", beyond, f"{m.steps:,}" if m.steps else "—",
                     f"{m.chars_seen / 1e6:.1f} M" if m.chars_seen else "—",
                     f"{_clock(m.train_seconds)} ({_clock(m.train_cpu_seconds)})",
                     f"{m.chars_per_cpu_second:,}" if m.chars_per_cpu_second else "—", f"{m.macs_per_char:,}",
                     f"{m.read_cpu_seconds:.1f}" if m.read_cpu_seconds else "—")
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if c == 0:
                    item.setForeground(pg.mkColor(_colour(view, m.name)))
                if c == 3 and m.bpc == best_bpc:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                tip = "; ".join(t for t in (m.schedule, m.early_stopping) if t)
                if tip:
                    item.setToolTip(tip)
                self.table.setItem(r, c, item)
        height = (self.table.horizontalHeader().sizeHint().height() + 2 * self.table.frameWidth()
                  + self.table.verticalHeader().defaultSectionSize() * self.table.rowCount())
        self.table.setFixedHeight(height)


def _demo() -> None:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    panel = TextComparePanel(load_text_view())
    panel.setWindowTitle("CNN vs LSTM on real code")
    panel.resize(1000, 560)
    panel.show()
    app.exec()


if __name__ == "__main__":
    _demo()


def _attention_clause(view: TextCompareView) -> str:
    """What the comparison's transformer sees, from its row (nothing when it has none)."""
    windows = [m.context for m in view.models if m.context]
    return (f"; a transformer looks straight back at any character of its {windows[0]}-character window"
            if windows else "")
