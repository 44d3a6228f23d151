"""Demo data for running one Sequence panel alone: ``python -m explorer.ui.sequence.heatmap``.

``demo_frame()`` opens a shipped model (an untrained LSTM when none is shipped) on a short
text and asks its session for one frame; each panel module's ``demo(session, view)`` builds
its widget from that frame, and ``run(demo)`` shows it (``app.exec()``).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6 import QtWidgets

from explorer.session.sequence import SequenceSession, random_model
from explorer.session.sequence_catalogue import load_session
from explorer.session.sequence_view import FrameRequest, SequenceView, build_view

DEMO_TEXT = 'def mean(xs):\n    """Average of a list."""\n    return sum(xs) / len(xs)  # float\n'


def demo_session(text: str = DEMO_TEXT) -> SequenceSession:
    from explorer.paths import model_path
    path = model_path("code_lstm.npz")
    s = (load_session(str(path)) if path.is_file()
         else SequenceSession(random_model("LSTM", hidden=32, seed=0), name="untrained LSTM"))
    s.basis_key = f"demo:{path}"
    s.set_text(text)
    return s


def demo_frame(text: str = DEMO_TEXT, unit: int = 3) -> tuple[SequenceSession, SequenceView]:
    """(session, its frame at the end of the text with unit `unit` selected)."""
    s = demo_session(text)
    req = FrameRequest(window=120, trail=40, strip_cells=40, unit=unit, colour_mode="selected unit",
                       visible=(0, len(text)))
    return s, build_view(s, len(text), req)


def run(demo: Callable[[SequenceSession, SequenceView], QtWidgets.QWidget], exec_: bool = True) -> QtWidgets.QWidget:
    """Build the panel from demo data, show it and (exec_) run the event loop."""
    import explorer.ui  # noqa: F401  (pyqtgraph options)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    widget = demo(*demo_frame())
    widget.resize(760, 420)
    widget.setWindowTitle(widget.__class__.__name__ + " — demo")
    widget.show()
    if exec_ and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        app.exec()
    return widget
