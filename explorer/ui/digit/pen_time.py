"""PenTimePanel: both readers' probabilities over pen time, and when each knew.

Two plots sharing the pen-step axis: the pen RNN's probabilities after every pen step (top)
and the CNN's reading of the drawing as it was at that step (bottom), ten class curves each
(built once, fed per frame), a dashed line at the first step from which each stays right.
"The digit is" picks what right means (``target_changed(int)``, -1: each reader's last answer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.ui.digit.pen_trajectory import panel_header
from explorer.ui.digit.plots import CLASS_COLOURS
from explorer.ui.style import CNN, FG, MUTED, RNN, style_plot

if TYPE_CHECKING:
    from explorer.session.pen_reader import PenFrame

TIP = ("Probability of each class over pen time. Top: the pen RNN after every pen step. Bottom:\n"
       "the CNN reading the drawing as it was at that step. Dashed: the first step from which the\n"
       "answer stays right for good ('when did it know?').")


def _knew_line(colour: str) -> pg.InfiniteLine:
    return pg.InfiniteLine(angle=90, pen=pg.mkPen(colour, width=2, style=QtCore.Qt.PenStyle.DashLine),
                           label="knew", labelOpts={"position": 0.92, "color": colour, "fill": (255, 255, 255, 200)})


class PenTimePanel(QtWidgets.QFrame):
    """``show_frame(frame)``; ``target`` combo: "its last answer" or a digit."""

    target_changed = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.target = QtWidgets.QComboBox()
        self.target.addItem("its last answer", -1)
        for d in range(10):
            self.target.addItem(str(d), d)
        self.target.setToolTip("What 'right' means for 'when did it know?': the digit you meant, or\n"
                               "each reader's own last answer")
        self.target.currentIndexChanged.connect(lambda _: self.target_changed.emit(int(self.target.currentData())))
        head, self.help_button = panel_header("probabilities over pen time", "time",
                                              QtWidgets.QLabel("the digit is"), self.target)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.setMinimumSize(200, 170)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, list[pg.PlotDataItem]] = {}
        self.knew: dict[str, pg.InfiniteLine] = {}
        for row, (key, title, colour) in enumerate((("pen", "pen RNN (reads the pen)", RNN),
                                                    ("cnn", "CNN (reads the picture so far)", CNN))):
            pi = self.view.addPlot(row=row, col=0)
            style_plot(pi, "", "pen step" if key == "cnn" else "", "P", TIP, legend=False)
            pi.setTitle(f"<span style='color:{colour}'><b>{title}</b></span>", size="9pt")
            pi.setYRange(0, 1.02, padding=0)
            pi.getViewBox().disableAutoRange(pg.ViewBox.YAxis)
            pi.getAxis("left").setTicks([[(0, "0"), (0.5, ".5"), (1, "1")]])
            pi.getAxis("left").setWidth(28)
            self.curves[key] = [pi.plot([], [], pen=pg.mkPen(c, width=1.8), skipFiniteCheck=key == "pen")
                                for c in CLASS_COLOURS]
            self.knew[key] = _knew_line(colour)
            pi.addItem(self.knew[key])
            self.plots[key] = pi
        self.plots["cnn"].setXLink(self.plots["pen"])
        self.legend = QtWidgets.QLabel(" ".join(f"<span style='color:{c}'>■</span>{k}" for k, c in enumerate(CLASS_COLOURS)))
        self.legend.setToolTip("curve colour of each class")
        self.readout = QtWidgets.QLabel()
        self.readout.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.readout.setWordWrap(True)
        self.setToolTip(TIP)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addWidget(self.readout)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.legend)
        self._x = np.zeros(0, np.float64)
        self._shown_len = -1
        self.show_frame(None)

    def set_target(self, target: int | None) -> None:
        i = self.target.findData(-1 if target is None else int(target))
        if i >= 0 and i != self.target.currentIndex():
            self.target.setCurrentIndex(i)

    def show_frame(self, frame: PenFrame | None) -> None:
        t = 0 if frame is None else frame.steps
        if t == 0:
            for key in self.curves:
                for c in self.curves[key]:
                    c.setData([], [])
                self.knew[key].setVisible(False)
            note = None if frame is None else frame.note
            self.readout.setText(f"<span style='color:{MUTED}'>{note or 'draw a digit: both readers follow every pen movement'}</span>")
            self._shown_len = -1
            return
        assert frame is not None
        if len(self._x) < t:
            self._x = np.arange(1, max(t, 2 * len(self._x), 64) + 1, dtype=np.float64)   # pen steps count from 1
        x = self._x[:t]
        for key, probs in (("pen", frame.pen), ("cnn", frame.cnn)):
            for k, c in enumerate(self.curves[key]):
                c.setData(x, probs[:, k], connect="finite" if key == "cnn" else "all")
        if t != self._shown_len:
            self._shown_len = t
            self.plots["pen"].setXRange(1, max(t, 8), padding=0.02)
        for key, at in (("pen", frame.knew_pen), ("cnn", frame.knew_cnn)):
            line = self.knew[key]
            line.setVisible(at is not None)
            if at is not None:
                line.setValue(at + 1)
        self.readout.setText(self._readout(frame))

    @staticmethod
    def _readout(frame: PenFrame) -> str:
        def now(probs: np.ndarray, colour: str, name: str) -> str:
            p = probs[-1]
            if np.isnan(p).any():
                return f"<span style='color:{colour}'>{name}: …</span>"
            k = int(np.argmax(p))
            return f"<span style='color:{colour}'>{name} <b style='font-size:13pt'>{k}</b> {100 * p[k]:.0f} %</span>"

        def knew(at: int | None, missing: bool) -> str:
            if missing:
                return "…"
            return "not yet" if at is None else f"step {at + 1}"
        t = frame.steps
        return (f"{now(frame.pen, RNN, 'pen RNN')} &nbsp; {now(frame.cnn, CNN, 'CNN')} &nbsp; "
                f"<span style='color:{FG}'>knew at: pen RNN {knew(frame.knew_pen, False)}, "
                f"CNN {knew(frame.knew_cnn, frame.cnn_missing > 0)} (of {t})</span>")


def demo() -> PenTimePanel:
    """The panel on the demo '7' read by the shipped pen LSTM and CNN (or untrained ones)."""
    from explorer.ui.digit.demo import demo_pen_frame
    panel = PenTimePanel()
    panel.show_frame(demo_pen_frame())
    panel.resize(520, 380)
    return panel


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
