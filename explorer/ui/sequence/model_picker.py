"""The model picker: the "Model:" row (the shipped models, or untrained ones when none is
shipped, and files added later) and the presets beside it.

It opens the model the user picks and emits ``session_chosen(session, key, label)`` — a
session on it, made before anything changes, so a model the lab cannot show is only said
(``said``) — and ``preset_chosen(name)``. What to do with the session is the lab's business.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from explorer.session.sequence import random_model
from explorer.session.sequence_catalogue import open_session, shipped_models
from explorer.ui.sequence.common import set_tip
from explorer.ui.sequence.presets import PRESETS

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView


class ModelPicker(QtWidgets.QWidget):
    """"Model:" ``combo`` ``preset_combo`` in one row."""

    session_chosen = QtCore.Signal(object, str, str)   # (SequenceSession, basis key, label)
    preset_chosen = QtCore.Signal(str)
    said = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.untrained = False                     # the entries are cell names, not files
        self.combo, self.preset_combo = QtWidgets.QComboBox(), QtWidgets.QComboBox()
        self.preset_combo.addItem("Presets…")
        self.preset_combo.addItems(list(PRESETS))
        set_tip(self.combo, "The network to watch: a character model of Python code or English "
                "prose,\nor a small model of a toy language. Same text, different cells: compare them.")
        set_tip(self.preset_combo, "Replace the text with a ready-made example.")
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QtWidgets.QLabel("Model:"))
        row.addWidget(self.combo, 2)
        row.addWidget(self.preset_combo)
        for combo in (self.combo, self.preset_combo):
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        # the preset picker is as wide as its prompt: the model's name keeps the rest of the row
        opt = QtWidgets.QStyleOptionComboBox()
        self.preset_combo.initStyleOption(opt)
        fm = self.preset_combo.fontMetrics()
        text = QtCore.QSize(fm.horizontalAdvance(self.preset_combo.itemText(0)) + 6, fm.height())
        self.preset_combo.setFixedWidth(self.preset_combo.style().sizeFromContents(
            QtWidgets.QStyle.ContentsType.CT_ComboBox, opt, text, self.preset_combo).width())
        self.combo.currentIndexChanged.connect(lambda i: self.load(i) if i >= 0 else None)
        self.preset_combo.activated.connect(self._on_preset)

    def fill(self) -> None:
        """The shipped models (or untrained ones when none is shipped) into the picker."""
        entries = shipped_models()
        self.untrained = not entries
        if not entries:
            entries = [(f"Untrained {c} (random weights)", c) for c in ("LSTM", "GRU", "RNN")]
        self.combo.blockSignals(True)
        for label, path in entries:
            self.combo.addItem(label, path)
        self.combo.blockSignals(False)
        fit_names(self.combo, [label for label, _ in entries])

    def show_index(self, index: int) -> None:
        """Point the picker at entry `index` without opening it (``load`` opens)."""
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)

    def load(self, index: int) -> None:
        """Open entry `index`: ``session_chosen``, or ``said`` why not (nothing else changes)."""
        from explorer.engine.io import load_model
        source, label = self.combo.itemData(index), self.combo.itemText(index)
        try:
            model = random_model(source, hidden=64, seed=0) if self.untrained else load_model(source)
            name = f"untrained {source}" if self.untrained else str(source)
            session = open_session(model, name=name)  # a model the lab cannot show: said before any change
        except Exception as exc:                       # noqa: BLE001 - a broken file: say so, keep going
            self.said.emit(f"Cannot open {label}: {exc}")
            return
        self.session_chosen.emit(session, f"{source}:{session.hidden_size}:{session.cell}", label)

    def open_file(self, path: str, label: str | None = None) -> None:
        """Add a model file to the picker (e.g. one you trained) and open it."""
        self.untrained = False
        self.combo.addItem(label or f"File: {os.path.basename(path)}", path)
        self.combo.setCurrentIndex(self.combo.count() - 1)

    def _on_preset(self, index: int) -> None:
        if index > 0:
            self.preset_chosen.emit(self.preset_combo.itemText(index))
            self.preset_combo.setCurrentIndex(0)


def fit_names(combo: QtWidgets.QComboBox, names: list[str]) -> None:
    """At least as wide as the longest of `names` (the shipped models'), e.g. 'Toy: long-range
    recall · transformer' at 1024×640; a longer file name added later is cut (its tooltip says it)."""
    opt = QtWidgets.QStyleOptionComboBox()
    combo.initStyleOption(opt)
    fm = combo.fontMetrics()
    text = QtCore.QSize(max((fm.horizontalAdvance(n) for n in names), default=0) + 6, fm.height())
    combo.setMinimumWidth(combo.style().sizeFromContents(
        QtWidgets.QStyle.ContentsType.CT_ComboBox, opt, text, combo).width())


def demo(session: SequenceSession, view: SequenceView) -> ModelPicker:
    """The picker with the shipped models (``python -m explorer.ui.sequence.model_picker``);
    a model picked is opened and its session printed."""
    w = ModelPicker()
    w.fill()
    w.session_chosen.connect(lambda s, key, label: print(f"{label}: {s.description()}"))
    w.said.connect(print)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
