"""FinetunePanel: teach the digit model your handwriting (the Train tab's "fine-tune on my examples").

Starts from the Digit Lab's current model and the examples kept under ``my_digits``; runs
``explorer.training.finetune.finetune`` in a QThread (the window stays live): with few
examples, first a k-fold cross-validation (accuracy on examples the model did not see),
then the fine-tuning on all of them with live curves — training loss per step, accuracy on
the 750 held-out MNIST images and on your examples per epoch — and a before/after table.
"Save as new model…" writes it (atomic) and the Digit Lab switches to it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtWidgets

from explorer.engine import Model, save_model
from explorer.errors import ExplorerError
from explorer.ui.widgets.style import CNN, VAL, pen, plot_widget

if TYPE_CHECKING:                        # (fine-tuning's modules load when a run starts)
    from explorer.data.mnist import DigitData
    from explorer.training.finetune import FinetuneResult
    from explorer.training.loop import Event

MODEL_FILE = "my_digits_model.npz"
MINE = "#ff7f0e"


class FinetuneThread(QtCore.QThread):
    """Runs one fine-tuning; signals carry plain Python objects (latest wins in the panel)."""

    stepped = QtCore.Signal(object)       # (step, loss)
    validated = QtCore.Signal(object)     # (step, mnist acc, mine acc)
    phase = QtCore.Signal(str)
    done = QtCore.Signal(object)          # FinetuneResult
    failed = QtCore.Signal(str)

    def __init__(self, model: Model, folder: Path, epochs: int, data: DigitData | None = None,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.model, self.folder, self.epochs, self.data = model, folder, epochs, data
        self.cancel = threading.Event()

    def run(self) -> None:
        from explorer.data.examples import load_examples
        from explorer.training.finetune import finetune

        def on_event(ev: Event) -> None:
            if ev.kind == "step":
                self.stepped.emit((ev.step, float(ev.metrics["loss"])))
            elif ev.kind == "val":
                self.validated.emit((ev.step, float(ev.metrics["acc"]), float(ev.metrics["mine"])))

        try:
            self.phase.emit("reading your examples")
            examples = load_examples(self.folder)
            self.phase.emit("measuring the model before fine-tuning")
            result = finetune(self.model, examples, self.epochs, data=self.data,
                              callback=on_event, cancel=self.cancel, phase=self.phase.emit)
        except ExplorerError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - shown to the user, the app keeps running
            self.failed.emit(f"error: {exc}")
            return
        self.done.emit(result)


class FinetunePanel(QtWidgets.QWidget):
    """``set_sources(folder, model_fn)``, ``start()``, ``stop()``, ``save(path)``; ``result``."""

    model_saved = QtCore.Signal(object, str)
    finished = QtCore.Signal(str)          # "done" | "stopped" | the error message

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune on my examples")
        self.folder: Path | None = None
        self.model_fn: Callable[[], Model] | None = None
        self.data: DigitData | None = None            # tests inject a small MNIST slice
        self.worker_thread: FinetuneThread | None = None
        self.result: FinetuneResult | None = None
        self._steps: list[int] = []
        self._loss: list[float] = []
        self._val: list[tuple[int, float, float]] = []
        intro = QtWidgets.QLabel(
            "<b>Teach the digit model your handwriting.</b> Keep examples in the Digits tab (draw, "
            "then press the digit key). Fine-tuning starts from the Digit Lab's model and mixes your "
            "examples — re-drawn with small random changes — with MNIST so it does not forget.")
        intro.setWordWrap(True)
        self.epochs = QtWidgets.QSpinBox(minimum=1, maximum=50, value=5)
        self.epochs.setToolTip("Epochs of 25 optimiser steps (batches of 64: half yours, half MNIST)")
        self.start_btn = QtWidgets.QPushButton("Fine-tune on my examples")
        self.stop_btn = QtWidgets.QPushButton("Stop")
        self.save_btn = QtWidgets.QPushButton("Save as new model…")
        self.save_btn.setToolTip("Save the fine-tuned model; the Digit Lab then reads with it")
        self.phase_label = QtWidgets.QLabel("ready")
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("epochs"))
        row.addWidget(self.epochs)
        for b in (self.start_btn, self.stop_btn, self.save_btn):
            row.addWidget(b)
        row.addStretch(1)

        self.loss_plot = plot_widget("Training loss (each step)", "optimiser step", "cross-entropy (nats)",
                                     "Label-smoothed cross-entropy of each batch (half your examples, "
                                     "half MNIST). Lower is better.", legend=False)
        self.loss_plot.getAxis("left").enableAutoSIPrefix(False)
        self.loss_curve = self.loss_plot.plot(pen=pen(CNN, 1))
        self.acc_plot = plot_widget("Accuracy after each epoch", "optimiser step", "fraction correct",
                                    "Step 0 is the model before fine-tuning.\n"
                                    "Green: the 750 held-out MNIST images (must stay high: no forgetting).\n"
                                    "Orange: your examples as drawn (the ones being learned; the\n"
                                    "before/after table also gives the cross-validated figure).")
        self.acc_plot.getAxis("left").enableAutoSIPrefix(False)
        self.mnist_curve = self.acc_plot.plot(pen=pen(VAL), symbol="o", symbolSize=6, symbolBrush=VAL,
                                              symbolPen=None, name="held-out MNIST")
        self.mine_curve = self.acc_plot.plot(pen=pen(MINE), symbol="s", symbolSize=6, symbolBrush=MINE,
                                             symbolPen=None, name="your examples")
        plots = QtWidgets.QHBoxLayout()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.acc_plot)

        self.table = QtWidgets.QTableWidget(3, 2)
        self.table.setHorizontalHeaderLabels(["before", "after"])
        self.table.setVerticalHeaderLabels(["your examples (learned from)",
                                            "your examples, unseen (cross-validated)",
                                            "held-out MNIST (750 images)"])
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        self.table.setFixedHeight(self.table.horizontalHeader().height()
                                  + 3 * self.table.rowHeight(0) + 4)
        self.table.setToolTip("Accuracy before and after fine-tuning. 'Unseen': each example is read by\n"
                              "a model fine-tuned without it (k-fold cross-validation), the honest figure\n"
                              "for digits you have not drawn yet.")
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(row)
        lay.addWidget(self.phase_label)
        lay.addLayout(plots, 1)
        lay.addWidget(self.table)
        self.start_btn.clicked.connect(self.start)
        self.stop_btn.clicked.connect(self.stop)
        self.save_btn.clicked.connect(self._ask_save)
        self._sync()

    def set_sources(self, folder: str | Path, model_fn: Callable[[], Model]) -> None:
        self.folder, self.model_fn = Path(folder), model_fn

    def running(self) -> bool:
        return self.worker_thread is not None and self.worker_thread.isRunning()

    def _sync(self) -> None:
        busy = self.running() and self.result is None
        self.start_btn.setEnabled(not busy)
        self.stop_btn.setEnabled(busy)
        self.save_btn.setEnabled(not busy and self.result is not None and not self.result.cancelled)

    def start(self) -> bool:
        if self.running() or self.folder is None or self.model_fn is None:
            return False
        self.result = None
        self._steps, self._loss, self._val = [], [], []
        for c in (self.loss_curve, self.mnist_curve, self.mine_curve):
            c.setData([], [])
        self.table.clearContents()
        t = self.worker_thread = FinetuneThread(self.model_fn(), self.folder, self.epochs.value(), self.data, self)
        t.stepped.connect(self._on_step)
        t.validated.connect(self._on_val)
        t.phase.connect(self.phase_label.setText)
        t.done.connect(self._on_done)
        t.failed.connect(self._on_failed)
        t.finished.connect(self._sync)
        t.start()
        self._sync()
        return True

    def stop(self, wait_ms: int = 5000) -> None:
        if self.worker_thread is not None:
            self.worker_thread.cancel.set()
            self.worker_thread.wait(wait_ms)

    shutdown = stop

    def _on_step(self, sl: tuple[int, float]) -> None:
        self._steps.append(sl[0])
        self._loss.append(sl[1])
        self.loss_curve.setData(np.asarray(self._steps, float), np.asarray(self._loss))

    def _on_val(self, v: tuple[int, float, float]) -> None:
        self._val.append(v)
        a = np.asarray(self._val, float)
        self.mnist_curve.setData(a[:, 0], a[:, 1])
        self.mine_curve.setData(a[:, 0], a[:, 2])

    def _cell(self, r: int, c: int, v: float | None) -> None:
        self.table.setItem(r, c, QtWidgets.QTableWidgetItem("—" if v is None else f"{v:.1%}"))

    def _on_done(self, result: FinetuneResult) -> None:
        self.result = result
        b, a = result.before, result.after
        for r, key in enumerate(("mine", "mine_cv", "mnist")):
            self._cell(r, 0, b["mine"] if key == "mine_cv" and key in a else b.get(key))
            self._cell(r, 1, a.get(key))
        text = "stopped" if result.cancelled else "done"
        cv = f" (cross-validated over {result.cv_folds} folds)" if result.cv_folds else ""
        self.phase_label.setText(f"{text}: {result.n_examples} examples, {result.steps} steps, "
                                 f"{result.seconds:.0f} s{cv}")
        self._sync()
        self.finished.emit(text)

    def _on_failed(self, text: str) -> None:
        self.phase_label.setText(f"<span style='color:#d62728'>{text}</span>")
        self._sync()
        self.finished.emit(text)

    def save(self, path: str | Path) -> Path | None:
        """Write the fine-tuned model (atomic) and tell the Digit Lab to use it."""
        if self.result is None:
            return None
        path = Path(path)
        save_model(self.result.model, path)
        self.model_saved.emit(self.result.model, str(path))
        self.phase_label.setText(f"saved {path}; the Digit Lab now uses it")
        return path

    def _ask_save(self) -> None:
        start = str(self.folder.parent / MODEL_FILE) if self.folder is not None else MODEL_FILE
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save the fine-tuned model", start,
                                                        "Model (*.npz)")
        if path:
            try:
                self.save(path)
            except OSError as exc:
                self.phase_label.setText(f"could not save: {exc}")
