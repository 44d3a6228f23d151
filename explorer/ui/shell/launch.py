"""Launching the window the way ``cnn-rnn-explorer`` (no sub-command), ``python -m explorer``
and ``cnn-rnn-explorer open`` do: one place, so the benchmarks and the exit tests start it
exactly as a user does.

SIGTERM and SIGINT (Ctrl+C) save everything and exit with status 0; quitting while a worker
trains returns within a second (explorer.ui.shell.lifecycle).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.shell.identity import APP, DISPLAY_NAME, ORG, app_icon
from explorer.ui.shell.lifecycle import run
from explorer.ui.shell.window import MainWindow


def build(session: str | Path | None = None) -> tuple[QtWidgets.QApplication, MainWindow]:
    """The QApplication and the shown MainWindow (settings in the platform's config folder)."""
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    QtCore.QCoreApplication.setOrganizationName(ORG)
    QtCore.QCoreApplication.setApplicationName(APP)
    QtGui.QGuiApplication.setApplicationDisplayName(DISPLAY_NAME)
    QtGui.QGuiApplication.setDesktopFileName(APP)          # matches the installed .desktop file
    QtGui.QGuiApplication.setWindowIcon(app_icon())
    window = MainWindow(QtCore.QSettings())
    window.show()
    if session is not None:
        window.open_session(session)
    return app, window  # type: ignore[return-value]  # instance() is typed as QCoreApplication


def open_window(session: str | Path | None = None) -> int:
    """Build the window (with ``session``, a ``.cre`` file, if given) and run it to the end;
    -> the exit status. The process is configured already (explorer.runtime)."""
    app, window = build(session)
    return run(app, window)
