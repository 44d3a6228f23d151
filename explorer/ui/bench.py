"""GUI rows of ``cnn-rnn-explorer bench``: latencies measured through the real window, offscreen."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

_VISIBLE_PROBE = """
import time, sys
t0 = time.perf_counter()
from PySide6 import QtCore, QtWidgets
app = QtWidgets.QApplication(sys.argv)
from explorer.ui.main_window import MainWindow
settings = QtCore.QSettings(sys.argv[1], QtCore.QSettings.Format.IniFormat)
w = MainWindow(settings)
w.show()
app.processEvents()
print(time.perf_counter() - t0)
w.close()
"""


def window_visible_seconds(tmp_ini: str) -> float:
    """Seconds from a fresh interpreter's start (imports included) to a shown, painted window."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM") or "offscreen")
    proc = subprocess.run([sys.executable, "-c", _VISIBLE_PROBE, tmp_ini], capture_output=True,
                          text=True, env=env, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "window failed")
    return float(proc.stdout.strip().splitlines()[-1])


def measure_all(quick: bool = False) -> dict[str, Any]:
    import tempfile

    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows["window_visible_seconds"] = window_visible_seconds(os.path.join(tmp, "bench.ini"))
    from explorer.ui.digit.bench import measure_draw_latency
    draw = measure_draw_latency(n_moves=120 if quick else 300)
    rows["draw_latency_median_ms"] = draw["median_ms"]
    rows["draw_latency_p95_ms"] = draw["p95_ms"]
    try:
        from explorer.ui.sequence.bench import measure_keystroke_latency, measure_paste
    except ImportError as exc:
        rows["sequence"] = f"unavailable: {exc}"
        return rows
    keys = measure_keystroke_latency(n_chars=2000, n_keys=40 if quick else 100)
    rows["keystroke_latency_median_ms"] = keys["median_ms"]
    rows["keystroke_latency_p95_ms"] = keys["p95_ms"]
    paste = measure_paste(n_chars=100_000)
    rows["paste_100k_seconds"] = paste["seconds"]
    rows["paste_max_block_ms"] = paste["max_block_ms"]
    return rows
