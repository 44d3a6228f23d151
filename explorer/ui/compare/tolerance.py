"""Which one tolerates a shift? The same invariance sweep for the digit CNN and the row-RNN.

Left: accuracy of each network on its held-out images (the split training never saw) as
every image is shifted / rotated / scaled / thickened on the 28x28 network input. Right:
the probability each network gives its own answer for the current drawing under the same
transform. Blue = CNN, red = row-RNN; computed in a worker thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6 import QtCore, QtWidgets

from explorer.analysis.transforms import accuracy_under, sweep, unit_of
from explorer.session.compare import DigitPair
from explorer.ui.widgets.jobs import JobRunner, failed_to
from explorer.ui.widgets.style import CNN, RNN, note, pen, plot_widget
from explorer.ui.widgets.transforms import transform_combo

TIP_ACC = ("Share of the held-out images each network still reads correctly when every image is transformed\n"
           "by the value on the x axis (applied to the 28×28 network input). Blue = CNN, red = row-RNN.")
TIP_ONE = ("For the current drawing: the probability each network gives the class it reads at the identity,\n"
           "as the drawing is transformed. Blue = CNN, red = row-RNN.")


def held_out() -> tuple[np.ndarray, np.ndarray]:
    """The held-out images both digit models were validated on -> (N, 28, 28), (N,)."""
    from explorer.data.mnist import load_digits
    from explorer.training.digits import split_digits
    _, _, x_va, y_va = split_digits(load_digits())
    return x_va[:, 0], y_va


class TolerancePanel(QtWidgets.QWidget):
    """``run()`` computes both curves in a worker; ``result`` = {"values", "cnn", "rnn", ...}."""

    finished = QtCore.Signal()

    def __init__(self, pair: DigitPair, digit_source: Any = None, data: Any = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.pair, self.source, self.data = pair, digit_source, data
        self.result: dict[str, Any] | None = None
        self.runner = JobRunner(self)
        self.transform = transform_combo()
        self.run_button = QtWidgets.QPushButton("Compare")
        self.run_button.setToolTip("Run both networks over the held-out images under the transform (worker thread)")
        self.status = QtWidgets.QLabel("")
        self.acc_plot = plot_widget("Held-out accuracy under the transform", "transform value", "accuracy", TIP_ACC)
        self.one_plot = plot_widget("The current drawing", "transform value", "P(its answer)", TIP_ONE)
        self.curves = {}
        for plot, key in ((self.acc_plot, "acc"), (self.one_plot, "one")):
            pi = plot.getPlotItem()
            pi.setYRange(0, 1.02, padding=0)
            for name, colour in (("CNN", CNN), ("Row-RNN", RNN)):
                self.curves[key, name] = pi.plot([], [], pen=pen(colour, 2.5), symbol="o", symbolSize=5,
                                                 symbolBrush=colour, symbolPen=None, name=name)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("transform"))
        row.addWidget(self.transform)
        row.addWidget(self.run_button)
        row.addWidget(self.status, 1)
        plots = QtWidgets.QHBoxLayout()
        plots.addWidget(self.acc_plot, 1)
        plots.addWidget(self.one_plot, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(note("The CNN slides the same kernels over the whole image and pools; the row-RNN reads "
                           "the 28 rows one per time step. Which one still reads a digit that is shifted, rotated "
                           "or scaled? The transform is applied to the network input, not to the drawing."))
        lay.addLayout(row)
        lay.addLayout(plots, 1)
        self.run_button.clicked.connect(self.run)

    def run(self) -> None:
        name = self.transform.currentData()
        pair, data = self.pair, self.data
        drawing = self.source() if self.source is not None else None

        def job(_report: Any, cancel: Any) -> dict[str, Any]:
            xs, ys = data if data is not None else held_out()
            out: dict[str, Any] = {"transform": name, "n": int(len(ys))}
            for key, model in (("cnn", pair.cnn), ("rnn", pair.rnn)):
                out["values"], out[key] = accuracy_under(model, xs, ys, name, cancel=cancel.is_set)
            if drawing is not None:
                img = np.asarray(drawing, np.float32).reshape(28, 28)
                for key, model in (("one_cnn", pair.cnn), ("one_rnn", pair.rnn)):
                    s = sweep(model, img, name)
                    ident = int(np.argmin(np.abs(s.values - (1.0 if name == "scale" else 0.0))))
                    out[key] = s.probs[:, s.labels[ident]]
            return out

        self.run_button.setEnabled(False)
        self.status.setText("running both networks over the held-out images …")
        self.runner.start(job, None, self._on_done, failed_to(self.run_button, self.status, self.finished))

    def _on_done(self, r: dict[str, Any]) -> None:
        self.result = r
        self.run_button.setEnabled(True)
        v = r["values"]
        label = f"{r['transform']} ({unit_of(r['transform'])})"
        for plot in (self.acc_plot, self.one_plot):
            plot.getPlotItem().setLabel("bottom", label)
        self.curves["acc", "CNN"].setData(v, r["cnn"])
        self.curves["acc", "Row-RNN"].setData(v, r["rnn"])
        for key, name in (("one_cnn", "CNN"), ("one_rnn", "Row-RNN")):
            self.curves["one", name].setData(v, r[key]) if key in r else self.curves["one", name].setData([], [])
        ends = f"at {v[0]:g}: CNN {r['cnn'][0]:.0%}, RNN {r['rnn'][0]:.0%}; at {v[-1]:g}: CNN {r['cnn'][-1]:.0%}, RNN {r['rnn'][-1]:.0%}"
        self.status.setText(f"{r['n']} held-out images; {ends}")
        self.finished.emit()

    def shutdown(self) -> None:
        self.runner.stop()
