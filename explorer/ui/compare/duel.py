"""Same task, three networks: a CNN, an LSTM and a transformer trained live side by side in
a worker thread, on the same batches.

Panels: training loss of each; accuracy against distance (recall) or length (motif), with
what the CNN can see (its receptive field) and what the transformer can see (its context)
shaded; on one sample sequence, the CNN's receptive field next to each network's measured
memory (gradient influence of every input on the answer, log scale); and the cost of reading
one more symbol as the sequence grows. The legend is one row above the plots (it never
covers a curve), with each network's parameters and training time.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.session.compare import TASKS, Duel
from explorer.ui.widgets.jobs import GUI_WINDOW, after_repaint
from explorer.ui.widgets.style import CNN, FG, MUTED, RF, RNN, TRANSFORMER, note, pen, plot_widget

FLOOR = 1e-4   # influence below this is drawn as nothing (log scale from 1e-4 to 1)
#: each contender's look, by kind: (key, colour, symbol); the keys name the plot items
STYLES = {"cnn": (CNN, "o"), "rnn": (RNN, "t"), "transformer": (TRANSFORMER, "s")}
CONTEXT = (148, 103, 189)    # the transformer's context band



class DuelWorker(QtCore.QObject):
    """Runs ``duel.step()`` until done or cancelled; emits losses (~10 Hz) and evaluations."""

    progress = QtCore.Signal(object)   # {"step", "points": [(step, {name: (loss, acc)})], "seconds"}
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
                self._emit(self.progress, {"step": self.duel.step_count, "points": points,
                                           "seconds": dict(self.duel.seconds)})
                points, last = [], time.monotonic()
            if self.duel.step_count % self.eval_every == 0:
                self._evaluate()
        if points:
            self._emit(self.progress, {"step": self.duel.step_count, "points": points,
                                       "seconds": dict(self.duel.seconds)})
        self._evaluate()
        self.finished.emit()


class DuelPanel(QtWidgets.QWidget):
    """Controls + three plots; ``train()`` starts, ``stop()`` cancels, ``duel`` is the session."""

    status = QtCore.Signal(str)
    evaluated = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.duel: Duel | None = None
        self.worker_thread: QtCore.QThread | None = None
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
        self.distance = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.distance.setRange(1, 60)
        self.distance.setValue(20)
        self.distance.setToolTip("How many filler symbols separate the key from the '?' (recall only).")
        self.distance_label = QtWidgets.QLabel()
        self.steps = QtWidgets.QSpinBox(minimum=20, maximum=5000, value=400, singleStep=50)
        self.steps.setToolTip("Optimiser steps; every network sees the same batches.")
        self.train_btn = QtWidgets.QPushButton("Train all")
        self.train_btn.setToolTip("Train a fresh CNN, LSTM and transformer side by side, in a worker thread "
                                  "(the window stays responsive).")
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
        self.distance.setMinimumWidth(120)
        self.params_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.params_label.setWordWrap(True)
        self.params_label.setToolTip("Each network's colour in every plot, its number of parameters and "
                                     "the wall-clock seconds its training steps took (same batches for all);\n"
                                     "the bands of the accuracy plot: what the CNN can see (its receptive "
                                     "field) and the transformer's context.")

        self.loss_plot = plot_widget("Training loss, same batches", "optimiser step", "loss (nats)",
                                     "Cross-entropy of each batch (running mean) for every network, "
                                     "trained on exactly the same examples.", legend=False)
        self.acc_plot = plot_widget("Accuracy against distance", "distance key → '?' (symbols)",
                                    "test accuracy",
                                    "Accuracy on fresh test sequences at each distance (recall) or "
                                    "length (motif), classes balanced so chance is exact (dashed). "
                                    "Orange band: what the CNN can see; violet band: the transformer's "
                                    "context (beyond it the key has left its window).", legend=False)
        self.mem_plot = plot_widget("What each network looks at when it answers", "position in the sample sequence",
                                    "influence (log scale)",
                                    "Bars: how strongly each input symbol moves the answer — the norm "
                                    "of d(answer logit)/d(input) through Model.backward. Orange band: "
                                    "the CNN's receptive field; outside it the CNN's gradient is exactly "
                                    "0. The LSTM's memory reaches back to the first symbol; the "
                                    "transformer's attention reaches any symbol inside its context directly.",
                                    legend=False)
        self.cost_plot = plot_widget("Cost of one more symbol", "symbols read so far (log)",
                                     "multiply-adds (log)",
                                     "Multiply-adds to read one more symbol after n symbols, counted from "
                                     "each architecture. The LSTM updates a fixed-size state and the CNN one "
                                     "window: constant. The transformer compares the new symbol with every "
                                     "earlier one it can see: it grows with n until its context is full "
                                     "(dashed: the same transformer with an unlimited context).", legend=False)
        self._curves()
        grid = QtWidgets.QGridLayout()
        grid.addWidget(self.loss_plot, 0, 0)
        grid.addWidget(self.acc_plot, 0, 1)
        grid.addWidget(self.mem_plot, 1, 0)
        grid.addWidget(self.cost_plot, 1, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        self.explain = note("")
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addLayout(bar2)
        lay.addWidget(self.params_label)
        lay.addWidget(self.explain)
        lay.addLayout(grid, 1)
        self.task.currentIndexChanged.connect(self._new_duel)
        self.distance.valueChanged.connect(self._new_duel)
        self.steps.valueChanged.connect(self._new_duel)
        self.train_btn.clicked.connect(self.train)
        self.stop_btn.clicked.connect(self.stop)

    def _curves(self) -> None:
        """Every plot item, built once for each kind of network (hidden when a duel lacks one)."""
        lp, ap, mp, cp = (w.getPlotItem() for w in (self.loss_plot, self.acc_plot, self.mem_plot, self.cost_plot))
        self.loss = {k: lp.plot(pen=pen(c, 2)) for k, (c, _) in STYLES.items()}
        self.band = pg.LinearRegionItem((0, 9), movable=False, brush=pg.mkBrush(*RF, 45),
                                        pen=pg.mkPen(*RF, width=1))
        self.context_band = pg.LinearRegionItem((0, 30), movable=False, brush=pg.mkBrush(*CONTEXT, 28),
                                                 pen=pg.mkPen(*CONTEXT, width=1))
        ap.addItem(self.context_band)
        ap.addItem(self.band)
        self.chance = pg.InfiniteLine(0.25, angle=0, pen=pen(MUTED, 1, QtCore.Qt.PenStyle.DashLine),
                                      label="chance", labelOpts={"color": MUTED, "position": 0.95})
        ap.addItem(self.chance)
        self.acc = {k: ap.plot(pen=pen(c, 2), symbol=sym, symbolSize=7, symbolBrush=c, symbolPen=None)
                    for k, (c, sym) in STYLES.items()}
        ap.setYRange(0, 1.05, padding=0)
        self.field = pg.LinearRegionItem((0, 1), movable=False, brush=pg.mkBrush(*RF, 60),
                                         pen=pg.mkPen(*RF, width=2))
        mp.addItem(self.field)
        self.bars = {k: pg.BarGraphItem(x=[0], height=[0], width=0.3, brush=c) for k, (c, _) in STYLES.items()}
        for b in self.bars.values():
            mp.addItem(b)
        mp.setYRange(0, 4.2, padding=0)
        mp.getAxis("left").setTicks([[(i, f"1e-{4 - i}" if i < 4 else "1") for i in range(5)]])
        cp.setLogMode(x=True, y=True)
        self.cost = {k: cp.plot(pen=pen(c, 2), symbol=sym, symbolSize=6, symbolBrush=c, symbolPen=None)
                     for k, (c, sym) in STYLES.items()}
        self.cost_unlimited = cp.plot(pen=pen(TRANSFORMER, 1.5, QtCore.Qt.PenStyle.DashLine))
        self.cost_note = pg.TextItem("no context limit", color=TRANSFORMER, anchor=(1, 1))
        cp.addItem(self.cost_note, ignoreBounds=True)

    # -- state ---------------------------------------------------------------------------
    def _new_duel(self) -> None:
        if self.running():
            self.stop(wait_ms=3000)
        task = self.task.currentData()
        self.distance.setEnabled(task == "recall")
        self.distance_label.setText(f"{self.distance.value():>2d}")
        self.duel = Duel(task, self.distance.value(), self.steps.value())
        d = self.duel
        assert d is not None                     # _new_duel() runs in __init__
        self._legend()
        self.progress.setRange(0, d.steps)
        self.progress.setValue(0)
        self._clear()
        ctx = d.context
        seen = (f"; the transformer looks straight back at any symbol inside its context of {ctx}"
                if ctx else "")
        if task == "recall":
            self.explain.setText(
                f"Recall the first symbol at the '?' after {d.distance} fillers. The CNN answers at '?' "
                f"from the last {d.field} symbols (2 convolutions of width 5); the LSTM from the state it "
                f"carried all the way{seen}. All see the same batches (distances growing from 1).")
        else:
            self.explain.setText(
                "Does 'abc' occur anywhere? One 3-wide kernel bank plus a max over all positions finds "
                "it wherever it is, with few weights, and still works on sequences 4× longer than "
                "in training (accuracy against length).")
        self._draw_sample()
        self._draw_costs()
        self.show_snapshot()

    def _key(self, name: str) -> str:
        """The plot items' key of contender `name` (its kind)."""
        return self.duel.kinds.get(name, "cnn") if self.duel is not None else "cnn"

    def _legend(self, seconds: dict[str, float] | None = None) -> None:
        """The legend row: each network's colour, parameters and training time (when known)."""
        d = self.duel
        assert d is not None                     # _new_duel() runs in __init__
        parts = []
        for name, n in d.n_params.items():
            colour = STYLES[self._key(name)][0]
            t = (seconds or {}).get(name)
            spent = f" · {t:.1f} s" if t else ""
            parts.append(f"<span style='color:{colour}; font-size:14pt'>■</span> <b>{name}</b> "
                         f"{n:,} params{spent}")
        band = f"<span style='color:rgb{RF}; font-size:14pt'>▮</span> CNN field"
        if d.context:
            band += f" &nbsp; <span style='color:rgb{CONTEXT}; font-size:14pt'>▮</span> transformer context"
        self.params_label.setText(" &nbsp;&nbsp; ".join(parts) + " &nbsp;&nbsp; " + band)

    def _draw_costs(self) -> None:
        """The cost of one more symbol against the length read so far (from the architectures)."""
        d = self.duel
        assert d is not None                     # _new_duel() runs in __init__
        lengths, costs = d.step_costs()
        shown = {self._key(n) for n in d.names}
        for key, item in self.cost.items():
            item.setVisible(key in shown)
        for name, macs in costs.items():
            self.cost[self._key(name)].setData(lengths, macs)
        tf = [n for n in d.names if self._key(n) == "transformer"]
        self.cost_unlimited.setVisible(bool(tf))
        values = np.concatenate(list(costs.values()))
        if tf:
            unlimited = d.step_costs(windowed=False)[1][tf[0]]
            self.cost_unlimited.setData(lengths, unlimited)
            self.cost_note.setPos(np.log10(lengths[-1]), np.log10(unlimited[-1]))
            values = np.concatenate([values, unlimited])
        self.cost_note.setVisible(bool(tf))
        lo, hi = np.floor(np.log10(values.min())), np.ceil(np.log10(values.max()))
        hi = max(hi, lo + 1)
        cp = self.cost_plot.getPlotItem()      # whole decades, labelled once each (no crowded minor labels)
        cp.setYRange(lo, hi, padding=0.08)
        sup = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
        cp.getAxis("left").setTicks([[(k, "10" + str(int(k)).translate(sup)) for k in np.arange(lo, hi + 1)], []])
        cp.setXRange(0, np.log10(lengths[-1]), padding=0.02)

    def show_snapshot(self) -> bool:
        """Show the shipped pre-computed result for this setting, if there is one
        (the tab opens on figures, not on an untrained network)."""
        from explorer.ui.compare.snapshot import load_snapshot, running_mean
        d = self.duel
        assert d is not None                     # _new_duel() runs in __init__
        snap = load_snapshot(d.task, d.distance, d.steps, d.names, d.sample_text())
        self.snapshot_shown = snap is not None
        self.train_btn.setText("Train again live" if snap else "Train all")
        if snap is None:
            return False
        for name in d.names:
            key = self._key(name)
            smooth = running_mean(snap["loss"][name])
            self.loss[key].setData(np.arange(1, len(smooth) + 1), smooth)
            self.acc[key].setData(snap["grid"], snap["acc"][name])
        seconds = snap.get("train_seconds")
        if isinstance(seconds, dict):
            self._legend({k: float(v) for k, v in seconds.items() if isinstance(v, (int, float))})
        self.loss_plot.getPlotItem().enableAutoRange()
        self._draw_sample({n: np.asarray(v) for n, v in snap["influence"].items()})
        self.progress.setValue(self.progress.maximum())
        self.progress.setFormat("pre-computed result (shipped): %v steps — press 'Train again live' to watch")
        return True

    def _clear(self) -> None:
        self.loss_hist: dict[str, list[tuple[int, float]]] = {k: [] for k in STYLES}
        for item in (*self.loss.values(), *self.acc.values()):
            item.setData([], [])
        ap = self.acc_plot.getPlotItem()
        recall = self.duel is not None and self.duel.task == "recall"
        ap.setTitle(f"<b>Accuracy against {'distance' if recall else 'sequence length'}</b>", color=FG, size="10pt")
        ap.setLabel("bottom", "distance key → '?' (symbols)" if recall else "sequence length (trained at 30)", color=FG)
        self.chance.setValue(0.25 if recall else 0.5)
        self.band.setVisible(recall)
        ctx = self.duel.context if self.duel is not None else None
        self.context_band.setVisible(recall and ctx is not None)
        if recall:
            assert self.duel is not None             # recall is only true with a duel
            self.band.setRegion((0, self.duel.field - 1.5))    # distance d is visible iff d + 2 <= field
            if ctx is not None:
                self.context_band.setRegion((0, ctx - 1.5))   # the key is in its window iff d + 2 <= context
        shown = {self._key(n) for n in self.duel.names} if self.duel is not None else set(STYLES)
        for items in (self.loss, self.acc, self.bars):
            for key, item in items.items():
                item.setVisible(key in shown)
        ap.setXRange(0, 62 if recall else 125, padding=0.02)

    def _draw_sample(self, influence: dict[str, np.ndarray] | None = None) -> None:
        d = self.duel
        assert d is not None                     # _new_duel() runs in __init__
        text = d.sample_text()
        t = len(text)
        mp = self.mem_plot.getPlotItem()
        mp.getAxis("bottom").setTicks([[(i, ch) for i, ch in enumerate(text)]])
        mp.setXRange(-0.7, t - 0.3, padding=0)
        infl = influence or {}
        names = d.names
        width = 0.84 / len(names)
        for i, name in enumerate(names):
            g = infl.get(name, np.zeros(t))
            h = np.log10(np.maximum(g, FLOOR)) + 4
            dx = (i - (len(names) - 1) / 2) * width
            self.bars[self._key(name)].setOpts(x=np.arange(t) + dx, height=h, width=width * 0.92)
        cnn = [n for n in names if self._key(n) == "cnn"]
        lo, hi = d.field_span(infl.get(cnn[0]) if cnn else None)
        self.field.setRegion((lo - 0.5, hi - 0.5))

    # -- running -------------------------------------------------------------------------
    def running(self) -> bool:
        return self.worker_thread is not None and self.worker_thread.isRunning()

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
        assert self.duel is not None             # _new_duel() above when there was none
        self.worker = DuelWorker(self.duel)
        self.worker_thread = QtCore.QThread(self)
        self.worker.moveToThread(self.worker_thread)
        self.worker_thread.started.connect(self.worker.run)
        self.worker.progress.connect(self._on_progress)
        self.worker.evaluated.connect(self._on_eval)
        # direct: quit even while the GUI thread blocks in stop(wait_ms) (a queued quit never ran)
        self.worker.finished.connect(self.worker_thread.quit, QtCore.Qt.ConnectionType.DirectConnection)
        self.worker.finished.connect(lambda: self.status.emit("Compare: training finished"))
        self.worker_thread.start()

    def stop(self, wait_ms: int = 0) -> None:
        if self.worker is not None:
            self.worker.cancel.set()
        if wait_ms and self.worker_thread is not None:
            self.worker_thread.wait(wait_ms)

    def _on_progress(self, p: dict) -> None:
        assert self.duel is not None             # a worker only runs a duel that exists
        names = self.duel.names
        for step, metrics in p["points"]:
            for name in names:
                hist = self.loss_hist[self._key(name)]
                v = metrics[name][0]
                hist.append((step, v if not hist else 0.9 * hist[-1][1] + 0.1 * v))
        for key, hist in self.loss_hist.items():
            if hist:
                a = np.asarray(hist, np.float64)
                self.loss[key].setData(a[:, 0], a[:, 1])
        self.loss_plot.getPlotItem().enableAutoRange()
        self.progress.setValue(p["step"])
        self._legend(p.get("seconds"))
        if self.worker is not None:
            after_repaint(self.worker.drawn)

    def _on_eval(self, e: dict) -> None:
        assert self.duel is not None             # a worker only runs a duel that exists
        for name in self.duel.names:
            self.acc[self._key(name)].setData(e["grid"], e["acc"][name])
        self._draw_sample(e["influence"])
        self.evaluated.emit()
        if self.worker is not None:
            after_repaint(self.worker.drawn)

    def shutdown(self) -> None:
        self.stop(wait_ms=5000)

