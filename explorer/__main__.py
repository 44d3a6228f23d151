"""``python -m explorer [SESSION.cre]``: open the window (with a saved session, if given).

SIGTERM and SIGINT (Ctrl+C) save everything and exit with status 0; quitting while a
worker trains returns within a second (see explorer.ui.lifecycle).
"""

from __future__ import annotations

import sys
from pathlib import Path


def build(session: str | Path | None = None) -> tuple[object, object]:
    """The QApplication and the shown MainWindow (settings in the platform's config folder)."""
    from PySide6 import QtCore, QtGui, QtWidgets

    from explorer.ui.help.exporting import app_icon
    from explorer.ui.main_window import APP, ORG, MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    QtCore.QCoreApplication.setOrganizationName(ORG)
    QtCore.QCoreApplication.setApplicationName(APP)
    QtGui.QGuiApplication.setApplicationDisplayName("CNN & RNN Explorer")
    QtGui.QGuiApplication.setDesktopFileName(APP)          # matches the installed .desktop file
    QtGui.QGuiApplication.setWindowIcon(app_icon())
    window = MainWindow(QtCore.QSettings())
    window.show()
    if session is not None:
        window.open_session(session)
    return app, window


def main(session: str | Path | None = None) -> int:
    if "--install-desktop-entry" in sys.argv[1:]:      # a launcher in the Linux application menu
        from explorer.commands.install_desktop_entry import install
        print("\n".join(f"wrote {p}" for p in install()))
        return 0
    from explorer.runtime import configure_process

    configure_process()
    from explorer.ui.lifecycle import run

    if session is None:                           # `python -m explorer lesson.cre`
        session = next((a for a in sys.argv[1:] if a.lower().endswith(".cre")), None)
    app, window = build(session)
    return run(app, window)  # type: ignore[arg-type]  # build() makes a QApplication, typed as QCoreApplication


if __name__ == "__main__":
    sys.exit(main())
