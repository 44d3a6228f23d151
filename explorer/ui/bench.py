"""GUI rows of ``cnn-rnn-explorer bench``: latencies measured through the real window, offscreen."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

_VISIBLE_PROBE = """
import sys, time
spawned = float(sys.argv[1])                       # the parent's wall clock just before launch
from explorer.__main__ import build                # the launch path of `cnn-rnn-explorer`
from explorer.runtime import configure_process
configure_process()
app, w = build()
app.processEvents()
w.repaint()                                        # painted, not only shown
seconds = time.time() - spawned
import os
with open("/proc/self/statm") as fh:
    rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
print(seconds, rss)
w.close()
"""


def window_start(config_dir: str, runs: int = 3) -> tuple[float, float]:
    """Launch -> (seconds to a shown, painted main window; RSS MB then), as ``cnn-rnn-explorer``
    starts (``explorer.__main__.build``), with its settings and autosave in ``config_dir``.

    The clock starts in this process just before the new interpreter is spawned, so the
    interpreter's own start and every import count. A warm start, as an installed app sees it:
    the first launch writes the bytecode caches (PYTHONDONTWRITEBYTECODE is dropped for these
    launches) and warms the file cache; the median of the next ``runs`` launches is reported."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM") or "offscreen",
               XDG_CONFIG_HOME=config_dir, XDG_DATA_HOME=config_dir)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = []
    for _ in range(runs + 1):
        proc = subprocess.run([sys.executable, "-c", _VISIBLE_PROBE, repr(time.time())], capture_output=True,
                              text=True, env=env, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "window failed")
        seconds, rss = proc.stdout.strip().splitlines()[-1].split()
        out.append((float(seconds), float(rss)))
    warm = sorted(out[1:])
    return warm[len(warm) // 2]


def window_visible_seconds(config_dir: str) -> float:
    """Seconds from launch (the interpreter's start and imports included) to a painted window."""
    return window_start(config_dir)[0]


_PASTE_PROBE = """
import json, os, sys
from explorer.ui.sequence.bench import measure_paste
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
r = measure_paste(int(sys.argv[1]), before=lambda: print(json.dumps({"rss_before_mb": rss()})))
def hwm():  # this process's own peak (ru_maxrss would also count the parent's RSS at fork)
    with open("/proc/self/status") as fh:
        return next(int(x.split()[1]) for x in fh if x.startswith("VmHWM")) / 1024
r["peak_rss_mb"] = hwm()
r["rss_after_mb"] = rss()
print(json.dumps(r))
"""


def paste_in_fresh_process(n_chars: int) -> dict[str, Any]:
    """Paste ``n_chars`` of Python code into a fresh Sequence Lab (its own process, so the peak
    resident memory is the app's own): seconds, longest block, peak and final RSS (MB)."""
    import json

    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM") or "offscreen")
    proc = subprocess.run([sys.executable, "-c", _PASTE_PROBE, str(n_chars)], capture_output=True,
                          text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "paste failed")
    out: dict[str, Any] = {}
    for line in proc.stdout.strip().splitlines():
        if line.startswith("{"):
            out.update(json.loads(line))
    return out


def _clean_up() -> None:
    """Destroy the windows of the measurements before (closed, their deletion still queued,
    some held in reference cycles): each measurement runs with its own window only, as the
    app has one. Hundreds of leftover menus and actions made every later keystroke ~0.5 ms
    dearer (Qt looks up a key's shortcut among all of them)."""
    import gc

    from PySide6 import QtCore, QtWidgets
    app = QtWidgets.QApplication.instance()
    if app is None:
        return
    for _ in range(2):
        app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)
        gc.collect()
    for w in app.topLevelWidgets():      # pyqtgraph's plot menus have no parent: they outlive their
        if isinstance(w, QtWidgets.QMenu) and not w.isVisible():     # plots (no window is open here)
            w.deleteLater()
    app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)


def measure_all(quick: bool = False) -> dict[str, Any]:
    import tempfile

    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        seconds, rss = window_start(tmp)
    rows["window_visible_seconds"], rows["rss_after_startup_mb"] = seconds, rss
    from explorer.ui.digit.bench import measure_draw_latency, measure_long_stroke
    draw = measure_draw_latency(n_moves=120 if quick else 300)
    rows["draw_latency_median_ms"] = draw["median_ms"]
    rows["draw_latency_p95_ms"] = draw["p95_ms"]
    _clean_up()
    pen = measure_draw_latency(n_moves=120 if quick else 300, page="pen")
    rows["draw_latency_pen_page_median_ms"] = pen["median_ms"]
    rows["draw_latency_pen_page_p95_ms"] = pen["p95_ms"]
    _clean_up()
    beside = measure_draw_latency(n_moves=120 if quick else 300, beside=5000)
    rows["draw_beside_5000pt_stroke_median_ms"] = beside["median_ms"]
    rows["draw_beside_5000pt_stroke_p95_ms"] = beside["p95_ms"]
    n = 400 if quick else 3000
    _clean_up()
    stroke = measure_long_stroke(n_moves=n, hz=125.0, edge=100 if quick else 200)
    rows[f"stroke_{n}_moves_125hz_first_ms_per_move"] = stroke["first_ms_per_move"]
    rows[f"stroke_{n}_moves_125hz_last_ms_per_move"] = stroke["last_ms_per_move"]
    rows[f"stroke_{n}_moves_125hz_first_moves_per_s"] = stroke["first_moves_per_s"]
    rows[f"stroke_{n}_moves_125hz_last_moves_per_s"] = stroke["last_moves_per_s"]
    rows[f"stroke_{n}_moves_125hz_seconds"] = stroke["seconds"]
    rows[f"stroke_{n}_moves_125hz_ideal_seconds"] = stroke["ideal_seconds"]
    try:
        from explorer.ui.sequence.bench import measure_keystroke_latency, measure_paste
    except ImportError as exc:
        rows["sequence"] = f"unavailable: {exc}"
        return rows
    _clean_up()
    keys = measure_keystroke_latency(n_chars=2000, n_keys=40 if quick else 100)
    rows["keystroke_latency_median_ms"] = keys["median_ms"]
    rows["keystroke_latency_p95_ms"] = keys["p95_ms"]
    for n in (200, 10_000):
        _clean_up()
        keys = measure_keystroke_latency(n_chars=n, n_keys=40 if quick else 100)
        label = f"keystroke_{n // 1000}k" if n >= 1000 else f"keystroke_{n}"
        rows[f"{label}_latency_median_ms"] = keys["median_ms"]
        rows[f"{label}_cpu_median_ms"] = keys["cpu_median_ms"]
    _clean_up()
    paste = measure_paste(n_chars=100_000)
    rows["paste_100k_seconds"] = paste["seconds"]
    rows["paste_max_block_ms"] = paste["max_block_ms"]
    n = 200_000 if quick else 2_000_000
    big = paste_in_fresh_process(n)
    label = f"paste_{n // 1000}k"
    rows[f"{label}_seconds"] = big["seconds"]
    rows[f"{label}_max_block_ms"] = big["max_block_ms"]
    rows[f"{label}_rss_before_mb"] = big["rss_before_mb"]
    rows[f"{label}_peak_rss_mb"] = big["peak_rss_mb"]
    return rows


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def soak_draw(n_moves: int = 20_000, moves_per_stroke: int = 100) -> dict[str, float]:
    """Scripted pen moves through the real window; resident memory after warm-up and at the end.

    Strokes of ``moves_per_stroke`` moves; the canvas is cleared every 10 strokes, as a
    person would. Linux only (reads /proc/self/statm).
    """
    import tempfile

    import numpy as np
    from PySide6 import QtCore, QtWidgets

    from explorer.ui.digit.bench import send_mouse

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from explorer.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        win = MainWindow(QtCore.QSettings(os.path.join(tmp, "soak.ini"), QtCore.QSettings.Format.IniFormat))
        win.resize(1400, 900)
        win.show()
        app.processEvents()
        lab, canvas = win.digit_lab, win.digit_lab.canvas
        left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton

        def send(kind: QtCore.QEvent.Type, x: float, y: float, button: QtCore.Qt.MouseButton,
                 buttons: QtCore.Qt.MouseButton) -> None:
            send_mouse(canvas, kind, x, y, button, buttons)

        rng = np.random.default_rng(0)
        done, strokes, warm = 0, 0, None
        while done < n_moves:
            start = rng.uniform(60, 220, 2)
            path = start + np.cumsum(rng.normal(0, 4, (moves_per_stroke, 2)), axis=0)
            path = np.clip(path, 5, 275)
            send(QtCore.QEvent.Type.MouseButtonPress, *path[0], left, left)
            for x, y in path[1:]:
                send(QtCore.QEvent.Type.MouseMove, x, y, none, left)
                lab.scheduler.flush()
                app.processEvents()
                done += 1
            send(QtCore.QEvent.Type.MouseButtonRelease, *path[-1], left, none)
            strokes += 1
            if strokes % 10 == 0:
                lab.clear_action.trigger()
            if warm is None and done >= min(2000, n_moves // 4):
                warm = _rss_mb()
        end = _rss_mb()
        lab.stop()
        win.close()
    return {"soak_moves": float(done), "soak_rss_after_warmup_mb": float(warm or end),
            "soak_rss_end_mb": float(end), "soak_rss_growth_mb": float(end - (warm or end))}
