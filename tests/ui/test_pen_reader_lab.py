"""The Digit Lab's pen RNN, driven by real mouse events on digitCanvas (pytest-qt, offscreen)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.data.pen import pen_features
from explorer.engine import softmax
from explorer.session.pen_reader import random_pen_model, read_at_once

BAR = [(140.0, 40.0 + t) for t in np.linspace(0, 200, 30)]


@pytest.fixture
def pen_model():
    return random_pen_model("LSTM", hidden=16, seed=4)


@pytest.fixture
def lab(qtbot, model, pen_model, ui):
    from explorer.ui.digit.lab import DigitLab
    lab = ui.shown(qtbot, DigitLab(model, pen_model=pen_model), 1280, 720)
    lab.message_boxes = []
    lab._message_box = lambda title, text: lab.message_boxes.append((title, text))
    return lab


def _strokes(lab) -> list[np.ndarray]:
    return [s.points for s in lab.session.strokes]


def test_pen_probabilities_equal_the_pen_model_on_the_drawn_strokes(qtbot, lab, pen_model, ui):
    assert lab.pen_probabilities() is None                       # nothing drawn: no pen step
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    ui.draw(qtbot, lab.canvas, BAR)
    got = lab.pen_probabilities()
    assert got is not None and got.shape == (10,) and got.dtype == np.float32
    strokes = _strokes(lab)
    assert len(strokes) == 2
    # what `classify strokes.json --model <pen model>` computes: pen_features, then Model.forward
    rows = pen_features(strokes, lab.pen.reader.spec)
    want = softmax(pen_model.forward(rows[None])[0, -1])
    np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
    # the live reading, step by step, equals reading the finished strokes at once
    frame = lab.current_pen_view()
    np.testing.assert_allclose(frame.pen, read_at_once(pen_model, strokes), atol=1e-6, rtol=0)
    assert lab.pen.reader.rereads == 0
    # a negative control: another order of the same strokes reads differently
    assert not np.allclose(got, read_at_once(pen_model, strokes[::-1])[-1], atol=1e-6)


def test_undo_and_clear_follow_and_an_opened_image_has_no_pen(qtbot, lab, pen_model, ui, tmp_path):
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    ui.draw(qtbot, lab.canvas, BAR)
    lab.undo()
    np.testing.assert_allclose(lab.pen_probabilities(), read_at_once(pen_model, _strokes(lab))[-1], atol=1e-6)
    lab.clear()
    assert lab.pen_probabilities() is None
    from PySide6 import QtGui
    img = QtGui.QImage(280, 280, QtGui.QImage.Format.Format_Grayscale8)
    img.fill(255)
    QtGui.QPainter(img).fillRect(120, 40, 30, 200, QtGui.QColor(0, 0, 0))
    path = tmp_path / "one.png"
    img.save(str(path))
    assert lab.open_image(path)
    assert lab.probabilities() is not None and lab.pen_probabilities() is None
    lab.middle_tabs.setCurrentIndex(1)
    assert "no pen" in lab.pen_time.readout.text()


def test_the_pen_page_follows_every_pen_movement(qtbot, lab, ui):
    lab.middle_tabs.setCurrentIndex(1)
    ui.draw(qtbot, lab.canvas, ui.seven_points()[:25])
    lab.scheduler.flush()
    t = lab.pen.reader.steps
    assert t > 5
    curves = lab.pen_time.plots["pen"]
    assert len(curves.steps) == t and curves.steps[0] == 1 and np.allclose(curves.probs, lab.pen.reader.reading().probs)
    assert len(lab.pen_trajectory.xy) == t
    assert lab.pen_gates.pixels.shape[1] == t and lab.pen_gates.plot.image_span() == (0, t)
    # the CNN's curve: its reading of the drawing as it was at each step (the last: as it is now)
    frame = lab.current_pen_view()
    assert not np.isnan(frame.cnn).any()
    np.testing.assert_array_equal(frame.cnn[-1], lab.probabilities())
    s, p = lab.pen.reader.cuts[3]
    part = _strokes(lab)[: s - 1] + [_strokes(lab)[s - 1][:p]]
    np.testing.assert_array_equal(frame.cnn[3], lab.session.classify_strokes(part))
    # "the digit is" changes what right means
    lab.set_pen_target(int(np.argmax(frame.cnn[-1])))
    assert lab.pen_time.target.currentData() == int(np.argmax(frame.cnn[-1]))
    assert (lab.pen_time.plots["cnn"].knew_at is not None) == (lab.current_pen_view().knew_cnn is not None)


def test_pen_model_picker_and_a_wrong_model(qtbot, lab, ui, model):
    ui.draw(qtbot, lab.canvas, BAR)
    before = lab.pen_probabilities()
    assert not lab.set_pen_model(model)                       # a CNN cannot read the pen
    assert lab.message_boxes and "pen" in lab.message_boxes[-1][1]
    np.testing.assert_array_equal(lab.pen_probabilities(), before)
    gru = random_pen_model("GRU", hidden=8, seed=1)
    assert lab.set_pen_model(gru, "my GRU", "/nowhere/my_gru.npz")
    assert lab.pen_combo.currentText() == "my GRU" and lab.pen_source == "/nowhere/my_gru.npz"
    np.testing.assert_allclose(lab.pen_probabilities(), read_at_once(gru, _strokes(lab))[-1], atol=1e-6)
    lab.middle_tabs.setCurrentIndex(1)
    assert lab.pen_gates.bands == ("r", "z")


def test_classify_on_a_stroke_file_equals_pen_probabilities_after_drawing_it(qtbot, lab, pen_model, tmp_path, capsys):
    """The DESIGN contract: `classify strokes.json --model <pen model> --json` == pen_probabilities()
    after drawing the same strokes on the canvas (a digit by a writer the models never saw)."""
    import json

    from PySide6 import QtCore

    from explorer.cli import main
    from explorer.data.styles import Writer
    from explorer.engine import save_model
    lab.canvas.setFixedSize(282, 282)                  # a 280-pixel drawing square: mouse pixels are reference units
    qtbot.waitUntil(lambda: lab.canvas.square().width() == 280)
    model_file = tmp_path / "pen.npz"
    save_model(pen_model, model_file)
    left = QtCore.Qt.MouseButton.LeftButton
    for digit in (4, 7):
        lab.clear()
        strokes = [np.clip(np.round(s), 2, 277) for s in Writer(977).sample_strokes(digit, np.random.default_rng(digit))]
        for s in strokes:
            qtbot.mousePress(lab.canvas, left, pos=lab.canvas.from_ref(*s[0]))
            for x, y in s[1:]:
                qtbot.mouseMove(lab.canvas, lab.canvas.from_ref(x, y))
            qtbot.mouseRelease(lab.canvas, left, pos=lab.canvas.from_ref(*s[-1]))
        drawn = _strokes(lab)
        assert len(drawn) == len(strokes)
        for a, b in zip(drawn, strokes):                          # the canvas kept exactly those points
            np.testing.assert_array_equal(a, b.astype(np.float32))
        path = tmp_path / f"d{digit}.json"
        path.write_text(json.dumps({"canvas": 280, "strokes": [s.tolist() for s in strokes]}))
        capsys.readouterr()
        assert main(["classify", str(path), "--model", str(model_file), "--json"]) == 0
        cli = np.array(json.loads(capsys.readouterr().out)[0]["probabilities"])
        np.testing.assert_allclose(lab.pen_probabilities(), cli, atol=1e-6, rtol=0)


def test_stroke_order_experiment_through_the_lab(qtbot, lab, ui, pen_model):
    ui.draw(qtbot, lab.canvas, ui.seven_points()[:25])
    ui.draw(qtbot, lab.canvas, ui.seven_points()[24:])
    order = lab.experiments.order
    order.order_button.click()
    labels = [order.table.item(r, 0).text() for r in range(order.table.rowCount())]
    assert labels == ["as drawn", "reversed", "order 2 1", "without stroke 1", "without stroke 2"]
    base, rev = order.readings[0], order.readings[1]
    np.testing.assert_array_equal(rev.cnn, base.cnn)                       # the picture: bit for bit
    np.testing.assert_allclose(base.pen, lab.pen_probabilities(), atol=1e-6)
    assert "bit for bit" in order.readout.text()
    # double-click "reversed": that version becomes the drawing (undoable); the pen RNN reads it
    order.table.cellDoubleClicked.emit(1, 0)
    np.testing.assert_allclose(lab.pen_probabilities(), read_at_once(pen_model, list(rev.strokes))[-1], atol=1e-6)
    np.testing.assert_array_equal(lab.probabilities(), lab.session.classify_strokes(list(rev.strokes)))
    lab.undo()
    np.testing.assert_allclose(lab.pen_probabilities(), base.pen, atol=1e-6)
    order.transform.setCurrentIndex(order.transform.findData("thicker"))
    order.sweep_button.click()
    name, values, p_cnn, p_pen = order.sweep
    assert name == "thicker" and np.ptp(p_pen, axis=0).max() == 0 and np.ptp(p_cnn, axis=0).max() > 0
