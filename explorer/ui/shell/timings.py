"""View → Show timings: what the current lab costs, in the status bar, once a second.

Digit Lab: every layer's forward time on the current drawing (measured once a second on
the network input, median of 5), the render time of a frame (median over the last second)
and frames rendered per second. Sequence Lab: keystroke → every panel repainted (median)
and renders per second. Measured with ``time.perf_counter``; nothing is estimated.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6 import QtCore, QtWidgets


class TimingsMonitor(QtCore.QObject):
    """``enable(on)``; ``text()`` is what the status bar shows."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.label = QtWidgets.QLabel()
        self.label.setToolTip("View → Show timings: measured per-layer forward time, render time, frames per second")
        self.label.hide()
        window.statusBar().addPermanentWidget(self.label)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.refresh)
        self.renders: list[float] = []          # durations (s) of the digit frames this second
        self.frames = {"digits": 0, "sequence": 0}
        self.keys: list[float] = []             # keystroke -> rendered, seconds
        self._key_t: float | None = None
        self.scheduler = window.digit_lab.scheduler
        self.scheduler.rendered.connect(self._on_digit_rendered)
        seq = getattr(window, "sequence_lab", None)
        if seq is not None:
            seq.editor.textChanged.connect(self._on_key)
            seq.rendered.connect(self._on_seq_rendered)

    def _on_digit_rendered(self) -> None:
        if self.timer.isActive():
            self.renders.append(self.scheduler.last_render_s)
            self.frames["digits"] += 1

    def _on_key(self) -> None:
        if self._key_t is None:
            self._key_t = time.perf_counter()

    def _on_seq_rendered(self) -> None:
        if not self.timer.isActive():
            return
        self.frames["sequence"] += 1
        if self._key_t is not None:
            self.keys.append(time.perf_counter() - self._key_t)
        self._key_t = None

    def enable(self, on: bool) -> None:
        self.label.setVisible(on)
        if on:
            self.timer.start()
            self.refresh()
        else:
            self.timer.stop()

    def layer_times(self) -> list[tuple[str, float]]:
        """(layer type, ms) of every digit-model layer on the current input (median of 5)."""
        x = self.window.current_digit_input()
        x = np.zeros((1, 28, 28), np.float32) if x is None else x
        out, y = [], x[None].astype(np.float32)
        for layer in self.window.digit_lab.session.model.layers:
            runs = []
            for _ in range(5):
                t0 = time.perf_counter()
                z = layer.forward(y)[0]
                runs.append(time.perf_counter() - t0)
            out.append((layer.type_name, 1000 * float(np.median(runs))))
            y = z
        return out

    def text(self) -> str:
        current = self.window.tabs.currentWidget()
        if current is self.window.digit_lab:
            layers = " ".join(f"{n} {ms:.2f}" for n, ms in self.layer_times())
            render = f"{1000 * float(np.median(self.renders)):.1f} ms" if self.renders else "idle"
            return f"forward ms: {layers} · render {render} · {self.frames['digits']} fps"
        if current is getattr(self.window, "sequence_lab", None):
            key = f"{1000 * float(np.median(self.keys)):.1f} ms" if self.keys else "idle"
            return f"keystroke → panels {key} · {self.frames['sequence']} renders/s"
        return "timings: Digit and Sequence labs"

    def refresh(self) -> None:
        self.label.setText(self.text())
        self.renders, self.keys = [], []
        self.frames = dict.fromkeys(self.frames, 0)


def install(window: Any, view_menu: QtWidgets.QMenu) -> TimingsMonitor:
    monitor = TimingsMonitor(window)
    act = view_menu.addAction("Show &timings")
    act.setCheckable(True)
    act.setToolTip("Per-layer forward time, render time and frames per second of the current lab, in the status bar")
    act.toggled.connect(monitor.enable)
    window.timings_action = act
    return monitor
