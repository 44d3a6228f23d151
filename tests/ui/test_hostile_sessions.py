"""Hostile session files opened through ``window.open_session``: no exception escapes, a refused
file leaves the window exactly as it was, an accepted one leaves a window that renders, and a
good session opens afterwards. The files are generated (tests/hostile/hostile_inputs.py)."""

import math

import numpy as np
import pytest
from PySide6 import QtWidgets

from explorer.session.sequence import SequenceSession, random_model
from explorer.ui.main_window import MainWindow
from tests.hostile import hostile_inputs as hi

ALWAYS_REFUSED = ("nan", "inf", "-inf", "1e999", "huge", "huge_int", "list", "object")


@pytest.fixture
def window(qtbot, tmp_path, ui):
    win = MainWindow(ui.settings_at(str(tmp_path / "cfg" / "a.ini")), digit_model=ui.tiny_cnn(0))
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    win.confirm_replace = lambda question: pytest.fail(f"open_session asked: {question}")
    ui.draw(qtbot, win.digit_lab.canvas, ui.seven_points())
    stage = next(s for s in win.digit_lab.session.stages if s.kind == "conv")
    win.digit_lab.inspect(stage, 1, 5, 7)
    seq = win.sequence_lab
    seq.use_session(SequenceSession(random_model("GRU", hidden=6, seed=3), name="tiny gru"), key=None, label="tiny gru")
    seq.editor.setPlainText("def f(x):\n    return [x]")
    seq.select_unit(2)
    return win


def fingerprint(win):
    """Everything a session touches, by value or by identity (DrawingState, models, sessions)."""
    dl, seq = win.digit_lab, win.sequence_lab
    probs = dl.probabilities()
    return {"drawing": id(dl.session.committed), "undo": dl.session.can_undo(), "model": id(dl.session.model),
            "pen": dl.canvas.pen_width, "scope": dl.scope, "selection": dl.session.options.selection,
            "saliency": dl.saliency_action.isChecked(), "winners": dl.winners_action.isChecked(),
            "seq_session": id(seq.session), "text": seq.editor.toPlainText(), "cursor": seq.cursor_index(),
            "unit": (seq.unit, seq.unit_state), "colour": seq.colour_combo.currentIndex(),
            "distance": win.compare_lab.duel.distance.value(), "steps": win.compare_lab.duel.steps.value(),
            "compare_tab": win.compare_lab.tabs.currentIndex(), "train": win.train_lab.config(),
            "tab": win.tabs.currentIndex(), "probs": None if probs is None else tuple(probs.tolist())}


def close_boxes(win):
    for box in win.findChildren(QtWidgets.QMessageBox):
        box.close()


def renders(win):
    """The window still computes and paints every lab after an accepted session."""
    dl = win.digit_lab
    dl.refresh_now()
    probs = dl.probabilities()
    assert probs is None or (np.isfinite(probs).all() and math.isclose(float(probs.sum()), 1.0, rel_tol=1e-4))
    assert math.isfinite(dl.canvas.pen_width) and 4 <= dl.canvas.pen_width <= 40
    seq = win.sequence_lab
    states = seq.hidden_states()
    assert np.isfinite(states).all()
    seq.render()
    for i in range(win.tabs.count()):
        win.tabs.setCurrentIndex(i)
        assert not win.grab().isNull()


def try_all(win, cases):
    refused = {}
    for name, path in cases:
        before = fingerprint(win)
        ok = win.open_session(path)              # no exception may escape
        if ok:
            renders(win)
        else:
            assert win.last_session_error and str(path) in win.last_session_error, name
            assert fingerprint(win) == before, f"{name} was refused but changed the window"
            refused[name] = win.last_session_error
        close_boxes(win)
    return refused


def test_every_field_with_every_bad_value(window, tmp_path):
    good = window.save_session(tmp_path / "good.cre")
    folder = tmp_path / "fields"
    folder.mkdir()
    cases = hi.write_field_sessions(good, folder)
    assert len(cases) >= 25 * len(hi.BAD_VALUES)
    refused = try_all(window, cases)
    for fpath in hi.session_fields():
        for label in ALWAYS_REFUSED:
            name = f"{'.'.join(fpath)}={label}"
            assert name in refused, f"{name} was accepted"
            assert fpath[-1] in refused[name], refused[name]        # the message names the field
    # the values of the bug report
    assert "not a finite number" in refused["digits.pen_width=nan"]
    assert "outside 1…60" in refused["compare.distance=huge_int"]
    assert "'digits.selection.channel'" in refused["digits.selection.channel=float_1e6"]
    assert window.open_session(good), window.last_session_error      # then a good session opens
    assert window.sequence_lab.editor.toPlainText() == "def f(x):\n    return [x]"
    renders(window)


def test_structure_nesting_truncation(window, tmp_path):
    good = window.save_session(tmp_path / "good.cre")
    folder = tmp_path / "structure"
    folder.mkdir()
    cases = hi.write_structure_sessions(good, folder) + hi.write_truncated_sessions(good, folder)
    refused = try_all(window, cases)
    accepted = {name for name, _ in cases} - set(refused)
    assert accepted == set(), accepted
    assert "nested more than 32 levels" in refused["deep_200000"]
    assert "nested more than 32 levels" in refused["deep_40"]
    assert "at most 4,000,000 are kept" in refused["text_too_long"]
    assert "not finite" in refused["nan_in_unknown_field"]
    assert "impossible pen width" in refused["drawing_nan_width"]
    assert "'digits.selection.channel' is 5, but conv1 has 2" in refused["channel_beyond_model"]
    assert "'sequence.unit' is 1000, but the sequence model has 6 units" in refused["unit_beyond_model"]
    assert "past the end of the text" in refused["cursor_past_end"]
    for name, message in refused.items():
        if name.startswith("truncated_at_") and name != "truncated_at_0":
            assert "is truncated" in message, (name, message)
    assert "is empty" in refused["truncated_at_0"]
    assert window.open_session(good), window.last_session_error
    renders(window)
