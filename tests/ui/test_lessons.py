"""Lessons: save the whole view to a .cre file, open it in a fresh window, refuse bad files."""

import numpy as np
from PySide6 import QtCore

from explorer.session.sequence import SequenceSession, random_model
from explorer.ui.main_window import MainWindow


def open_window(qtbot, ini, model):
    from tests.ui.conftest import settings_at
    win = MainWindow(settings_at(ini), digit_model=model)
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    return win


def prepared_window(qtbot, tmp_path, ui):
    win = open_window(qtbot, str(tmp_path / "a.ini"), ui.tiny_cnn(0))
    ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    lab = win.digit_lab
    stage = next(s for s in lab.session.stages if s.kind == "conv")
    lab.inspect(stage, 1, 5, 7)
    lab.set_scope("map")
    seq = win.sequence_lab            # a model the fresh window does not have: must be embedded
    seq.use_session(SequenceSession(random_model("GRU", hidden=12, seed=3), name="my gru"), key=None, label="my gru")
    seq.editor.clear()
    qtbot.keyClicks(seq.editor, "def f(x):")
    qtbot.keyClick(seq.editor, QtCore.Qt.Key.Key_Return)
    qtbot.keyClicks(seq.editor, "    return [x]")
    seq.move_cursor(9)
    seq.select_unit(4)
    win.compare_lab.duel.distance.setValue(33)
    win.train_lab.epochs.setValue(7)
    win.compare_lab.tabs.setCurrentIndex(2)
    win.tabs.setCurrentIndex(1)
    return win


def test_a_saved_lesson_opens_identically_in_a_fresh_window(qtbot, tmp_path, ui):
    win = prepared_window(qtbot, tmp_path, ui)
    probs, states = win.digit_lab.probabilities(), win.sequence_lab.hidden_states()
    assert probs is not None and states.shape == (len("def f(x):\n    return [x]"), 12)
    path = win.save_session(tmp_path / "lesson")
    assert path.name == "lesson.cre" and path.is_file()

    fresh = open_window(qtbot, str(tmp_path / "b.ini"), ui.tiny_cnn(7))   # other digit weights
    assert fresh.sequence_lab.session.cell != "GRU" or fresh.sequence_lab.session.hidden_size != 12
    assert fresh.open_session(path), fresh.last_session_error
    np.testing.assert_array_equal(fresh.digit_lab.probabilities(), probs)
    np.testing.assert_array_equal(fresh.sequence_lab.hidden_states(), states)
    assert fresh.tabs.currentIndex() == 1
    seq = fresh.sequence_lab
    assert seq.unit == 4 and seq.unit_spin.value() == 4 and seq.cursor_index() == 9
    assert seq.session.cell == "GRU" and seq.editor.toPlainText() == win.sequence_lab.editor.toPlainText()
    lab = fresh.digit_lab
    assert lab.scope == "map"
    stage, ch, row, col = lab.selection
    assert (stage.kind, ch, row, col) == ("conv", 1, 5, 7)
    assert fresh.compare_lab.duel.distance.value() == 33 and fresh.compare_lab.tabs.currentIndex() == 2
    assert fresh.train_lab.config() == win.train_lab.config() and fresh.train_lab.epochs.value() == 7
    recent = fresh.settings.value("lessons/recent")
    assert str(path.resolve()) in ([recent] if isinstance(recent, str) else recent)


def test_bad_files_are_refused_and_change_nothing(qtbot, tmp_path, ui):
    win = prepared_window(qtbot, tmp_path, ui)
    good = win.save_session(tmp_path / "good.cre")
    probs, states = win.digit_lab.probabilities(), win.sequence_lab.hidden_states()
    text, tab = win.sequence_lab.editor.toPlainText(), win.tabs.currentIndex()
    raw = good.read_bytes()
    cases = {"truncated.cre": (raw[: len(raw) // 3], "truncated"),
             "foreign.cre": (b"GIF89a" + bytes(64), "not a CNN & RNN Explorer session"),
             "other.cre": (None, "no session.json")}
    import zipfile
    with zipfile.ZipFile(tmp_path / "other.cre", "w") as zf:
        zf.writestr("readme.txt", "hello")
    for name, (data, message) in cases.items():
        if data is not None:
            (tmp_path / name).write_bytes(data)
        assert not win.open_session(tmp_path / name)
        assert message in win.last_session_error and name in win.last_session_error
        assert message in win.statusBar().currentMessage()
        np.testing.assert_array_equal(win.digit_lab.probabilities(), probs)
        np.testing.assert_array_equal(win.sequence_lab.hidden_states(), states)
        assert win.sequence_lab.editor.toPlainText() == text and win.tabs.currentIndex() == tab


def test_file_menu_has_session_items(qtbot, tmp_path, ui):
    win = open_window(qtbot, str(tmp_path / "a.ini"), ui.tiny_cnn(0))
    file_menu = win.menuBar().actions()[0].menu()
    texts = [a.text().replace("&", "") for a in file_menu.actions()]
    assert "Save session…" in texts and "Open session…" in texts and "Recent sessions" in texts
    win.recent_menu.aboutToShow.emit()
    assert [a.text() for a in win.recent_menu.actions()] == ["(none yet)"]
    win.save_session(tmp_path / "x.cre")
    win.recent_menu.aboutToShow.emit()
    assert [a.text() for a in win.recent_menu.actions()] == ["x.cre"]


def test_open_model_accepts_onnx(qtbot, tmp_path, ui):
    torch = __import__("pytest").importorskip("torch")
    __import__("pytest").importorskip("onnx")
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Flatten(), torch.nn.Linear(3 * 14 * 14, 10)).eval()
    path = tmp_path / "net.onnx"
    torch.onnx.export(net, (torch.zeros(1, 1, 28, 28),), str(path), dynamo=False)
    win = open_window(qtbot, str(tmp_path / "a.ini"), ui.tiny_cnn(0))
    ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    assert win.open_model(path)
    x = win.current_digit_input()
    want = torch.softmax(net(torch.from_numpy(x[None])), 1).detach().numpy()[0]
    np.testing.assert_allclose(win.digit_lab.probabilities(), want, atol=1e-5)
    shown = []
    win.digit_lab._message_box = lambda title, text: shown.append(text)
    leaky = tmp_path / "leaky.onnx"
    torch.onnx.export(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.LeakyReLU()),
                      (torch.zeros(1, 1, 28, 28),), str(leaky), dynamo=False)
    assert not win.open_model(leaky) and "LeakyRelu" in shown[0]
