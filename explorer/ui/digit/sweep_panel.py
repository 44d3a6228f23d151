"""SweepPanel: how the answer changes as the network input is shifted, rotated, scaled, thickened.

The transform is applied to the 28x28 *network input* (not the drawing), so the curves show
the network's own tolerance, not the centring done before it. One curve per class; the
dashed line marks the nearest value where the answer flips; drag the cursor to see the
transformed input the network read there. Runs in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.analysis.transforms import Sweep, identity_value, sweep, unit_of
from explorer.ui.digit.plots import SIDE, DigitImage, class_key, class_plot
from explorer.ui.widgets.jobs import JobRunner, failed_to
from explorer.ui.widgets.transforms import transform_combo

TIP = ("Each curve is one class's probability as the network input is transformed by the value on the\n"
       "x axis (identity: the live input). The dashed red line marks the nearest value where the top\n"
       "class changes. Drag the yellow cursor to see the transformed input under it.")


class SweepPanel(QtWidgets.QFrame):
    """``run(x, probs_fn)`` starts a sweep; ``result`` holds the last Sweep; ``finished`` when done."""

    finished = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.result: Sweep | None = None
        self.runner = JobRunner(self)
        self.transform = transform_combo()
        self.transform.setToolTip("shift ±8 px, rotate ±60°, scale 0.5–1.5×, thickness −3…+3 grey erosions/dilations")
        self.run_button = QtWidgets.QPushButton("Sweep")
        self.run_button.setToolTip("Sweep the current drawing through the transform")
        self.plot, self.curves = class_plot("P(class) vs the transform", "transform value", TIP)
        pi = self.plot.getPlotItem()
        self.flip_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#c82828", width=2, style=QtCore.Qt.PenStyle.DashLine),
                                         label="flips", labelOpts={"position": 0.95, "color": "#c82828"})
        self.flip_line.setVisible(False)
        self.value_line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen((230, 170, 0), width=2))
        self.value_line.setToolTip("Drag: the transformed input at this value is shown on the right")
        pi.addItem(self.flip_line)
        pi.addItem(self.value_line)
        self.image = DigitImage(SIDE)
        self.image.setToolTip("The 28×28 network input after the transform at the cursor (ink dark)")
        self.readout = QtWidgets.QLabel("Draw a digit, then sweep.")
        self.readout.setWordWrap(True)
        self.readout.setFixedWidth(SIDE + 14)
        side = QtWidgets.QVBoxLayout()
        side.addWidget(QtWidgets.QLabel("<b>at the cursor</b>"))
        side.addWidget(self.image)
        side.addWidget(self.readout)
        side.addStretch(1)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("transform"))
        top.addWidget(self.transform, 1)
        top.addWidget(self.run_button)
        body = QtWidgets.QHBoxLayout()
        body.addWidget(self.plot, 1)
        body.addLayout(side)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        heading = QtWidgets.QLabel("<b>invariance sweep</b> · does it still read the same digit?")
        heading.setWordWrap(True)
        lay.addWidget(heading)
        lay.addLayout(top)
        lay.addWidget(class_key())
        lay.addLayout(body, 1)
        self.setToolTip(TIP)
        self.value_line.sigPositionChanged.connect(self._on_cursor)

    def run(self, x: np.ndarray | None, probs_fn: Callable[[np.ndarray], np.ndarray]) -> bool:
        """Sweep ``x`` (28, 28) in a worker; False (and a message) when there is no drawing."""
        if x is None:
            self.readout.setText("Draw a digit first.")
            return False
        name = self.transform.currentData()
        x = np.array(x, np.float32).reshape(28, 28)

        def job(_report: Any, _cancel: Any) -> Sweep:
            return sweep(None, x, name, probs=probs_fn)  # type: ignore[arg-type]  # with probs given, sweep reads no model

        self.run_button.setEnabled(False)
        self.readout.setText("sweeping …")
        self.runner.start(job, None, self._on_done, failed_to(self.run_button, self.readout, self.finished))
        return True

    def stop(self) -> None:
        self.runner.stop()

    def _on_done(self, s: Sweep) -> None:
        self.result = s
        self.run_button.setEnabled(True)
        for k, c in enumerate(self.curves):
            c.setData(s.values, s.probs[:, k])
        pi = self.plot.getPlotItem()
        pi.setXRange(float(s.values[0]), float(s.values[-1]), padding=0.02)
        pi.setLabel("bottom", f"{s.transform} ({unit_of(s.transform)})")
        flips = s.flips()
        self.flip_line.setVisible(bool(flips))
        if flips:
            self.flip_line.setValue(flips[0])
        self.value_line.setBounds((float(s.values[0]), float(s.values[-1])))
        self.value_line.setValue(identity_value(s.transform))
        self._on_cursor()
        self.finished.emit()

    def _on_cursor(self) -> None:
        s = self.result
        if s is None:
            return
        i = int(np.argmin(np.abs(s.values - self.value_line.value())))
        self.image.show(s.images[i])
        flips = s.flips()
        flip = (f"flips at {flips[0]:g} (to {s.labels[list(s.values).index(flips[0])]})" if flips
                else "never flips in this range")
        self.readout.setText(f"{s.transform} = {s.values[i]:g}: reads <b>{s.labels[i]}</b> "
                             f"({100 * s.probs[i, s.labels[i]]:.1f} %)<br>{flip}")


def demo() -> SweepPanel:
    """The sweep panel (its button sweeps a transform over the network input)."""
    return SweepPanel()


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
