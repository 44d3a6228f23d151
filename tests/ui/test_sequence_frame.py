"""The Sequence Lab routes one SequenceView per render to its panels; panels run alone; the
Sequence Lab follows a model trained in the Train tab through its session."""

import importlib

import numpy as np
import pytest

from explorer.session.sequence import SequenceSession, random_model
from explorer.ui.main_window import MainWindow


@pytest.fixture
def lab(sequence_lab):
    return sequence_lab


def settle(qtbot, lab, text):
    qtbot.waitUntil(lambda: lab.session.text == text and not lab.session.pending
                    and lab.view is not None and lab.view.length == len(text), timeout=20000)


def test_panels_show_exactly_the_views_arrays(lab, qtbot):
    lab.use_session(SequenceSession(random_model("LSTM", hidden=10, seed=4), name="tiny"), key=None)
    text = "for i in range(3):\n    print(i)\n"
    lab.editor.setPlainText(text)
    lab.select_unit(4)
    lab.colour_combo.setCurrentIndex(0)
    lab.move_cursor(12)
    qtbot.waitUntil(lambda: lab.view is not None and lab.view.cursor == 12 and lab.view.unit == 4, timeout=20000)
    v = lab.view
    assert lab.heatmap.states is v.h_rows and lab.heatmap.start == v.start
    np.testing.assert_array_equal(lab.heatmap.rows, v.rows)
    np.testing.assert_array_equal(v.h_rows, v.h[:, v.rows])
    assert v.rows[v.unit_row] == 4 and lab.heatmap.unit_y == v.unit_row + 0.5
    assert lab.trajectory._last[0] is v.trail and lab.trajectory._last[2] == v.trail_first
    assert lab.unrolled.steps is v.steps
    assert lab.strip.probs is v.strip_probs and lab.strip.cursor_index == 11 - v.strip_start
    np.testing.assert_array_equal(v.h, lab.session.hidden_states(v.start, v.stop))
    np.testing.assert_array_equal(v.colour[0], lab.hidden_states()[v.colour[1]:v.colour[1] + len(v.colour[0]), 4])
    assert v.description == lab.model_combo.toolTip()


def test_hidden_states_contract_is_unchanged(lab, qtbot):
    """(T, H) of the editor's text: equal to a fresh session's states for the same text."""
    model = random_model("GRU", hidden=6, seed=7)
    lab.use_session(SequenceSession(model, name="g"), key=None)
    for text in ("x", "def g(a, b):\n    return a + b\n", "((()))[]{}" * 30):
        lab.editor.setPlainText(text)
        fresh = SequenceSession(model)
        fresh.set_text(text)
        np.testing.assert_array_equal(lab.hidden_states(), fresh.hidden_states())
        assert lab.hidden_states().shape == (len(text), 6)


@pytest.mark.parametrize("name", ["heatmap", "trajectory", "gates", "predictions", "memory_panel",
                                  "unrolled", "writer"])
def test_each_panel_runs_alone_with_demo_data(qtbot, name):
    from explorer.ui.sequence.demo import demo_frame
    mod = importlib.import_module(f"explorer.ui.sequence.{name}")
    session, view = demo_frame()
    w = mod.demo(session, view)
    qtbot.addWidget(w)
    w.show()
    assert w.isVisible()
    shown = {"heatmap": lambda: w.states is view.h_rows, "trajectory": lambda: w._last[0] is view.trail,
             "unrolled": lambda: w.steps is view.steps, "predictions": lambda: w.strip.probs is view.strip_probs,
             "memory_panel": lambda: view.memory is not None and not w.message() and len(w.heights) > 0,
             "gates": lambda: bool(view.gates) and w.names == session.gate_names,
             "writer": lambda: w.prime_source() == session.text}
    assert shown[name]()


def test_the_sequence_lab_follows_training_through_its_session(qtbot, ini, model, ui):
    win = MainWindow(ui.settings_at(ini), digit_model=model)
    qtbot.addWidget(win)
    lab = win.sequence_lab
    trained = random_model("LSTM", hidden=9, seed=11)
    win.train_lab.model_updated.emit(trained, "text")
    qtbot.waitUntil(lambda: lab.session.model is trained and not lab.session.pending, timeout=20000)
    session, before = lab.session, lab.hidden_states().copy()
    assert before.shape[1] == 9
    frames = lab.frames
    newer = random_model("LSTM", hidden=9, seed=12)             # the next update: same layers, new weights
    win.train_lab.model_updated.emit(newer, "text")
    qtbot.waitUntil(lambda: lab.frames > frames, timeout=20000)
    assert lab.session is session                              # through session.load_weights, not a new one
    np.testing.assert_array_equal(session.model.state_dict()["1.weight_hh_l0"], newer.state_dict()["1.weight_hh_l0"])
    assert not np.allclose(lab.hidden_states(), before)
    win.train_lab.model_updated.emit(random_model("GRU", hidden=5, seed=1), "text")   # another shape
    qtbot.waitUntil(lambda: lab.session.cell == "GRU", timeout=20000)
    assert lab.hidden_states().shape[1] == 5
    win.close()


def test_heatmap_rows_follow_the_sessions_order_and_clicks_name_the_unit(lab, qtbot):
    lab.use_session(SequenceSession(random_model("LSTM", hidden=10, seed=4), name="tiny"), key=None)
    text = 'x = "a" + "bc" + "def"\n' * 3
    lab.editor.setPlainText(text)
    settle(qtbot, lab, text)
    rows = lab.view.rows
    assert sorted(rows.tolist()) == list(range(10))
    labels = lab.heatmap.row_labels()
    assert labels == [str(int(rows[r])) for r in range(0, 10, 1)]
    emitted = []
    lab.heatmap.cell_clicked.connect(lambda t, u: emitted.append((t, u)))
    lab.heatmap.cell_clicked.emit(3, int(lab.heatmap.rows[2]))
    assert emitted == [(3, int(rows[2]))]
    lab.finder_combo.setCurrentText("inside a quoted literal")
    lab.rows_combo.setCurrentIndex(lab.rows_combo.findData("signal"))
    qtbot.waitUntil(lambda: lab.view.request.rows == "signal", timeout=20000)
    from explorer.analysis.units import correlations, signal
    r = correlations(lab.hidden_states(), signal(text, "inside a quoted literal"))
    assert np.all(np.diff(r[lab.view.rows]) <= 1e-12)             # most positive r on top
    lab.rows_combo.setCurrentIndex(lab.rows_combo.findData("unit"))
    qtbot.waitUntil(lambda: lab.view.request.rows == "unit", timeout=20000)
    np.testing.assert_array_equal(lab.view.rows, np.arange(10))


def test_the_write_panes_clamp_drives_the_labs_predictions(lab, qtbot):
    lab.use_session(SequenceSession(random_model("LSTM", hidden=10, seed=4), name="tiny"), key=None)
    text = "while True:\n    pass\n"
    lab.editor.setPlainText(text)
    settle(qtbot, lab, text)
    assert lab.view.clamped_p is None and lab.predictions.clamped_widths is None
    pane = lab.experiments.write_panel
    pane.clamp_unit.setValue(2)
    pane.clamp_value.setValue(0.95)
    qtbot.waitUntil(lambda: lab.view.request.clamp == (2, 0.95), timeout=20000)
    v = lab.view
    c = v.cursor
    expected = lab.session.clamped_probs(c, 2, 0.95, c)[0, [i for _, _, i in v.top]]
    np.testing.assert_allclose(v.clamped_p, expected)
    assert lab.predictions.clamped_widths is not None
    np.testing.assert_allclose(lab.predictions.clamped_widths[:len(v.top)], v.clamped_p)


def test_the_model_picker_changes_the_model_through_the_session(lab, qtbot):
    labels = [lab.model_combo.itemText(i) for i in range(lab.model_combo.count())]
    if "Python code · GRU" not in labels or "Toy: parity of bits" not in labels:
        pytest.fail(f"the shipped models are missing: {labels}")
    session = lab.session
    heard = []
    session.listeners.add(heard.append)
    text = "def f(x):\n    return x\n"
    lab.editor.setPlainText(text)
    settle(qtbot, lab, text)
    lab.model_combo.setCurrentIndex(labels.index("Python code · GRU"))
    qtbot.waitUntil(lambda: lab.view.cell == "GRU" and lab.view.length == len(text), timeout=20000)
    assert lab.session is session and heard == [session]           # set_model told its listeners
    assert lab.editor.toPlainText() == text and tuple(lab.view.gates) == ("r", "z")
    assert lab.hidden_states().shape == (len(text), session.hidden_size)
    lab.model_combo.setCurrentIndex(labels.index("Toy: parity of bits"))
    qtbot.waitUntil(lambda: lab.session.task == "parity" and lab.view is not None
                    and lab.view.length == len(lab.editor.toPlainText()) > 0, timeout=20000)
    assert lab.session is session and lab.editor.toPlainText() != text   # another kind: a preset that suits it
    assert set(lab.editor.toPlainText()) <= set("01 \n")
