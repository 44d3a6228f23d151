"""Running one widget alone with demo data (``python -m explorer.ui.widgets.<module>``)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6 import QtWidgets


def app() -> QtWidgets.QApplication:
    """The running QApplication, or a new one."""
    inst = QtWidgets.QApplication.instance()
    return inst if isinstance(inst, QtWidgets.QApplication) else QtWidgets.QApplication(sys.argv)


def run(build: Callable[[], QtWidgets.QWidget]) -> int:
    """Show ``build()`` in its own window and run the event loop until it is closed."""
    qt = app()
    widget = build()
    widget.setWindowTitle(f"{type(widget).__name__} (demo data)")
    widget.show()
    return qt.exec()
