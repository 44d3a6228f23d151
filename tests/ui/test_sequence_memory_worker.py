"""The Sequence Lab's Memory panel through the memory worker (every family): the frame starts the job, routes
the other panels, collects it for the Memory panel, and shows the in-process numbers."""

import numpy as np
import pytest
from PySide6.QtTest import QTest

from explorer.analysis.memory_worker import MemoryWorker
from explorer.session.sequence import random_model
from explorer.session.sequence_catalogue import open_session
from explorer.session.sequence_transformer import random_transformer


@pytest.fixture
def worker():
    w = MemoryWorker()
    assert w.wait_ready()
    collect = w.collect

    def awaited(seq, wait=0.002):      # the worker's answer whatever the machine's load
        w.wait_answer(seq, 30.0)
        return collect(seq, wait)

    w.collect = awaited
    yield w
    w.close()


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN", "transformer"])
def test_the_memory_panel_shows_the_workers_numbers_equal_to_in_process(sequence_lab, qtbot, worker, cell):
    lab = sequence_lab
    model = random_transformer(d_model=16, nhead=2, layers=2, context=64, norm_first=False) \
        if cell == "transformer" else random_model(cell, hidden=16, seed=3)
    s = open_session(model, name="tiny")
    s.memory_worker = lambda: worker
    lab.use_session(s, key=None)
    lab.editor.setPlainText("def f(a):\n    return a * 2\n" * 3)
    lab.editor.moveCursor(lab.editor.textCursor().MoveOperation.End)
    qtbot.waitUntil(lambda: lab.view is not None and lab.view.cursor == len(lab.editor.toPlainText()), timeout=20000)
    qtbot.waitUntil(lab.is_idle, timeout=20000)
    lab.render()                                         # (the set-up's frame, collected)
    answered = worker.answered
    order: list[str] = []
    lab.rendered.connect(lambda: order.append("rendered"))
    lab.memory_shown.connect(lambda: order.append("memory"))
    for key in "x = (y)":
        order.clear()
        QTest.keyClick(lab.editor, key)
        c = len(lab.editor.toPlainText())
        qtbot.waitUntil(lambda c=c: lab.view is not None and lab.view.cursor == c and lab.view.length == c,
                        timeout=20000)
        qtbot.waitUntil(lambda: "memory" in order, timeout=20000)   # fed as it paints, after the frame
        assert order == ["rendered", "memory"]
        want = s.memory(c, window=60) if cell != "transformer" else s.memory(c)
        assert s.last_memory_job.source == "worker"
        np.testing.assert_array_equal(lab.memory_panel.heights, want.weights / max(float(want.weights.max()), 1e-30))
        assert lab.view.memory.start == want.start and lab.view.memory_chars == s.text[want.start:c]
    assert worker.answered - answered == len("x = (y)")


def _tiny_transformer_lab(lab, qtbot, worker):
    """The lab on a tiny transformer whose Memory goes to ``worker`` (None: in-process), a short
    text typed and everything settled; -> the session."""
    s = open_session(random_transformer(d_model=16, nhead=2, layers=2, context=64), name="tiny")
    s.memory_worker = lambda: worker
    lab.use_session(s, key=None)
    lab.editor.setPlainText("def f(a):\n    return a\n")
    lab.editor.moveCursor(lab.editor.textCursor().MoveOperation.End)
    qtbot.waitUntil(lab.is_idle, timeout=20000)
    return s


def _key_order(lab, qtbot, key):
    """Type ``key`` at the end: (the order of ``rendered`` and ``memory_shown`` until the key's
    frame is routed, the cursor)."""
    order: list[str] = []
    lab.rendered.connect(lambda: order.append("rendered"))
    lab.memory_shown.connect(lambda: order.append("memory"))
    QTest.keyClick(lab.editor, key)
    c = len(lab.editor.toPlainText())
    qtbot.waitUntil(lambda: lab.view is not None and lab.view.cursor == c, timeout=20000)
    return order, c


def _shows_memory(lab, s, c):
    want = s.memory(c)
    np.testing.assert_array_equal(lab.memory_panel.heights, want.weights / max(float(want.weights.max()), 1e-30))


def test_without_the_worker_the_memory_panel_is_fed_inside_the_frame(sequence_lab, qtbot):
    """The negative control: computed in-process, the influence reaches the Memory panel before
    the frame's ``rendered``, and nothing is left for a later turn of the event loop."""
    lab = sequence_lab
    s = _tiny_transformer_lab(lab, qtbot, None)
    order, c = _key_order(lab, qtbot, "z")
    assert order == ["memory", "rendered"] and lab.is_idle()
    _shows_memory(lab, s, c)


def test_render_feeds_the_memory_panel_before_it_returns(sequence_lab, qtbot, worker):
    """``render()`` is synchronous for every panel, the Memory panel included, with the worker on
    (not only when the panel next paints)."""
    lab = sequence_lab
    s = _tiny_transformer_lab(lab, qtbot, worker)
    shown: list[int] = []
    lab.memory_shown.connect(lambda: shown.append(lab.view.cursor))
    for c in (5, 12, 20):
        lab.move_cursor(c)
        lab.render()
        assert shown[-1:] == [c] and lab.view.cursor == c
        _shows_memory(lab, s, c)


def test_text_coloured_by_memory_is_computed_in_the_frame_not_sent(sequence_lab, qtbot, worker):
    """Colouring the text by the influence needs it inside the frame: it is not sent to the
    worker (collecting it at once would only wait for it) and the panel gets it before ``rendered``."""
    lab = sequence_lab
    s = _tiny_transformer_lab(lab, qtbot, worker)
    sent = worker.jobs
    assert sent > 0                                        # (by the panel alone, it was sent)
    lab.colour_combo.setCurrentText("memory (influence)")
    qtbot.waitUntil(lab.is_idle, timeout=20000)
    order, c = _key_order(lab, qtbot, "q")
    assert order == ["memory", "rendered"] and lab.is_idle()
    assert worker.jobs == sent
    _shows_memory(lab, s, c)


def test_numbers_promised_to_the_memory_panel_are_shown_when_it_paints_or_is_read(qtbot):
    """show_when_painted: nothing changes until the panel paints (it then draws the new bars in
    that paint, asking for no second one) or its bars are read; show_memory drops a promise."""
    from explorer.ui.sequence.memory_panel import MemoryPanel

    panel = MemoryPanel()
    qtbot.addWidget(panel)
    panel.resize(500, 170)
    panel.show_memory(0, np.array([1.0, 2.0]), "ab", "c", True)
    fed: list[int] = []

    def feed() -> None:
        fed.append(1)
        panel.show_memory(3, np.array([4.0, 1.0, 2.0]), "xyz", "w", False)

    panel.show_when_painted(feed)
    assert not fed
    image = panel.grab()                          # a paint: fed first, drawn with the new bars
    assert fed == [1] and panel.title() == "Memory → predicted next char 'w'"
    np.testing.assert_array_equal(panel.heights, [1.0, 0.25, 0.5])
    fresh = MemoryPanel()
    qtbot.addWidget(fresh)
    fresh.resize(500, 170)
    fresh.show_memory(3, np.array([4.0, 1.0, 2.0]), "xyz", "w", False)
    assert image.toImage() == fresh.grab().toImage()
    panel.show_when_painted(feed)
    np.testing.assert_array_equal(panel.heights, [1.0, 0.25, 0.5])   # read: fed (the same numbers)
    assert fed == [1, 1]
    panel.show_when_painted(feed)
    panel.show_memory(0, np.array([1.0, 2.0]), "ab", "c", True)       # newer numbers: the promise is dropped
    panel.grab()
    assert fed == [1, 1] and panel.title() == "Memory → actual next char 'c'"


def test_a_late_memory_that_fails_is_said_and_the_lab_carries_on(sequence_lab, qtbot, monkeypatch):
    """Collected as the Memory panel paints, a failing backward must not raise out of a paint:
    the status line says so and the next frames draw."""
    from explorer.session.sequence_parts import PendingMemory
    from explorer.session.sequence_transformer import TransformerSession

    lab = sequence_lab
    s = open_session(random_transformer(d_model=16, nhead=2, layers=2, context=64), name="tiny")
    lab.use_session(s, key=None)
    said: list[str] = []
    lab.status.connect(said.append)

    def boom():
        raise FloatingPointError("the backward overflowed")

    def job(self, c, window, elsewhere=True):
        return PendingMemory(start=0, weights=boom, finish=lambda w: None, elsewhere=True)

    monkeypatch.setattr(TransformerSession, "_memory_job", job)
    lab.editor.setPlainText("def f(a):\n    return a\n")
    lab.editor.moveCursor(lab.editor.textCursor().MoveOperation.End)
    qtbot.waitUntil(lambda: any("MemoryPanel" in m and "overflowed" in m for m in said), timeout=20000)
    frames = lab.frames
    QTest.keyClick(lab.editor, "z")
    qtbot.waitUntil(lambda: lab.frames > frames, timeout=20000)      # the lab carries on
    monkeypatch.undo()
    QTest.keyClick(lab.editor, "y")
    c = len(lab.editor.toPlainText())
    qtbot.waitUntil(lambda: lab.view is not None and lab.view.cursor == c, timeout=20000)
    want = s.memory(c)
    np.testing.assert_array_equal(lab.memory_panel.heights, want.weights / max(float(want.weights.max()), 1e-30))
    assert said[-1] == "every panel draws again"
