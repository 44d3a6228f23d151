"""Benchmarks of the Sequence Lab through the real widget (offscreen): keystroke and paste.

``cnn-rnn-explorer bench`` calls these; run alone with ``python -m explorer.ui.sequence.bench``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np


def make_app() -> Any:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtWidgets

    import explorer.ui  # noqa: F401  (pyqtgraph fast-path options)
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


def open_lab(app: Any, model: str | None = None) -> Any:
    """The lab on a code model: the first in the picker, or the one labelled `model`."""
    from explorer.ui.sequence.lab import SequenceLab
    lab = SequenceLab(settings=None)
    wanted = (model,) if model else ("Python code", "Untrained")
    texts = [i for i in range(lab.model_combo.count()) if lab.model_combo.itemText(i).startswith(wanted)]
    if model and not texts:
        lab.close()
        raise LookupError(f"no model '{model}' in the picker")
    if texts and texts[0] != lab.model_combo.currentIndex():
        lab.model_combo.setCurrentIndex(texts[0])          # a code model: the realistic case
    elif not texts:                                        # none shipped yet: the same shape, untrained
        from explorer.session.sequence import SequenceSession, random_model
        lab.use_session(SequenceSession(random_model("LSTM", hidden=128, embed=32, seed=0),
                                        name="untrained LSTM-128 (no code model shipped)"))
    lab.resize(1400, 900)
    lab.show()
    app.processEvents()
    return lab


def model_name(lab: Any) -> str:
    name = lab.session.name
    return lab.model_combo.currentText() if name.endswith(".npz") else name


def code_text(n_chars: int) -> str:
    from explorer.ui.sequence.presets import PYTHON_FUNCTION
    return (PYTHON_FUNCTION * (n_chars // len(PYTHON_FUNCTION) + 1))[:n_chars]


def wait_idle(app: Any, lab: Any, timeout: float = 60.0) -> None:
    end = time.perf_counter() + timeout
    while not lab.is_idle():
        app.processEvents()
        if time.perf_counter() > end:
            raise TimeoutError("the Sequence Lab did not settle")


class _PaintSpy:
    """Counts QEvent.Paint per watched widget (an event filter), to know that a panel has painted."""

    def __init__(self, widgets: dict[str, Any]) -> None:
        from PySide6 import QtCore

        spy = self

        class _Filter(QtCore.QObject):
            def eventFilter(self, obj: Any, event: Any) -> bool:  # noqa: N802 (Qt)
                if event.type() == QtCore.QEvent.Type.Paint:
                    spy.painted.add(id(obj))
                return False

        self.widgets = widgets
        self.painted: set[int] = set()
        self._filter = _Filter()
        for w in widgets.values():
            w.installEventFilter(self._filter)

    def missing(self) -> list[str]:
        return [name for name, w in self.widgets.items() if id(w) not in self.painted]

    def remove(self) -> None:
        for w in self.widgets.values():
            w.removeEventFilter(self._filter)


def panel_widgets(lab: Any) -> dict[str, Any]:
    """The widgets that paint the sequence panels (graphics views paint in their viewport); a
    transformer's attention panel takes the place of the gates and the unrolled view."""
    widgets = {"editor": lab.editor.viewport(), "strip": lab.strip, "heatmap": lab.heatmap,
               "trajectory": lab.trajectory.plot, "predictions": lab.predictions,
               "memory": lab.memory_panel}
    if lab.attention.isVisibleTo(lab):
        widgets["attention"] = lab.attention.view
    else:
        widgets.update({"gates": lab.gates, "unrolled": lab.unrolled})
    return widgets


def _paint_everything(app: Any, lab: Any, spy: _PaintSpy, rounds: int = 6) -> None:
    """Paint every panel for the frame just rendered, inside the caller's timing window.

    Qt paints what changed when the event loop runs (a graphics view only once its scene has
    processed the change, a queued event): let it run until every panel has painted since the
    render, as it would on screen. A panel that still has not (nothing changed in it) is then
    repainted by force, so no panel escapes the measurement. (It no longer begins with
    ``lab.repaint()``, which repainted every button and label of the lab and painted the
    graphics views twice: once before their scenes had processed the change, once after.)"""
    for _ in range(rounds):
        if not spy.missing():
            return
        app.processEvents()
    for name in spy.missing():
        spy.widgets[name].repaint()


def measure_keystroke_latency(n_chars: int = 2000, n_keys: int = 100, model: str | None = None) -> dict[str, Any]:
    """Type n_keys characters at the end of an n_chars text: key event -> every panel repainted.

    The window ends when every panel (editor, strip, heat map, trajectory, predictions,
    memory, gates, unrolled — or a transformer's attention panel) has painted AFTER the
    keystroke's render (see _paint_everything). `model`: the picker's label (default: the first
    code model). Returns {"median_ms", "p95_ms", "cpu_median_ms", "model", "n_chars", "n_keys"}.
    """
    from PySide6 import QtGui
    from PySide6.QtTest import QTest
    app = make_app()
    lab = open_lab(app, model)
    spy = _PaintSpy(panel_widgets(lab))
    try:
        if lab.session.rec is None:               # a transformer: its panel colours the text by a head
            lab.attention.choose_head((0, 0))
        lab.editor.setPlainText(code_text(n_chars))
        lab.editor.moveCursor(QtGui.QTextCursor.MoveOperation.End)
        wait_idle(app, lab)
        lab.select_unit(0)
        wait_idle(app, lab)
        _paint_everything(app, lab, spy)
        for _ in range(3):                      # nothing left over from the set-up
            app.processEvents()
        keys, times, cpu = "abcdefghij(x) = 'y' # ", [], []
        for k in range(n_keys):
            frames = lab.frames
            t0, c0 = time.perf_counter(), time.thread_time()
            QTest.keyClick(lab.editor, keys[k % len(keys)])  # type: ignore[call-overload]  # Qt's keyClick(widget, char); the stub lists Key/int only
            while lab.frames == frames:
                app.processEvents()
            spy.painted.clear()                 # only paints after this key's render count
            _paint_everything(app, lab, spy)
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        ms = np.array(times) * 1000
        return {"median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)),
                "cpu_median_ms": float(np.median(cpu) * 1000),
                "model": model_name(lab), "n_chars": n_chars, "n_keys": n_keys}
    finally:
        spy.remove()
        lab.close()
        lab.deleteLater()


def measure_paste(n_chars: int = 100_000, before: Any = None) -> dict[str, Any]:
    """Paste n_chars into the editor: seconds until every panel shows it, and the longest
    time the event loop was blocked (a 1 ms timer records its gaps). ``before()`` is called
    just before the paste (the bench reads the resident memory there)."""
    from PySide6 import QtCore
    app = make_app()
    lab = open_lab(app)
    try:
        lab.editor.clear()
        wait_idle(app, lab)
        if before is not None:
            before()
        stamps: list[float] = []
        ticker = QtCore.QTimer()
        ticker.setInterval(1)
        ticker.timeout.connect(lambda: stamps.append(time.perf_counter()))
        ticker.start()
        text = code_text(n_chars)
        app.processEvents()
        t0 = time.perf_counter()
        stamps.append(t0)
        lab.editor.insertPlainText(text)      # what a paste does
        wait_idle(app, lab, timeout=max(120.0, n_chars / 10_000))
        seconds = time.perf_counter() - t0
        app.processEvents()
        stamps.append(time.perf_counter())
        ticker.stop()
        gaps = np.diff(stamps) * 1000
        return {"seconds": float(seconds), "max_block_ms": float(gaps.max()),
                "model": model_name(lab), "n_chars": n_chars}
    finally:
        lab.close()
        lab.deleteLater()


def save_screenshots(out_dir: str = "docs/screenshots", models: dict[str, str] | None = None) -> list[str]:
    """Render the lab at 1400x900 with code, prose and a toy language; returns the PNG paths.

    models: {"code": path, "prose": path, "toy": path}; defaults to the shipped files.
    """
    from explorer.paths import model_path
    app = make_app()
    models = models or {"code": str(model_path("code_lstm.npz")), "prose": str(model_path("prose_lstm.npz")),
                        "toy": str(model_path("task_depth.npz"))}
    scenes = {"code": ("Python function", 300, "inside a quoted literal"), "prose": ("English paragraph", 250, None),
              "toy": ("Bracket string", 30, "bracket depth")}
    os.makedirs(out_dir, exist_ok=True)
    saved = []
    for kind, path in models.items():
        if not os.path.isfile(path):
            continue
        lab = open_lab(app)
        lab.open_model_file(path, label=os.path.basename(path))
        preset, cursor, finder = scenes[kind]
        lab.load_preset(preset)
        wait_idle(app, lab)
        if finder:
            lab.finder_combo.setCurrentText(finder)
            lab.find_unit()
        lab.move_cursor(cursor)
        wait_idle(app, lab)
        out = os.path.join(out_dir, f"sequence_{kind}.png")
        lab.grab().save(out)
        saved.append(out)
        lab.close()
        lab.deleteLater()
    return saved


if __name__ == "__main__":
    print("keystroke:", measure_keystroke_latency())
    print("paste:", measure_paste())
