"""Keyboard-first, timings, SVG/CSV exports, icon and the desktop launcher (issue 15)."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from explorer.commands.install_desktop_entry import data_home, install
from explorer.ui.main_window import MainWindow
from explorer.ui.shell.exports import export_hidden_states
from explorer.ui.shell.keyboard import shortcut_table, shortcuts_html, toggle_training


@pytest.fixture
def win(qtbot, tmp_path, ui):
    w = MainWindow(ui.settings_at(str(tmp_path / "s.ini")), digit_model=ui.tiny_cnn(0))
    qtbot.addWidget(w)
    with qtbot.waitExposed(w):
        w.show()
    return w


def test_ctrl_number_switches_labs(qtbot, win):
    for i in (2, 0, 3, 1):
        qtbot.keyClick(win, QtCore.Qt.Key(QtCore.Qt.Key.Key_1 + i), QtCore.Qt.KeyboardModifier.ControlModifier)
        assert win.tabs.currentIndex() == i


def test_space_only_trains_on_train_and_compare_tabs(qtbot, win):
    win.tabs.setCurrentWidget(win.sequence_lab)
    assert not win.space_action.isEnabled()                # Space is a character in the editor
    win.tabs.setCurrentWidget(win.train_lab)
    assert win.space_action.isEnabled()
    assert toggle_training(win) == "started"
    qtbot.waitUntil(win.train_lab.running)
    assert toggle_training(win) == "paused" and win.train_lab.pause_btn.isChecked()
    assert toggle_training(win) == "resumed"
    win.train_lab.stop(wait_ms=5000)
    win.train_lab.shutdown()


def test_shortcut_page_is_generated_from_actions(win):
    rows = shortcut_table(win)
    keys = {(what, k) for _where, what, k in rows}
    assert ("Go to the Compare lab", "Ctrl+3") in keys
    assert any(what == "Start / pause training" for _w, what, _k in rows)
    assert ("Digits lab", "Clear") in {(w, t) for w, t, _k in rows}
    act = QtGui.QAction("A brand new thing", win)           # a new action shows up by itself
    act.setShortcut(QtGui.QKeySequence("Ctrl+Alt+J"))
    win.addAction(act)
    assert "A brand new thing" in shortcuts_html(win)


def test_alt_arrows_move_the_selected_unit(qtbot, win):
    seq = win.sequence_lab
    win.tabs.setCurrentWidget(seq)
    seq.editor.setFocus()
    seq.select_unit(3)
    qtbot.keyClick(seq.editor, QtCore.Qt.Key.Key_Down, QtCore.Qt.KeyboardModifier.AltModifier)
    assert seq.unit == 4
    qtbot.keyClick(seq.editor, QtCore.Qt.Key.Key_Up, QtCore.Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(seq.editor, QtCore.Qt.Key.Key_Up, QtCore.Qt.KeyboardModifier.AltModifier)
    assert seq.unit == 2


def test_timings_in_the_status_bar(qtbot, win, ui):
    win.timings_action.setChecked(True)
    ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    win.timings.refresh()
    text = win.timings.label.text()
    assert win.timings.label.isVisible() and text.startswith("forward ms: Conv2d")
    assert len(win.timings.layer_times()) == len(win.digit_lab.session.model.layers)
    win.timings_action.setChecked(False)
    assert not win.timings.timer.isActive() and not win.timings.label.isVisible()


def test_export_panels_svg_and_hidden_states(tmp_path, win):
    from explorer.ui.widgets.export import save_svg
    for title, widget in list(win.digit_lab.panels().items())[:3]:
        path = save_svg(widget, tmp_path / f"{len(title)}.svg")
        head = path.read_text(encoding="utf-8")[:400]
        assert "<svg" in head, title
    seq = win.sequence_lab
    seq.editor.setPlainText("ab,c\n")
    h = seq.hidden_states()
    with open(export_hidden_states(win, tmp_path / "h.csv"), encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["t", "char", "h0"] and len(rows) == len(h) + 1
    assert rows[3][1] == "," and rows[5][1] == "\n"
    np.testing.assert_allclose(np.array(rows[1][2:], float), h[0], rtol=1e-6, atol=1e-7)
    with np.load(export_hidden_states(win, tmp_path / "h.npz"), allow_pickle=False) as z:
        np.testing.assert_array_equal(z["h"], h)
        assert str(z["text"]) == "ab,c\n"


def test_window_icon_and_menu_items(win):
    assert not win.windowIcon().isNull()
    texts = [a.text().replace("&", "") for a in win.menuBar().actions()[0].menu().actions()]
    assert texts.index("Export panel as SVG") < texts.index("Quit")


def test_desktop_entry_honours_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert data_home() == tmp_path / "data"
    entry, icon = install()
    assert entry == tmp_path / "data" / "applications" / "cnn-rnn-explorer.desktop"
    text = entry.read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\n") and f"Exec={sys.executable} -m explorer %f" in text
    assert "Icon=cnn-rnn-explorer" in text and icon.read_text().lstrip().startswith("<svg")
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")   # the spec: relative paths are invalid
    assert data_home() == Path.home() / ".local" / "share"


def test_python_m_explorer_install_desktop_entry(tmp_path):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    out = subprocess.run([sys.executable, "-m", "explorer", "--install-desktop-entry"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "applications" / "cnn-rnn-explorer.desktop").is_file()


def test_alt_g_lets_the_sequence_model_write_and_stop(qtbot, win):
    seq = win.sequence_lab
    win.tabs.setCurrentWidget(seq)
    seq.editor.setFocus()
    writer = seq.experiments.write_panel
    if writer.model is None:
        pytest.fail("the shipped sequence model should be able to write")
    assert not writer.button.isChecked()
    qtbot.keyClick(seq.editor, QtCore.Qt.Key.Key_G, QtCore.Qt.KeyboardModifier.AltModifier)
    assert writer.button.isChecked()                        # writing
    qtbot.waitUntil(lambda: len(writer.free_out.toPlainText()) > 0, timeout=10000)
    qtbot.keyClick(seq.editor, QtCore.Qt.Key.Key_G, QtCore.Qt.KeyboardModifier.AltModifier)
    assert not writer.button.isChecked()                    # stopped
    assert ("Sequences lab", "Let it write / stop writing") in {(w, t) for w, t, _k in shortcut_table(win)}
