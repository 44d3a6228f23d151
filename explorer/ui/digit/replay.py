"""ReplayPanel: replay the drawing stroke by stroke and plot the probabilities over pen time.

Pen time is the number of points drawn so far, over all strokes; each step of the slider
classifies the drawing as it was then. The dashed line marks when the final answer took
over for good ("when did it become a 7?").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.session.digits import DigitSession
from explorer.session.replay import replay
from explorer.ui.digit.plots import SIDE, DigitImage, class_key, class_plot
from explorer.ui.widgets.jobs import JobRunner, failed_to

TIP = ("Each curve is one class's probability as the drawing grew: x is pen time (points drawn so far,\n"
       "all strokes). The dashed line marks when the final answer took over for good. Drag the slider or\n"
       "press play: the image on the right is what the network read at that moment.")


def settled_at(times: np.ndarray, probs: np.ndarray) -> int | None:
    """Pen time from which the top class is the final top class for good (None if never)."""
    ok = ~np.isnan(probs).any(axis=1)
    if not ok.any():
        return None
    labels = np.where(ok, np.nan_to_num(probs).argmax(axis=1), -1)
    final = labels[-1]
    wrong = np.flatnonzero(labels != final)
    first = 0 if len(wrong) == 0 else int(wrong[-1]) + 1
    return int(times[first]) if first < len(times) else None


class ReplayPanel(QtWidgets.QFrame):
    """``compute(session)`` (worker); the slider and play button step through pen time."""

    finished = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.times = np.zeros(0, np.int64)
        self.probs = np.zeros((0, 10), np.float32)
        self.inputs = np.zeros((0, 28, 28), np.float32)
        self.image = DigitImage(SIDE)
        self.image.setToolTip("What the network read at that pen time (its 28×28 input, ink dark)")
        self.runner = JobRunner(self)
        self.plot, self.curves = class_plot("P(class) over drawing time", "pen time (points drawn)", TIP)
        pi = self.plot.getPlotItem()
        self.time_line = pg.InfiniteLine(angle=90, pen=pg.mkPen((230, 170, 0), width=2))
        self.settled = pg.InfiniteLine(angle=90, pen=pg.mkPen("#c82828", width=2, style=QtCore.Qt.PenStyle.DashLine),
                                       label="settled", labelOpts={"position": 0.95, "color": "#c82828"})
        self.settled.setVisible(False)           # until a replay says when
        pi.addItem(self.time_line)
        pi.addItem(self.settled)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Pen time: the drawing as it was after this many points")
        self.play_button = QtWidgets.QPushButton("▶ Play")
        self.compute_button = QtWidgets.QPushButton("Replay")
        self.compute_button.setToolTip("Replay the current drawing point by point")
        self.readout = QtWidgets.QLabel("Draw a digit, then replay it.")
        self.readout.setWordWrap(True)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(60)
        self.timer.timeout.connect(self._tick)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.compute_button)
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        heading = QtWidgets.QLabel("<b>drawing time</b> · when did it become that digit?")
        heading.setWordWrap(True)
        lay.addWidget(heading)
        lay.addLayout(row)
        body = QtWidgets.QHBoxLayout()
        body.addWidget(self.plot, 1)
        side = QtWidgets.QVBoxLayout()
        side.addWidget(self.image)
        side.addStretch(1)
        body.addLayout(side)
        lay.addWidget(self.readout)
        lay.addWidget(class_key())
        lay.addLayout(body, 1)
        self.setToolTip(TIP)
        self.slider.valueChanged.connect(self._on_slider)
        self.play_button.clicked.connect(self.toggle_play)

    def compute(self, session: DigitSession) -> None:
        def job(_report: Any, _cancel: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            return replay(session, 60)
        self.compute_button.setEnabled(False)
        self.runner.start(job, None, self._on_done, failed_to(self.compute_button, self.readout, self.finished))

    def _on_done(self, result: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        self.compute_button.setEnabled(True)
        self.times, self.probs, self.inputs = result
        if len(self.times) == 0:
            self.readout.setText("Nothing drawn with the pen to replay (an opened image has no strokes).")
            self.finished.emit()
            return
        for k, c in enumerate(self.curves):
            c.setData(self.times, self.probs[:, k], connect="finite")
        self.plot.getPlotItem().setXRange(0, float(self.times[-1]), padding=0.02)
        t = settled_at(self.times, self.probs)
        self.settled.setVisible(t is not None)
        if t is not None:
            self.settled.setValue(t)
        self.slider.blockSignals(True)
        self.slider.setMaximum(len(self.times) - 1)
        self.slider.setValue(len(self.times) - 1)
        self.slider.blockSignals(False)
        self._show(len(self.times) - 1)
        self.finished.emit()

    def toggle_play(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.play_button.setText("▶ Play")
        elif len(self.times):
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)
            self.play_button.setText("■ Stop")
            self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.runner.stop()

    def _tick(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.toggle_play()
            return
        self.slider.setValue(self.slider.value() + 1)

    def _on_slider(self, i: int) -> None:
        if not len(self.times):
            return
        self._show(i)

    def _show(self, i: int) -> None:
        t, p = int(self.times[i]), self.probs[i]
        self.time_line.setValue(t)
        self.image.show(self.inputs[i])
        if np.isnan(p).any():
            self.readout.setText(f"after {t} of {int(self.times[-1])} pen points: not a digit yet")
            return
        k = int(np.argmax(p))
        self.readout.setText(f"after {t} of {int(self.times[-1])} pen points: reads <b>{k}</b> ({100 * p[k]:.1f} %)")


def demo() -> ReplayPanel:
    """The replay panel (its button replays the demo '7' point by point once shown)."""
    return ReplayPanel()


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
