"""LatestFrame: render at most once per frame; frames arriving in between replace each other."""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore


class LatestFrame(QtCore.QObject):
    """Coalesce submits: ``render(frame)`` runs at most ``fps`` times a second, latest wins.

    The timer stops as soon as nothing is pending (no timer runs while idle); ``flush()``
    renders the pending frame now (benchmarks, tests); ``stop()`` drops it (closeEvent).
    """

    rendered = QtCore.Signal()

    def __init__(self, render: Callable[[object], None], fps: int = 60,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._render = render
        self._pending: object | None = None
        self.dropped = 0                       # frames replaced before they were rendered
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(max(1000 // fps, 1))
        self.timer.timeout.connect(self._tick)

    def submit(self, frame: object) -> None:
        if self._pending is not None:
            self.dropped += 1
        self._pending = frame
        if not self.timer.isActive():
            self.timer.start()

    def flush(self) -> bool:
        """Render the pending frame immediately; False if nothing was pending."""
        if self._pending is None:
            return False
        frame, self._pending = self._pending, None
        self._render(frame)
        self.rendered.emit()
        return True

    def stop(self) -> None:
        self._pending = None
        self.timer.stop()

    def _tick(self) -> None:
        if not self.flush():
            self.timer.stop()
