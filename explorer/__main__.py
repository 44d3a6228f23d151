"""``python -m explorer [SESSION.cre]``: open the window (with a saved session, if given)."""

from __future__ import annotations

import sys
from pathlib import Path


def main(session: str | Path | None = None) -> int:
    if "--install-desktop-entry" in sys.argv[1:]:      # a launcher in the Linux application menu
        from explorer.commands.install_desktop_entry import install
        print("\n".join(f"wrote {p}" for p in install()))
        return 0
    from PySide6 import QtCore, QtGui, QtWidgets

    from explorer.ui.help.exporting import app_icon
    from explorer.ui.main_window import APP, ORG, MainWindow

    if session is None:                           # `python -m explorer lesson.cre`
        session = next((a for a in sys.argv[1:] if a.lower().endswith(".cre")), None)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    QtCore.QCoreApplication.setOrganizationName(ORG)
    QtCore.QCoreApplication.setApplicationName(APP)
    QtGui.QGuiApplication.setApplicationDisplayName("CNN & RNN Explorer")
    QtGui.QGuiApplication.setDesktopFileName(APP)          # matches the installed .desktop file
    app.setWindowIcon(app_icon())
    window = MainWindow(QtCore.QSettings())
    window.show()
    if session is not None:
        window.open_session(session)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
