"""Work on a QThread while the window stays live: the job runner every lab shares.

``JobRunner`` runs one job (a sweep, a dream, the evidence, the tolerance curves) at a time:
``job(report, cancel)`` runs in the worker thread; ``report(payload)`` sends a progress
payload at most every ``EMIT_EVERY`` seconds and then waits (GIL released) until the GUI has
drawn it or ``GUI_WINDOW`` passes. The Train lab's and Compare's workers use the same
hand-shake (``GUI_WINDOW``, ``after_repaint``): a CPU-bound Python thread holds the GIL, and
pyqtgraph's paint calls back into Python many times per frame, so without the wait one
repaint took 0.5–5 s (measured). A worker told to stop must end within ``STOP_BUDGET_S``
(of the 1 s a close or quit may take).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtWidgets

EMIT_EVERY = 0.05
GUI_WINDOW = 0.3        # s at most that a worker waits for the GUI to draw a progress signal
STOP_BUDGET_S = 0.8     # of the 1 s a close or quit may take


def after_repaint(callback: Callable[[], None], hops: int = 3) -> None:
    """Call ``callback`` after the repaints queued now (scene update, UpdateRequest) have run."""
    if hops <= 0:
        callback()
    else:
        QtCore.QTimer.singleShot(0, lambda: after_repaint(callback, hops - 1))


class JobWorker(QtCore.QObject):
    progress = QtCore.Signal(object)
    done = QtCore.Signal(object)
    failed = QtCore.Signal(str)
    finished = QtCore.Signal()

    def __init__(self, job: Callable[[Callable[[Any], None], threading.Event], Any]) -> None:
        super().__init__()
        self.job = job
        self.cancel = threading.Event()
        self._drawn = threading.Event()
        self._last = 0.0

    def drawn(self) -> None:
        self._drawn.set()

    def report(self, payload: Any) -> None:
        now = time.monotonic()
        if now - self._last < EMIT_EVERY:
            return
        self._last = now
        self._drawn.clear()
        self.progress.emit(payload)
        self._drawn.wait(GUI_WINDOW)

    @QtCore.Slot()
    def run(self) -> None:
        try:
            result = self.job(self.report, self.cancel)
        except Exception as exc:  # noqa: BLE001 - shown to the user, the window keeps running
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.done.emit(result)
        self.finished.emit()


def failed_to(button: QtWidgets.QAbstractButton, label: QtWidgets.QLabel,
              finished: QtCore.SignalInstance) -> Callable[[str], None]:
    """The ``on_failed`` of an experiment panel: its start button enabled again, the message
    shown in its label, its ``finished`` signal emitted."""
    def on_failed(text: str) -> None:
        button.setEnabled(True)
        label.setText(text)
        finished.emit()
    return on_failed


class JobRunner(QtCore.QObject):
    """Owns at most one JobWorker + QThread; ``start`` cancels a running job first.

    The worker's signals go to this object's slots (it lives in the GUI thread, so the
    connections are queued): the callbacks always run in the GUI thread.
    """

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.job_thread: QtCore.QThread | None = None
        self.worker: JobWorker | None = None
        self._callbacks: tuple[Any, Any, Any] = (None, None, None)
        self._orphans: list[tuple[QtCore.QThread, Any]] = []

    def running(self) -> bool:
        return self.job_thread is not None and self.job_thread.isRunning()

    def start(self, job: Callable[..., Any], on_progress: Callable[[Any], None] | None,
              on_done: Callable[[Any], None], on_failed: Callable[[str], None]) -> None:
        self.stop()
        worker, thread = JobWorker(job), QtCore.QThread()
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        self._callbacks = (on_progress, on_done, on_failed)
        worker.progress.connect(self._on_progress)
        worker.done.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(thread.quit)
        self.worker, self.job_thread = worker, thread
        thread.start()

    @QtCore.Slot(object)
    def _on_progress(self, payload: Any) -> None:
        worker = self.worker
        if self._callbacks[0] is not None:
            self._callbacks[0](payload)
        if worker is not None:
            after_repaint(worker.drawn)

    @QtCore.Slot(object)
    def _on_done(self, result: Any) -> None:
        self._callbacks[1](result)

    @QtCore.Slot(str)
    def _on_failed(self, text: str) -> None:
        self._callbacks[2](text)

    def stop(self, wait_ms: int = 5000) -> None:
        if self.worker is not None:
            self.worker.cancel.set()
            self.worker.drawn()
        if self.job_thread is not None:
            self.job_thread.quit()
            if not self.job_thread.wait(wait_ms):        # still busy: keep it alive until it ends
                self._orphans.append((self.job_thread, self.worker))
        self.job_thread = self.worker = None
