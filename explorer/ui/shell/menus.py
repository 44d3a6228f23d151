"""The main window's menu bar: File, Edit, View, Help, and the file dialogs they open.

``build_menus(window)`` is called once by ``MainWindow``; the actions it keeps on the
window (``export_menu``, ``follow_training_action``, ``scope_actions``, ``timings``) are
the ones tests and other modules use. The work behind each dialog is a window or lab
method that tests call directly; the dialogs here only ask for a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6 import QtGui, QtWidgets

from explorer.ui.help import ABOUT
from explorer.ui.shell import exports, keyboard, lessons, recover, timings
from explorer.ui.shell.dialogs import act
from explorer.ui.shell.identity import app_icon
from explorer.ui.widgets.colors import SCOPES


def build_menus(window: Any) -> None:
    """The menu bar of ``window`` (a MainWindow: its labs, tabs, settings and dialogs)."""
    bar = window.menuBar()
    _file_menu(window, bar.addMenu("&File"))
    lab = window.digit_lab
    e = bar.addMenu("&Edit")
    for a in (lab.undo_action, lab.redo_action, lab.clear_action, None, lab.eraser_action,
              lab.wider_action, lab.narrower_action):
        e.addSeparator() if a is None else e.addAction(a)
    v = bar.addMenu("&View")
    _view_menu(window, v)
    h = bar.addMenu("&Help")
    act(h, "&How to read this", window.show_help, QtGui.QKeySequence.StandardKey.HelpContents)
    act(h, "&About", lambda: window.show_page("About CNN & RNN Explorer", ABOUT))
    # keyboard first: Ctrl+1…4, Space, Help → Keyboard shortcuts (listed from the actions made above)
    keyboard.install(window, v, h)
    window.timings = timings.install(window, v)
    exports.install(window, window.file_menu)
    window.setWindowIcon(app_icon())


def _file_menu(window: Any, f: QtWidgets.QMenu) -> None:
    window.file_menu = f
    lab = window.digit_lab
    ask = window.ask_path

    def open_image() -> None:
        if p := ask(False, "Open image", "Images (*.png *.jpg *.jpeg *.bmp *.gif *.pgm *.tif *.webp);;All files (*)"):
            if recover.confirm(window, f"opening {Path(p).name}"):
                lab.open_image(p)

    def save_drawing() -> None:
        if p := ask(True, "Save drawing", "PNG (*.png)", "digit.png"):
            window.run_save("Save drawing", lab.save_drawing_png, p)

    def open_model() -> None:
        if p := ask(False, "Open model", "Model files (*.npz *.onnx);;ONNX (*.onnx);;All files (*)"):
            window.open_model(p)

    def save_model() -> None:
        if p := ask(True, "Save model", "Model files (*.npz)", "digits_cnn.npz"):
            from explorer.engine import save_model

            def save(path: str) -> str:
                save_model(lab.session.model, path)
                return path
            window.run_save("Save model", save, p)

    def export_window() -> None:
        if p := ask(True, "Export window", "PNG (*.png)", "explorer.png"):
            window.run_save("Export window", window.export_window, p)

    def export_activations() -> None:
        if p := ask(True, "Export activations", "NumPy archive (*.npz)", "activations.npz"):
            window.run_save("Export activations", lab.export_activations, p)

    act(f, "&Open image…", open_image, QtGui.QKeySequence.StandardKey.Open)
    act(f, "&Save drawing as PNG…", save_drawing, QtGui.QKeySequence.StandardKey.Save)
    f.addSeparator()
    act(f, "Open &model…", open_model, "Ctrl+Shift+O")
    act(f, "Save model &as…", save_model)
    f.addSeparator()
    lessons.add_menu_items(window, f)                 # Save / Open session…, Recent sessions, Recover
    f.addSeparator()
    window.export_menu = f.addMenu("&Export panel as PNG")
    window.export_menu.aboutToShow.connect(lambda: fill_export_menu(window))
    act(f, "Export &window as PNG…", export_window, "Ctrl+Shift+E")
    act(f, "Export &activations (.npz)…", export_activations)
    f.addSeparator()
    act(f, "&Quit", window.close, QtGui.QKeySequence.StandardKey.Quit)


def _view_menu(window: Any, v: QtWidgets.QMenu) -> None:
    lab = window.digit_lab
    v.addAction(lab.saliency_action)
    v.addAction(lab.winners_action)
    scale = v.addMenu("Colour &scale")
    group = QtGui.QActionGroup(window)
    window.scope_actions = {}
    for key, text in SCOPES.items():
        a = scale.addAction(text)
        a.setCheckable(True)
        a.setActionGroup(group)
        a.triggered.connect(lambda _=False, k=key: lab.set_scope(k))
        window.scope_actions[key] = a
    scale.aboutToShow.connect(lambda: window.scope_actions[lab.scope].setChecked(True))
    v.addSeparator()
    follow = window.follow_training_action = v.addAction("Labs &follow the model being trained")
    follow.setCheckable(True)
    follow.setChecked(True)
    follow.setToolTip("While the Train tab trains a digit CNN or a sequence model, the Digit or Sequence "
                      "Lab shows it, so you can draw or type while it learns.")
    v.addSeparator()
    tabs = window.tabs
    act(v, "&Next tab", lambda: tabs.setCurrentIndex((tabs.currentIndex() + 1) % tabs.count()), "Ctrl+Tab")


def fill_export_menu(window: Any) -> None:
    """One entry per panel of the current lab (``lab.panels()`` -> {title: widget})."""
    window.export_menu.clear()
    lab = window.tabs.currentWidget()
    panels = lab.panels() if hasattr(lab, "panels") else {}
    for title, widget in panels.items():
        window.export_menu.addAction(title).triggered.connect(
            lambda _=False, w=widget, t=title: window.ask_export_png(w, t))
