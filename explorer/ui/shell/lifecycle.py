"""Ending well: SIGTERM / SIGINT save and quit with status 0; worker threads stop in < 1 s.

Python runs a signal handler only when the interpreter gets control, and Qt's event loop
keeps it in C++ while idle. ``install_quit_signals`` therefore points
``signal.set_wakeup_fd`` at a socket pair watched by a ``QSocketNotifier``: the signal
byte wakes the event loop, Python runs the handler, which posts the quit (a periodic no-op
timer is the fallback where a wakeup fd cannot be set).

``stop_threads`` asks every running QThread under a widget to end (its worker has been
told to cancel) and waits for all of them together within one budget. A thread still
running after that (e.g. loading MNIST, which cannot be interrupted) must not be
destroyed by Qt — that aborts the process — so ``run`` leaves
with ``os._exit`` once everything is saved.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

from explorer.ui.widgets.jobs import STOP_BUDGET_S


class QuitSignals(QtCore.QObject):
    """Keeps the socket pair, notifier and old handlers alive; ``restore()`` undoes it all."""

    def __init__(self, quit_fn: Callable[[], None], signals: tuple[int, ...]) -> None:
        super().__init__(QtCore.QCoreApplication.instance())
        self._quit_fn = quit_fn
        self._old = {s: signal.getsignal(s) for s in signals}
        self._old_fd: int | None = None
        self._timer: QtCore.QTimer | None = None
        self.received: list[int] = []
        self._rsock, self._wsock = socket.socketpair()
        for sock in (self._rsock, self._wsock):
            sock.setblocking(False)
        try:
            self._old_fd = signal.set_wakeup_fd(self._wsock.fileno(), warn_on_full_buffer=False)
            self._notifier = QtCore.QSocketNotifier(self._rsock.fileno(), QtCore.QSocketNotifier.Type.Read, self)
            self._notifier.activated.connect(self._drain)
        except (ValueError, OSError):           # not the main thread, or no socket support
            self._timer = QtCore.QTimer(self)
            self._timer.timeout.connect(lambda: None)   # gives Python control every 200 ms
            self._timer.start(200)
        for s in signals:
            signal.signal(s, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        self.received.append(signum)
        QtCore.QTimer.singleShot(0, self._quit_fn)      # never do the work inside the handler

    def _drain(self) -> None:
        try:
            while self._rsock.recv(64):
                pass
        except OSError:
            pass

    def restore(self) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)
        if self._old_fd is not None:
            signal.set_wakeup_fd(self._old_fd)


def install_quit_signals(quit_fn: Callable[[], None],
                         signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> QuitSignals:
    """On SIGINT / SIGTERM call ``quit_fn`` from the event loop (keep the returned object)."""
    return QuitSignals(quit_fn, signals)


def running_threads(root: QtCore.QObject) -> list[QtCore.QThread]:
    return [t for t in root.findChildren(QtCore.QThread) if t.isRunning()]


def stop_threads(root: QtCore.QObject, budget_s: float = STOP_BUDGET_S,
                 poke: Callable[[], None] | None = None) -> list[QtCore.QThread]:
    """End every running QThread under ``root`` (workers already told to cancel) within one
    budget; ``quit()`` first so a thread ends as soon as its worker's run() returns.
    ``poke()`` runs every 10 ms meanwhile (e.g. workers' ``drawn()``: a worker waiting for
    the GUI to draw its last signal would wait for a GUI that is busy waiting for it).
    -> the threads still running."""
    threads = running_threads(root)
    for t in threads:
        t.quit()
    deadline = time.monotonic() + budget_s
    while time.monotonic() < deadline and any(t.isRunning() for t in threads):
        if poke is not None:
            poke()
        next(t for t in threads if t.isRunning()).wait(10)
    stuck = [t for t in threads if t.isRunning()]
    for t in stuck:               # deleting its parent must not destroy a running QThread
        t.setParent(None)
        _STUCK.append(t)
        t.finished.connect(lambda t=t: _STUCK.remove(t) if t in _STUCK else None)
    return stuck


_STUCK: list[QtCore.QThread] = []     # threads that outlived a stop budget, kept until they end


def quit_app(window: QtWidgets.QWidget) -> None:
    """Close the window (it saves and stops its workers), then end the event loop."""
    if window.isVisible():
        window.close()
    app = QtWidgets.QApplication.instance()
    if app is not None:
        app.quit()


def run(app: QtWidgets.QApplication, window: QtWidgets.QWidget) -> int:
    """``app.exec()`` with clean endings: signals quit, ``aboutToQuit`` saves and stops
    workers, and a thread that would not stop in time cannot abort the process."""
    shutdown = getattr(window, "shutdown", None)
    if shutdown is not None:
        app.aboutToQuit.connect(shutdown)
    guard = install_quit_signals(lambda: quit_app(window))
    code = app.exec()
    guard.restore()
    if running_threads(window) or any(t.isRunning() for t in _STUCK):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
