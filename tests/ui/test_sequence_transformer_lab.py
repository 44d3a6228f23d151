"""The Sequence Lab with a transformer: real keystrokes, the attention panel, choosing a head."""

import numpy as np
import pytest
from PySide6 import QtCore

from explorer.engine.io import save_model
from explorer.engine.stream import from_scratch
from explorer.session.sequence import SequenceSession, random_model
from explorer.session.sequence_catalogue import open_session
from explorer.session.sequence_transformer import TransformerSession, random_transformer
from explorer.session.sequence_view import ATTENTION_MODE
from explorer.ui.sequence.attention import AttentionPanel, demo_view


@pytest.fixture
def lab(sequence_lab):
    yield sequence_lab
    sequence_lab.close()
    assert not any(t.isActive() for t in (sequence_lab._sync_timer, sequence_lab.scheduler.timer,
                                          sequence_lab._chunk_timer))


def settle(qtbot, lab):
    qtbot.waitUntil(lambda: not lab.session.pending and lab.session.text == lab.editor.toPlainText()
                    and not lab.scheduler.timer.isActive())
    lab.repaint()


def use_transformer(lab, qtbot, text="", **kw):
    model = random_transformer(**{"d_model": 16, "nhead": 2, "layers": 2, "context": 32, **kw})
    lab.use_session(open_session(model, name="test transformer"))
    lab.editor.clear()
    settle(qtbot, lab)
    lab.session.steps_computed = 0
    qtbot.keyClicks(lab.editor, text)
    settle(qtbot, lab)
    return lab.session


def test_typed_keys_give_the_streams_residual_and_every_panel_is_fed(lab, qtbot):
    text = "def f(x): return x * 2  # twice, more than one context of characters"
    s = use_transformer(lab, qtbot, text)
    assert isinstance(s, TransformerSession) and s.steps_computed == len(text)   # one position per key
    np.testing.assert_allclose(lab.hidden_states(), from_scratch(s.model, s.ids).residual, atol=2e-5)
    assert lab.attention.isVisible() and not lab.gates.isVisible() and not lab.unrolled.isVisible()
    v = lab.view.attention
    assert v is not None and v.query == len(text) - 1
    strip, pattern = lab.attention.strip, lab.attention.pattern
    np.testing.assert_array_equal(strip.values, v.rows.reshape(-1, v.rows.shape[-1]))   # every head's row
    assert strip.isVisible() and not strip.message()
    assert pattern.isVisible() and len(pattern.values) == len(text) - v.start
    assert lab.memory_panel.isVisible() and len(lab.view.memory.weights) == len(text) - v.key_start
    assert lab.heatmap.level == s.state_level > 0
    assert "transformer" in lab.model_label()


def test_choosing_a_head_colours_the_text_and_an_lstm_takes_it_back(lab, qtbot):
    use_transformer(lab, qtbot, "abc(def)")
    with qtbot.waitSignal(lab.attention.head_chosen):
        lab.attention.choose_head((1, 1))
    settle(qtbot, lab)
    assert lab.colour_combo.currentText() == ATTENTION_MODE
    assert lab.view.colour_palette == "attention" and lab.view.colour is not None
    values, offset = lab.view.colour
    assert offset == lab.view.attention.key_start and values.max() == pytest.approx(1.0)
    lab.attention.choose_head(None)
    settle(qtbot, lab)
    assert lab.colour_combo.currentText() == "nothing" and lab.view.colour is None
    lab.colour_combo.setCurrentText(ATTENTION_MODE)             # no head chosen: the layer's first
    settle(qtbot, lab)
    assert lab.attention.head == (lab.attention.layer, 0) and lab.view.colour is not None
    lab.use_session(SequenceSession(random_model("LSTM", hidden=5), name="lstm"))
    settle(qtbot, lab)
    assert lab.gates.isVisible() and not lab.attention.isVisible()
    assert lab.colour_combo.findText(ATTENTION_MODE) < 0 and lab.colour_combo.currentText() == "nothing"
    assert lab.view.attention is None


def test_clicking_a_row_of_the_strip_chooses_that_head(qtbot):
    panel = AttentionPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 260)
    panel.show()
    panel.set_model(2, 4, 128)
    panel.show_attention(demo_view())
    qtbot.wait(20)
    strip = panel.strip
    pos = QtCore.QPoint(round(float(strip.px_x(40.0))), round(float(strip.px_y(panel._row(1, 2) + 0.5))))
    with qtbot.waitSignal(panel.head_chosen) as sig:
        qtbot.mouseClick(strip, QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert sig.args == [(1, 2)] and panel.head == (1, 2)
    assert panel.head_combo.currentText() == "layer 2 · head 3"
    with qtbot.waitSignal(panel.layer_chosen) as sig:
        panel.layer_combo.setCurrentIndex(1)
    assert sig.args == [1]


def test_the_panel_shows_nothing_before_the_first_character(qtbot):
    panel = AttentionPanel()
    qtbot.addWidget(panel)
    panel.set_model(1, 2, 16)
    s = open_session(random_transformer(d_model=8, nhead=2, layers=1, context=16))
    panel.show_attention(s.attention_view(0, 0, None))
    assert panel.strip.message() and not panel.strip.values.size and not panel.pattern.values.size


def test_a_transformer_file_opens_from_the_picker_and_is_remembered(lab, qtbot, tmp_path):
    path = tmp_path / "tiny_transformer.npz"
    save_model(random_transformer(d_model=16, nhead=2, layers=1, context=32), path)
    lab.open_model_file(str(path))
    settle(qtbot, lab)
    assert isinstance(lab.session, TransformerSession) and lab.attention.isVisibleTo(lab)
    qtbot.keyClicks(lab.editor, "x = 1")
    settle(qtbot, lab)
    assert lab.view.attention is not None
    lab.load_model(0)                                   # back to a recurrent model: a new session
    settle(qtbot, lab)
    assert not isinstance(lab.session, TransformerSession) and lab.gates.isVisible()


def test_the_lab_with_a_transformer_paints(lab, qtbot, tmp_path):
    use_transformer(lab, qtbot, "print('hello'); " * 3)
    lab.attention.choose_head((0, 1))
    settle(qtbot, lab)
    img = lab.grab().toImage()
    assert img.width() > 0
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    assert arr.std() > 10



def test_a_session_file_keeps_a_transformer(qtbot, tmp_path, ui):
    """Saved with its model embedded, opened in a fresh window: the same model, text and head."""
    from explorer.ui.main_window import MainWindow
    from tests.ui.conftest import settings_at

    def window(name):
        win = MainWindow(settings_at(str(tmp_path / name)), digit_model=ui.tiny_cnn(0))
        qtbot.addWidget(win)
        with qtbot.waitExposed(win):
            win.show()
        return win

    win = window("a.ini")
    seq = win.sequence_lab
    model = random_transformer(d_model=16, nhead=2, layers=2, context=32, seed=5)
    seq.use_session(open_session(model, name="my transformer"), key=None, label="my transformer")
    seq.editor.clear()
    qtbot.keyClicks(seq.editor, "for i in range(3): print(i)")
    states = seq.hidden_states()
    path = win.save_session(tmp_path / "attention.cre")
    fresh = window("b.ini")
    assert fresh.open_session(path), fresh.last_session_error
    lab = fresh.sequence_lab
    assert isinstance(lab.session, TransformerSession) and lab.attention.isVisibleTo(lab)
    np.testing.assert_allclose(lab.hidden_states(), states, atol=2e-5)   # typed vs read at once: rounding
    for w in (win, fresh):
        w.close()


def test_the_panel_runs_alone_with_made_up_weights(qtbot):
    from explorer.ui.sequence import attention
    w = attention.demo()
    qtbot.addWidget(w)
    w.show()
    assert w.strip.values.size and w.pattern.values.shape[1] > 4 * w.pattern.values.shape[0] // 2
    with qtbot.waitSignal(w.layer_chosen):
        w.layer_combo.setCurrentIndex(1)
    assert w.layer == 1


def test_the_attention_tab_stays_on_show_when_the_settings_are_saved(lab, qtbot, tmp_path):
    """In a window too small for every panel (folded into tabs), saving the settings — the
    app does it after every edit — leaves the user on the Attention tab."""
    use_transformer(lab, qtbot, "def f(x):")
    lab.resize(1000, 560)
    qtbot.waitUntil(lambda: lab.fold.folded)
    tabs = lab.fold.tabs
    page = next(tabs.widget(i) for i in range(tabs.count()) if "ttention" in tabs.tabText(i))
    tabs.setCurrentWidget(page)
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    qtbot.keyClicks(lab.editor, " return x")
    settle(qtbot, lab)
    lab.save_settings(settings)
    assert lab.fold.folded and tabs.currentWidget() is page
