"""The window's public door: ``explorer.ui.main_window.MainWindow()`` builds the whole window
with the shipped models (tests and automation import it from here). The window itself is the
shell's (explorer.ui.shell.window), the only part of the UI that holds every lab."""

from explorer.ui.shell.window import APP, ORG, SETTINGS_VERSION, MainWindow

__all__ = ["APP", "ORG", "SETTINGS_VERSION", "MainWindow"]
