"""The unit selector: which hidden unit is selected, read from which state, and the heat
map's row order. It owns the selection (``unit``, ``state``) and emits ``unit_selected``
when the user changes it and ``rows_chosen`` for a new row order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from explorer.ui.sequence.common import set_tip

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView


class UnitSelector(QtWidgets.QWidget):
    """"Unit:" ``spin`` ``state_combo`` "Rows:" ``rows_combo`` in one row."""

    unit_selected = QtCore.Signal(object, str)   # (unit or None, "h" or "c")
    rows_chosen = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.unit: int | None = None
        self.state = "h"                           # which state the selected unit is read from
        self._units, self._lstm = 0, False
        self.spin = QtWidgets.QSpinBox()
        self.spin.setMinimum(-1)
        self.spin.setSpecialValueText("none")
        self.state_combo = QtWidgets.QComboBox()
        self.state_combo.addItem("h(t)", "h")
        self.state_combo.addItem("tanh c(t)", "c")
        self.rows_combo = QtWidgets.QComboBox()    # the heat map's row order (session.row_order)
        for text, data in (("similar", "similarity"), ("unit #", "unit"), ("by r", "signal")):
            self.rows_combo.addItem(text, data)
        set_tip(self.rows_combo, "Heat-map rows: similar units together (fixed per model), by unit number,\n"
                "or by correlation r with the 'Find a unit for' signal (most positive on top).")
        set_tip(self.spin, "The selected hidden unit (click a row of the heat map, or use 'Find').")
        set_tip(self.state_combo, "Which state the unit is read from: the hidden state h(t) the "
                "heat map shows,\nor, for an LSTM, its cell state as tanh c(t) — the memory the "
                "cell carries;\nKarpathy's famous quote and bracket cells are cell states. "
                "'Find' searches both.")
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QtWidgets.QLabel("Unit:"))
        row.addWidget(self.spin)
        row.addWidget(self.state_combo)
        row.addWidget(QtWidgets.QLabel("Rows:"))
        row.addWidget(self.rows_combo)
        row.addStretch(1)
        self.spin.valueChanged.connect(lambda v: self._chosen(None if v < 0 else v, None))
        self.state_combo.currentIndexChanged.connect(lambda _i: self._chosen(self.unit, self.state_combo.currentData()))
        self.rows_combo.currentIndexChanged.connect(lambda _i: self.rows_chosen.emit())

    @property
    def rows(self) -> str:
        """The heat map's row order: "similarity", "unit" or "signal"."""
        return str(self.rows_combo.currentData())

    def set_model(self, units: int, lstm: bool) -> None:
        """A new model: nothing selected, h(t); the cell state only for an LSTM."""
        self._units, self._lstm = units, lstm
        self.unit, self.state = None, "h"
        self.spin.blockSignals(True)
        self.spin.setMaximum(units - 1)
        self.spin.setValue(-1)
        self.spin.blockSignals(False)
        self.state_combo.blockSignals(True)
        self.state_combo.setEnabled(lstm)
        self.state_combo.setCurrentIndex(0)
        self.state_combo.blockSignals(False)

    def select(self, unit: int | None, state: str | None = None) -> None:
        """Select `unit` (None: none; clipped to the model's units) of `state` (None: keep it;
        "c" only for an LSTM); the widgets follow without emitting."""
        if state is not None:
            self.state = state if (state == "h" or self._lstm) else "h"
            self.state_combo.blockSignals(True)
            self.state_combo.setCurrentIndex(self.state_combo.findData(self.state))
            self.state_combo.blockSignals(False)
        self.unit = None if unit is None else int(min(max(unit, 0), max(self._units - 1, 0)))
        self.spin.blockSignals(True)
        self.spin.setValue(-1 if self.unit is None else self.unit)
        self.spin.blockSignals(False)

    def _chosen(self, unit: int | None, state: str | None) -> None:
        self.select(unit, state)
        self.unit_selected.emit(self.unit, self.state)


def demo(session: SequenceSession, view: SequenceView) -> UnitSelector:
    """The selector for a shipped model with the frame's unit selected
    (``python -m explorer.ui.sequence.unit_selector``); a selection is printed."""
    w = UnitSelector()
    w.set_model(session.hidden_size, session.cell == "LSTM")
    w.select(view.unit)
    w.unit_selected.connect(lambda unit, state: print(f"unit {unit} of {state}"))
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
