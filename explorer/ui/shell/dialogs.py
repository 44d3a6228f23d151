"""The small pieces every menu of the window uses: an action with a shortcut, a file dialog
that remembers its folder, a file name made from a title."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

Shortcut = QtGui.QKeySequence | QtGui.QKeySequence.StandardKey | str


def act(menu: QtWidgets.QMenu, text: str, slot: Callable[[], object],
        shortcut: Shortcut | None = None) -> QtGui.QAction:
    """A menu action calling ``slot``, with an optional shortcut."""
    action = menu.addAction(text)
    action.triggered.connect(slot)
    if shortcut is not None:
        action.setShortcut(QtGui.QKeySequence(shortcut))
    return action


def safe_name(title: str) -> str:
    """A file name made of the title's letters and digits."""
    return "".join(ch if ch.isalnum() else "_" for ch in title).strip("_")


def ask_path(parent: QtWidgets.QWidget, settings: QtCore.QSettings, save: bool, caption: str, filt: str,
             name: str = "") -> str:
    """A file dialog starting in the last folder used; remembers the folder of the answer."""
    start = str(Path(str(settings.value("ui/last_dir", str(Path.home())))) / name)
    fn = QtWidgets.QFileDialog.getSaveFileName if save else QtWidgets.QFileDialog.getOpenFileName
    path, _ = fn(parent, caption, start, filt)
    if path:
        settings.setValue("ui/last_dir", str(Path(path).parent))
    return path
