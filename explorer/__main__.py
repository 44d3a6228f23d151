"""``python -m explorer``: open the window.

SIGTERM and SIGINT (Ctrl+C) save everything and exit with status 0; quitting while a
worker trains returns within a second (see explorer.ui.lifecycle).
"""

from __future__ import annotations

import sys


def build() -> tuple[object, object]:
    """The QApplication and the shown MainWindow (settings in the platform's config folder)."""
    from PySide6 import QtCore, QtWidgets

    from explorer.ui.main_window import APP, ORG, MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    QtCore.QCoreApplication.setOrganizationName(ORG)
    QtCore.QCoreApplication.setApplicationName(APP)
    window = MainWindow(QtCore.QSettings())
    window.show()
    return app, window


def main() -> int:
    from explorer.runtime import configure_process

    configure_process()
    from explorer.ui.lifecycle import run

    app, window = build()
    return run(app, window)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
