"""Failures the user must see: a non-blocking message box (tests never hang on it).

``report_error(parent, title, text)`` opens a window-modal but non-blocking
``QMessageBox`` (``open()``, deleted on close), puts the text in the status bar of the
parent's window and keeps it as ``parent.last_error``. ``guarded(parent, title, fn, ...)``
runs a save or export and reports any failure that way; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6 import QtCore, QtWidgets

from explorer.errors import ExplorerError

T = TypeVar("T")

FAILURES = (OSError, ExplorerError, ValueError, RuntimeError, MemoryError)


def describe(exc: BaseException) -> str:
    """One readable sentence for a failed save: 'cannot write /x/y.png: Permission denied'."""
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename or ""
        return f"cannot write {where}: {exc.strerror}" if where else exc.strerror
    return str(exc) or type(exc).__name__


def report_error(parent: QtWidgets.QWidget, title: str, text: str) -> QtWidgets.QMessageBox:
    """Show ``text`` in a non-blocking warning box over ``parent``; -> the box."""
    parent.last_error = text  # type: ignore[attr-defined]  # any widget; tests and automation read it
    window = parent.window()
    if isinstance(window, QtWidgets.QMainWindow):
        window.statusBar().showMessage(f"{title}: {text}", 10000)
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, title, text,
                                QtWidgets.QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorBox")
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def guarded(parent: QtWidgets.QWidget, title: str, fn: Callable[..., T], *args: Any) -> T | None:
    """``fn(*args)``, or None after reporting why it failed (a box, the status bar)."""
    try:
        return fn(*args)
    except FAILURES as exc:
        report_error(parent, title, describe(exc))
        return None
