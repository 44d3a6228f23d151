"""CompareLab: where does a CNN belong, and where an RNN? Three experiments in sub-tabs.

``CompareLab(settings=None, digit_source=None, parent=None)``; ``digit_source()`` returns
the Digit Lab's current (1, 28, 28) input or None.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from explorer.ui.compare.digits import DigitSource, DigitsPanel
from explorer.ui.compare.duel import DuelPanel
from explorer.ui.compare.params_panel import ParamsPanel
from explorer.ui.compare.tolerance import TolerancePanel


class CompareLab(QtWidgets.QWidget):
    """Sub-tabs: ``duel`` (same task, both networks), ``digits`` (digits both ways), ``params``."""

    status = QtCore.Signal(str)

    def __init__(self, settings: QtCore.QSettings | None = None,
                 digit_source: DigitSource | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.tabs = QtWidgets.QTabWidget()
        self.duel = DuelPanel()
        self.digits = DigitsPanel(digit_source)
        self.params = ParamsPanel()
        self.tabs.addTab(self.duel, "Same task, both networks")
        self.tabs.addTab(self.digits, "Digits both ways")
        self.tabs.addTab(self.params, "Parameters")
        self.tolerance = TolerancePanel(self.digits.pair, digit_source)          # issue 13
        self.tabs.addTab(self.tolerance, "Which tolerates a shift?")
        self.tabs.setTabToolTip(3, "The same invariance sweep for the digit CNN and the row-RNN.")
        self.tabs.setTabToolTip(0, "A CNN and an LSTM trained live on the same toy task.")
        self.tabs.setTabToolTip(1, "The digit CNN and a row-by-row RNN on the same drawing.")
        self.tabs.setTabToolTip(2, "Parameter counts: fully connected vs CNN vs RNN, editable sizes.")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tabs)
        self.duel.status.connect(self.status)
        self.tabs.currentChanged.connect(self._tab_changed)
        if settings is not None:
            self.tabs.setCurrentIndex(int(settings.value("compare/tab", 0)))

    def _tab_changed(self, i: int) -> None:
        if self.tabs.widget(i) is self.digits:
            self.digits.refresh()           # the drawing may have changed in the Digit Lab
        if self.settings is not None:
            self.settings.setValue("compare/tab", i)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        self.duel.shutdown()
        self.tolerance.shutdown()                                             # issue 13
        super().closeEvent(event)

    def shutdown(self) -> None:
        self.duel.shutdown()
        self.tolerance.shutdown()                                             # issue 13
