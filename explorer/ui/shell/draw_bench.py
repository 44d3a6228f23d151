"""Draw latency through the real window: mouse move -> every Digit Lab panel repainted.

``measure_draw_latency(n_moves=300)`` builds a MainWindow (1400×900, offscreen if no
display, settings in a temporary INI), sends one real QMouseEvent per move along a
scripted stroke, then renders the pending frame and lets Qt process the resulting
update requests (which paints every changed panel: 8 ImageItems per move for the shipped
architecture), timing each move end to end. Returns median and p95 in milliseconds.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

import numpy as np

from explorer.engine import Model

if TYPE_CHECKING:
    from PySide6 import QtCore, QtWidgets

    from explorer.ui.digit.canvas import DigitCanvas
    from explorer.ui.shell.window import MainWindow

Point = tuple[float, float] | np.ndarray      # (x, y) in reference units (280 across)


def loop_stroke(n: int) -> np.ndarray:
    """n points of a looping '8'-like path in reference units (280 across)."""
    t = np.linspace(0, 2 * np.pi, n)
    return np.stack([140 + 60 * np.sin(2 * t), 140 + 100 * np.sin(t)], axis=1)


def send_mouse(canvas: DigitCanvas, kind: QtCore.QEvent.Type, at: Point, button: QtCore.Qt.MouseButton,
               buttons: QtCore.Qt.MouseButton) -> None:
    """One real QMouseEvent on the canvas at ``at`` = (x, y) in reference units (280 across)."""
    from PySide6 import QtCore, QtGui, QtWidgets

    x, y = at
    pos = QtCore.QPointF(canvas.from_ref(float(x), float(y)))
    ev = QtGui.QMouseEvent(kind, pos, QtCore.QPointF(canvas.mapToGlobal(pos)),
                           button, buttons, QtCore.Qt.KeyboardModifier.NoModifier)
    QtWidgets.QApplication.sendEvent(canvas, ev)


@contextmanager
def bench_window(model: Model | None) -> Iterator[tuple[QtWidgets.QApplication, MainWindow]]:
    """A shown 1400x900 MainWindow (offscreen if no display, settings in a temporary INI) ->
    (app, window); afterwards the Digit Lab is stopped and the window closed and deleted."""
    if not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6 import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from explorer.ui.shell.window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        settings = QtCore.QSettings(os.path.join(tmp, "bench.ini"), QtCore.QSettings.Format.IniFormat)
        win = MainWindow(settings, digit_model=model)
        win.resize(1400, 900)
        win.show()
        app.processEvents()
        yield cast("QtWidgets.QApplication", app), win
        win.digit_lab.stop()
        win.close()
        win.deleteLater()
        app.processEvents()


def measure_draw_latency(n_moves: int = 300, model: Model | None = None,
                         beside: int = 0, page: str = "cnn") -> dict[str, float]:
    """-> {"median_ms", "p95_ms", "max_ms", "n_moves"} for move -> all panels repainted.

    ``beside`` > 0: first put a finished stroke of that many points on the canvas (a dense
    scribble), so the new stroke's cost can be compared with an empty canvas's.
    ``page``: "cnn" shows the CNN's feature maps in the middle column, "pen" the pen RNN's page
    (both readers' probabilities over pen time, its trajectory and gates); the CNN's input,
    prediction and experiments are computed and repainted either way.
    """
    from PySide6 import QtCore

    with bench_window(model) as (app, win):
        lab = win.digit_lab
        lab.middle_tabs.setCurrentIndex(1 if page == "pen" else 0)
        app.processEvents()
        canvas = lab.canvas
        if beside:
            from explorer.session.drawing import Stroke
            lab.session.set_strokes([Stroke(loop_stroke(beside).astype(np.float32))])
            lab.refresh_now()
            app.processEvents()
        left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton

        def send(kind: QtCore.QEvent.Type, at: Point, button: QtCore.Qt.MouseButton,
                 buttons: QtCore.Qt.MouseButton) -> None:
            send_mouse(canvas, kind, at, button, buttons)

        pts = loop_stroke(n_moves + 1)
        send(QtCore.QEvent.Type.MouseButtonPress, pts[0], left, left)
        times = []
        for x, y in pts[1:]:
            t0 = time.perf_counter()
            send(QtCore.QEvent.Type.MouseMove, (x, y), none, left)
            lab.scheduler.flush()
            lab.pen_scheduler.flush()          # the CNN over pen time catching up, if it must
            app.processEvents()                # scene changes -> update requests -> paint
            times.append(time.perf_counter() - t0)
        send(QtCore.QEvent.Type.MouseButtonRelease, pts[-1], left, none)
    ms = np.array(times) * 1000.0
    return {"median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)),
            "max_ms": float(ms.max()), "n_moves": int(n_moves)}


def measure_long_stroke(n_moves: int = 3000, hz: float = 125.0, model: Model | None = None,
                        edge: int = 200) -> dict[str, float]:
    """One stroke of ``n_moves`` pen moves offered at ``hz`` through the real window.

    Each move is sent when due (or at once if the app is late); the lab renders at its own
    rate in between, as in use. Returns the moves per second and mean ms per move (move ->
    next move taken) over the first and the last ``edge`` moves, and the whole stroke's time.
    """
    from PySide6 import QtCore

    with bench_window(model) as (app, win):
        canvas = win.digit_lab.canvas
        left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
        t = np.linspace(0, 2 * np.pi * max(n_moves // 750, 1), n_moves + 1)   # loops of an '8'
        pts = np.stack([140 + 60 * np.sin(2 * t), 140 + 100 * np.sin(t)], axis=1)
        send_mouse(canvas, QtCore.QEvent.Type.MouseButtonPress, pts[0], left, left)
        period, taken = 1.0 / hz, []
        t0 = time.perf_counter()
        for i, (x, y) in enumerate(pts[1:]):
            due = t0 + i * period
            while (wait := due - time.perf_counter()) > 0:
                app.processEvents()                        # timers (the lab's frames) run here
                time.sleep(min(wait, 0.001))
            send_mouse(canvas, QtCore.QEvent.Type.MouseMove, (x, y), none, left)
            app.processEvents()
            taken.append(time.perf_counter())
        total = time.perf_counter() - t0
        send_mouse(canvas, QtCore.QEvent.Type.MouseButtonRelease, pts[-1], left, none)
    gaps = np.diff(np.array(taken)) * 1e3
    first, last = gaps[:edge], gaps[-edge:]
    return {"first_ms_per_move": float(first.mean()), "last_ms_per_move": float(last.mean()),
            "first_moves_per_s": float(1e3 / first.mean()), "last_moves_per_s": float(1e3 / last.mean()),
            "seconds": float(total), "ideal_seconds": float(n_moves / hz)}


if __name__ == "__main__":  # pragma: no cover
    print(measure_draw_latency())
