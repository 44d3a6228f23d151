"""Every tab of the main window is a Lab (explorer.ui.widgets.lab_protocol), and the window uses only that."""

import pytest
from PySide6 import QtCore

from explorer.ui.main_window import MainWindow
from explorer.ui.widgets.lab_protocol import is_lab


@pytest.fixture
def win(qtbot, ini, model, ui):
    w = MainWindow(ui.settings_at(ini), digit_model=model)
    qtbot.addWidget(w)
    yield w
    w.shutdown()


def tabs(win):
    return [win.tabs.widget(i) for i in range(win.tabs.count())]


def test_every_tab_is_a_lab(win):
    assert len(tabs(win)) == 4
    assert all(is_lab(lab) for lab in tabs(win))
    assert not is_lab(QtCore.QObject())


def test_a_sequence_lab_message_reaches_the_status_bar(win):
    win.statusBar().clearMessage()
    seq = win.sequence_lab
    seq.finder_combo.setCurrentIndex(seq.finder_combo.count() - 1)   # the regex finder, no regex typed
    seq.regex_edit.setText("")
    seq.find_button.click()
    assert "Type a regular expression first." in seq.status_label.text()
    assert win.statusBar().currentMessage() == "Type a regular expression first."


def test_the_model_label_names_the_current_tabs_model(win):
    texts = {}
    for i, lab in enumerate(tabs(win)):
        win.tabs.setCurrentIndex(i)
        texts[win.tabs.tabText(i)] = win.model_label.text()
        assert win.model_label.text() == lab.model_label()
    assert texts["Digits"].startswith("digit model")
    assert texts["Sequences"].startswith("sequence model") and win.sequence_lab.session.cell in texts["Sequences"]
    assert texts["Compare"].startswith("compare") and texts["Train"].startswith("training")
    assert len(set(texts.values())) == 4


def test_a_model_change_on_the_current_tab_updates_the_label(win):
    win.tabs.setCurrentWidget(win.train_lab)
    before = win.model_label.text()
    lab = win.train_lab
    lab.kind.setCurrentIndex((lab.kind.currentIndex() + 1) % lab.kind.count())
    assert win.model_label.text() != before and win.model_label.text() == lab.model_label()
    win.tabs.setCurrentWidget(win.digit_lab)
    win.digit_lab.describe_model(source="a test model")
    assert "a test model" in win.model_label.text()


def test_shutdown_stops_every_labs_timers(win, qtbot):
    win.sequence_lab.editor.setPlainText("def f(x):\n    return x\n" * 50)   # queues the sync timer
    win.digit_lab.scheduler.submit(-1)                                     # drawn at once if idle,
    win.digit_lab.scheduler.submit(-1)                                     # then one queues a digit frame
    running = lambda lab: [t for t in lab.findChildren(QtCore.QTimer) if t.isActive()]  # noqa: E731
    assert running(win.sequence_lab) and running(win.digit_lab)
    for lab in tabs(win):
        lab.shutdown()
        assert running(lab) == [], type(lab).__name__
