"""Who the app is to the desktop: the names its settings live under, its title and its icon."""

from __future__ import annotations

from PySide6 import QtGui

ORG = APP = "cnn-rnn-explorer"        # QSettings' organisation and application; the .desktop file's name
DISPLAY_NAME = "CNN & RNN Explorer"


def app_icon() -> QtGui.QIcon:
    """The application icon (resources/icons/cnn-rnn-explorer.svg)."""
    from explorer.paths import resources_dir
    return QtGui.QIcon(str(resources_dir() / "icons" / "cnn-rnn-explorer.svg"))
