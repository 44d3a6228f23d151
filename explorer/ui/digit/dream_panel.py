"""DreamPanel: what does a class, a channel or a dense unit want to see?

Gradient ascent on the input through the engine's own backward pass, in a worker thread,
drawn as it optimises: with *pen strokes* the image is three strokes whose points follow
the gradient (springs keep them strokes); with *pixels* every pixel follows it, with L2,
blur and jitter regularisers, starting from blank, noise or your drawing. "Draw this"
puts the result on the canvas.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.analysis.dreams import GOAL_P, Dream, DreamSettings, DreamTarget, dream
from explorer.analysis.pen_dreams import PenSettings
from explorer.engine import Model
from explorer.ui.digit.edit_panel import editable_layers
from explorer.ui.digit.plots import SIDE, DigitImage
from explorer.ui.widgets.jobs import JobRunner, failed_to
from explorer.ui.widgets.style import plot_widget

TIP = ("The objective (class: log-probability; channel: mean activation of that map; unit: its value)\n"
       "at every step of gradient ascent on the input. It should rise; the image shows the input so far.\n"
       f"A class dream stops once the network reads it at p ≥ {GOAL_P:.2f}, a channel dream once its\n"
       "activation stops rising; a class dream that stalls starts again from new strokes.")


class DreamPanel(QtWidgets.QFrame):
    """``run(model, drawing)`` starts; ``result`` holds the last Dream; ``draw_requested(image)``."""

    draw_requested = QtCore.Signal(object)
    finished = QtCore.Signal()

    def __init__(self, model: Model, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.result: Dream | None = None
        self.runner = JobRunner(self)
        self._trace: list[tuple[int, float]] = []
        self.kind = QtWidgets.QComboBox()
        self.kind.setToolTip("A class (its log-probability) or a layer (then: which channel / unit)")
        self.index = QtWidgets.QSpinBox()
        self.method = QtWidgets.QComboBox()
        self.method.addItem("pen strokes", "pen")
        self.method.addItem("free pixels", "pixels")
        self.method.setToolTip("pen strokes: the image is 3 strokes whose points follow the gradient;\n"
                               "free pixels: every pixel follows it, kept smooth by L2, blur and jitter")
        self.start = QtWidgets.QComboBox()
        for text in ("blank", "noise", "current drawing"):
            self.start.addItem(text)
        self.start.setToolTip("Where free-pixel dreams start (pen dreams start from 3 seeded short strokes)")
        self.steps = QtWidgets.QSpinBox(minimum=10, maximum=20_000, value=PenSettings().steps, singleStep=500)
        self.steps.setToolTip(f"At most this many steps: a class dream stops once the network reads it at p ≥ {GOAL_P:.2f},\n"
                              "a channel dream once its activation stops rising")
        self.seed = QtWidgets.QSpinBox(minimum=0, maximum=10_000, value=0)
        self.seed.setToolTip("Same seed, same dream")
        self.run_button = QtWidgets.QPushButton("Dream")
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.draw_button = QtWidgets.QPushButton("Draw this")
        self.draw_button.setToolTip("Put the dream on the canvas (as a background image; undo brings your drawing back)")
        self.draw_button.setEnabled(False)
        self.image = DigitImage(SIDE)
        self.image.setToolTip("The input being optimised (28×28, ink dark)")
        self.readout = QtWidgets.QLabel("")
        self.readout.setWordWrap(True)
        self.plot = plot_widget("Objective per step", "step", "objective", TIP, legend=False)
        self.curve = self.plot.getPlotItem().plot([], [], pen=pg.mkPen("#1f77b4", width=2))
        self.plot.setMinimumSize(160, 130)
        for combo in (self.kind, self.method, self.start):      # narrow column: short, never cut
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(7)
        form = QtWidgets.QGridLayout()          # three rows: the panel fits a short window
        form.addWidget(QtWidgets.QLabel("target"), 0, 0)
        form.addWidget(self.kind, 0, 1, 1, 2)
        form.addWidget(self.index, 0, 3)
        form.addWidget(QtWidgets.QLabel("method"), 1, 0)
        form.addWidget(self.method, 1, 1)
        form.addWidget(QtWidgets.QLabel("start"), 1, 2)
        form.addWidget(self.start, 1, 3)
        form.addWidget(QtWidgets.QLabel("max steps"), 2, 0)
        form.addWidget(self.steps, 2, 1)
        form.addWidget(QtWidgets.QLabel("seed"), 2, 2)
        form.addWidget(self.seed, 2, 3)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.run_button, self.stop_button, self.draw_button):
            buttons.addWidget(b)
        side = QtWidgets.QVBoxLayout()          # the dream beside its objective curve
        side.addWidget(self.image)
        side.addWidget(self.readout)
        side.addStretch(1)
        self.readout.setFixedWidth(SIDE + 14)
        body = QtWidgets.QHBoxLayout()
        body.addWidget(self.plot, 1)
        body.addLayout(side)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        heading = QtWidgets.QLabel("<b>what does it want to see?</b> · gradient ascent on the input")
        heading.setWordWrap(True)
        lay.addWidget(heading)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addLayout(body, 1)
        self.setToolTip(TIP)
        self.kind.currentIndexChanged.connect(self._on_kind)
        self.method.currentIndexChanged.connect(lambda _: self.start.setEnabled(self.method.currentData() == "pixels"))
        self.stop_button.clicked.connect(self.stop)
        self.draw_button.clicked.connect(lambda: self.result is not None and self.draw_requested.emit(self.result.image))
        self.start.setEnabled(False)
        self.set_model(model)

    def set_model(self, model: Model) -> None:
        self.kind.clear()
        self.kind.addItem("class", ("class", 10))
        for i, label, n in editable_layers(model):
            self.kind.addItem(f"layer {label}", (i, n))

    def _on_kind(self) -> None:
        data = self.kind.currentData()
        if data is not None:
            self.index.setMaximum(data[1] - 1)

    def target(self) -> DreamTarget:
        what, _n = self.kind.currentData()
        if what == "class":
            return DreamTarget("class", self.index.value())
        return DreamTarget("unit", self.index.value(), int(what))

    def run(self, model: Model, drawing: np.ndarray | None) -> None:
        """Start a dream of ``model`` (a snapshot: edits made meanwhile do not change it)."""
        target, seed = self.target(), self.seed.value()
        if self.method.currentData() == "pen":
            settings: Any = PenSettings(steps=self.steps.value())
            start: Any = "blank"
        else:
            settings = DreamSettings(steps=self.steps.value())
            start = self.start.currentText()
            if start == "current drawing":
                start = np.zeros((28, 28), np.float32) if drawing is None else np.array(drawing, np.float32).reshape(28, 28)

        def job(report: Any, cancel: Any) -> Dream:
            def on_step(step: int, image: np.ndarray, act: float) -> bool:
                report((step, image, act))
                return cancel.is_set()
            return dream(model, target, settings, seed, start, on_step)

        self._trace = []
        self.curve.setData([], [])
        self.run_button.setEnabled(False)
        self.readout.setText(f"dreaming of {target.text} …")
        self.runner.start(job, self._on_progress, self._on_done, failed_to(self.run_button, self.readout, self.finished))

    def stop(self) -> None:
        if self.runner.worker is not None:
            self.runner.worker.cancel.set()

    def shutdown(self) -> None:
        self.runner.stop()

    def _on_progress(self, payload: tuple[int, np.ndarray, float]) -> None:
        step, image, act = payload
        self._trace.append((step, act))
        t = np.array(self._trace, np.float64)
        self.curve.setData(t[:, 0], t[:, 1])
        self.image.show(image)

    def _on_done(self, d: Dream) -> None:
        self.result = d
        self.run_button.setEnabled(True)
        self.draw_button.setEnabled(True)
        self.image.show(d.image)
        top = int(np.argmax(d.probs))
        why = {"goal": f"reached p ≥ {GOAL_P:.2f}", "plateau": "activation stopped rising",
               "cap": "step cap reached", "stopped": "stopped"}[d.stop]
        self.readout.setText(f"{d.target.text}: objective {d.start_activation:.3f} → <b>{d.final_activation:.3f}</b> "
                             f"in <b>{d.steps}</b> steps ({why})<br>"
                             f"the network reads the dream as <b>{top}</b> ({100 * d.probs[top]:.1f} %)")
        self.finished.emit()


def demo() -> DreamPanel:
    """The dream panel on the demo model (press its button to dream)."""
    from explorer.ui.digit.demo import demo_model
    return DreamPanel(demo_model())


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
