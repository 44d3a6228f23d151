"""Keyboard-first: Ctrl+1…4 go to a lab, Space starts/pauses training, Alt+↑/↓ move the
selected hidden unit, and Help → Keyboard shortcuts — a table generated from the window's
actions, so it lists exactly what the keys do and cannot go stale.

``install(window)`` adds the actions (small hook in ``MainWindow._build_menus``).
"""

from __future__ import annotations

import html
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets


def _action(parent: QtWidgets.QWidget, text: str, keys: str, slot: Any, tip: str = "") -> QtGui.QAction:
    act = QtGui.QAction(text, parent)
    act.setShortcut(QtGui.QKeySequence(keys))
    act.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
    act.setToolTip(tip or text)
    act.triggered.connect(slot)
    parent.addAction(act)
    return act


def install(window: Any, view_menu: QtWidgets.QMenu, help_menu: QtWidgets.QMenu) -> None:
    """Lab switching (View menu), Space, unit keys, and Help → Keyboard shortcuts."""
    view_menu.addSeparator()
    window.lab_actions = []
    for i in range(min(window.tabs.count(), 9)):
        title = window.tabs.tabText(i)
        act = _action(window, f"Go to the {title} lab", f"Ctrl+{i + 1}",
                      lambda _=False, i=i: window.tabs.setCurrentIndex(i))
        view_menu.addAction(act)
        window.lab_actions.append(act)
    window.space_action = _action(window, "Start / pause training", "Space", lambda: toggle_training(window),
                                  "Train tab: start, or pause/resume; Compare tab: train both / stop")
    view_menu.addAction(window.space_action)
    window.tabs.currentChanged.connect(lambda _i: _sync_space(window))
    _sync_space(window)
    seq = getattr(window, "sequence_lab", None)
    if seq is not None:
        for text, keys, d in (("Select the next hidden unit", "Alt+Down", 1), ("Select the previous hidden unit", "Alt+Up", -1)):
            act = _action(seq, text, keys, lambda _=False, d=d: move_unit(seq, d))
            act.setShortcutContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
        writer = seq.experiments.write_panel
        act = _action(seq, "Let it write / stop writing", "Alt+G", lambda _=False: writer.button.toggle(),
                      "Sequence Lab: the model continues the text from the cursor (the Write pane)")
        act.setShortcutContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
        seq.write_action = act
    table = help_menu.addAction("&Keyboard shortcuts")
    table.setShortcut(QtGui.QKeySequence("Ctrl+/"))
    table.triggered.connect(lambda: window.show_page("Keyboard shortcuts", shortcuts_html(window)))


def _sync_space(window: Any) -> None:
    """Space is a shortcut only on the Train and Compare tabs: elsewhere it is a key to type."""
    current = window.tabs.currentWidget()
    window.space_action.setEnabled(current is getattr(window, "train_lab", None)
                                   or current is getattr(window, "compare_lab", None))


def toggle_training(window: Any) -> str:
    """Space: what it did ("started", "paused", "resumed", "stopped" or "")."""
    current = window.tabs.currentWidget()
    train = getattr(window, "train_lab", None)
    if current is train and train is not None:
        if not train.running():
            train.start()
            return "started"
        paused = not train.pause_btn.isChecked()
        train.pause_btn.setChecked(paused)
        return "paused" if paused else "resumed"
    compare = getattr(window, "compare_lab", None)
    if current is compare and compare is not None:
        duel = compare.duel
        if duel.running():
            duel.stop()
            return "stopped"
        duel.train()
        return "started"
    return ""


def move_unit(seq: Any, step: int) -> None:
    if seq.session is None:
        return
    unit = -1 if seq.unit is None else seq.unit
    seq.select_unit(max(0, min(seq.session.hidden_size - 1, unit + step)))


def shortcut_table(window: Any) -> list[tuple[str, str, str]]:
    """(where, what, keys) for every action of the window that has a shortcut."""
    rows: dict[tuple[str, str], str] = {}
    labs = {window.tabs.widget(i): window.tabs.tabText(i) for i in range(window.tabs.count())}
    for act in window.findChildren(QtGui.QAction):
        keys = ", ".join(k.toString(QtGui.QKeySequence.SequenceFormat.NativeText) for k in act.shortcuts())
        if not keys or not act.text():
            continue
        where, owner = "everywhere", act.parent()
        while owner is not None and owner is not window:
            if owner in labs:
                where = f"{labs[owner]} lab"
                break
            owner = owner.parent()
        if act is getattr(window, "space_action", None):
            where = "Train and Compare labs"
        rows[(act.text().replace("&", ""), keys)] = where
    return sorted(((w, t, k) for (t, k), w in rows.items()), key=lambda r: (r[0] != "everywhere", r[0], r[1]))


def shortcuts_html(window: Any) -> str:
    body = "".join(f"<tr><td>{html.escape(w)}</td><td>{html.escape(t)}</td><td><b>{html.escape(k)}</b></td></tr>"
                   for w, t, k in shortcut_table(window))
    return ("<h2>Keyboard shortcuts</h2><p>Generated from the window's own actions.</p>"
            "<table cellpadding='4'><tr><th align='left'>where</th><th align='left'>what</th>"
            f"<th align='left'>keys</th></tr>{body}</table>")
