"""MainWindow: the contract (DESIGN.md), menus, settings and drawing across a restart."""

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.main_window import SETTINGS_VERSION, MainWindow


def open_window(qtbot, settings, model):
    win = MainWindow(settings, digit_model=model)
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    return win


def test_default_window_builds_with_the_shipped_or_fallback_model(qtbot):
    win = MainWindow()                        # XDG_CONFIG_HOME points to a temp dir (conftest)
    qtbot.addWidget(win)
    assert [win.tabs.tabText(i) for i in range(win.tabs.count())] == [
        "Digits", "Sequences", "Compare", "Train"]
    assert win.sequence_lab.editor.objectName() == "sequenceEditor"
    assert win.digit_lab.canvas.objectName() == "digitCanvas"
    win.digit_lab.clear()
    assert win.digit_lab.probabilities() is None          # an empty canvas reads nothing
    titles = [a.text().replace("&", "") for a in win.menuBar().actions()]
    assert titles[:2] == ["File", "Edit"] and "View" in titles and "Help" in titles
    win.digit_lab.stop()


def test_add_lab_and_help(qtbot, ini, model, ui):
    win = open_window(qtbot, ui.settings_at(ini), model)
    before = win.tabs.count()
    with pytest.raises(TypeError, match="Lab protocol"):      # a tab must be a Lab
        win.add_lab("Later", QtWidgets.QLabel("later"))
    assert win.tabs.count() == before
    win.tabs.setCurrentIndex(0)
    dlg = win.show_page("x", "<p>hello</p>")
    win.show_help()
    assert "Digit Lab" in win._help_text.toPlainText()
    dlg.close()


def test_settings_and_drawing_survive_a_restart(qtbot, ini, model, ui):
    win = open_window(qtbot, ui.settings_at(ini), model)
    lab = win.digit_lab
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    probs = lab.probabilities()
    lab.set_pen_width(30)
    lab.set_scope("network")
    lab.winners_action.setChecked(True)
    win.resize(790, 560)                   # inside the offscreen screen (800×600): restoreGeometry clamps
    qtbot.waitUntil(lambda: win.width() == 790)
    lab.splitter.setSizes([200, 380, 190])
    sizes = lab.splitter.sizes()
    win.close()                                            # closeEvent: save_ui + drawing
    assert not lab.scheduler.timer.isActive()
    assert win.drawing_path().is_file()
    assert str(win.drawing_path().parent) == QtCore.QFileInfo(ini).absolutePath()

    again = open_window(qtbot, ui.settings_at(ini), model)
    lab2 = again.digit_lab
    assert again.width() == 790
    assert lab2.canvas.pen_width == 30 and lab2.scope == "network"
    assert lab2.winners_action.isChecked()
    assert lab2.splitter.sizes() == sizes
    np.testing.assert_array_equal(lab2.probabilities(), probs)
    assert int(ui.settings_at(ini).value("settings/version")) == SETTINGS_VERSION


def test_old_settings_are_migrated(qtbot, ini, model, ui):
    s = ui.settings_at(ini)
    s.setValue("ui/geometry", QtCore.QByteArray(b"garbage"))
    s.setValue("digits/scope", "map")
    s.sync()
    win = open_window(qtbot, ui.settings_at(ini), model)
    assert win.digit_lab.scope == "map"
    assert ui.settings_at(ini).value("ui/geometry") is None
    assert int(ui.settings_at(ini).value("settings/version")) == SETTINGS_VERSION


def test_broken_drawing_file_is_ignored(qtbot, ini, model, ui, tmp_path):
    (tmp_path / "digit_drawing.npz").write_bytes(b"junk")
    win = open_window(qtbot, ui.settings_at(ini), model)
    assert win.digit_lab.probabilities() is None


def test_window_exports_and_open_model(qtbot, ini, model, ui, tmp_path):
    from explorer.engine import save_model
    win = open_window(qtbot, ui.settings_at(ini), model)
    ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    win.export_window(tmp_path / "win.png")
    assert QtGui.QImage(str(tmp_path / "win.png")).width() == win.width()
    other = ui.tiny_cnn(5)
    save_model(other, tmp_path / "m.npz")
    win.digit_lab._message_box = lambda *a: None
    assert win.open_model(tmp_path / "m.npz")
    np.testing.assert_allclose(win.digit_lab.probabilities(),
                               other.trace(win.digit_lab.reading.x).probs[0], rtol=1e-6)
    (tmp_path / "bad.npz").write_bytes(b"nope")
    assert not win.open_model(tmp_path / "bad.npz")
    assert win.digit_lab.last_error


def test_sequence_text_survives_a_restart(qtbot, ini, model, ui):
    win = open_window(qtbot, ui.settings_at(ini), model)
    win.sequence_lab.editor.setPlainText("")
    qtbot.keyClicks(win.sequence_lab.editor, "def f(x): return 'hi'")
    typed = win.sequence_lab.editor.toPlainText()
    win.close()
    again = open_window(qtbot, ui.settings_at(ini), model)
    assert again.sequence_lab.editor.toPlainText() == typed
    states = again.sequence_lab.hidden_states()
    assert states.shape[0] == len(typed)
    again.close()


def test_every_lab_has_a_how_to_read_page(qtbot, ini, model, ui):
    win = open_window(qtbot, ui.settings_at(ini), model)
    for i in range(win.tabs.count()):
        win.tabs.setCurrentIndex(i)
        win.show_help()
        title = win.tabs.tabText(i)
        text = win._help_text.toPlainText()
        assert "No page yet" not in text and "how to read it" in text, title
    win._help.close()
