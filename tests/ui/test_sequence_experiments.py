"""Sequence Lab experiments: the Write pane writes (panels follow) and fixed points are drawn."""

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from explorer.analysis.generate import generate
from explorer.data.vocab import Vocab
from explorer.engine import RNN, Embedding, Linear, Model
from explorer.session.sequence import SequenceSession
from explorer.training.text_models import build_sequence_model


@pytest.fixture
def lab(sequence_lab):
    yield sequence_lab
    sequence_lab.close()
    assert not sequence_lab.experiments.write_panel.running


def text_model(seed=0):
    vocab = Vocab("abcd ()\n", unknown=True)
    m = build_sequence_model(vocab.size, vocab.size, "lstm", 8, 4, np.random.default_rng(seed),
                             {"task": "text", "vocab": vocab.to_meta()})
    for p in m.parameters().values():
        p *= 3.0
    return m


def bistable_toy():
    """One tanh unit, h' = tanh(2 h + x): input "0" has stable points at +-0.9575 and a saddle at 0."""
    emb = Embedding(2, 1)
    emb.params["weight"][...] = [[0.0], [3.0]]
    rnn = RNN(1, 1)
    rnn.params["weight_ih_l0"][...] = 1.0
    rnn.params["weight_hh_l0"][...] = 2.0
    rnn.params["bias_ih_l0"][...] = rnn.params["bias_hh_l0"][...] = 0.0
    return Model([emb, rnn, Linear(1, 2)], {"toy_task": "parity", "alphabet": "01",
                                            "classes": ["even", "odd"]})


def test_write_greedy_follows_into_editor(lab, qtbot):
    model = text_model()
    lab.use_session(SequenceSession(model, name="tiny"))
    lab.editor.setPlainText("ab(")
    cur = lab.editor.textCursor()
    cur.movePosition(QtGui.QTextCursor.MoveOperation.End)
    lab.editor.setTextCursor(cur)
    wp = lab.experiments.write_panel
    assert wp.isVisible() and wp.isEnabled()
    wp.temp_slider.setValue(0)
    qtbot.mouseClick(wp.button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(wp.text()) >= 30, timeout=5000)
    wp.stop()
    written = wp.text()
    assert written == generate(model, "ab(", len(written), temperature=0.0)
    assert lab.editor.toPlainText() == "ab(" + written          # the panels read this text
    qtbot.waitUntil(lambda: lab.hidden_states().shape[0] == 3 + len(written), timeout=3000)


def test_clamped_run_is_written_beside(lab, qtbot):
    model = text_model(1)
    lab.use_session(SequenceSession(model, name="tiny"))
    lab.editor.setPlainText("a")
    wp = lab.experiments.write_panel
    wp.follow.setChecked(False)
    wp.temp_slider.setValue(0)
    wp.clamp_unit.setValue(2)
    wp.clamp_value.setValue(-0.9)
    assert wp.clamped_out.isVisible() and "unit 2" in wp.clamped_title.text()
    wp.start("a")
    qtbot.waitUntil(lambda: len(wp.text(True)) >= 20, timeout=5000)
    wp.stop()
    n = len(wp.text(True))
    assert wp.text(True) == generate(model, "a", n, 0.0, clamp=(2, -0.9))
    assert lab.editor.toPlainText() == "a"                       # not following: editor untouched


def test_fixed_points_drawn_for_a_toy_model(lab, qtbot):
    lab.use_session(SequenceSession(bistable_toy(), name="toy"))
    ov = lab.experiments.fixed_points
    qtbot.waitUntil(lambda: len(ov.points) >= 3, timeout=10000)
    assert not lab.experiments.write_panel.isVisible()          # toy classifiers do not write
    n_stable = len(ov.stable_xy)
    assert n_stable == sum(p.stable for p in ov.points) >= 2
    assert len(ov.saddle_xy) == sum(not p.stable for p in ov.points) >= 1
    assert "stable" in ov.legend_text
    plot = lab.trajectory.plot                                   # the markers are drawn where they map to
    img = plot.grab().toImage()
    x, y = ov.stable_xy[0]
    if plot.data_rect().contains(float(plot.px_x(x)), float(plot.px_y(y))):
        c = img.pixelColor(round(float(plot.px_x(x))), round(float(plot.px_y(y))))
        assert c.name() != "#ffffff"
