"""RenderGuard: a panel that raises while drawing never stops the lab's next renders.

A lab hands ``RenderGuard(render, say, recover)`` to its ``LatestFrame`` instead of its bare
render. An exception is caught; the lab says once, in its status line, which panel failed
(the innermost widget in the traceback) and that it carries on; the traceback goes to stderr
for a bug report; ``recover()`` drops what may have caused it (a selection, a unit) so the
next frame starts clean. When a frame draws again the lab says so.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6 import QtWidgets


def failing_panel(tb: TracebackType | None, lab: object) -> str:
    """The class name of the innermost widget (other than the lab) whose method raised."""
    name = type(lab).__name__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if isinstance(owner, QtWidgets.QWidget) and owner is not lab:
            name = type(owner).__name__
        tb = tb.tb_next
    return name


class RenderGuard:
    """Callable like the render it wraps; ``failures`` counts frames that raised."""

    def __init__(self, render: Callable[[object], None], say: Callable[[str], object],
                 recover: Callable[[], object] | None = None, panel: str | None = None) -> None:
        self.render, self.say, self.recover = render, say, recover
        self.panel = panel                         # the panel it draws (else read off the traceback)
        self.failures = 0
        self.failing: str | None = None            # the message shown while frames fail

    def __call__(self, request: object) -> None:
        try:
            self.render(request)
        except Exception as exc:  # noqa: BLE001 - any panel bug: say it, recover, keep rendering
            self.failures += 1
            lab = getattr(self.render, "__self__", None)
            panel = self.panel or failing_panel(exc.__traceback__, lab)
            message = (f"the {panel} panel could not draw this frame ({type(exc).__name__}: "
                       f"{str(exc)[:120]}); the lab carries on — details on stderr")
            if message != self.failing:
                self.failing = message
                print(f"cnn-rnn-explorer: {panel} failed to draw:", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
                self.say(message)
            if self.recover is not None:
                try:
                    self.recover()
                except Exception:  # noqa: BLE001 - recovering must never raise in its turn
                    traceback.print_exc(file=sys.stderr)
            return
        if self.failing is not None:
            self.failing = None
            self.say("every panel draws again")
