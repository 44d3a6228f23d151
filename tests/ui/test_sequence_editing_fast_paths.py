"""Editing through the lab's editor with real keys — typing at the end and in the middle,
backspace, undo and redo, a paste, select-all and delete — keeps every fast path of a key
(the colour runs built on the last frame's, the view built on the last view, the kept frame
request) equal to what the slow path computes from nothing after each edit."""

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.session import sequence_view
from explorer.session.sequence import SequenceSession, random_model
from explorer.session.sequence_view import FrameRequest, build_view
from explorer.ui.sequence.textcolour import PosMap, TextColourer

TEXT = "def f(x):\n    return 'hi' + x  # say hi\n" * 6


def _settled(lab, qtbot) -> None:
    qtbot.waitUntil(lambda: lab.is_idle() and lab.session.text == lab.editor.toPlainText())
    QtWidgets.QApplication.processEvents()


def _assert_as_slow_path(lab) -> None:
    """The last frame drawn equals the frame the slow path builds now: a fresh session on the
    same text (nothing kept), the controls read afresh, a fresh colourer."""
    s = lab.session
    request = FrameRequest(visible=lab.colourer.visible_range(), **lab.controls_request())
    assert lab.view.request == request
    ref = SequenceSession(s.model, name="fresh")
    ref.set_text(s.text)
    slow = build_view(ref, lab.cursor_index(), request)
    fast = lab.view
    assert (fast.cursor, fast.start, fast.stop, fast.chars, fast.trail_chars) == \
           (slow.cursor, slow.start, slow.stop, slow.chars, slow.trail_chars)
    np.testing.assert_allclose(fast.h_rows, slow.h_rows, atol=1e-6)
    np.testing.assert_array_equal(fast.unknown, slow.unknown)
    assert [st.step if st else None for st in fast.steps] == [st.step if st else None for st in slow.steps]
    assert [st.char if st else None for st in fast.steps] == [st.char if st else None for st in slow.steps]
    values, offset = fast.colour if fast.colour is not None else (None, 0)
    fresh = TextColourer(lab.editor)
    fresh.apply(values, fast.unknown, offset, PosMap(s.text), request.visible)
    assert lab.colourer.spans() == fresh.spans()
    if fast.colour is not None:
        np.testing.assert_allclose(fast.colour[0], slow.colour[0], atol=1e-6)


def test_every_kind_of_edit_matches_the_slow_path(sequence_lab, qtbot):
    lab = sequence_lab
    lab.use_session(SequenceSession(random_model("LSTM", hidden=8, seed=2), name="l"))
    lab.editor.setPlainText(TEXT)
    lab.editor.moveCursor(QtGui.QTextCursor.MoveOperation.End)
    lab.select_unit(3)
    _settled(lab, qtbot)
    ed = lab.editor
    key = QtCore.Qt.Key
    ctrl = QtCore.Qt.KeyboardModifier.ControlModifier

    def at(position):
        cur = ed.textCursor()
        cur.setPosition(position)
        ed.setTextCursor(cur)

    steps = [
        ("typing at the end", lambda: qtbot.keyClicks(ed, "y = f(2)")),
        ("backspace", lambda: qtbot.keyClick(ed, key.Key_Backspace)),
        ("typing in the middle", lambda: (at(30), qtbot.keyClicks(ed, "zz"))),
        ("return in the middle", lambda: qtbot.keyClick(ed, key.Key_Return)),
        ("undo", lambda: qtbot.keyClick(ed, key.Key_Z, ctrl)),
        ("undo again", lambda: qtbot.keyClick(ed, key.Key_Z, ctrl)),
        ("redo", lambda: qtbot.keyClick(ed, key.Key_Y, ctrl)),
        ("a paste", lambda: (QtWidgets.QApplication.clipboard().setText("pasted\t\u00e9 text\n"),
                             qtbot.keyClick(ed, key.Key_V, ctrl))),
        ("the end again", lambda: (ed.moveCursor(QtGui.QTextCursor.MoveOperation.End),
                                   qtbot.keyClicks(ed, "ab"))),
        ("another colour mode", lambda: lab.colour_combo.setCurrentIndex(2)),
        ("typing", lambda: qtbot.keyClicks(ed, "cd")),
        ("the unit again", lambda: lab.colour_combo.setCurrentIndex(0)),
        ("select all and delete", lambda: (qtbot.keyClick(ed, key.Key_A, ctrl), qtbot.keyClick(ed, key.Key_Delete))),
        ("typing into nothing", lambda: qtbot.keyClicks(ed, "x = 1")),
        ("undo the typing and the delete", lambda: [qtbot.keyClick(ed, key.Key_Z, ctrl) for _ in range(2)]),
    ]
    texts = []
    for what, act in steps:
        act()
        _settled(lab, qtbot)
        texts.append(lab.session.text)
        try:
            _assert_as_slow_path(lab)
        except AssertionError as exc:
            raise AssertionError(f"after {what}: {exc}") from exc
    assert texts[0].endswith("y = f(2)") and texts[1].endswith("y = f(2")
    assert "zz\n" in texts[3] and "zz" not in texts[5] and "zz" in texts[6]
    assert "pasted\t\u00e9 text" in texts[7] and texts[12] == "" and texts[13] == "x = 1"
    assert len(texts[14]) > 100                                # the text came back


def test_a_stale_kept_view_would_be_seen(sequence_lab, qtbot, monkeypatch):
    """Negative control: a view built on the last one as if no edit had happened differs from
    the slow path's after an edit in the middle."""
    lab = sequence_lab
    lab.use_session(SequenceSession(random_model("LSTM", hidden=8, seed=2), name="l"))
    lab.editor.setPlainText(TEXT[:120])
    lab.editor.moveCursor(QtGui.QTextCursor.MoveOperation.End)
    lab.select_unit(3)
    _settled(lab, qtbot)
    monkeypatch.setattr(lab.session, "same_before", lambda revision: len(lab.session.ids))
    cur = lab.editor.textCursor()
    cur.setPosition(100)
    lab.editor.setTextCursor(cur)
    qtbot.keyClicks(lab.editor, "Q")
    _settled(lab, qtbot)
    assert sequence_view._KEPT.get(lab.session) is not None
    try:
        _assert_as_slow_path(lab)
    except AssertionError:
        return
    raise AssertionError("a stale view went unnoticed")
