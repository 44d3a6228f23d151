"""The Digit Lab routes one DigitView per render: its panels show exactly the view's arrays;
saliency and receptive fields land where the drawing is on the canvas; the lab follows a
model trained in the Train tab (through the session)."""

import re
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore

import explorer
from explorer.engine import Conv2d, Flatten, Linear, MaxPool2d, Model, ReLU
from explorer.ui.main_window import MainWindow


@pytest.fixture
def lab(digit_lab):
    return digit_lab


def bounding_box(points):
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return QtCore.QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0))


@pytest.mark.parametrize("scope", ["map", "layer", "network"])
def test_panels_show_exactly_the_views_arrays(qtbot, lab, ui, scope):
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    lab.set_scope(scope)
    lab.winners_action.setChecked(True)
    view = lab.view
    assert view is not None and view.options.scope == scope and view.options.winners
    np.testing.assert_array_equal(lab.input_panel.view.values, view.input[None])
    for sv in view.stages:
        panel = lab.layers.panels[sv.stage.name]
        np.testing.assert_array_equal(panel.view.values, sv.maps)
        assert panel.note.text() == sv.note
        assert panel.view.mask_shown() == (sv.winners is not None)
    assert any(sv.winners is not None for sv in view.stages)
    np.testing.assert_array_equal(lab.prob_panel.bars.probs, view.probs)
    np.testing.assert_array_equal(lab.probabilities(), view.probs)


def test_receptive_field_of_the_cell_under_a_corner_stroke_contains_it_on_the_canvas(qtbot, lab, ui):
    ui.draw(qtbot, lab.canvas, [(20 + t, 20 + t) for t in np.linspace(0, 240, 40)])   # fixes the scale
    assert lab.probabilities() is not None           # renders the pending frame
    before = lab.reading.x[0, 0].copy()
    ui.draw(qtbot, lab.canvas, [(236.0, 34.0), (240.0, 36.0), (244.0, 38.0)])     # top-right corner
    corner = lab.session.strokes[-1].points
    lab.probabilities()
    gained = lab.reading.x[0, 0] - before
    r, c = (int(v) for v in np.unravel_index(np.argmax(gained), gained.shape))
    assert r < 14 <= c                                # the preprocessing put it top right, too
    conv1 = next(st for st in lab.session.stages if st.kind == "conv")
    lab.inspect(conv1, 0, r, c)
    field = lab.canvas._field
    assert lab.view.selection.canvas_field == (field.x(), field.y(), field.width(), field.height())
    assert field.width() < 140                        # a 3×3 field: a small part of the canvas
    for x, y in corner:
        assert field.contains(QtCore.QPointF(float(x), float(y))), (field, x, y)
    assert not field.contains(QtCore.QPointF(140.0, 140.0))     # the diagonal's middle is elsewhere


def test_saliency_overlay_covers_a_drawing_in_a_corner(qtbot, lab, ui):
    ui.draw(qtbot, lab.canvas, [(20 + t, 20 + 0.6 * t) for t in np.linspace(0, 40, 12)])  # top left
    lab.saliency_action.setChecked(True)
    rect = lab.canvas._overlay_rect
    assert lab.canvas._overlay is not None and rect is not None
    assert lab.view.saliency_rect == (rect.x(), rect.y(), rect.width(), rect.height())
    box = bounding_box(lab.session.strokes[0].points)
    assert rect.contains(box), (rect, box)
    assert rect.center().x() < 140 and rect.center().y() < 140      # over the drawing, not the canvas middle
    lab.saliency_action.setChecked(False)
    assert lab.canvas._overlay is None and lab.view.saliency_rgba is None


def test_digit_lab_follows_the_model_trained_in_the_train_tab(qtbot, tmp_path, ui, model):
    win = MainWindow(ui.settings_at(str(tmp_path / "s.ini")), digit_model=model)
    qtbot.addWidget(win)
    lab = win.digit_lab
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    assert lab.probabilities() is not None
    x = lab.reading.x
    trained = ui.tiny_cnn(9)                          # same architecture, other weights
    win.train_lab.model_updated.emit(trained, "digits-cnn")
    assert lab.session.model is model                 # same panels: the weights were loaded
    np.testing.assert_allclose(lab.probabilities(), trained.trace(x).probs[0], rtol=1e-6)
    w = trained.layers[0].params["weight"]
    np.testing.assert_allclose(lab.kernels.panels[0].view.values,
                               w.transpose(1, 0, 2, 3).reshape(-1, 3, 3) / np.abs(w).max(), rtol=1e-6)
    rng = np.random.default_rng(3)                    # another architecture: the lab swaps models
    wider = Model([Conv2d(1, 2, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
                   Conv2d(2, 3, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2), Flatten(),
                   Linear(147, 16, rng=rng), ReLU(), Linear(16, 10, rng=rng)])
    win.train_lab.model_trained.emit(wider, "digits-cnn")
    assert lab.session.model is wider and lab.layers.panels["dense1"].view.values.size == 16
    np.testing.assert_allclose(lab.probabilities(), wider.trace(x).probs[0], rtol=1e-6)
    win.follow_training_action.setChecked(False)
    win.train_lab.model_updated.emit(trained, "digits-cnn")
    assert lab.session.model is wider


def test_ui_never_writes_the_digit_session_model_nor_reads_its_privates():
    ui_dir = Path(explorer.__file__).parent / "ui"
    bad = re.compile(r"session\.(model|stages)\s*=[^=]|session\._[a-z]|digit_lab\.session\.model\.load_state_dict")
    hits = [f"{p.name}: {line.strip()}" for p in ui_dir.rglob("*.py") if "sequence" not in p.parts
            for line in p.read_text(encoding="utf-8").splitlines() if bad.search(line)]
    assert hits == []
