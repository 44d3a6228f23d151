"""Compare lab: builds, shows both probability sets for a digit, reproduces 288, trains live."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.session.compare import DigitPair, Duel
from explorer.training.digits import build_model
from explorer.ui.compare.digits import DigitsPanel
from explorer.ui.compare.lab import CompareLab
from explorer.ui.compare.params_panel import ParamsPanel


def a_digit() -> np.ndarray:
    img = np.zeros((1, 28, 28), np.float32)
    img[0, 6:22, 13:15] = 1.0          # a "1"
    return img


@pytest.fixture
def lab(qtbot, ui):
    w = ui.shown(qtbot, CompareLab(digit_source=a_digit), 1400, 900)
    yield w
    w.shutdown()


def test_digits_both_ways_shows_two_probability_sets(qtbot, lab):
    lab.tabs.setCurrentWidget(lab.digits)
    p_cnn, p_rnn = lab.digits.probabilities()
    assert p_cnn.shape == p_rnn.shape == (10,)
    np.testing.assert_allclose([p_cnn.sum(), p_rnn.sum()], 1.0, atol=1e-5)
    np.testing.assert_allclose(lab.digits.bar_cnn.opts["height"], p_cnn)
    np.testing.assert_allclose(lab.digits.bar_rnn.opts["height"], p_rnn)
    assert "Digit Lab" in lab.digits.where.text()
    assert lab.digits.table.item(0, 3).text() == f"{lab.digits.pair.cnn.n_params():,}"
    x, y = lab.digits.traj.getData()
    assert len(x) == 28                                 # one point per row


def test_digit_input_changes_the_answers(qtbot):
    pair = DigitPair(build_model("cnn", 1), build_model("rowrnn", 1))
    state = {"img": a_digit()}
    panel = DigitsPanel(lambda: state["img"], pair=pair)
    qtbot.addWidget(panel)
    assert panel.probabilities() == (None, None)        # nothing computed before it is shown
    with qtbot.waitExposed(panel):
        panel.show()                                     # first show takes the drawing
    before = [p.copy() for p in panel.probabilities()]
    img = np.zeros((1, 28, 28), np.float32)
    img[0, 8:20, 8:20] = 1.0
    state["img"] = img
    panel.refresh()
    after = panel.probabilities()
    assert not np.allclose(before[0], after[0]) and not np.allclose(before[1], after[1])


def test_no_drawing_falls_back_to_a_sample_digit(qtbot):
    pair = DigitPair(build_model("cnn", 1), build_model("rowrnn", 1))
    panel = DigitsPanel(lambda: None, pair=pair)
    qtbot.addWidget(panel)
    with qtbot.waitExposed(panel):
        panel.show()
    if panel.samples is None:
        pytest.skip("no MNIST on this machine")
    assert "sample" in panel.where.text()
    assert panel.probabilities()[0] is not None


def test_parameter_table_reproduces_288(qtbot):
    panel = ParamsPanel()
    qtbot.addWidget(panel)
    panel.set_sizes(height=28, width=28, channels=1, units=32, kernel=3)
    assert panel.cell_text(1, 0) == "CNN"
    assert panel.cell_text(1, 3) == "288"
    assert panel.cell_text(0, 3) == "25,088"
    panel.set_sizes(height=56, width=56)                # weight sharing: the CNN does not grow
    assert panel.cell_text(1, 3) == "288"
    assert panel.cell_text(0, 3) == f"{56 * 56 * 32:,}"
    panel.set_sizes(kernel=5)
    assert panel.cell_text(1, 3) == f"{32 * 25:,}"


def test_duel_trains_live_and_draws(qtbot, lab):
    duel = lab.duel
    duel.distance.setValue(12)
    duel.steps.setValue(60)
    with qtbot.waitSignal(duel.evaluated, timeout=30000):
        duel.train()
    qtbot.waitUntil(lambda: not duel.running(), timeout=30000)
    x, y = duel.acc["cnn"].getData()
    assert x is not None and len(x) == len(y) > 5
    assert duel.loss["rnn"].getData()[0] is not None
    cnn_bars = duel.bars["cnn"].opts["height"]
    assert len(cnn_bars) == 14                          # 12 fillers + key + '?'
    lo, hi = duel.field.getRegion()
    assert hi - lo == pytest.approx(9)                  # the CNN's receptive field
    assert (cnn_bars[:14 - 9] == 0).all()               # nothing outside it reaches the CNN


def test_duel_session_motif():
    d = Duel("motif", steps=20)
    for _ in range(20):
        d.step()
    grid, acc = d.accuracy_curve(n=40)
    assert set(acc) == {"CNN", "LSTM", "Transformer"} and len(grid) == len(acc["CNN"])
    assert d.n_params["CNN"] < d.n_params["LSTM"]
    infl = d.influence()
    assert infl["CNN"].shape == (d.sample_x.shape[1],)


def test_digits_three_ways_shows_the_pen_rnn_and_the_held_out_figures(qtbot, tmp_path):
    import json

    from tests.session.test_three_ways_file import three_ways_doc
    path = tmp_path / "three.json"
    path.write_text(json.dumps(three_ways_doc()))
    pair = DigitPair(build_model("cnn", 1), build_model("rowrnn", 1))
    pen = np.zeros(10, np.float32)
    pen[4] = 1.0
    state = {"pen": pen}
    panel = DigitsPanel(a_digit, pair=pair, pen_source=lambda: state["pen"], figures=str(path))
    qtbot.addWidget(panel)
    with qtbot.waitExposed(panel):
        panel.show()
    np.testing.assert_array_equal(panel.bar_pen.opts["height"], pen)
    assert panel.table.item(2, 0).text() == "pen RNN" and panel.table.item(2, 1).text().startswith("4")
    assert panel.table.item(2, 2).text() == "97.0%" and panel.table.item(2, 3).text() == "30,000"
    assert panel.table.item(0, 2).text() == "98.0%"                       # held-out writers, not val_acc
    assert set(panel.robust_bars) == {"CNN", "row-RNN", "pen LSTM"}
    heights = panel.robust_bars["pen LSTM"].opts["height"]
    assert len(heights) == 8 and heights[0] == 0.97
    state["pen"] = None                                                   # a drawing without pen strokes
    panel.refresh()
    assert panel.pen_probabilities() is None and panel.table.item(2, 1).text() == "no pen"
    assert "no pen" in panel.where.text()


def test_digits_three_ways_without_figures_says_so(qtbot, tmp_path):
    pair = DigitPair(build_model("cnn", 1), build_model("rowrnn", 1))
    panel = DigitsPanel(a_digit, pair=pair, figures=str(tmp_path / "absent.json"))
    qtbot.addWidget(panel)
    assert panel.figures is None and "not there" in panel.figures_note.text()
    assert panel.robust_bars == {}


def test_the_three_ways_table_fills_its_width_when_first_shown(qtbot, lab):
    """Filled while hidden, the table's last column still stretches to its edge (no grey band)."""
    lab.tabs.setCurrentWidget(lab.digits)
    qtbot.waitUntil(lambda: lab.digits.table.isVisible())
    table = lab.digits.table
    assert table.horizontalHeader().length() == table.viewport().width()
