"""HowToButton: a small "How to read this" button that opens its page in a non-modal box."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class HowToButton(QtWidgets.QToolButton):
    """``HowToButton(title, html)``; ``box`` is the open message box (None until clicked)."""

    def __init__(self, title: str, html: str, parent: QtWidgets.QWidget | None = None, compact: bool = False) -> None:
        super().__init__(parent)
        self.setText("?" if compact else "How to read this")
        self.setToolTip(f"How to read this: what '{title}' shows")
        self.setAutoRaise(True)
        self.title, self.html = title, html
        self.box: QtWidgets.QMessageBox | None = None
        self.clicked.connect(self.show_page)

    def show_page(self) -> QtWidgets.QMessageBox:
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, f"How to read this — {self.title}",
                                    self.html, QtWidgets.QMessageBox.StandardButton.Ok, self.window())
        box.setTextFormat(QtCore.Qt.TextFormat.RichText)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._forget)
        self.box = box
        box.open()
        return box

    def _forget(self) -> None:
        self.box = None
