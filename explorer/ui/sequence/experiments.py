"""The Sequence Lab's experiments (issue 14), attached with a few hooks in lab.py:
the Write pane (``WritePanel``) and the fixed points on the trajectory (``FixedPointOverlay``).

``Experiments(lab)`` builds both; the lab adds ``widget`` to its left column, calls
``on_session(session)`` whenever it shows a model and ``shutdown()`` on close.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtWidgets

from explorer.ui.sequence.fixed_overlay import FixedPointOverlay
from explorer.ui.sequence.writer import WritePanel

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.ui.sequence.lab import SequenceLab


class Experiments:
    def __init__(self, lab: SequenceLab) -> None:
        self.lab = lab
        self.write_panel = WritePanel()
        self.widget: QtWidgets.QWidget = self.write_panel
        self.fixed_points = FixedPointOverlay(lab.trajectory)
        self.write_panel.prime_source = self._prime
        self.write_panel.char_written.connect(self._append)
        lab.rendered.connect(self._on_rendered)
        # the clamp also drives the lab's predictions and surprise colouring from the cursor on
        self.write_panel.clamp_unit.valueChanged.connect(lambda _v: lab.request_render())
        self.write_panel.clamp_value.valueChanged.connect(lambda _v: lab.request_render())

    def _on_rendered(self) -> None:
        """The flow on the trajectory is the one of the symbol just read."""
        v, s, symbol = self.lab.view, self.lab.session, None    # the frame just routed to the panels
        if v is not None and s is not None and 0 < v.cursor <= s.length and s.ids[v.cursor - 1] >= 0:
            symbol = int(s.ids[v.cursor - 1])
        self.fixed_points.set_symbol(symbol)

    def _prime(self) -> str:
        """The text up to the cursor; writing continues from there (the editor's cursor)."""
        editor = self.lab.editor
        return editor.toPlainText()[:editor.textCursor().position()]

    def _append(self, ch: str) -> None:
        """The unclamped run's character goes into the editor at its cursor: every panel follows."""
        editor = self.lab.editor
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


