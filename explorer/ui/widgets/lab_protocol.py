"""The one protocol every tab of the main window implements: the shell knows a lab only by it.

``MainWindow`` talks to its labs only through this: it forwards ``status`` to the status bar,
shows ``model_label()`` of the *current* tab in the status bar's permanent label (refreshed on
``model_changed`` and on a tab switch), hands each lab the same ``QSettings`` to save and
restore, and calls ``shutdown()`` (timers, workers; returns promptly) when the window closes.
"""

from __future__ import annotations

from typing import Protocol, TypeGuard, runtime_checkable

from PySide6 import QtCore


@runtime_checkable
class Lab(Protocol):
    """A tab of the main window.

    Qt signals cannot be declared on a Protocol; every lab also has
    ``status = QtCore.Signal(str)`` (a message for the status bar) and
    ``model_changed = QtCore.Signal()`` (``model_label()`` has a new text).
    """

    def save_settings(self, s: QtCore.QSettings) -> None:
        """Write this lab's settings and selections (keys under its own prefix)."""

    def restore_settings(self, s: QtCore.QSettings) -> None:
        """Read them back; a missing or damaged value keeps the default."""

    def shutdown(self) -> None:
        """Stop timers and workers; must return within about a second."""

    def model_label(self) -> str:
        """Rich text naming this lab's model, e.g. "code model: LSTM 192 · 1.72 bpc"."""


LAB_SIGNALS = ("status", "model_changed")


def is_lab(widget: object) -> TypeGuard[Lab]:
    """True when ``widget`` implements the protocol, signals included."""
    return isinstance(widget, Lab) and all(hasattr(widget, name) for name in LAB_SIGNALS)
