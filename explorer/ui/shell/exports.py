"""File menu exports beside the PNG ones: any panel of the current lab as SVG, and the Sequence
Lab's hidden-state matrix as .npz or .csv (the PNG and activation exports are the window's
own methods, explorer.ui.shell.window)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtGui, QtWidgets

from explorer.ui.shell.dialogs import safe_name
from explorer.ui.widgets.export import save_csv, save_npz, save_svg


def export_hidden_states(window: Any, path: str | Path) -> Path | None:
    """The Sequence Lab's states for its text: .csv (t, char, h0…) or .npz (h, c, text)."""
    seq = window.sequence_lab
    if seq is None or seq.session is None:
        return None
    path = Path(path)
    states = seq.unit_states()
    text = seq.editor.toPlainText()
    h = states["h"]
    if path.suffix.lower() == ".csv":
        header = ["t", "char"] + [f"h{i}" for i in range(h.shape[1])]
        labels = [[str(t), text[t] if t < len(text) else ""] for t in range(len(h))]
        return save_csv(h, path, header=header, labels=labels)
    arrays = {"h": h, "text": np.array(text)}
    if "c" in states:
        arrays["tanh_c"] = states["c"]
    return save_npz(arrays, path)


def install(window: Any, file_menu: QtWidgets.QMenu) -> None:
    """File → Export panel as SVG ▸, Export hidden states (.npz / .csv)…"""
    quit_action = next((a for a in file_menu.actions() if a.text().replace("&", "") == "Quit"), None)
    svg_menu = QtWidgets.QMenu("Export panel as S&VG", file_menu)
    states = QtGui.QAction("Export &hidden states (.csv / .npz)…", file_menu)
    if quit_action is None:
        file_menu.addMenu(svg_menu)
        file_menu.addAction(states)
    else:                                   # above the separator before Quit
        file_menu.insertMenu(quit_action, svg_menu)
        file_menu.insertAction(quit_action, states)
        file_menu.insertSeparator(quit_action)

    def fill() -> None:
        svg_menu.clear()
        lab = window.tabs.currentWidget()
        for title, widget in (lab.panels() if hasattr(lab, "panels") else {}).items():
            svg_menu.addAction(title).triggered.connect(lambda _=False, w=widget, t=title: ask_svg(w, t))
        if not svg_menu.actions():
            svg_menu.addAction("(this lab has no exportable panels)").setEnabled(False)

    def ask_svg(widget: QtWidgets.QWidget, title: str) -> None:
        if p := window.ask_path(True, f"Export {title}", "SVG (*.svg)", f"{safe_name(title)}.svg"):
            save_svg(widget, p)
            window.statusBar().showMessage(f"saved {p}", 5000)

    def ask_states() -> None:
        if p := window.ask_path(True, "Export hidden states", "CSV (*.csv);;NumPy archive (*.npz)", "hidden_states.csv"):
            if export_hidden_states(window, p) is not None:
                window.statusBar().showMessage(f"saved {p}", 5000)

    svg_menu.aboutToShow.connect(fill)
    window.export_svg_menu = svg_menu
    states.triggered.connect(ask_states)
    window.export_states_action = states
