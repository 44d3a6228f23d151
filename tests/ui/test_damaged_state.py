"""Whatever is found on disk at start, the window opens, says what it could not restore,
and keeps the damaged file aside (``<name>.damaged-<time>``). Open model routes a model
to the lab that can use it, or says plainly why none can."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore

from explorer.session.digits import DigitSession
from explorer.session.drawing import SESSION_FORMAT, DamagedDrawing, load_drawing
from explorer.ui.main_window import MainWindow


def open_window(qtbot, ini, model):
    win = MainWindow(QtCore.QSettings(ini, QtCore.QSettings.Format.IniFormat), digit_model=model)
    qtbot.addWidget(win)
    return win


def npz(path: Path, **arrays) -> None:
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def meta(strokes) -> np.ndarray:
    return np.array(json.dumps({"format": SESSION_FORMAT, "version": 1, "strokes": strokes}))


def good_drawing(path: Path, model) -> None:
    s = DigitSession(model)
    s.set_strokes([])
    s.begin_stroke(80, 60)
    for x in range(90, 200, 10):
        s.extend_stroke(x, 60 + x / 2)
    s.end_stroke()
    s.save(path)


def truncated(p, model):
    good_drawing(p, model)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def zip_bomb(p, _model):
    """A small file declaring 80 MB once inflated (never inflated by the loader)."""
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("meta.npy", "w", force_zip64=True) as fh:
        block = bytes(2**20)
        for _ in range(80):
            fh.write(block)


DRAWINGS = {
    "truncated": truncated,
    "empty": lambda p, m: p.write_bytes(b""),
    "random bytes": lambda p, m: p.write_bytes(np.random.default_rng(0).bytes(3000)),
    "wrong keys": lambda p, m: npz(p, weights=np.zeros(3)),
    "missing strokes": lambda p, m: npz(p, meta=np.array(json.dumps({"format": SESSION_FORMAT}))),
    "NaN points": lambda p, m: npz(p, meta=meta([{"points": [[1.0, 2.0], [float("nan"), 3.0]], "width": 18}])),
    "inf points": lambda p, m: npz(p, meta=meta([{"points": [[1.0, float("inf")]], "width": 18}])),
    "absurd coordinates": lambda p, m: npz(p, meta=meta([{"points": [[1e30, 2.0]], "width": 18}])),
    "absurd pen": lambda p, m: npz(p, meta=meta([{"points": [[1.0, 2.0]], "width": -5}])),
    "ragged points": lambda p, m: npz(p, meta=meta([{"points": [[1.0, 2.0], [3.0]], "width": 18}])),
    "meta not JSON": lambda p, m: npz(p, meta=np.array("{not json")),
    "meta not text": lambda p, m: npz(p, meta=np.arange(4)),
    "background wrong shape": lambda p, m: npz(p, meta=meta([]), background=np.zeros((3, 3), np.uint8)),
    "absurd size": zip_bomb,
    "a folder": lambda p, m: (p.mkdir(), (p / "inside.txt").write_text("x")),
}


def aside(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f"{name}.damaged-*"))


@pytest.mark.parametrize("case", list(DRAWINGS))
def test_damaged_drawing_is_moved_aside_and_the_window_opens(qtbot, tmp_path, model, case):
    path = tmp_path / "digit_drawing.npz"
    DRAWINGS[case](path, model)
    before = path.read_bytes() if path.is_file() else None
    win = open_window(qtbot, str(tmp_path / "explorer.ini"), model)
    assert win.digit_lab.session.strokes == ()
    assert "Not restored: the drawing" in win.statusBar().currentMessage()
    kept = aside(tmp_path, "digit_drawing.npz")
    assert len(kept) == 1 and kept[0].name in win.statusBar().currentMessage()
    assert "digit_drawing.npz " in win.statusBar().toolTip()               # the reason, on hover
    assert not path.exists() or path.is_file()          # a folder in its place went aside too
    if before is not None:
        assert kept[0].read_bytes() == before            # nothing the user made is deleted
    win.close()
    assert load_drawing(path).strokes == ()              # the next start finds a good file


def test_load_refuses_damage_and_keeps_the_current_drawing(tmp_path, model):
    s = DigitSession(model)
    s.begin_stroke(10, 10)
    s.extend_stroke(50, 50)
    s.end_stroke()
    DRAWINGS["NaN points"](tmp_path / "bad.npz", model)
    with pytest.raises(DamagedDrawing, match="not finite"):
        s.load(tmp_path / "bad.npz")
    assert len(s.strokes) == 1


def test_a_good_drawing_comes_back_unchanged(qtbot, tmp_path, model):
    good_drawing(tmp_path / "digit_drawing.npz", model)
    want = load_drawing(tmp_path / "digit_drawing.npz")
    win = open_window(qtbot, str(tmp_path / "explorer.ini"), model)
    got = win.digit_lab.session.strokes
    assert len(got) == 1 and np.array_equal(got[0].points, want.strokes[0].points)
    assert win.restore_problems == [] and not aside(tmp_path, "digit_drawing.npz")


TEXTS = {
    "binary": lambda p: p.write_bytes(b"abc\x00\x01\x02def"),
    "invalid UTF-8": lambda p: p.write_bytes("caf\u00e9".encode("latin-1")),
    "a folder": lambda p: p.mkdir(),
    "huge": lambda p: open(p, "wb").truncate(33 * 2**20),
}


@pytest.mark.parametrize("case", list(TEXTS))
def test_damaged_text_is_moved_aside_and_the_window_opens(qtbot, tmp_path, model, case):
    TEXTS[case](tmp_path / "sequence_text.txt")
    win = open_window(qtbot, str(tmp_path / "explorer.ini"), model)
    assert "Not restored: the text (damaged, kept as sequence_text.txt.damaged-" in win.statusBar().currentMessage()
    assert "the text (sequence_text.txt " in win.statusBar().toolTip()     # the reason, on hover
    assert len(aside(tmp_path, "sequence_text.txt")) == 1
    assert win.sequence_lab.editor.toPlainText()          # the lab shows its preset instead
    win.close()
    assert (tmp_path / "sequence_text.txt").is_file()


def test_text_and_cursor_come_back(qtbot, tmp_path, model):
    (tmp_path / "sequence_text.txt").write_text("héllo wörld\nsecond line", encoding="utf-8")
    (tmp_path / "sequence_cursor.json").write_text('{"position": 4, "anchor": 2}')
    win = open_window(qtbot, str(tmp_path / "explorer.ini"), model)
    assert win.sequence_lab.editor.toPlainText() == "héllo wörld\nsecond line"
    cursor = win.sequence_lab.editor.textCursor()
    assert (cursor.anchor(), cursor.position()) == (2, 4)
    assert win.restore_problems == []


def test_selected_unit_comes_back_and_an_absurd_one_is_ignored(qtbot, tmp_path, model):
    ini = str(tmp_path / "explorer.ini")
    win = open_window(qtbot, ini, model)
    win.sequence_lab.select_unit(3)
    win.close()
    again = open_window(qtbot, ini, model)
    assert again.sequence_lab.unit == 3
    again.close()
    s = QtCore.QSettings(ini, QtCore.QSettings.Format.IniFormat)
    s.setValue("sequence/unit", 10**5)                      # the right type, no such unit
    s.sync()
    third = open_window(qtbot, ini, model)
    assert third.sequence_lab.unit is None and third.restore_problems == []


@pytest.mark.parametrize("record", ['{"position": -3}', '{"position": "x"}', "[1, 2]", "\xff\xfe", "{"])
def test_damaged_cursor_is_moved_aside_and_the_text_still_comes_back(qtbot, tmp_path, model, record):
    (tmp_path / "sequence_text.txt").write_text("abc", encoding="utf-8")
    (tmp_path / "sequence_cursor.json").write_bytes(record.encode("latin-1"))
    win = open_window(qtbot, str(tmp_path / "explorer.ini"), model)
    assert win.sequence_lab.editor.toPlainText() == "abc"
    assert win.sequence_lab.editor.textCursor().position() == 3     # the end, as without a record
    assert "the cursor position" in win.statusBar().currentMessage()
    assert len(aside(tmp_path, "sequence_cursor.json")) == 1


def test_a_cursor_past_the_end_is_clamped(qtbot, tmp_path, model):
    (tmp_path / "sequence_text.txt").write_text("abc", encoding="utf-8")
    (tmp_path / "sequence_cursor.json").write_text('{"position": 999, "anchor": 999}')
    win = open_window(qtbot, str(tmp_path / "explorer.ini"), model)
    assert win.sequence_lab.editor.textCursor().position() == 3 and win.restore_problems == []


def test_settings_of_the_wrong_type_are_dropped(qtbot, tmp_path, model):
    ini = tmp_path / "explorer.ini"
    ini.write_text("[digits]\npen_width=abc\nsplitter=hello\nscope=nowhere\n[compare]\ntab=zz\n"
                   "[ui]\ntab=1.5\n[sequence]\nsplitter_main=12\n[train]\nconfig={broken\n"
                   "kind=toy\n[settings]\nversion=1\n")
    win = open_window(qtbot, str(ini), model)
    message = win.statusBar().currentMessage()
    for key in ("digits/pen_width", "digits/splitter", "digits/scope", "compare/tab", "ui/tab",
                "sequence/splitter_main", "train/config"):
        assert key in message
    assert "train/kind" not in message                      # a good value stays
    assert win.digit_lab.scope in ("map", "layer", "network")
    win.close()
    again = QtCore.QSettings(str(ini), QtCore.QSettings.Format.IniFormat)
    assert float(again.value("digits/pen_width")) > 0     # rewritten with a sane value


@pytest.mark.parametrize("case", ["random bytes", "a folder"])
def test_damaged_settings_file_is_moved_aside(qtbot, tmp_path, model, case):
    ini = tmp_path / "explorer.ini"
    if case == "a folder":
        ini.mkdir()
    else:
        ini.write_bytes(np.random.default_rng(1).bytes(4000))
    win = open_window(qtbot, str(ini), model)
    assert "the settings" in win.statusBar().currentMessage()
    assert len(aside(tmp_path, "explorer.ini")) == 1
    win.close()
    assert ini.is_file() and "[settings]" in ini.read_text()


def test_damaged_training_checkpoint_is_moved_aside(qtbot, tmp_path, model):
    (tmp_path / "train_checkpoint.npz").write_bytes(b"PK\x03\x04 truncated")
    win = open_window(qtbot, str(tmp_path / "explorer.ini"), model)
    assert "the last training run" in win.statusBar().currentMessage()
    assert len(aside(tmp_path, "train_checkpoint.npz")) == 1
    assert win.train_lab.current_model() is None


# -- Open model: the lab that can use it -------------------------------------------------------
def shipped(name: str) -> Path:
    from explorer.paths import model_path
    path = Path(model_path(name))
    if not path.is_file():
        pytest.skip(f"{name} not shipped in this checkout")
    return path


def test_open_model_routes_each_kind_to_its_lab(qtbot, tmp_path, model):
    win = open_window(qtbot, str(tmp_path / "explorer.ini"), model)
    win.digit_lab._message_box = lambda *a: None
    assert win.open_model(shipped("digits_rowrnn.npz"))
    assert win.tabs.currentWidget() is win.compare_lab
    assert win.compare_lab.tabs.currentWidget() is win.compare_lab.digits
    assert win.compare_lab.digits.pair.rnn.layers[0].type_name == "LSTM"

    assert win.open_model(shipped("task_parity.npz"))
    assert win.tabs.currentWidget() is win.sequence_lab
    assert win.sequence_lab.session.task == "parity"
    assert win.sequence_lab.model_combo.currentText().endswith("task_parity.npz")

    assert win.open_model(shipped("digits_cnn.npz"))
    assert win.tabs.currentWidget() is win.digit_lab
    assert win.digit_lab.session.model.layers[0].type_name == "Conv2d"


def test_open_model_says_why_no_lab_can_use_it(qtbot, tmp_path, model):
    from explorer.engine import Linear, Model, ReLU, save_model
    win = open_window(qtbot, str(tmp_path / "explorer.ini"), model)
    win.digit_lab._message_box = lambda *a: None
    save_model(Model([Linear(7, 5), ReLU(), Linear(5, 3)]), tmp_path / "other.npz")
    assert not win.open_model(tmp_path / "other.npz")
    assert "not a digit model" in win.digit_lab.last_error and "Sequence Lab" in win.digit_lab.last_error
    assert "Embedding expects" not in win.digit_lab.last_error
    assert win.digit_lab.session.model is model                         # nothing else changed


def test_open_model_on_hostile_files_says_why_and_changes_nothing(qtbot, tmp_path, model):
    win = open_window(qtbot, str(tmp_path / "explorer.ini"), model)
    win.digit_lab._message_box = lambda *a: None
    nested = tmp_path / "nested.npz"
    npz(nested, arch=np.array("[" * 100_000 + "]" * 100_000))
    (tmp_path / "folder.npz").mkdir()
    (tmp_path / "random.npz").write_bytes(np.random.default_rng(2).bytes(2000))
    for name in ("nested.npz", "folder.npz", "random.npz", "missing.npz"):
        win.digit_lab.last_error = ""
        assert not win.open_model(tmp_path / name)
        assert name in win.digit_lab.last_error, win.digit_lab.last_error
        assert win.digit_lab.session.model is model and win.tabs.currentIndex() == 0
