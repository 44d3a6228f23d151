"""The lab's frame request reads its controls once per change of one of them (a key changes
none): after every kind of change, the kept part equals the controls read afresh."""

import pytest
from PySide6 import QtCore, QtTest, QtWidgets

from explorer.session.sequence import SequenceSession, random_model
from explorer.session.sequence_transformer import TransformerSession, random_transformer
from explorer.session.sequence_view import FrameRequest
from explorer.ui.sequence.unit_finder import REGEX


def _fresh(lab) -> FrameRequest:
    return FrameRequest(visible=lab.colourer.visible_range(), **lab.controls_request())


def _actions(lab, qtbot):
    """(what, action): changes a user (or the lab itself) makes to what a frame asks for."""
    def fold(size):
        lab.resize(size)
        QtWidgets.QApplication.processEvents()

    def tab(i):
        lab.fold.tabs.setCurrentIndex(i)
        QtWidgets.QApplication.processEvents()

    def regex():
        lab.finder_combo.setCurrentIndex(lab.finder_combo.findText(REGEX))
        QtTest.QTest.keyClicks(lab.regex_edit, "[0-9]+")

    return [
        ("a unit", lambda: lab.select_unit(3)),
        ("the cell state", lambda: lab.select_unit(2, "c")),
        ("the spin box", lambda: lab.unit_spin.setValue(5)),
        ("colour mode", lambda: lab.colour_combo.setCurrentIndex(2)),
        ("row order", lambda: lab.rows_combo.setCurrentIndex(1)),
        ("finder signal", lambda: lab.finder_combo.setCurrentIndex(1)),
        ("a regular expression", regex),
        ("a clamp", lambda: lab.experiments.write_panel.clamp_unit.setValue(4)),
        ("the clamp's value", lambda: lab.experiments.write_panel.clamp_value.setValue(0.5)),
        ("a narrower window", lambda: fold(QtCore.QSize(1000, 800))),
        ("folded into tabs", lambda: fold(QtCore.QSize(1000, 600))),
        ("another tab", lambda: tab(1)),
        ("the first tab", lambda: tab(0)),
        ("unfolded", lambda: fold(QtCore.QSize(1400, 950))),
        ("no unit", lambda: lab.select_unit(None)),
        ("a GRU", lambda: lab.use_session(SequenceSession(random_model("GRU", hidden=9, seed=2), name="g"))),
        ("a unit of it", lambda: lab.select_unit(8)),
        ("a transformer", lambda: lab.use_session(TransformerSession(
            random_transformer(d_model=16, nhead=2, layers=2, context=32, seed=1), name="t"))),
        ("a head", lambda: lab.attention.choose_head((1, 1))),
        ("a layer", lambda: lab.attention.choose_layer(0)),
        ("no head", lambda: lab.attention.choose_head(None)),
        ("an LSTM again", lambda: lab.use_session(SequenceSession(random_model("LSTM", hidden=7, seed=3),
                                                                  name="l"))),
        ("the same model's new weights", lambda: lab.session.set_model(random_model("LSTM", hidden=6, seed=4),
                                                                        name="l2")),
    ]


def test_the_kept_controls_equal_the_controls_read_afresh(sequence_lab, qtbot):
    lab = sequence_lab
    lab.use_session(SequenceSession(random_model("LSTM", hidden=8, seed=1), name="l"))
    lab.editor.setPlainText("x = [1, 2]  # 'quoted'\n" * 5)
    lab.render()
    seen = set()
    for what, act in _actions(lab, qtbot):
        act()
        QtWidgets.QApplication.processEvents()
        lab.render()
        assert lab.frame_request() == _fresh(lab), what
        assert lab.view.request == lab.frame_request(), what    # the frame drawn asked for it too
        seen.add(lab.frame_request())
    assert len(seen) > 15                                   # the actions did change the request
    request = lab.frame_request()
    QtTest.QTest.keyClicks(lab.editor, "abc")               # keys: the controls are not read again
    assert lab._controls is not None and lab.frame_request().strip_cells == request.strip_cells


def test_a_missed_change_would_be_seen(sequence_lab, qtbot, monkeypatch):
    """Negative control: without the invalidation the kept request goes stale, and the
    comparison above catches it."""
    lab = sequence_lab
    lab.use_session(SequenceSession(random_model("LSTM", hidden=8, seed=1), name="l"))
    lab.editor.setPlainText("abc\n" * 5)
    lab.frame_request()
    monkeypatch.setattr(lab, "_controls_changed", lambda *a: None)
    before = lab.frame_request()
    lab.select_unit(4)
    assert lab.frame_request() == before
    with pytest.raises(AssertionError):
        assert lab.frame_request() == _fresh(lab)
