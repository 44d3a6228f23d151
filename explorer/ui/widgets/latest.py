"""LatestFrame: an input renders on the next event-loop turn when idle; inputs that arrive
faster than frames are drawn replace each other and the latest is drawn at the next frame."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6 import QtCore


class LatestFrame(QtCore.QObject):
    """Coalesce submits: ``render(frame)`` runs at most ``fps`` times a second, latest wins.

    An isolated submit (no render within the last frame interval) renders on the very next
    event-loop turn, before Qt goes idle: waiting for a timer's next tick added up to a whole
    frame (16 ms at 60 fps) to a lone pen move. A submit within a frame interval of the last
    render waits for the rest of that interval; submits meanwhile replace it (``dropped``).
    No timer runs while idle; ``flush()`` renders the pending frame now (benchmarks, tests);
    ``stop()`` drops it (closeEvent). ``rendered`` follows every render; ``last_render_s`` is
    how long it took (View → Show timings reads it).
    """

    rendered = QtCore.Signal()

    def __init__(self, render: Callable[[object], None], fps: int = 60,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._render = render
        self._pending: object | None = None
        self._last = -1e9                      # perf_counter() when the last render started
        self._rendering = False
        self.dropped = 0                       # frames replaced before they were rendered
        self.renders = 0
        self.last_render_s = 0.0               # seconds the last render() took
        self.interval = max(1000 // fps, 1) / 1000.0
        self.timer = QtCore.QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._tick)

    def submit(self, frame: object) -> None:
        if self._pending is not None:
            self.dropped += 1
        self._pending = frame
        if self.timer.isActive():              # a frame is already due: it will draw this one
            return
        wait = self.interval if self._rendering else self._last + self.interval - time.perf_counter()
        self.timer.start(max(0, min(int(round(wait * 1000)), int(self.interval * 1000))))

    def flush(self) -> bool:
        """Render the pending frame immediately; False if nothing was pending."""
        if self._pending is None:
            return False
        frame, self._pending = self._pending, None
        self.timer.stop()
        self._last = time.perf_counter()
        self._rendering = True
        try:
            self._render(frame)
        finally:
            self._rendering = False
        self.last_render_s = time.perf_counter() - self._last
        self.renders += 1
        self.rendered.emit()
        return True

    def stop(self) -> None:
        self._pending = None
        self.timer.stop()

    def _tick(self) -> None:
        self.flush()
