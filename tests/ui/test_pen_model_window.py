"""The pen model in the window: File › Open model, session files, settings kept across a restart."""

from __future__ import annotations

import numpy as np

from explorer.engine import save_model
from explorer.session.pen_reader import random_pen_model, read_at_once
from explorer.ui.main_window import MainWindow

BAR = [(140.0, 40.0 + t) for t in np.linspace(0, 200, 30)]


def open_window(qtbot, ini, model):
    from tests.ui.conftest import settings_at
    win = MainWindow(settings_at(ini), digit_model=model)
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    win.digit_lab._message_box = lambda *a: None
    return win


def _strokes(win):
    return [s.points for s in win.digit_lab.session.strokes]


def test_open_model_gives_a_pen_model_to_the_pen_reader(qtbot, tmp_path, model, ui):
    win = open_window(qtbot, str(tmp_path / "a.ini"), model)
    ui.draw(qtbot, win.digit_lab.canvas, BAR)
    pen = random_pen_model("GRU", hidden=10, seed=11)
    path = tmp_path / "my_pen_gru.npz"
    save_model(pen, path)
    assert win.open_model(path)
    lab = win.digit_lab
    assert win.tabs.currentWidget() is lab and lab.middle_tabs.currentIndex() == 1
    assert lab.session.model is model                                   # the CNN stays
    assert lab.pen_combo.currentText() == "my_pen_gru.npz" and lab.pen.reader.cell == "GRU"
    np.testing.assert_allclose(lab.pen_probabilities(), read_at_once(pen, _strokes(win))[-1], atol=1e-6)
    # a pen model whose layers do not fit: a message, nothing changes
    bad = random_pen_model("LSTM", hidden=6)
    bad.meta["pen"] = {"encoding": "pen-steps-v0"}
    save_model(bad, tmp_path / "bad_pen.npz")
    assert not win.open_model(tmp_path / "bad_pen.npz")
    assert "pen" in lab.last_error and lab.pen.reader.cell == "GRU"
    # the picker goes back to the shipped entries and to the opened file
    assert lab.choose_pen_model("pen LSTM") and lab.pen.reader.cell == "LSTM"
    assert lab.choose_pen_model(str(path.resolve())) and lab.pen.reader.cell == "GRU"


def test_a_session_file_keeps_the_pen_model_and_its_page(qtbot, tmp_path, model, ui):
    win = open_window(qtbot, str(tmp_path / "a.ini"), model)
    ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    pen = random_pen_model("GRU", hidden=9, seed=5)
    win.digit_lab.set_pen_model(pen, "mine.npz", str(tmp_path / "mine.npz"))
    win.digit_lab.set_pen_target(7)
    win.digit_lab.middle_tabs.setCurrentIndex(1)
    want = win.digit_lab.pen_probabilities()
    path = win.save_session(tmp_path / "lesson")
    fresh = open_window(qtbot, str(tmp_path / "b.ini"), ui.tiny_cnn(3))
    assert fresh.digit_lab.pen.reader.cell == "LSTM"
    assert fresh.open_session(path), fresh.last_session_error
    lab = fresh.digit_lab
    assert lab.pen.reader.cell == "GRU" and lab.pen.target == 7 and lab.middle_tabs.currentIndex() == 1
    np.testing.assert_array_equal(lab.pen_probabilities(), want)
    assert "mine.npz" in lab.pen_combo.currentText()


def test_the_pen_model_and_page_survive_a_restart(qtbot, tmp_path, model, ui):
    ini = str(tmp_path / "a.ini")
    pen = random_pen_model("GRU", hidden=7, seed=2)
    path = tmp_path / "kept_pen.npz"
    save_model(pen, path)
    win = open_window(qtbot, ini, model)
    assert win.open_model(path)
    win.digit_lab.set_pen_target(3)
    ui.draw(qtbot, win.digit_lab.canvas, BAR)
    want = win.digit_lab.pen_probabilities()
    win.close()
    again = open_window(qtbot, ini, model)
    lab = again.digit_lab
    assert lab.pen_source == str(path.resolve()) and lab.pen.reader.cell == "GRU"
    assert lab.middle_tabs.currentIndex() == 1 and lab.pen.target == 3
    np.testing.assert_allclose(lab.pen_probabilities(), want, atol=1e-7)
    # the file gone: the next start says so and reads with the shipped pen model
    again.close()
    path.unlink()
    third = open_window(qtbot, ini, model)
    assert third.digit_lab.pen_combo.currentData() == "pen LSTM"


def test_autosave_keeps_the_pen_model_without_closing(qtbot, tmp_path, model):
    ini = str(tmp_path / "a.ini")
    win = open_window(qtbot, ini, model)
    path = tmp_path / "autosaved_pen.npz"
    save_model(random_pen_model("GRU", hidden=5, seed=9), path)
    assert win.open_model(path)
    assert "settings" in win.autosave.pending()              # the picker changed: the settings are due
    win.autosave.save("settings")
    from tests.ui.conftest import settings_at
    kept = settings_at(ini)
    assert kept.value("digits/pen_model") == str(path.resolve())
    assert int(kept.value("digits/middle_tab")) == 1
