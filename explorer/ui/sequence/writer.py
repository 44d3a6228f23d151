"""WritePanel: the model continues the text from the cursor, one character per timer tick.

Settings: temperature (0 = always the most likely character), top-k, seed, and an
optional clamp of one hidden unit (held at a value, or switched off = 0, from the cursor on).
With a clamp, two runs are written side by side from the same seed: the network as trained
and the clamped one, so every difference in the text is the unit's doing. The unclamped
run's characters are also handed to the lab (``char_written``) so every panel follows.
The maths is ``explorer.analysis.generate.Writer`` (Qt-free); one step of a 192-unit LSTM
is well under a millisecond, so the ticks run in the GUI thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from explorer.analysis.generate import Step, Writer, split_recurrent
from explorer.engine.model import Model
from explorer.ui.sequence.common import MONO, set_tip

TICK_MS = 25
MAX_CHARS = 2000

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView

HELP = ("Let it write: from the cursor on, the model picks the next character from its own\n"
        "prediction, reads it, predicts again... Temperature divides the scores before the softmax:\n"
        "0 = always the most likely character (greedy), 1 = as the model believes, >1 = wilder.\n"
        "Top-k: only the k most likely characters can be drawn (0 = all). Same seed, same text.\n"
        "Clamp: hold one hidden unit at a value (or switch it off = 0) from the cursor on;\n"
        "the clamped run is written beside the unclamped one, from the same seed.")


class WritePanel(QtWidgets.QGroupBox):
    """start(prime) / stop(); ``char_written(str)`` per character of the unclamped run."""

    char_written = QtCore.Signal(str)
    running_changed = QtCore.Signal(bool)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Let it write", parent)
        self.model: Model | None = None
        self._runs: list[tuple[Iterator[Step], QtWidgets.QPlainTextEdit]] = []
        self._count = 0
        self.temp_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.temp_slider.setRange(0, 200)          # temperature x 100
        self.temp_slider.setValue(50)
        self.temp_label = QtWidgets.QLabel()
        self.topk_spin = QtWidgets.QSpinBox()
        self.topk_spin.setRange(0, 200)
        self.topk_spin.setSpecialValueText("all")
        self.seed_spin = QtWidgets.QSpinBox()
        self.seed_spin.setRange(0, 999_999)
        self.clamp_unit = QtWidgets.QSpinBox()
        self.clamp_unit.setRange(-1, 0)
        self.clamp_unit.setValue(-1)
        self.clamp_unit.setSpecialValueText("none")
        self.clamp_value = QtWidgets.QDoubleSpinBox()
        self.clamp_value.setRange(-1.0, 1.0)
        self.clamp_value.setSingleStep(0.1)
        self.clamp_value.setValue(0.0)
        set_tip(self.clamp_value, "The value the unit is held at; 0 switches it off.")
        self.follow = QtWidgets.QCheckBox("panels follow")
        self.follow.setChecked(True)
        self.button = QtWidgets.QPushButton("Write")
        self.button.setCheckable(True)
        self.free_out, self.clamped_out = self._output(), self._output()
        self.free_title, self.clamped_title = QtWidgets.QLabel("as trained"), QtWidgets.QLabel("clamped")
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._layout()
        self.temp_slider.valueChanged.connect(self._show_temperature)
        self.clamp_unit.valueChanged.connect(self._show_clamp)
        self.clamp_value.valueChanged.connect(self._show_clamp)
        self.button.toggled.connect(lambda on: self.start_requested() if on else self.stop())
        self._show_temperature()
        self._show_clamp()
        self.prime_source = lambda: ""             # the lab sets this: text up to the cursor
        set_tip(self, HELP)

    def _output(self) -> QtWidgets.QPlainTextEdit:
        out = QtWidgets.QPlainTextEdit()
        out.setReadOnly(True)
        font = QtGui.QFont(MONO)
        font.setPointSize(9)
        out.setFont(font)
        out.setMinimumHeight(40)
        out.setMaximumHeight(80)         # the text being read (the editor above) keeps the room
        out.setPlaceholderText("Press Write: the continuation appears here.")
        return out

    def _layout(self) -> None:
        row1 = QtWidgets.QHBoxLayout()
        row1.addWidget(QtWidgets.QLabel("Temperature:"))
        row1.addWidget(self.temp_slider, 1)
        row1.addWidget(self.temp_label)
        row1.addWidget(self.button)
        row2, row3 = QtWidgets.QHBoxLayout(), QtWidgets.QHBoxLayout()
        for row, label, w in ((row2, "top-k:", self.topk_spin), (row2, "seed:", self.seed_spin),
                              (row3, "Clamp unit:", self.clamp_unit), (row3, "at", self.clamp_value)):
            row.addWidget(QtWidgets.QLabel(label))
            row.addWidget(w)
        row2.addStretch(1)
        row2.addWidget(self.follow)
        row3.addStretch(1)
        self.temp_slider.setMinimumWidth(60)
        self.temp_label.setMinimumWidth(QtGui.QFontMetrics(self.temp_label.font()).horizontalAdvance("0 (greedy)"))
        outs = QtWidgets.QGridLayout()
        outs.addWidget(self.free_title, 0, 0)
        outs.addWidget(self.clamped_title, 0, 1)
        outs.addWidget(self.free_out, 1, 0)
        outs.addWidget(self.clamped_out, 1, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.addLayout(row1)
        lay.addLayout(row2)
        lay.addLayout(row3)
        lay.addLayout(outs, 1)

    # -- settings ----------------------------------------------------------------------
    @property
    def temperature(self) -> float:
        return self.temp_slider.value() / 100.0

    @property
    def clamp(self) -> tuple[int, float] | None:
        u = self.clamp_unit.value()
        return None if u < 0 else (u, float(self.clamp_value.value()))

    def _show_temperature(self) -> None:
        t = self.temperature
        self.temp_label.setText("0 (greedy)" if t == 0 else f"{t:.2f}")

    def _show_clamp(self) -> None:
        c = self.clamp
        self.clamped_out.setVisible(c is not None)
        self.clamped_title.setVisible(c is not None)
        self.clamp_value.setEnabled(c is not None)
        self.free_title.setText("as trained" if c is not None else "continuation")
        if c is not None:
            v = "off (0)" if c[1] == 0 else f"{c[1]:+.2f}"
            self.clamped_title.setText(f"unit {c[0]} clamped to {v}")

    def set_model(self, model: Model | None, writes: bool) -> None:
        """The lab's current model; ``writes`` False (a toy classifier) disables the panel."""
        self.stop()
        self.free_out.clear()
        self.clamped_out.clear()
        self.model = model if writes else None
        self.setEnabled(self.model is not None)
        self.setTitle("Let it write" if writes else "Let it write (text models only)")
        hidden = int(split_recurrent(self.model)[1].hidden_size) if self.model is not None else 1  # type: ignore[attr-defined]  # split_recurrent types it Layer; it is the recurrent one
        self.clamp_unit.setRange(-1, hidden - 1)
        self.clamp_unit.setValue(-1)                # unit numbers do not carry over to another model

    # -- running -----------------------------------------------------------------------
    def start_requested(self) -> None:
        self.start(self.prime_source())

    def start(self, prime: str) -> None:
        """Write from ``prime`` with the current settings until stop() or MAX_CHARS."""
        if self.model is None:
            self.button.setChecked(False)
            return
        self._runs = []
        for clamp, out in ((None, self.free_out), (self.clamp, self.clamped_out)):
            if out is self.clamped_out and clamp is None:
                continue
            w = Writer(self.model, clamp)
            w.read(prime)
            out.clear()
            self._runs.append((w.write(MAX_CHARS, self.temperature, self.topk_spin.value(),
                                       self.seed_spin.value()), out))
        self._count = 0
        self.button.blockSignals(True)
        self.button.setChecked(True)
        self.button.setText("Stop")
        self.button.blockSignals(False)
        self._timer.start()
        self.running_changed.emit(True)

    def stop(self) -> None:
        running = self._timer.isActive()
        self._timer.stop()
        self._runs = []
        self.button.blockSignals(True)
        self.button.setChecked(False)
        self.button.setText("Write")
        self.button.blockSignals(False)
        if running:
            self.running_changed.emit(False)

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def _tick(self) -> None:
        for i, (gen, out) in enumerate(self._runs):
            step = next(gen, None)
            if step is None:
                self.stop()
                return
            cur = out.textCursor()
            cur.movePosition(QtGui.QTextCursor.MoveOperation.End)
            cur.insertText(step.char)
            out.setTextCursor(cur)
            if i == 0 and self.follow.isChecked():
                self.char_written.emit(step.char)
        self._count += 1

    def text(self, clamped: bool = False) -> str:
        return (self.clamped_out if clamped else self.free_out).toPlainText()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt)
        self.stop()
        super().closeEvent(event)


def demo(session: SequenceSession, view: SequenceView) -> WritePanel:
    """The Write pane on a shipped model, writing on from the demo text (``python -m explorer.ui.sequence.writer``)."""
    w = WritePanel()
    w.set_model(session.model, True)
    w.prime_source = lambda: session.text
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
