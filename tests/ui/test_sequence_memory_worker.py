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
    answered = worker.answered
    for key in "x = (y)":
        QTest.keyClick(lab.editor, key)
        c = len(lab.editor.toPlainText())
        qtbot.waitUntil(lambda c=c: lab.view is not None and lab.view.cursor == c and lab.view.length == c,
                        timeout=20000)
        want = s.memory(c, window=60) if cell != "transformer" else s.memory(c)
        assert s.last_memory_job.source == "worker"
        np.testing.assert_array_equal(lab.memory_panel.heights, want.weights / max(float(want.weights.max()), 1e-30))
        assert lab.view.memory.start == want.start and lab.view.memory_chars == s.text[want.start:c]
    assert worker.answered - answered == len("x = (y)")
