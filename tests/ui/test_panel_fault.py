"""A panel that raises while drawing never stops the next renders: the lab says so and recovers."""

import numpy as np

from explorer.session.sequence import SequenceSession, random_model
from explorer.ui.digit.lab import DigitLab
from explorer.ui.sequence.lab import SequenceLab


def test_digit_lab_survives_a_panel_that_raises(qtbot, ui, monkeypatch, capsys):
    lab = DigitLab(ui.tiny_cnn(0))
    qtbot.addWidget(lab)
    with qtbot.waitExposed(lab):
        lab.show()
    said = []
    lab.status.connect(said.append)
    ui.draw(qtbot, lab.canvas, ui.seven_points())
    stage = next(s for s in lab.session.stages if s.kind == "conv")
    lab.inspect(stage, 1, 5, 7)
    good = lab.probabilities().copy()
    panel = lab.prob_panel
    real = type(panel).set_probs
    broken = [True]

    def fault(self, probs):
        if broken[0]:
            raise IndexError("injected fault")
        return real(self, probs)
    monkeypatch.setattr(type(panel), "set_probs", fault)
    lab.refresh_now()                                    # must not raise
    assert lab.render_guard.failures == 1
    assert any("ProbabilityPanel panel could not draw" in m and "injected fault" in m for m in said), said
    assert "injected fault" in capsys.readouterr().err   # the traceback, for a bug report
    assert lab.selection is None                          # recovered: the next frame starts clean
    lab.refresh_now()                                     # still failing: said once, not per frame
    assert sum("could not draw" in m for m in said) == 1
    broken[0] = False                                     # the fault goes away: renders go on
    lab.clear()
    lab.undo()
    np.testing.assert_allclose(lab.probabilities(), good, atol=1e-6)
    assert said[-1] == "every panel draws again" or "every panel draws again" in said
    assert lab.render_guard.failing is None


def test_sequence_lab_survives_a_panel_that_raises(qtbot, monkeypatch):
    lab = SequenceLab()
    qtbot.addWidget(lab)
    with qtbot.waitExposed(lab):
        lab.show()
    lab.use_session(SequenceSession(random_model("LSTM", hidden=5, seed=1), name="t"), key=None, label="t")
    lab.editor.setPlainText("abc abc")
    lab.select_unit(3)
    said = []
    lab.status.connect(said.append)
    real = type(lab.heatmap).show_states
    calls = [0]

    def fault(self, *a, **k):
        calls[0] += 1
        if calls[0] == 1:
            raise ValueError("injected fault")
        return real(self, *a, **k)
    monkeypatch.setattr(type(lab.heatmap), "show_states", fault)
    frames = lab.frames
    lab.render()                                          # must not raise
    assert lab.render_guard.failures == 1 and lab.unit is None
    assert any("could not draw" in m and "injected fault" in m for m in said), said
    qtbot.keyClicks(lab.editor, "x")                      # the next renders go on
    lab.render()
    assert lab.frames > frames and lab.view is not None and lab.view.cursor == lab.cursor_index()
    assert "every panel draws again" in said
