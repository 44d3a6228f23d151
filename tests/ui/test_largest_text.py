"""What is saved can be opened: the largest text a session holds saves and opens (streamed into
the editor in pieces, as a long paste); one character more is refused when saving."""

import pytest

from explorer.session.lessonfile import LessonFileError
from explorer.session.schema import MAX_TEXT_CHARS
from explorer.session.sequence import SequenceSession, random_model
from explorer.ui.main_window import MainWindow


def test_save_then_open_the_largest_text(qtbot, ui, tmp_path):
    win = MainWindow(ui.settings_at(str(tmp_path / "cfg" / "a.ini")), digit_model=ui.tiny_cnn(0))
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    seq = win.sequence_lab
    seq.use_session(SequenceSession(random_model("GRU", hidden=4, seed=1), name="tiny"), key=None, label="tiny")
    line = "for (i = 0; i < n; i++) { s += a[i] * é; }\n"
    text = (line * (MAX_TEXT_CHARS // len(line) + 1))[:MAX_TEXT_CHARS]
    seq.editor.setPlainText(text)
    qtbot.waitUntil(lambda: seq.session.length == len(text), timeout=60_000)   # handed to the session
    seq.move_cursor(123_456)
    path = win.save_session(tmp_path / "largest.cre")

    seq.editor.setPlainText("short")
    assert win.open_session(path), win.last_session_error
    assert seq.editor.pieces.busy                       # streamed in pieces, not in one block
    qtbot.waitUntil(lambda: not seq.editor.pieces.busy, timeout=120_000)
    assert seq.editor.toPlainText() == text
    assert seq.cursor_index() == 123_456
    seq.editor.undo()                                  # the whole replacement is one undo step
    assert seq.editor.toPlainText() == "short"

    seq.editor.setPlainText(text + "x")
    with pytest.raises(LessonFileError, match=f"{MAX_TEXT_CHARS + 1:,} characters long; at most {MAX_TEXT_CHARS:,}"):
        win.save_session(tmp_path / "too_long.cre")
    assert not (tmp_path / "too_long.cre").exists()
