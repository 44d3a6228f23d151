"""A long paste goes into the editor in pieces and is one undo step (issue 16)."""

from PySide6 import QtCore, QtGui

from explorer.ui.sequence import paste
from explorer.ui.sequence.editor import SequenceEditor


def test_a_long_paste_arrives_in_pieces_replaces_the_selection_and_undoes_at_once(qtbot):
    editor = SequenceEditor()
    qtbot.addWidget(editor)
    editor.setPlainText("head [old] tail")
    cur = editor.textCursor()
    cur.setPosition(5)
    cur.setPosition(10, QtGui.QTextCursor.MoveMode.KeepAnchor)   # "[old]" selected
    editor.setTextCursor(cur)
    text = "".join(f"line {i} \U0001F600 é\n" for i in range(30_000))
    assert len(text) > paste.LONG
    mime = QtCore.QMimeData()
    mime.setText(text)
    sizes = []
    editor.textChanged.connect(lambda: sizes.append(len(editor.toPlainText())))
    editor.insertFromMimeData(mime)
    assert editor.pieces.busy and len(editor.toPlainText()) < len(text)   # not all at once
    qtbot.waitUntil(lambda: not editor.pieces.busy, timeout=20000)
    assert editor.toPlainText() == "head " + text + " tail"
    assert len(set(sizes)) > 2                                           # several pieces
    assert editor.textCursor().position() == editor.document().characterCount() - 1 - len(" tail")
    editor.undo()                                                        # one step: all of it
    assert editor.toPlainText() == "head [old] tail"


def test_a_short_paste_is_inserted_at_once(qtbot):
    editor = SequenceEditor()
    qtbot.addWidget(editor)
    editor.insertPlainText("x" * 1000)
    assert editor.toPlainText() == "x" * 1000 and not editor.pieces.busy
