"""Opening never destroys: the question before the user's own work is replaced, the copy in
File → Recover, undo of the opened drawing and text, Clear and Open image keep a copy too."""

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from explorer.session.sequence import SequenceSession, random_model
from explorer.ui.main_window import MainWindow
from explorer.ui.shell import recover


def make_window(qtbot, path, ui, seed=0):
    win = MainWindow(ui.settings_at(str(path)), digit_model=ui.tiny_cnn(seed))
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    seq = win.sequence_lab
    seq.use_session(SequenceSession(random_model("GRU", hidden=6, seed=3), name="tiny gru"), key=None, label="tiny gru")
    return win


@pytest.fixture
def lesson(qtbot, tmp_path, ui):
    """A session file holding a '7' and a text, saved by another window."""
    other = make_window(qtbot, tmp_path / "other" / "a.ini", ui)
    ui.draw(qtbot, other.digit_lab.canvas, ui.seven_points())
    other.sequence_lab.editor.setPlainText("the lesson's text")
    return other.save_session(tmp_path / "lesson.cre")


@pytest.fixture
def mine(qtbot, tmp_path, ui):
    """A window holding the user's own drawing (a vertical bar) and text."""
    win = make_window(qtbot, tmp_path / "mine" / "a.ini", ui)
    ui.draw(qtbot, win.digit_lab.canvas, [(140, 40 + 4 * i) for i in range(50)])
    win.sequence_lab.editor.clear()
    qtbot.keyClicks(win.sequence_lab.editor, "my own words")
    return win


def test_the_menu_asks_and_keep_mine_changes_nothing(mine, lesson):
    asked = []
    mine.confirm_replace = lambda q: asked.append(q) or False        # "Keep mine"
    drawing, text = mine.digit_lab.session.committed, mine.sequence_lab.editor.toPlainText()
    assert mine.open_session(lesson, ask=True) is False
    assert len(asked) == 1 and "your drawing and your text" in asked[0] and "File → Recover" in asked[0]
    assert mine.digit_lab.session.committed is drawing and mine.sequence_lab.editor.toPlainText() == text
    assert recover.kept(mine) == []                                  # nothing replaced, nothing kept


def test_replacing_keeps_a_copy_and_undo_brings_work_back(mine, lesson, qtbot):
    mine.confirm_replace = lambda q: True                            # "Replace (keep a copy)"
    probs = mine.digit_lab.probabilities()
    assert mine.open_session(lesson, ask=True), mine.last_session_error
    assert mine.sequence_lab.editor.toPlainText() == "the lesson's text"
    assert not np.array_equal(mine.digit_lab.probabilities(), probs)
    copies = recover.kept(mine)
    assert len(copies) == 1 and "before-opening-lesson.cre" in copies[0].name
    # the Recover menu lists it
    mine.recover_menu.aboutToShow.emit()
    labels = [a.text() for a in mine.recover_menu.actions()]
    assert any("before opening lesson.cre" in t for t in labels), labels
    # undo: the drawing and the text come back, one step each
    mine.digit_lab.undo()
    np.testing.assert_array_equal(mine.digit_lab.probabilities(), probs)
    mine.sequence_lab.editor.undo()
    assert mine.sequence_lab.editor.toPlainText() == "my own words"
    # recovering the copy (itself asks nothing now: the view is the user's own again)
    mine.digit_lab.redo()
    mine.sequence_lab.editor.redo()
    assert mine.open_session(copies[0])
    assert mine.sequence_lab.editor.toPlainText() == "my own words"
    np.testing.assert_array_equal(mine.digit_lab.probabilities(), probs)


def test_programmatic_open_never_asks_but_keeps_a_copy(mine, lesson):
    mine.confirm_replace = lambda q: pytest.fail("window.open_session(path) must not ask")
    assert mine.open_session(lesson)
    assert len(recover.kept(mine)) == 1
    # the lesson's own view is not the user's work: opening again keeps no second copy
    assert mine.open_session(lesson)
    assert len(recover.kept(mine)) == 1


def test_nothing_asked_or_kept_for_an_empty_window(qtbot, tmp_path, ui, lesson):
    win = make_window(qtbot, tmp_path / "fresh" / "a.ini", ui)
    win.confirm_replace = lambda q: pytest.fail("nothing to lose, nothing to ask")
    assert win.open_session(lesson, ask=True)
    assert recover.kept(win) == []


def test_clear_and_open_image_keep_a_copy(mine, tmp_path):
    before = mine.digit_lab.probabilities()
    mine.digit_lab.clear_action.trigger()
    assert mine.digit_lab.probabilities() is None
    copies = recover.kept(mine)
    assert len(copies) == 1 and "before-Clear" in copies[0].name
    mine.digit_lab.undo()
    np.testing.assert_array_equal(mine.digit_lab.probabilities(), before)
    img = QtGui.QImage(280, 280, QtGui.QImage.Format.Format_Grayscale8)
    img.fill(QtCore.Qt.GlobalColor.white)
    QtGui.QPainter(img).fillRect(120, 40, 40, 200, QtCore.Qt.GlobalColor.black)
    assert img.save(str(tmp_path / "one.png"))
    assert mine.digit_lab.open_image(tmp_path / "one.png")
    assert len(recover.kept(mine)) == 2
    assert mine.open_session(recover.kept(mine)[0])                  # newest: before the image
    np.testing.assert_array_equal(mine.digit_lab.probabilities(), before)


def test_a_read_only_folder_still_opens_with_undo(mine, lesson, monkeypatch):
    def refuse(*a, **k):
        raise OSError(30, "Read-only file system")
    monkeypatch.setattr("explorer.ui.shell.recover.write_lesson", refuse, raising=False)
    monkeypatch.setattr("explorer.session.lessonfile.write_lesson", refuse)
    assert mine.open_session(lesson)
    assert "no copy of your work could be kept" in mine.statusBar().currentMessage()
    mine.sequence_lab.editor.undo()
    assert mine.sequence_lab.editor.toPlainText() == "my own words"
