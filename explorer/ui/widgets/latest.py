"""LatestFrame: an input renders at once (``at_once``) or on the next event-loop turn when idle;
inputs that arrive faster than frames are drawn replace each other and the latest is drawn at
the next frame."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6 import QtCore


class LatestFrame(QtCore.QObject):
    """Coalesce submits: ``render(frame)`` runs at most ``fps`` times a second, latest wins.

    An isolated submit (no render within the last frame interval) renders without waiting for
    a timer's tick (which added up to a whole frame, 16 ms at 60 fps, to a lone pen move):
    with ``at_once`` inside ``submit`` itself, i.e. inside the input event that submitted it,
    so whatever that event changed on screen (the canvas's stroke) and every panel the frame
    feeds are painted in one and the same window update; else on the very next event-loop
    turn, before Qt goes idle. A submit within a frame interval of the last render (or during
    a render) waits for the rest of that interval; submits meanwhile replace it (``dropped``).
    No timer runs while idle; ``flush()`` renders the pending frame now (benchmarks, tests);
    ``stop()`` drops it (closeEvent). ``rendered`` follows every render; ``last_render_s`` is
    how long it took (View → Show timings reads it).
    """

    rendered = QtCore.Signal()

    def __init__(self, render: Callable[[object], None], fps: int = 60,
                 parent: QtCore.QObject | None = None, *, at_once: bool = False) -> None:
        super().__init__(parent)
        self._render = render
        self._pending: object | None = None
        self._last = -1e9                      # perf_counter() when the last render started
        self._rendering = False
        self.at_once = at_once
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
        if wait <= 0 and self.at_once:
            self.flush()                       # idle: draw it now, inside the caller's event
            return
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
