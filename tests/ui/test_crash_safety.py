"""Never lose work: the real window in a child process is killed (SIGKILL) 1.5 s after
drawing and typing, or asked to stop (SIGTERM, SIGINT), and a restart finds the drawing,
the text and the cursor. In process: autosave lands on disk by itself, and every save or
export into an unwritable place says so in a message box and changes nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from explorer.session.drawing import load_drawing
from explorer.ui.main_window import MainWindow

CHILD = Path(__file__).with_name("window_child.py")
ROOT = CHILD.parents[2]


class Child:
    """``python tests/ui/window_child.py MODE`` with its own XDG_CONFIG_HOME, offscreen."""

    def __init__(self, mode: str, config: Path) -> None:
        env = {**os.environ, "XDG_CONFIG_HOME": str(config), "QT_QPA_PLATFORM": "offscreen",
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, str(CHILD), mode], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))

    def wait_for(self, tag: str) -> object:
        """Read lines until ``TAG payload``; -> the JSON payload (None if there is none)."""
        for line in self.proc.stdout:                    # ends at EOF if the child dies
            head, _, rest = line.strip().partition(" ")
            if head == tag:
                return json.loads(rest) if rest else None
        raise AssertionError(f"child ended before {tag}: rc={self.proc.wait()} {self.proc.stderr.read()[-2000:]}")

    def finish(self, timeout: float = 30.0) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err


def restored(config: Path) -> dict:
    child = Child("report", config)
    state = child.wait_for("STATE")
    rc, _, err = child.finish()
    assert rc == 0, err[-2000:]
    return state


def assert_same_work(made: dict, found: dict) -> None:
    assert found["text"] == made["text"]
    assert found["cursor"] == made["cursor"]
    assert len(found["strokes"]) == len(made["strokes"]) == 1
    np.testing.assert_allclose(np.array(found["strokes"][0]), np.array(made["strokes"][0]), atol=1e-4)
    assert found["problems"] == []


def test_sigkill_after_drawing_and_typing_loses_nothing(tmp_path):
    child = Child("drive", tmp_path)
    made = child.wait_for("READY")
    assert made["strokes"] and made["text"].startswith("def area") and made["cursor"] == 17
    time.sleep(1.5)
    child.proc.kill()                                        # SIGKILL: no handler runs
    assert child.proc.wait(timeout=10) == -signal.SIGKILL
    assert_same_work(made, restored(tmp_path))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_save_and_exit_zero(tmp_path, sig):
    child = Child("drive", tmp_path)
    made = child.wait_for("READY")
    child.proc.send_signal(sig)                              # before the autosave delay has passed
    t0 = time.monotonic()
    rc, _, err = child.finish(timeout=10)
    print(f"{signal.Signals(sig).name} -> exit in {time.monotonic() - t0:.2f} s")
    assert rc == 0, err[-2000:]
    assert "Traceback" not in err
    assert_same_work(made, restored(tmp_path))


def test_sigkill_while_training_keeps_weights_at_most_a_second_old(tmp_path):
    from explorer.engine import load_model
    child = Child("train-wait", tmp_path)
    child.wait_for("READY")                                  # >= 20 steps done
    time.sleep(1.5)
    child.proc.kill()
    assert child.proc.wait(timeout=10) == -signal.SIGKILL
    kept = load_model(tmp_path / "cnn-rnn-explorer" / "train_checkpoint.npz")
    assert kept.meta["train_step"] >= 20 and kept.meta["train_config"]["preset"] == "LSTM 16"
    state = restored(tmp_path)
    assert state["problems"] == [] and state["train_kept"]
    assert "Restored the weights of your last run" in state["train_message"]


# -- in process -----------------------------------------------------------------------------
@pytest.fixture
def win(qtbot, tmp_path, model):
    w = MainWindow(QtCore.QSettings(str(tmp_path / "explorer.ini"), QtCore.QSettings.Format.IniFormat),
                   digit_model=model)
    qtbot.addWidget(w)
    with qtbot.waitExposed(w):
        w.show()
    return w


def test_autosave_writes_drawing_text_and_cursor_without_closing(qtbot, win, ui, tmp_path):
    ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    editor = win.sequence_lab.editor
    editor.setPlainText("")
    qtbot.keyClicks(editor, "for i in range(3): pass")
    cur = editor.textCursor()
    cur.setPosition(5)
    editor.setTextCursor(cur)
    text_file, drawing_file = tmp_path / "sequence_text.txt", tmp_path / "digit_drawing.npz"
    qtbot.waitUntil(lambda: text_file.is_file() and text_file.read_text() == "for i in range(3): pass",
                    timeout=5000)
    qtbot.waitUntil(lambda: drawing_file.is_file() and len(load_drawing(drawing_file).strokes) == 1,
                    timeout=5000)
    qtbot.waitUntil(lambda: (tmp_path / "sequence_cursor.json").is_file()
                    and json.loads((tmp_path / "sequence_cursor.json").read_text())["position"] == 5, timeout=5000)
    np.testing.assert_allclose(load_drawing(drawing_file).strokes[0].points,
                               win.digit_lab.session.strokes[0].points)
    assert not list(tmp_path.glob(".*.tmp"))                 # atomic writes left no temporaries


def test_an_autosave_that_cannot_write_says_so(qtbot, win, ui, tmp_path, monkeypatch):
    monkeypatch.setattr(win, "drawing_path", lambda: tmp_path / "no" / "such" / "folder" / "x.npz")
    (tmp_path / "no").write_text("a file where a folder should be")
    with qtbot.waitSignal(win.autosave.failed, timeout=5000) as failed:
        ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    assert failed.args[0] == "drawing"
    assert "could not autosave the drawing" in win.statusBar().currentMessage()


def error_boxes(win) -> list[QtWidgets.QMessageBox]:
    return [b for b in win.findChildren(QtWidgets.QMessageBox, "errorBox") if b.isVisible()]


def menu_action(win, text: str):
    for a in win.menuBar().actions()[0].menu().actions():
        if a.text().replace("&", "").startswith(text):
            return a
    raise AssertionError(text)


@pytest.mark.parametrize("item", ["Save drawing as PNG", "Save model as", "Export window as PNG",
                                  "Export activations"])
def test_save_and_export_into_an_unwritable_place_report_the_error(qtbot, win, ui, tmp_path, monkeypatch, item):
    ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file")
    target = blocker / "out.file"                            # its parent is a file: cannot be written
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    strokes = win.digit_lab.session.strokes
    menu_action(win, item).trigger()
    boxes = error_boxes(win)
    assert len(boxes) == 1 and "failed" in boxes[0].windowTitle()
    assert str(blocker) in boxes[0].text() or "not_a_folder" in boxes[0].text()
    assert "failed" in win.statusBar().currentMessage()
    assert not target.exists() and blocker.read_text() == "a file"
    assert win.digit_lab.session.strokes == strokes          # nothing else changed
    boxes[0].close()


def test_export_panel_and_train_save_report_errors(qtbot, win, ui, tmp_path, monkeypatch):
    blocker = tmp_path / "f"
    blocker.write_text("x")
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(blocker / "p.png"), ""))
    title, widget = next(iter(win.digit_lab.panels().items()))
    win.ask_export_png(widget, title)
    assert len(error_boxes(win)) == 1
    error_boxes(win)[0].close()
    win.train_lab._save_dialog()                             # nothing trained yet: says so
    assert "start training first" in win.train_lab.last_error
