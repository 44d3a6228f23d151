"""Digit Lab driven by real mouse events on digitCanvas (pytest-qt, offscreen)."""

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from explorer.session.digits import DigitSession
from explorer.ui.digit.inspector import num

LEFT = QtCore.Qt.MouseButton.LeftButton
BAR = [(140.0, 40.0 + t) for t in np.linspace(0, 200, 20)]


@pytest.fixture
def draw(ui):
    return ui.draw


def seven_points():
    return [(80 + t, 60) for t in np.linspace(0, 120, 25)] + \
        [(200 - 0.55 * t, 60 + t) for t in np.linspace(0, 170, 35)]


@pytest.fixture
def lab(digit_lab):
    lab = digit_lab
    lab.message_boxes = []
    lab._message_box = lambda title, text: lab.message_boxes.append((title, text))
    return lab


def test_empty_canvas_says_draw_a_digit(lab):
    assert lab.probabilities() is None
    assert "draw a digit" in lab.prob_panel.first.text()


def test_stroke_inks_canvas_and_matches_session_classify(qtbot, lab, model, draw, ui):
    before = ui.grab_rgb(lab.canvas)
    assert lab.canvas.objectName() == "digitCanvas"
    draw(qtbot, lab.canvas, seven_points())
    after = ui.grab_rgb(lab.canvas)
    dark_before = (before.mean(axis=2) < 80).sum()
    dark_after = (after.mean(axis=2) < 80).sum()
    assert dark_after > dark_before + 2000                     # ink appeared
    probs = lab.probabilities()
    assert probs.shape == (10,) and abs(float(probs.sum()) - 1) < 1e-5
    same = DigitSession(model).classify_strokes([s.points for s in lab.session.strokes])
    np.testing.assert_array_equal(probs, same)
    # the strokes are where the mouse went (reference units, within a pixel)
    pts = lab.session.strokes[0].points
    assert np.abs(pts[0] - np.array(seven_points()[0])).max() < 2.0
    assert "%" in lab.prob_panel.first.text()


def test_second_stroke_changes_probabilities_and_undo_restores(qtbot, lab, draw):
    draw(qtbot, lab.canvas, seven_points())
    one = lab.probabilities()
    draw(qtbot, lab.canvas, BAR)
    two = lab.probabilities()
    assert not np.allclose(one, two)
    qtbot.keyClick(lab, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(lab.probabilities(), one)
    qtbot.keyClick(lab, QtCore.Qt.Key.Key_Z,
                   QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(lab.probabilities(), two)
    qtbot.keyClick(lab, QtCore.Qt.Key.Key_Delete)
    assert lab.probabilities() is None


def click_cell(qtbot, panel, channel, row, col):
    view = panel.view
    qtbot.mouseClick(view, LEFT, pos=view.pos_of(channel, row, col).toPoint())


def test_clicked_conv_cell_explains_the_engines_number(qtbot, lab, draw):
    draw(qtbot, lab.canvas, seven_points())
    lab.probabilities()
    click_cell(qtbot, lab.layers.panels["conv2"], 1, 5, 6)
    ex = lab.inspector.explanation
    assert ex is not None and ex.where == dict(index=3, channel=1, row=5, col=6, k=3, stride=1, padding=1)
    engine = float(lab.reading.trace.outputs[3][0, 1, 5, 6])
    assert ex.engine == engine
    assert ex.pre == pytest.approx(engine, rel=1e-5, abs=1e-6)
    assert ex.patch.shape == (2, 3, 3)
    assert f"<b>{num(ex.pre)}</b>" in lab.inspector.result.text()
    assert f">{num(ex.post)}</b>" in lab.inspector.result.text()
    assert "equal" in lab.inspector.check.text()
    # receptive field outlined on the input (8×8 for conv2) and on the canvas
    rect = lab.input_panel.view.selected_rect()
    assert rect is not None and (rect.width(), rect.height()) == (8, 8)
    assert lab.canvas._field is not None


def test_clicked_pool_cell_shows_window_and_winner(qtbot, lab, draw):
    draw(qtbot, lab.canvas, seven_points())
    lab.probabilities()
    click_cell(qtbot, lab.layers.panels["pool1"], 0, 4, 5)
    ex = lab.inspector.explanation
    assert ex.window.shape == (2, 2)
    assert ex.value == ex.engine == float(lab.reading.trace.outputs[2][0, 0, 4, 5])
    assert ex.window[ex.winner] == ex.value


def test_worked_examples_give_4_and_3(qtbot, lab):
    qtbot.mouseClick(lab.inspector.conv_button, LEFT)
    assert lab.inspector.explanation.pre == 4.0
    assert "<b>4</b>" in lab.inspector.result.text()
    np.testing.assert_array_equal(lab.inspector.explanation.products[0],
                                  [[1, 0, 0], [0, 1, 0], [1, 0, 1]])
    qtbot.mouseClick(lab.inspector.pool_button, LEFT)
    assert lab.inspector.explanation.value == 3.0
    assert lab.inspector.explanation.winner == (1, 0)
    assert "3</b>" in lab.inspector.result.text()


def test_saliency_and_pool_winner_overlays(qtbot, lab, draw):
    draw(qtbot, lab.canvas, seven_points())
    lab.saliency_action.setChecked(True)
    lab.winners_action.setChecked(True)
    lab.probabilities()
    assert lab.saliency_panel.isVisible() and lab.canvas._overlay is not None
    assert lab.layers.panels["relu1"].view.mask_shown()
    lab.saliency_action.setChecked(False)
    assert lab.canvas._overlay is None


def test_bad_file_leaves_drawing_unchanged(qtbot, lab, tmp_path, draw):
    draw(qtbot, lab.canvas, seven_points())
    before = lab.probabilities()
    bad = tmp_path / "digit.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    assert not lab.open_image(bad)
    assert not lab.open_image(tmp_path / "missing.png")
    (tmp_path / "notes.txt").write_text("hello")
    assert not lab.open_image(tmp_path / "notes.txt")
    assert len(lab.message_boxes) == 3
    np.testing.assert_array_equal(lab.probabilities(), before)
    assert len(lab.session.strokes) == 1


def test_open_huge_image_is_scaled_down(qtbot, lab, tmp_path):
    img = QtGui.QImage(3000, 3000, QtGui.QImage.Format.Format_RGB32)
    img.fill(QtGui.QColor("white"))
    p = QtGui.QPainter(img)
    p.setPen(QtGui.QPen(QtGui.QColor("black"), 200))
    p.drawLine(1500, 400, 1500, 2600)
    p.end()
    path = tmp_path / "one.png"
    assert img.save(str(path))
    assert lab.open_image(path)
    assert lab.session.state.background.shape == (280, 280)
    assert lab.probabilities() is not None
    lab.undo()
    assert lab.probabilities() is None


def test_exports(qtbot, lab, tmp_path, draw):
    draw(qtbot, lab.canvas, seven_points())
    lab.export_panel("conv1 · 2 × 28×28", tmp_path / "conv1.png")
    assert QtGui.QImage(str(tmp_path / "conv1.png")).width() > 50
    lab.save_drawing_png(tmp_path / "drawing.png")
    assert QtGui.QImage(str(tmp_path / "drawing.png")).width() == 280
    lab.export_activations(tmp_path / "acts.npz")
    with np.load(tmp_path / "acts.npz", allow_pickle=False) as z:
        assert z["input"].shape == (28, 28) and z["probs"].shape == (10,)
        assert z["00_Conv2d"].shape == (2, 28, 28)
        np.testing.assert_array_equal(z["probs"], lab.probabilities())


def test_panels_stay_on_the_makeargb_fast_path(qtbot, lab, monkeypatch, draw):
    import pyqtgraph.functions as fn
    calls = []
    real = fn.makeARGB
    monkeypatch.setattr(fn, "makeARGB", lambda *a, **k: calls.append(1) or real(*a, **k))
    lab.winners_action.setChecked(True)
    lab.saliency_action.setChecked(True)
    draw(qtbot, lab.canvas, seven_points())
    lab.probabilities()
    lab.grab()                                   # paints every ImageItem
    assert calls == []
    view = lab.layers.panels["conv1"].view
    img = view.mosaic_image()                          # coloured in numpy, shown as a 32-bit image
    assert img.format() == QtGui.QImage.Format.Format_RGB32     # the raster engine's fast scaled blit
    assert view.values.dtype == np.float32 and np.abs(view.values).max() <= 1.0 + 1e-6


def test_fast_path_spy_can_fail(qtbot, monkeypatch):
    """Negative control for the spy above: float64 RGBA with per-channel levels uses makeARGB."""
    import pyqtgraph as pg
    import pyqtgraph.functions as fn
    calls = []
    real = fn.makeARGB
    monkeypatch.setattr(fn, "makeARGB", lambda *a, **k: calls.append(1) or real(*a, **k))
    w = pg.GraphicsLayoutWidget()
    qtbot.addWidget(w)
    item = pg.ImageItem(np.random.default_rng(0).random((8, 8, 4)), levels=[(0, 1)] * 4)
    w.addViewBox().addItem(item)
    w.grab()
    assert calls


def test_fast_scribbling_drops_stale_frames(qtbot, lab, draw):
    rendered = []
    lab.scheduler.rendered.connect(lambda: rendered.append(1))
    draw(qtbot, lab.canvas, [(50 + i, 50 + (i % 7) * 20) for i in range(150)])
    assert lab.scheduler.dropped > 0                # moves arrived faster than frames
    assert len(rendered) < 150
    assert lab.probabilities() is not None


def test_long_scripted_session_and_timers_stop_on_close(qtbot, lab, draw):
    rng = np.random.default_rng(0)
    moves = 0
    while moves < 2000:
        pts = np.cumsum(rng.normal(0, 6, (100, 2)), axis=0) + 140
        draw(qtbot, lab.canvas, [tuple(p) for p in np.clip(pts, 5, 275)])
        moves += 100
        if rng.random() < 0.3:
            lab.undo()
    assert lab.probabilities() is not None
    lab.canvas.update()
    lab.scheduler.submit(lab.session.version)   # drawn at once if idle ...
    lab.scheduler.submit(lab.session.version)   # ... then one within its frame is pending: its timer runs
    assert lab.scheduler.timer.isActive()
    lab.close()                                 # closing alone must stop it (no stop() here)
    assert not lab.scheduler.timer.isActive()
