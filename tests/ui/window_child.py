"""The real window in a child process, driven by QTest, for the crash-safety tests.

    python tests/ui/window_child.py MODE

Run with XDG_CONFIG_HOME pointing to a temporary folder and QT_QPA_PLATFORM=offscreen.
The window is built and run exactly as ``python -m explorer`` does (explorer.ui.shell.launch.build
and explorer.ui.shell.lifecycle.run: the same signal handlers, aboutToQuit, exit code). Modes:

- ``drive``: draw a 7 on the Digit Lab canvas, type a text into the Sequence Lab editor,
  put the cursor inside it, print one line ``READY {json}`` (strokes, text, cursor) and
  keep running until killed or signalled.
- ``report``: print ``STATE {json}`` with what the window restored (strokes, text, cursor,
  status bar, problems) and quit.
- ``train-close`` / ``train-quit`` / ``train-wait``: start a long training run in the Train
  lab; once steps are coming in, print ``READY`` and then close the window (printing
  ``CLOSED <seconds the close took>``), quit the application without closing the window
  (``QUIT <seconds>``), or keep running until signalled. ``duel-close``: the same with the
  Compare lab's duel training. ``stuck-quit``: quit while the job is still being made
  (4 s that cannot be interrupted, like loading MNIST).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6 import QtCore, QtWidgets  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from explorer.ui.shell.launch import build  # noqa: E402
from explorer.ui.shell.lifecycle import run  # noqa: E402

TEXT = "def area(r):\n    return 3.14159 * r * r  # circle\n\nprint(area(2.5))"
CURSOR = 17


def say(tag: str, payload: object = "") -> None:
    print(tag, json.dumps(payload) if payload != "" else "", flush=True)


def state(window) -> dict:  # type: ignore[no-untyped-def]
    editor = window.sequence_lab.editor
    return {"strokes": [s.points.tolist() for s in window.digit_lab.session.strokes],
            "text": editor.toPlainText(), "cursor": editor.textCursor().position(),
            "status": window.statusBar().currentMessage(), "problems": window.restore_problems,
            "train_kept": window.train_lab.current_model() is not None,
            "train_message": window.train_lab.message.text()}


def drive(window) -> None:  # type: ignore[no-untyped-def]
    canvas = window.digit_lab.canvas
    left = QtCore.Qt.MouseButton.LeftButton
    pts = [(80 + t, 60) for t in range(0, 121, 8)] + [(200 - 0.55 * t, 60 + t) for t in range(0, 171, 10)]
    QTest.mousePress(canvas, left, QtCore.Qt.KeyboardModifier.NoModifier, canvas.from_ref(*pts[0]))
    for p in pts[1:]:
        QTest.mouseMove(canvas, canvas.from_ref(*p))
    QTest.mouseRelease(canvas, left, QtCore.Qt.KeyboardModifier.NoModifier, canvas.from_ref(*pts[-1]))
    window.tabs.setCurrentWidget(window.sequence_lab)
    editor = window.sequence_lab.editor
    editor.setFocus()
    editor.selectAll()
    QTest.keyClick(editor, QtCore.Qt.Key.Key_Delete)
    for i, line in enumerate(TEXT.split("\n")):     # QTest types no "\n": Return between lines
        if i:
            QTest.keyClick(editor, QtCore.Qt.Key.Key_Return)
        QTest.keyClicks(editor, line)
    cursor = editor.textCursor()
    cursor.setPosition(CURSOR)
    editor.setTextCursor(cursor)
    say("READY", state(window))


def train(window, then: str) -> None:  # type: ignore[no-untyped-def]
    from explorer.session.train import TrainConfig
    lab = window.train_lab
    if then == "stuck-quit":                          # a job that cannot be interrupted (data loading)
        import explorer.ui.train.lab as train_lab
        real = train_lab.make_job
        train_lab.make_job = lambda cfg: (time.sleep(4.0), real(cfg))[1]
        then = "train-quit"
        lab.start()
        started = lambda: True  # noqa: E731
    elif then == "duel-close":                          # the Compare lab's CNN-vs-LSTM duel instead
        duel = window.compare_lab.duel
        window.tabs.setCurrentWidget(window.compare_lab)
        duel.train()
        started = lambda: duel.progress.value() >= 20  # noqa: E731
    else:
        window.tabs.setCurrentWidget(lab)
        lab.set_config(TrainConfig(kind="toy", preset="LSTM 16", data="parity", lr=1e-2, batch_size=16,
                                   epochs=50, steps_per_epoch=2000))
        lab.start()
        started = lambda: lab.loss_panel.n_points() >= 20  # noqa: E731

    def check() -> None:
        if not started():
            QtCore.QTimer.singleShot(50, check)
            return
        say("READY")
        app = QtWidgets.QApplication.instance()
        t0 = time.perf_counter()
        if then in ("train-close", "duel-close"):
            window.close()
            say("CLOSED", round(time.perf_counter() - t0, 4))
        elif then == "train-quit":
            app.aboutToQuit.connect(lambda: say("QUIT", round(time.perf_counter() - t0, 4)))
            app.quit()
    QtCore.QTimer.singleShot(50, check)


def main() -> int:
    mode = sys.argv[1]
    app, window = build()
    if mode == "report":
        say("STATE", state(window))
        QtCore.QTimer.singleShot(0, window.close)
    elif mode == "drive":
        QtCore.QTimer.singleShot(0, lambda: drive(window))
    else:
        QtCore.QTimer.singleShot(0, lambda: train(window, mode))
    return run(app, window)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
