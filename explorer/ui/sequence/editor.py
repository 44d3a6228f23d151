"""The Sequence Lab's text editor: monospace, and a long paste goes in pieces."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence.common import MONO, cache_scroll_bars
from explorer.ui.sequence.paste import PieceInserter


class SequenceEditor(QtWidgets.QPlainTextEdit):
    """The monospace plain-text editor (objectName ``sequenceEditor``)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sequenceEditor")
        font = QtGui.QFont(MONO)
        font.setPointSize(10)
        self.setFont(font)
        self.setTabStopDistance(4 * QtGui.QFontMetricsF(font).horizontalAdvance(" "))
        self.setPlaceholderText("Type or paste text here, or pick a preset above.")
        self.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.WidgetWidth)
        cache_scroll_bars(self)   # Fusion repaints a ~700 px scroll bar in 1–2 ms on every key
        self.pieces = PieceInserter(self)

    # -- a long paste goes in pieces, one per event-loop turn (paste.py) ----------
    def insertPlainText(self, text: str) -> None:  # noqa: N802 (Qt)
        if not self.pieces.insert(text):
            super().insertPlainText(text)

    def insertFromMimeData(self, source: QtCore.QMimeData) -> None:  # noqa: N802 (Qt)
        if not (source.hasText() and self.pieces.insert(source.text())):
            super().insertFromMimeData(source)
