"""A long paste goes into the editor in pieces, one per turn of the event loop, so the window never freezes.

Qt lays out inserted text at once: 2 MB in one ``insertPlainText`` blocked the window for
~160 ms. ``PieceInserter`` inserts the first piece where the paste goes (replacing the
selection) and the rest, piece by piece, after it; every piece joins the first one's undo
step, so one undo removes the whole paste. Short texts are inserted at once, as before.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

LONG = 200_000      # characters: a paste at least this long is inserted in pieces
PIECE = 50_000      # characters per piece (~4 ms of Qt layout each)


class PieceInserter(QtCore.QObject):
    """insert(text) -> True when it took the text (long, or a long paste is under way);
    ``finished`` once its last piece is in."""

    finished = QtCore.Signal()

    def __init__(self, editor: QtWidgets.QPlainTextEdit) -> None:
        super().__init__(editor)
        self.editor = editor
        self._text, self._at = "", 0
        self._cursor: QtGui.QTextCursor | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._next)

    @property
    def busy(self) -> bool:
        """Is part of a long paste still to be inserted?"""
        return self._at < len(self._text)

    def insert(self, text: str) -> bool:
        if self.busy:                                     # a paste during a paste: after it
            self._text = self._text[self._at:] + text
            self._at = 0
            return True
        if len(text) < LONG:
            return False
        cur = self.editor.textCursor()
        cur.beginEditBlock()
        cur.insertText(text[:PIECE])
        cur.endEditBlock()
        self.editor.setTextCursor(cur)
        self._cursor = QtGui.QTextCursor(cur)
        self._text, self._at = text, PIECE
        self._timer.start()
        return True

    def _next(self) -> None:
        if not self.busy or self._cursor is None:
            return
        piece = self._text[self._at:self._at + PIECE]
        self._at += len(piece)
        follow = self.editor.textCursor().position() == self._cursor.position()
        self._cursor.joinPreviousEditBlock()              # one undo step for the whole paste
        self._cursor.insertText(piece)
        self._cursor.endEditBlock()
        if follow:                                        # the caret stays at the paste's end
            self.editor.setTextCursor(self._cursor)
        if self.busy:
            self._timer.start()
        else:
            self._text, self._at, self._cursor = "", 0, None
            self.finished.emit()
