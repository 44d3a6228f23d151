"""Same task, both networks: a CNN and an LSTM trained live side by side in a worker thread.

Panels: training loss of both; accuracy against distance (recall) or length (motif); and,
on one sample sequence, the CNN's receptive field next to each network's measured memory
(gradient influence of every input on the answer, log scale).
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.session.compare import TASKS, Duel
from explorer.ui.style import CNN, FG, MUTED, RF, RNN, note, pen, plot_widget
from explorer.ui.train.worker import GUI_WINDOW, after_repaint

FLOOR = 1e-4   # influence below this is drawn as nothing (log scale from 1e-4 to 1)


class DuelWorker(QtCore.QObject):
    """Runs ``duel.step()`` until done or cancelled; emits losses (~10 Hz) and evaluations."""

    progress = QtCore.Signal(object)   # {"step", "points": [(step, {name: (loss, acc)})]}
    evaluated = QtCore.Signal(object)  # {"grid", "acc": {name: (G,)}, "influence": {name: (T,)}}
    finished = QtCore.Signal()

    def __init__(self, duel: Duel, eval_every: int = 40) -> None:
        super().__init__()
        self.duel, self.eval_every = duel, eval_every
        self.cancel = threading.Event()
        self._drawn = threading.Event()

    def drawn(self) -> None:
        """The GUI has drawn the last signal (see explorer.ui.train.worker: GIL contention)."""
        self._drawn.set()

    def _emit(self, signal: QtCore.SignalInstance, payload: dict) -> None:
        self._drawn.clear()
        signal.emit(payload)
        self._drawn.wait(GUI_WINDOW)

    def _evaluate(self) -> None:
        grid, acc = self.duel.accuracy_curve()
        self._emit(self.evaluated, {"grid": grid, "acc": acc, "influence": self.duel.influence()})

    @QtCore.Slot()
    def run(self) -> None:
        points, last = [], 0.0
        while not self.duel.done() and not self.cancel.is_set():
            points.append((self.duel.step_count + 1, self.duel.step()))
            now = time.monotonic()
            if now - last >= 0.1:
                self._emit(self.progress, {"step": self.duel.step_count, "points": points})
                points, last = [], time.monotonic()
            if self.duel.step_count % self.eval_every == 0:
                self._evaluate()
        if points:
            self._emit(self.progress, {"step": self.duel.step_count, "points": points})
        self._evaluate()
        self.finished.emit()


class DuelPanel(QtWidgets.QWidget):
    """Controls + three plots; ``train()`` starts, ``stop()`` cancels, ``duel`` is the session."""

    status = QtCore.Signal(str)
    evaluated = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.duel: Duel | None = None
        self.thread: QtCore.QThread | None = None
        self.worker: DuelWorker | None = None
        self._build()
        self._new_duel()

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        self.task = QtWidgets.QComboBox()
        for key, name in TASKS.items():
            self.task.addItem(name, key)
        self.task.setToolTip("Long-range recall: remember the first symbol until '?'.\n"
                             "Local motif: does 'abc' occur anywhere in the sequence?")
        self.distance = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, minimum=1, maximum=60, value=20)
        self.distance.setToolTip("How many filler symbols separate the key from the '?' (recall only).")
        self.distance_label = QtWidgets.QLabel()
        self.steps = QtWidgets.QSpinBox(minimum=20, maximum=5000, value=400, singleStep=50)
        self.steps.setToolTip("Optimiser steps; both networks see the same batches.")
        self.train_btn = QtWidgets.QPushButton("Train both")
        self.train_btn.setToolTip("Train a fresh CNN and a fresh LSTM side by side, in a worker thread.")
        self.stop_btn = QtWidgets.QPushButton("Stop")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setFormat("step %v / %m")
        self.params_label = QtWidgets.QLabel()
        bar = QtWidgets.QHBoxLayout()
        for w in (QtWidgets.QLabel("Task"), self.task, QtWidgets.QLabel("Distance"), self.distance,
                  self.distance_label, QtWidgets.QLabel("Steps"), self.steps, self.train_btn,
                  self.stop_btn):
            bar.addWidget(w)
        bar2 = QtWidgets.QHBoxLayout()            # second row: the window can be narrow
        bar2.addWidget(self.progress, 1)
        bar2.addWidget(self.params_label)
        self.distance.setMinimumWidth(120)

        self.loss_plot = plot_widget("Training loss, same batches", "optimiser step", "loss (nats)",
                                     "Cross-entropy of each batch (running mean) for both networks, "
                                     "trained on exactly the same examples.")
        self.acc_plot = plot_widget("Accuracy against distance", "distance key → '?' (symbols)",
                                    "test accuracy",
                                    "Accuracy on fresh test sequences at each distance (recall) or "
                                    "length (motif), classes balanced so chance is exact (dashed). "
                                    "The shaded band is what the CNN can see.")
        self.mem_plot = plot_widget("What each network looks at when it answers", "position in the sample sequence",
                                    "influence (log scale)",
                                    "Bars: how strongly each input symbol moves the answer — the norm "
                                    "of d(answer logit)/d(input) through Model.backward. Orange band: "
                                    "the CNN's receptive field; outside it the CNN's gradient is exactly "
                                    "0. The LSTM's memory reaches back to the first symbol.")
        self._curves()
        grid = QtWidgets.QGridLayout()
        grid.addWidget(self.loss_plot, 0, 0)
        grid.addWidget(self.acc_plot, 0, 1)
        grid.addWidget(self.mem_plot, 1, 0, 1, 2)
        self.explain = note("")
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addLayout(bar2)
        lay.addWidget(self.explain)
        lay.addLayout(grid, 1)
        self.task.currentIndexChanged.connect(self._new_duel)
        self.distance.valueChanged.connect(self._new_duel)
        self.steps.valueChanged.connect(self._new_duel)
        self.train_btn.clicked.connect(self.train)
        self.stop_btn.clicked.connect(self.stop)

    def _curves(self) -> None:
        lp, ap, mp = (w.getPlotItem() for w in (self.loss_plot, self.acc_plot, self.mem_plot))
        self.loss = {k: lp.plot(pen=pen(c, 2), name=n) for k, c, n in
                     (("cnn", CNN, "CNN"), ("rnn", RNN, "LSTM"))}
        self.band = pg.LinearRegionItem((0, 9), movable=False, brush=pg.mkBrush(*RF, 45),
                                        pen=pg.mkPen(*RF, width=1))
        ap.addItem(self.band)
        self.chance = pg.InfiniteLine(0.25, angle=0, pen=pen(MUTED, 1, QtCore.Qt.PenStyle.DashLine),
                                      label="chance", labelOpts={"color": MUTED, "position": 0.95})
        ap.addItem(self.chance)
        self.acc = {k: ap.plot(pen=pen(c, 2), symbol=s, symbolSize=7, symbolBrush=c, symbolPen=None, name=n)
                    for k, c, s, n in (("cnn", CNN, "o", "CNN"), ("rnn", RNN, "t", "LSTM"))}
        ap.setYRange(0, 1.05, padding=0)
        self.field = pg.LinearRegionItem((0, 1), movable=False, brush=pg.mkBrush(*RF, 60),
                                         pen=pg.mkPen(*RF, width=2))
        mp.addItem(self.field)
        self.bars = {"cnn": pg.BarGraphItem(x=[0], height=[0], width=0.38, brush=CNN, name="CNN"),
                     "rnn": pg.BarGraphItem(x=[0], height=[0], width=0.38, brush=RNN, name="LSTM")}
        for b in self.bars.values():
            mp.addItem(b)                      # named: the legend picks it up
        mp.legend.addItem(pg.PlotDataItem(pen=pg.mkPen(*RF, width=6)), "CNN receptive field")
        mp.setYRange(0, 4.2, padding=0)
        mp.getAxis("left").setTicks([[(i, f"1e-{4 - i}" if i < 4 else "1") for i in range(5)]])

    # -- state ---------------------------------------------------------------------------
    def _new_duel(self) -> None:
        if self.running():
            self.stop(wait_ms=3000)
        task = self.task.currentData()
        self.distance.setEnabled(task == "recall")
        self.distance_label.setText(f"{self.distance.value():>2d}")
        self.duel = Duel(task, self.distance.value(), self.steps.value())
        d = self.duel
        self.params_label.setText(" · ".join(f"{n} {p:,} params" for n, p in d.n_params.items()))
        self.progress.setRange(0, d.steps)
        self.progress.setValue(0)
        self._clear()
        if task == "recall":
            self.explain.setText(
                f"Recall the first symbol at the '?' after {d.distance} fillers. The CNN answers at '?' "
                f"from the last {d.field} symbols (2 convolutions of width 5); the LSTM from the state it "
                "carried all the way. Both see the same batches (distances growing from 1).")
        else:
            self.explain.setText(
                "Does 'abc' occur anywhere? One 3-wide kernel bank plus a max over all positions finds "
                "it wherever it is, with few weights, and still works on sequences 4× longer than "
                "in training (accuracy against length).")
        self._draw_sample()
        self.show_snapshot()

    def show_snapshot(self) -> bool:
        """Show the shipped pre-computed result for this setting, if there is one (issue 15)."""
        from explorer.ui.compare.snapshot import load_snapshot, running_mean
        d = self.duel
        snap = load_snapshot(d.task, d.distance, d.steps, d.names, d.sample_text())
        self.snapshot_shown = snap is not None
        self.train_btn.setText("Train again live" if snap else "Train both")
        if snap is None:
            return False
        names = d.names
        for key, name in (("cnn", names[0]), ("rnn", names[1])):
            smooth = running_mean(snap["loss"][name])
            self.loss[key].setData(np.arange(1, len(smooth) + 1), smooth)
            self.acc[key].setData(snap["grid"], snap["acc"][name])
        self.loss_plot.getPlotItem().enableAutoRange()
        self._draw_sample({n: np.asarray(v) for n, v in snap["influence"].items()})
        self.progress.setValue(self.progress.maximum())
        self.progress.setFormat("pre-computed result (shipped): %v steps — press 'Train again live' to watch")
        return True

    def _clear(self) -> None:
        self.loss_hist: dict[str, list[tuple[int, float]]] = {"cnn": [], "rnn": []}
        for item in (*self.loss.values(), *self.acc.values()):
            item.setData([], [])
        ap = self.acc_plot.getPlotItem()
        recall = self.duel is not None and self.duel.task == "recall"
        ap.setTitle(f"<b>Accuracy against {'distance' if recall else 'sequence length'}</b>", color=FG, size="10pt")
        ap.setLabel("bottom", "distance key → '?' (symbols)" if recall else "sequence length (trained at 30)", color=FG)
        self.chance.setValue(0.25 if recall else 0.5)
        self.band.setVisible(recall)
        if recall:
            self.band.setRegion((0, self.duel.field - 1.5))    # distance d is visible iff d + 2 <= field
        ap.setXRange(0, 62 if recall else 125, padding=0.02)

    def _draw_sample(self, influence: dict[str, np.ndarray] | None = None) -> None:
        d = self.duel
        text = d.sample_text()
        t = len(text)
        mp = self.mem_plot.getPlotItem()
        mp.getAxis("bottom").setTicks([[(i, ch) for i, ch in enumerate(text)]])
        mp.setXRange(-0.7, t - 0.3, padding=0)
        infl = influence or {}
        names = d.names
        for key, name, dx in (("cnn", names[0], -0.2), ("rnn", names[1], 0.2)):
            g = infl.get(name, np.zeros(t))
            h = np.log10(np.maximum(g, FLOOR)) + 4
            self.bars[key].setOpts(x=np.arange(t) + dx, height=h, width=0.38)
        lo, hi = d.field_span(infl.get(names[0]))
        self.field.setRegion((lo - 0.5, hi - 0.5))

    # -- running -------------------------------------------------------------------------
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def train(self) -> None:
        if self.running():
            return
        if self.duel is None or self.duel.step_count or getattr(self, "snapshot_shown", False):
            self._new_duel()
            self._clear()                        # a live run starts from empty plots
            self._draw_sample()
            self.snapshot_shown = False
            self.progress.setValue(0)
        self.progress.setFormat("step %v / %m")
        self.worker = DuelWorker(self.duel)
        self.thread = QtCore.QThread(self)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.progress.connect(self._on_progress)
        self.worker.evaluated.connect(self._on_eval)
        # direct: quit even while the GUI thread blocks in stop(wait_ms) (a queued quit never ran)
        self.worker.finished.connect(self.thread.quit, QtCore.Qt.ConnectionType.DirectConnection)
        self.worker.finished.connect(lambda: self.status.emit("Compare: training finished"))
        self.thread.start()

    def stop(self, wait_ms: int = 0) -> None:
        if self.worker is not None:
            self.worker.cancel.set()
        if wait_ms and self.thread is not None:
            self.thread.wait(wait_ms)

    def _on_progress(self, p: dict) -> None:
        names = self.duel.names
        for step, metrics in p["points"]:
            for key, name in (("cnn", names[0]), ("rnn", names[1])):
                hist = self.loss_hist[key]
                v = metrics[name][0]
                hist.append((step, v if not hist else 0.9 * hist[-1][1] + 0.1 * v))
        for key, hist in self.loss_hist.items():
            a = np.asarray(hist, np.float64)
            self.loss[key].setData(a[:, 0], a[:, 1])
        self.loss_plot.getPlotItem().enableAutoRange()
        self.progress.setValue(p["step"])
        if self.worker is not None:
            after_repaint(self.worker.drawn)

    def _on_eval(self, e: dict) -> None:
        names = self.duel.names
        for key, name in (("cnn", names[0]), ("rnn", names[1])):
            self.acc[key].setData(e["grid"], e["acc"][name])
        self._draw_sample(e["influence"])
        self.evaluated.emit()
        if self.worker is not None:
            after_repaint(self.worker.drawn)

    def shutdown(self) -> None:
        self.stop(wait_ms=5000)

