"""The unit finder: rank units by |r| with a signal over the text, and say which one is best.

``UnitFinder(states, text)`` is given two callables (the units' states, the text they were
read from) and owns its row (signal list, regular expression, Find button) and the last
ranking. It emits ``unit_found(unit, state)`` for the best unit and ``said(message)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtWidgets

from explorer.analysis.units import BUILTIN_SIGNALS, SignalError, UnitScore, rank_states, signal
from explorer.ui.sequence.common import set_tip

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView

REGEX = "regular expression…"


class UnitFinder(QtWidgets.QWidget):
    """Two rows: "Find a unit for:" ``combo`` (signals) ``button``; then ``regex_edit``."""

    unit_found = QtCore.Signal(int, str)     # (unit, "h" or "c")
    said = QtCore.Signal(str)

    def __init__(self, states: Callable[[], dict[str, np.ndarray]], text: Callable[[], str],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._states, self._text = states, text
        self.last_ranking: list[UnitScore] = []
        self.combo = QtWidgets.QComboBox()
        self.combo.addItems(list(BUILTIN_SIGNALS) + [REGEX])
        set_tip(self.combo, "Find the hidden unit whose activation correlates best (Pearson r)\n"
                "with this signal over the current text, and select it.")
        self.regex_edit = QtWidgets.QLineEdit()
        self.regex_edit.setPlaceholderText(r"regex, e.g. \d+ or def \w+")
        self.regex_edit.setEnabled(False)
        self.button = QtWidgets.QPushButton("Find unit")
        self.combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Find a unit for:"))
        row.addWidget(self.combo, 1)
        row.addWidget(self.button)
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(row)
        col.addWidget(self.regex_edit)
        self.combo.currentTextChanged.connect(lambda t: self.regex_edit.setEnabled(t == REGEX))
        self.button.clicked.connect(self.find_units)
        self.regex_edit.returnPressed.connect(self.find_units)

    def signal_name(self) -> str | None:
        """The finder's signal: a built-in name or the regular expression (None: none typed)."""
        name = self.combo.currentText()
        return (self.regex_edit.text() or None) if name == REGEX else name

    def find_units(self) -> None:
        """Rank h (and, for an LSTM, tanh c) units by |r| with the chosen signal; the best is found."""
        name = self.combo.currentText()
        what = self.regex_edit.text() if name == REGEX else name
        if not what:
            self.said.emit("Type a regular expression first.")
            return
        states = self._states()
        if not states:
            return                                   # no model yet: nothing to rank
        try:
            ranked = rank_states(states, signal(self._text(), what), top=5)
        except SignalError as exc:
            self.said.emit(str(exc))
            return
        best = ranked[0]
        others = ", ".join(f"{s.name} ({s.r:+.2f})" for s in ranked[1:])
        self.said.emit(f"Best unit for “{what}”: <b>{best.name}</b> (r = {best.r:+.2f}); next: {others}")
        self.last_ranking = ranked
        self.unit_found.emit(best.unit, best.state)


def demo(session: SequenceSession, view: SequenceView) -> UnitFinder:
    """The finder over a shipped model's states on the demo text
    (``python -m explorer.ui.sequence.unit_finder``); what it finds and says is printed."""
    w = UnitFinder(lambda: {"h": session.hidden_states()}, lambda: session.text)
    w.unit_found.connect(lambda unit, state: print(f"found unit {unit} of {state}"))
    w.said.connect(print)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
