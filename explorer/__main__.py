"""``python -m explorer``: open the window."""

from __future__ import annotations

import sys


def main() -> int:
    from explorer.runtime import configure_process

    configure_process()
    from PySide6 import QtCore, QtWidgets

    from explorer.ui.main_window import APP, ORG, MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    QtCore.QCoreApplication.setOrganizationName(ORG)
    QtCore.QCoreApplication.setApplicationName(APP)
    window = MainWindow(QtCore.QSettings())
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
