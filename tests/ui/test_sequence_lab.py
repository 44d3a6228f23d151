"""Sequence Lab driven by real keystrokes (pytest-qt), on tiny random / hand-wired models."""

import pathlib

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtTest, QtWidgets

from explorer.data.vocab import Vocab
from explorer.engine.dense import Embedding, Linear
from explorer.engine.model import Model
from explorer.engine.recurrent import LSTM
from explorer.session.sequence import SequenceSession, random_model
from explorer.ui.sequence.textcolour import UNKNOWN_BG
from explorer.ui.widgets.style import ACCENT, SELECT


def quote_flip_model(hidden: int = 6, seed: int = 0) -> Model:
    """Unit 0 flips sign at every quote (same wiring as tests/analysis/test_units_signals.py)."""
    vocab = Vocab.text()
    rng = np.random.default_rng(seed)
    emb = Embedding(vocab.size, 2, rng=rng)
    emb.params["weight"][:, 0] = 0.0
    emb.params["weight"][vocab.encode("\"'"), 0] = 1.0
    lstm = LSTM(2, hidden, rng=rng)
    p, H = lstm.params, hidden
    p["weight_ih_l0"][:, 0] = 0.0
    p["weight_hh_l0"][:, 0] = 0.0
    for g in range(4):
        p["weight_ih_l0"][g * H] = p["weight_hh_l0"][g * H] = 0.0
        p["bias_ih_l0"][g * H] = p["bias_hh_l0"][g * H] = 0.0
    p["weight_ih_l0"][0, 0], p["bias_ih_l0"][0] = 20.0, -10.0
    p["weight_ih_l0"][H, 0], p["bias_ih_l0"][H] = -20.0, 10.0
    p["weight_hh_l0"][2 * H, 0], p["bias_ih_l0"][2 * H] = -10.0, 1.0
    p["bias_ih_l0"][3 * H] = 10.0
    return Model([emb, lstm, Linear(hidden, vocab.size, rng=rng)], meta={"vocab": vocab.to_meta()})


@pytest.fixture
def lab(sequence_lab):
    w = sequence_lab
    yield w
    w.close()
    assert not any(t.isActive() for t in (w._sync_timer, w.scheduler.timer, w._chunk_timer))


def type_text(qtbot, widget, text):
    """Real key events; a newline is a Return key press (QTest cannot map "\n" to a key)."""
    for i, line in enumerate(text.split("\n")):
        if i:
            qtbot.keyClick(widget, QtCore.Qt.Key.Key_Return)
        if line:
            qtbot.keyClicks(widget, line)


def use(lab, qtbot, model, text=""):
    lab.use_session(SequenceSession(model, name="test"))
    lab.editor.clear()
    if text:
        type_text(qtbot, lab.editor, text)
    qtbot.waitUntil(lambda: not lab.session.pending and lab.session.text == lab.editor.toPlainText()
                    and not lab.scheduler.timer.isActive())     # the last key's frame is drawn too
    lab.repaint()                                   # and painted (plots map clicks with what they painted)
    return lab.session


def test_contract_editor(lab):
    assert lab.editor.objectName() == "sequenceEditor"
    assert isinstance(lab.editor, QtWidgets.QPlainTextEdit)
    assert QtGui.QFontInfo(lab.editor.font()).fixedPitch()


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_typed_keystrokes_give_the_engines_states(lab, qtbot, cell):
    model = random_model(cell, hidden=7, seed=3)
    text = 'def f(x):\n    return "hi" + x'
    use(lab, qtbot, model, text)
    h = lab.hidden_states()
    ids = Vocab.text().encode(text)
    ref = model.layers[1].run(model.layers[0].infer(ids[None]))[0][0]
    assert h.shape == (len(text), 7)
    np.testing.assert_allclose(h, ref, atol=1e-5)


def test_typing_in_the_middle_recomputes_from_there(lab, qtbot):
    s = use(lab, qtbot, random_model("LSTM", hidden=5, seed=4), "abcdefghij" * 6)
    cur = lab.editor.textCursor()
    cur.setPosition(20)
    lab.editor.setTextCursor(cur)
    before = s.steps_computed
    qtbot.keyClicks(lab.editor, "X")
    h = lab.hidden_states()
    assert s.last_recomputed_from == 20
    assert s.steps_computed - before == 61 - 20
    model = s.model
    ref = model.layers[1].run(model.layers[0].infer(s.ids[None]))[0][0]
    np.testing.assert_allclose(h, ref, atol=1e-5)
    # typing at the end afterwards costs exactly one step
    lab.editor.moveCursor(QtGui.QTextCursor.MoveOperation.End)
    before = s.steps_computed
    qtbot.keyClick(lab.editor, "y")
    lab.hidden_states()
    assert s.steps_computed - before == 1


def test_selecting_a_unit_colours_the_text(lab, qtbot):
    s = use(lab, qtbot, quote_flip_model(), 'a "bc" d')
    lab.colour_combo.setCurrentIndex(0)
    lab.select_unit(0)
    qtbot.waitUntil(lambda: len(lab.colourer.spans()) > 0)
    h = s.hidden_states()[:, 0]
    colours = {}
    for a, b, colour in lab.colourer.spans():
        for i in range(a, b):
            colours[i] = colour
    inside, outside = 3, 7          # 'b' (h0 > 0) and 'd' (h0 < 0)
    assert h[inside] > 0.5 and h[outside] < -0.5
    assert colours[inside].green() > colours[inside].red()          # green = positive
    assert colours[outside].red() > colours[outside].green()        # red = negative


def test_find_unit_for_inside_a_string_picks_the_quote_unit(lab, qtbot):
    text = 'x = "hello world"\nprint("a (b)", y)\nname = "z" + w\n' * 3
    use(lab, qtbot, quote_flip_model(), text)
    lab.finder_combo.setCurrentText("inside a string")
    qtbot.mouseClick(lab.find_button, QtCore.Qt.MouseButton.LeftButton)
    assert lab.unit == 0 and lab.last_ranking[0].r > 0.95
    assert "Best unit" in lab.status_label.text()
    lab.finder_combo.setCurrentText("regular expression…")
    lab.regex_edit.setText("(")
    qtbot.mouseClick(lab.find_button, QtCore.Qt.MouseButton.LeftButton)
    assert "not a valid regular expression" in lab.status_label.text()


def test_unknown_characters_are_shown_not_fatal(lab, qtbot):
    s = use(lab, qtbot, random_model("GRU", hidden=4, seed=5), "ok")
    lab.editor.insertPlainText("caf\u00e9 \U0001F600\x07\tend " + "z" * 3000)
    qtbot.waitUntil(lambda: not s.pending and s.text == lab.editor.toPlainText())
    lab.move_cursor(10)
    qtbot.waitUntil(lambda: any(colour == UNKNOWN_BG for _, _, colour in lab.colourer.spans()))
    assert s.unknown_mask().sum() == 3
    assert lab.hidden_states().shape == (len(lab.editor.toPlainText()), 4)
    # the emoji takes two document positions: characters after it still line up
    # (é at 5; the emoji (2 UTF-16 units) and the bell form one run of unknown characters)
    unknown_docs = sorted((a, b) for a, b, colour in lab.colourer.spans() if colour == UNKNOWN_BG)
    assert unknown_docs == [(5, 6), (7, 10)]


def test_empty_text_shows_empty_states(lab, qtbot):
    use(lab, qtbot, random_model("LSTM", hidden=4, seed=6), "abc")
    lab.editor.clear()
    qtbot.waitUntil(lambda: lab.session.length == 0 and bool(lab.heatmap.message()))
    assert lab.hidden_states().shape == (0, 4)
    assert lab.heatmap.states is not None and not len(lab.heatmap.states) and lab.heatmap.cursor_x is None
    assert lab.memory_panel.message() and not len(lab.memory_panel.heights)
    assert lab.unrolled.steps == [None, None, None]


def test_heatmap_click_moves_cursor_and_selects_unit(lab, qtbot):
    use(lab, qtbot, random_model("LSTM", hidden=8, seed=7), "hello world, hello")
    hm = lab.heatmap
    pos = QtCore.QPoint(round(float(hm.px_x(4.5))), round(float(hm.px_y(5.5))))   # the middle of cell (4, 5)
    frames, unit = lab.frames, int(hm.rows[5])         # row 5 shows this unit (rows: similar units together)
    assert sorted(hm.rows.tolist()) == list(range(8))
    qtbot.mouseClick(hm, QtCore.Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: lab.unit == unit and lab.frames > frames)
    assert lab.cursor_index() == 5
    assert hm.unit_y == 5.5 and hm.cursor_x == 4.5
    img = hm.grab().toImage()                           # the lines are drawn where they are said to be
    assert img.pixelColor(round(float(hm.px_x(1.3))), round(float(hm.px_y(5.5)))).name() == SELECT
    assert img.pixelColor(round(float(hm.px_x(4.5))), round(float(hm.px_y(2.3)))).name() == ACCENT


def test_long_paste_is_chunked_and_the_loop_keeps_running(lab, qtbot):
    s = use(lab, qtbot, random_model("RNN", hidden=8, seed=8), "")
    ticks, progress = [], []
    timer = QtCore.QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    lab.processing.connect(lambda done, total: progress.append(done))
    text = ("for i in range(10):\n    print('x', i)\n" * 3000)[:100_000]
    lab.editor.insertPlainText(text)
    qtbot.waitUntil(lambda: s.length == 100_000 and not s.pending, timeout=30000)
    timer.stop()
    assert len(progress) >= 2 and progress == sorted(progress)
    assert len(ticks) >= 2                 # other timers fired while the text was read
    qtbot.waitUntil(lambda: lab.frames > 0)
    assert lab.hidden_states().shape == (100_000, 8)


def test_panels_stay_on_the_image_fast_path(lab, qtbot, monkeypatch):
    import pyqtgraph.functions as fn
    calls = []
    real = fn.makeARGB
    monkeypatch.setattr(fn, "makeARGB", lambda *a, **k: calls.append(1) or real(*a, **k))
    use(lab, qtbot, random_model("LSTM", hidden=6, seed=9), "abc def")
    lab.render()
    lab.grab()
    assert calls == []


def test_screenshot_not_blank(lab, qtbot, tmp_path):
    use(lab, qtbot, random_model("LSTM", hidden=6, seed=10), 'print("hi")')
    path = tmp_path / "lab.png"
    assert lab.grab().save(str(path), "PNG")
    img = lab.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    rgba = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    assert rgba[..., :3].std() > 5


def test_time_window_hops_and_keeps_the_cursor_inside():
    from explorer.ui.sequence.lab import HOP, time_window
    views = set()
    for n in range(1, 1200):
        step = n - 1                                   # typing at the end
        start, stop, view = time_window(step, n, 200)
        assert start <= step < stop <= n and stop - start <= 200
        assert view[0] <= start and stop <= view[1] and view[1] - view[0] <= 200
        views.add(view)
    assert len(views) < 1200 / HOP + 10                # the axis moves in hops, not per key
    for step in range(0, 1000, 7):                     # cursor anywhere in a long text
        start, stop, _ = time_window(step, 1000, 200)
        assert start <= step < stop


def test_typing_reuses_trajectory_labels_and_cached_colours(lab, qtbot, monkeypatch):
    s = use(lab, qtbot, random_model("LSTM", hidden=6, seed=12), "abcdefghij" * 5)
    lab.select_unit(1)
    qtbot.waitUntil(lambda: len(lab.colourer.spans()) > 0)
    texts = lab.trajectory.label_texts()
    lab.editor.moveCursor(QtGui.QTextCursor.MoveOperation.End)
    frames = lab.frames
    qtbot.keyClick(lab.editor, "Q")
    qtbot.waitUntil(lambda: lab.frames > frames and s.text.endswith("Q"))
    after = lab.trajectory.label_texts()
    changed = [i for i, (a, b) in enumerate(zip(texts, after)) if a != b]
    assert changed == [(len(s.text) - 1) % len(after)] and after[changed[0]] == "Q"
    # an edit in the middle of a long text (synced on the next turn of the event loop): until
    # the next frame the runs move with the text they colour
    import explorer.ui.sequence.lab as lab_module
    monkeypatch.setattr(lab_module, "SYNC_NOW_CHARS", 10)
    lab.render()
    before = [(a, b, c.rgba()) for a, b, c in lab.colourer.spans()]
    lab.move_cursor(5)
    qtbot.keyClick(lab.editor, "Z")
    moved = [(a, b, c.rgba()) for a, b, c in lab.colourer.spans()]
    assert moved == [(a + (a >= 5), b + (b >= 5), c) for a, b, c in before] and moved


def test_finder_on_the_shipped_code_lstm_finds_a_string_literal_cell(lab, qtbot):
    """Issue #6: on real code the finder (h and tanh c) picks a unit with |r| >= 0.6."""
    from explorer.analysis.units import signal
    from explorer.paths import model_path
    path = model_path("code_lstm.npz")
    from explorer.session.sequence_catalogue import load_session
    # held-out stdlib code pinned as a file: the live split differs on every Python version
    text = (pathlib.Path(__file__).parents[1] / "fixtures" / "heldout_code_sample.txt").read_text(encoding="utf-8")
    lab.use_session(load_session(str(path)))
    lab.editor.setPlainText(text)
    qtbot.waitUntil(lambda: not lab.session.pending and lab.session.text == text, timeout=20000)
    lab.finder_combo.setCurrentText("inside a quoted literal")
    qtbot.mouseClick(lab.find_button, QtCore.Qt.MouseButton.LeftButton)
    best = lab.last_ranking[0]
    assert abs(best.r) >= 0.6 and lab.unit == best.unit
    assert lab.state_combo.currentData() == best.state == lab.unit_state
    states = lab.unit_states()[best.state]
    r = np.corrcoef(states[:, best.unit], signal(text, "inside a quoted literal"))[0, 1]
    assert r == pytest.approx(best.r, abs=1e-5)


def test_each_unkeyed_session_gets_a_basis_of_its_own_width(lab, qtbot):
    """A basis cached by id(model) once reached a new model of another width (id reuse)."""
    for hidden in (7, 5, 3):
        s = use(lab, qtbot, random_model("LSTM", hidden=hidden, seed=hidden), "abc")
        assert s.pca_basis is lab.basis
        assert lab.hidden_states().shape == (3, hidden)
        lab.render()                                   # projects h onto the basis: shapes must agree


def test_a_key_in_a_short_text_is_drawn_inside_its_own_event(lab, qtbot, monkeypatch):
    """Issue 16: the frame of a key is ready before Qt paints the editor (which then paints
    once per key, not once for the text and again for the colours); a long text is synced on
    the next turn of the event loop instead."""
    s = use(lab, qtbot, random_model("LSTM", hidden=6, seed=3), "hello")
    lab.editor.moveCursor(QtGui.QTextCursor.MoveOperation.End)
    qtbot.waitUntil(lambda: not lab.scheduler.timer.isActive())
    frames = lab.frames
    QtTest.QTest.keyClick(lab.editor, "x")                 # delivered at once; no event loop turn
    assert s.text == "hellox" and lab.frames == frames + 1 and lab.view.cursor == 6
    import explorer.ui.sequence.lab as lab_module
    monkeypatch.setattr(lab_module, "SYNC_NOW_CHARS", 3)
    QtTest.QTest.keyClick(lab.editor, "y")
    assert s.text == "hellox" and lab.frames == frames + 1  # not yet: on the next turn
    qtbot.waitUntil(lambda: s.text == "helloxy" and lab.frames > frames + 1)


def test_a_key_does_not_repaint_the_widgets_under_the_strip_and_the_unrolled_view(lab, qtbot):
    """Both paint every pixel of their own (opaque): a key repaints them, not their parents."""
    use(lab, qtbot, random_model("LSTM", hidden=6, seed=4), "hello world")
    lab.repaint()
    panels = (lab.strip, lab.unrolled)
    seen = []

    class Spy(QtCore.QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt)
            if event.type() == QtCore.QEvent.Type.Paint and isinstance(obj, QtWidgets.QWidget):
                seen.append((obj, QtCore.QRect(event.rect())))
            return False

    spy = Spy()
    app = QtWidgets.QApplication.instance()
    app.installEventFilter(spy)
    try:
        qtbot.keyClick(lab.editor, "x")
        qtbot.waitUntil(lambda: all(any(o is p for o, _ in seen) for p in panels))
    finally:
        app.removeEventFilter(spy)
    for panel in panels:
        under = panel.parentWidget()
        while under is not None:
            area = QtCore.QRect(panel.mapTo(under, QtCore.QPoint(0, 0)), panel.size())
            assert not any(o is under and area.contains(r) for o, r in seen), type(under).__name__
            under = under.parentWidget()
