"""Digit Lab experiments (issue 13): edits, ghost bars, kernel editor, sweep, dream, replay, evidence."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from explorer.analysis.edits import copy_model
from explorer.analysis.transforms import identity_value
from explorer.data.mnist import DigitData
from explorer.ui.digit.inspector import num
from explorer.ui.digit.lab import DigitLab

LEFT = QtCore.Qt.MouseButton.LeftButton


@pytest.fixture
def lab(qtbot, model, ui):
    lab = ui.shown(qtbot, DigitLab(model), 1400, 900)
    lab._message_box = lambda title, text: None
    yield lab
    lab.stop()


def click_tile(qtbot, view, tile, row=1, col=1, modifier=QtCore.Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(view, LEFT, modifier, view.pos_of(tile, row, col).toPoint())


def zeroed(model, layer, channel):
    twin = copy_model(model)
    twin.layers[layer].params["weight"][channel] = 0
    twin.layers[layer].params["bias"][channel] = 0
    return twin


def test_click_on_kernel_switches_channel_off_exactly(qtbot, lab, model, ui):
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    before = lab.probabilities()
    x = lab.reading.x
    lab.right_tabs.setCurrentWidget(lab.kernels)
    co = model.layers[3].params["weight"].shape[0]
    click_tile(qtbot, lab.kernels.panels[1].view, 1 * co + 2)      # conv2: input channel 1, filter 2
    assert lab.session.edits.scales == {(3, 2): 0.0}
    expected = np.asarray(zeroed(model, 3, 2).trace(x).probs, np.float32).reshape(-1)
    np.testing.assert_array_equal(lab.probabilities(), expected)
    np.testing.assert_array_equal(lab.prob_panel.bars.ghost, before)          # ghost = unedited
    assert lab.kernels.panels[1].view.crossed_marks.elementCount() > 0    # crossed out
    relu2 = next(st for st in lab.session.stages if st.index == 4)
    assert lab.layers.panels[relu2.name].view.crossed_marks.elementCount() > 0
    assert np.all(lab.reading.trace.outputs[4][0, 2] == 0)
    click_tile(qtbot, lab.kernels.panels[1].view, 2)                           # again: back on
    assert not lab.session.edits.active
    np.testing.assert_array_equal(lab.probabilities(), before)
    assert lab.prob_panel.bars.ghost is None
    for layer, param in model.parameters().items():                          # the model itself untouched
        np.testing.assert_array_equal(param, copy_model(model).parameters()[layer])


def test_shift_click_picks_channel_and_scale_scales(qtbot, lab, model, ui):
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    lab.right_tabs.setCurrentWidget(lab.kernels)
    click_tile(qtbot, lab.kernels.panels[0].view, 1, modifier=QtCore.Qt.KeyboardModifier.ShiftModifier)
    panel = lab.experiments.edit_panel
    assert (panel.layer_box.currentIndex(), panel.channel.value()) == (0, 1)
    assert not lab.session.edits.active
    panel.scale.setValue(150)
    assert lab.session.edits.scales == {(0, 1): 1.5}
    base = model.trace(lab.reading.x).outputs[1][0, 1]
    np.testing.assert_allclose(lab.reading.trace.outputs[1][0, 1], 1.5 * base, rtol=1e-5, atol=1e-6)


def test_edited_kernel_value_shows_in_inspector_sum(qtbot, lab, model, ui):
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    conv1 = next(st for st in lab.session.stages if st.index == 0)
    assert lab.probabilities() is not None
    ink = np.argwhere(lab.reading.x[0, 0, :-2, 2:] > 0.5)[0]        # input pixel (r-1, c+1) has ink
    r, c = int(ink[0]) + 1, int(ink[1]) + 1
    click_tile(qtbot, lab.layers.panels[conv1.name].view, 1, r, c)      # a real click on a map cell
    assert lab.selection == (conv1, 1, r, c)
    total_before = lab.inspector.explanation.total
    panel = lab.experiments.edit_panel
    assert (panel.layer_box.currentIndex(), panel.channel.value()) == (0, 1)   # picked with the cell
    panel.set_kernel_value(0, 2, 0.75)
    ex = lab.inspector.explanation
    assert ex.kernel[0, 0, 2] == pytest.approx(0.75)
    k = np.asarray(model.layers[0].params["weight"][1, 0], np.float64).copy()
    k[0, 2] = np.float32(0.75)
    assert ex.total == pytest.approx(float((ex.patch[0] * k).sum()), abs=1e-6)
    assert ex.engine == pytest.approx(ex.pre, abs=1e-5)                      # the engine agrees
    assert ex.total != pytest.approx(total_before, abs=1e-3)
    assert f"Σ products = {num(ex.total)}" in lab.inspector.result.text()
    assert lab.session.edits.kernels and lab.session.model is not lab.session.unedited_model


def test_reset_restores_shipped_outputs_bit_for_bit(qtbot, lab, model, ui):
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    lab.scheduler.flush()
    before = [o.copy() for o in lab.reading.trace.outputs]
    probs = lab.probabilities()
    s = lab.session
    s.set_channel_scale(0, 0, 0.0)
    s.set_channel_scale(7, 3, 1.7)
    s.set_kernel(3, 1, 0, np.ones((3, 3)))
    lab.refresh_now()
    assert not np.array_equal(lab.probabilities(), probs)
    lab.experiments.edit_panel.reset_button.click()
    assert lab.session.model is model
    np.testing.assert_array_equal(lab.probabilities(), probs)
    for a, b in zip(lab.reading.trace.outputs, before):
        np.testing.assert_array_equal(a, b)
    assert lab.experiments.edit_panel.summary.text() == "edits: no edits"


def test_sweep_at_identity_equals_live_probabilities(qtbot, lab, ui):
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    live = lab.probabilities()
    sweep = lab.experiments.sweep
    for name in ("shift-x", "rotate"):
        sweep.transform.setCurrentIndex(sweep.transform.findData(name))
        with qtbot.waitSignal(sweep.finished, timeout=20000):
            assert lab.experiments.run_sweep()
        s = sweep.result
        i = int(np.flatnonzero(s.values == identity_value(name))[0])
        np.testing.assert_array_equal(s.probs[i].astype(np.float32), live)
        assert sweep.curves[3].getData()[1].shape == (len(s.values),)


def test_sweep_without_drawing_says_draw(qtbot, lab):
    assert lab.experiments.run_sweep() is False
    assert "Draw" in lab.experiments.sweep.readout.text()


def test_dream_in_worker_raises_target_is_deterministic_and_window_responds(qtbot, lab):
    panel = lab.experiments.dream
    panel.kind.setCurrentIndex(1)            # layer 0 (conv)
    panel.index.setValue(1)
    panel.steps.setValue(60)
    ticks = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    results = []
    for _ in range(2):
        with qtbot.waitSignal(panel.finished, timeout=30000):
            lab.experiments.run_dream()
        results.append(panel.result)
    timer.stop()
    a, b = results
    assert a.target.text == "0:1" and a.final_activation > a.start_activation
    np.testing.assert_array_equal(a.image, b.image)
    assert 1 <= a.steps <= 60 and f"in <b>{a.steps}</b> steps" in panel.readout.text()   # the cap is a cap
    assert ticks                               # the event loop ran while the worker dreamed
    assert panel.curve.getData()[0] is not None and len(panel.curve.getData()[0]) > 0
    panel.draw_button.click()                  # "draw this": on the canvas, undoable
    assert lab.session.state.background is not None and lab.probabilities() is not None
    lab.undo()
    assert lab.probabilities() is None


def test_replay_last_step_is_the_live_answer(qtbot, lab, ui):
    pts = ui.seven_points()
    ui.draw(qtbot, lab.canvas, pts[:25])
    ui.draw(qtbot, lab.canvas, pts[25:])
    live = lab.probabilities()
    panel = lab.experiments.replay
    with qtbot.waitSignal(panel.finished, timeout=20000):
        panel.compute_button.click()
    np.testing.assert_array_equal(panel.probs[-1], live)
    assert panel.times[-1] == sum(len(s.points) for s in lab.session.state.strokes)
    panel.slider.setValue(0)
    assert "after" in panel.readout.text()


def test_evidence_confusion_cells_and_loading(qtbot, lab, model, ui):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 20)
    x = (rng.random((200, 28, 28)) * 255).astype(np.uint8)
    data = DigitData(x, y, None, None, "test")
    panel = lab.experiments.evidence
    with qtbot.waitSignal(panel.finished, timeout=30000):
        panel.load(model, data)
    ev = panel.evidence
    assert ev.confusion.sum() == len(ev.y_val) and ev.confusion.sum(1).tolist() == np.bincount(ev.y_val, minlength=10).tolist()
    r, c = np.argwhere(ev.confusion > 0)[0]
    panel.show_cell(int(r), int(c))
    assert len(panel.cell_indices) == min(16, ev.confusion[r, c])
    with qtbot.waitSignal(panel.load_image):
        click_tile(qtbot, panel.cell.view, 0)
    assert lab.session.state.background is not None
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    panel.show_nearest(model, lab.reading.x[0, 0])
    assert panel.near_labels.text().count("(") == 8


def test_every_experiment_view_has_a_help_section(qtbot, lab):
    from explorer.ui.help import PAGES
    tabs = lab.experiments.tabs
    for i in range(tabs.count()):
        tabs.setCurrentIndex(i)
        lab.experiments.help_button.click()
        box = lab.experiments.help_box
        assert f"<h3>{tabs.tabText(i).capitalize()}" in box.text() and box.isVisible()
        box.close()
    for word in ("Sweep", "Dream", "Replay", "Evidence", "Edit the network"):
        assert word in PAGES["Digits"]
    assert "Which tolerates a shift?" in PAGES["Compare"]


def test_double_click_on_a_feature_map_switches_its_channel(qtbot, lab, model, ui):
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    before = lab.probabilities()
    pool1 = next(st for st in lab.session.stages if st.kind == "pool")
    view = lab.layers.panels[pool1.name].view
    pos = view.pos_of(1, 3, 3).toPoint()
    qtbot.mouseDClick(view, LEFT, pos=pos)
    assert lab.session.edits.scales == {(0, 1): 0.0}
    expected = np.asarray(zeroed(model, 0, 1).trace(lab.reading.x).probs, np.float32).reshape(-1)
    np.testing.assert_array_equal(lab.probabilities(), expected)
    qtbot.mouseDClick(view, LEFT, pos=pos)
    np.testing.assert_array_equal(lab.probabilities(), before)


def test_set_model_drops_edits_and_rewires(qtbot, lab, ui):
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    lab.session.set_channel_scale(0, 0, 0.0)
    other = ui.tiny_cnn(5)
    lab.set_model(other)
    assert lab.session.model is other and not lab.session.edits.active
    assert lab.right_tabs.tabText(1) == "kernels"
    lab.right_tabs.setCurrentWidget(lab.kernels)
    click_tile(qtbot, lab.kernels.panels[0].view, 1)
    assert lab.session.edits.scales == {(0, 1): 0.0}
    np.testing.assert_array_equal(lab.probabilities(),
                                  np.asarray(zeroed(other, 0, 1).trace(lab.reading.x).probs, np.float32).reshape(-1))


def test_a_failed_sweep_says_why_and_can_run_again(qtbot):
    """The experiment panels' failure path (jobs.failed_to): the message in the readout, the
    button enabled again, ``finished`` emitted."""
    from explorer.ui.digit.sweep_panel import SweepPanel
    panel = SweepPanel()
    qtbot.addWidget(panel)

    def broken(_x):
        raise RuntimeError("the model is broken")

    with qtbot.waitSignal(panel.finished, timeout=10000):
        assert panel.run(np.zeros((28, 28), np.float32), broken)
        assert not panel.run_button.isEnabled()
    assert panel.run_button.isEnabled()
    assert "RuntimeError: the model is broken" in panel.readout.text()
    panel.runner.stop()
