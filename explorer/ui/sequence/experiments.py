"""The Sequence Lab's experiments: the Write pane (``WritePanel``) and the fixed points on
the trajectory (``FixedPointOverlay``).

``Experiments(trajectory, editor)`` builds both; the lab adds ``widget`` to its left column,
calls ``on_session(session)`` whenever it shows a model, ``follow(view, session)`` after
each render and ``shutdown()`` on close, and re-renders on ``clamp_changed`` (the clamp also
drives the predictions and the surprise colouring from the cursor on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from explorer.ui.sequence.fixed_overlay import FixedPointOverlay
from explorer.ui.sequence.writer import WritePanel

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView
    from explorer.ui.sequence.trajectory import TrajectoryPanel


class Experiments(QtCore.QObject):
    clamp_changed = QtCore.Signal()

    def __init__(self, trajectory: TrajectoryPanel, editor: QtWidgets.QPlainTextEdit,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.write_panel = WritePanel()
        self.widget: QtWidgets.QWidget = self.write_panel
        self.fixed_points = FixedPointOverlay(trajectory)
        self.write_panel.prime_source = self._prime
        self.write_panel.char_written.connect(self._append)
        self.write_panel.clamp_unit.valueChanged.connect(lambda _v: self.clamp_changed.emit())
        self.write_panel.clamp_value.valueChanged.connect(lambda _v: self.clamp_changed.emit())

    def follow(self, v: SequenceView | None, s: SequenceSession | None) -> None:
        """After a render: the flow on the trajectory is the one of the symbol just read."""
        symbol = None
        if v is not None and s is not None and 0 < v.cursor <= s.length and s.ids[v.cursor - 1] >= 0:
            symbol = int(s.ids[v.cursor - 1])
        self.fixed_points.set_symbol(symbol)

    def _prime(self) -> str:
        """The text up to the cursor; writing continues from there (the editor's cursor)."""
        editor = self.editor
        return editor.toPlainText()[:editor.textCursor().position()]

    def _append(self, ch: str) -> None:
        """The unclamped run's character goes into the editor at its cursor: every panel follows."""
        editor = self.editor
        cur = editor.textCursor()
        cur.clearSelection()
        cur.insertText(ch)
        editor.setTextCursor(cur)
        editor.ensureCursorVisible()

    def on_session(self, session: SequenceSession) -> None:
        recurrent = session.rec is not None      # writing with a clamp and fixed points need a state
        writes = session.kind == "text" and recurrent
        self.write_panel.set_model(session.model if recurrent else None, writes)
        self.write_panel.setVisible(writes)      # toy models classify, they do not write
        if recurrent:
            self.fixed_points.set_model(session.model, session.hidden_size, session.cell)
        else:
            self.fixed_points.clear()

    def shutdown(self) -> None:
        self.write_panel.stop()
        self.fixed_points.shutdown()


