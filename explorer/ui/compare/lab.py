"""CompareLab: where does a CNN belong, and where an RNN? Three experiments in sub-tabs.

``CompareLab(settings=None, digit_source=None, parent=None)``; ``digit_source()`` returns
the Digit Lab's current (1, 28, 28) input or None.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from explorer.session.compare_text import load_text_view
from explorer.ui.compare.digits import DigitSource, DigitsPanel
from explorer.ui.compare.duel import DuelPanel
from explorer.ui.compare.params_panel import ParamsPanel
from explorer.ui.compare.text_panel import TextComparePanel
from explorer.ui.compare.tolerance import TolerancePanel


class CompareLab(QtWidgets.QWidget):
    """Sub-tabs: ``duel`` (same task: CNN, LSTM, transformer), ``digits`` (digits three ways), ``params``."""

    status = QtCore.Signal(str)
    model_changed = QtCore.Signal()    # Lab protocol: model_label() has a new text

    def __init__(self, settings: QtCore.QSettings | None = None,
                 digit_source: DigitSource | None = None,
                 parent: QtWidgets.QWidget | None = None,
                 pen_source: DigitSource | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.tabs = QtWidgets.QTabWidget()
        self.duel = DuelPanel()
        self.digits = DigitsPanel(digit_source, pen_source=pen_source)
        self.params = ParamsPanel()
        self.tabs.addTab(self.duel, "Same task, three networks")
        self.tabs.addTab(self.digits, "Digits three ways")
        self.tabs.addTab(self.params, "Parameters")
        self.tolerance = TolerancePanel(self.digits.pair, digit_source)
        self.tabs.addTab(self.tolerance, "Which tolerates a shift?")
        self.tabs.setTabToolTip(3, "The same invariance sweep for the digit CNN and the row-RNN.")
        self.text = TextComparePanel(load_text_view())        # shipped figures, nothing to train
        self.tabs.setTabToolTip(self.tabs.addTab(self.text, "Real code"),
                                "The shipped char-CNNs (fields 8-64) and the code LSTM on held-out "
                                "Python: closers by opener distance, and the training behind each.")
        self.tabs.setTabToolTip(0, "A CNN, an LSTM and a transformer trained live on the same toy task.")
        self.tabs.setTabToolTip(1, "The digit CNN, a row-by-row RNN and the pen RNN on the same drawing, and on "
                                   "writers none of them saw.")
        self.tabs.setTabToolTip(2, "Parameter counts: fully connected vs CNN vs RNN, editable sizes.")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tabs)
        self.duel.status.connect(self.status)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.tabs.currentChanged.connect(self.model_changed)
        self.duel.task.currentIndexChanged.connect(self.model_changed)
        self.restore_settings(settings)

    def _tab_changed(self, i: int) -> None:
        if self.tabs.widget(i) is self.digits:
            self.digits.refresh()           # the drawing may have changed in the Digit Lab
        if self.settings is not None:
            self.settings.setValue("compare/tab", i)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt)
        self.shutdown()
        super().closeEvent(event)

    # -- Lab protocol (explorer.ui.widgets.lab_protocol) ----------------------------------------
    def shutdown(self) -> None:
        self.duel.shutdown()
        self.tolerance.shutdown()

    def save_settings(self, s: QtCore.QSettings | None = None) -> None:
        if (s := s if s is not None else self.settings) is not None:
            s.setValue("compare/tab", self.tabs.currentIndex())

    def restore_settings(self, s: QtCore.QSettings | None = None) -> None:
        if s is not None:
            try:
                self.tabs.setCurrentIndex(int(str(s.value("compare/tab", 0))))   # INI stores text
            except (TypeError, ValueError):
                pass

    def model_label(self) -> str:
        """The networks the current sub-tab compares."""
        if self.tabs.currentWidget() is self.duel:
            names = ", ".join(self.duel.duel.names) if self.duel.duel is not None else "CNN, LSTM"
            return f"compare: {names} on <b>{self.duel.task.currentText()}</b>"
        if self.tabs.currentWidget() is self.text:
            return "compare: <b>char-CNNs</b> and the <b>code LSTM</b> on held-out Python"
        if self.tabs.currentWidget() is self.digits:
            return "compare: <b>digit CNN</b>, <b>row-by-row RNN</b> and <b>pen RNN</b>"
        return "compare: <b>digit CNN</b> and <b>row-by-row RNN</b>"
