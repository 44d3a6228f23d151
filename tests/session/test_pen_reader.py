"""PenReader: the pen RNN reading the drawing while it is drawn (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.data.pen import PenStream, pen_features
from explorer.engine import Model, softmax
from explorer.session.digits import DigitSession, default_digit_model
from explorer.session.drawing import Stroke
from explorer.session.pen_reader import (
    CnnOverPenTime,
    NotAPenModel,
    PenReader,
    check_pen_model,
    knew_at,
    random_pen_model,
    read_at_once,
)


def _strokes() -> list[np.ndarray]:
    t = np.linspace(0.0, 5.5, 160)
    loop = np.stack([140 + 55 * np.sin(t), 120 + 70 * np.cos(t)], axis=1)
    bar = np.stack([np.linspace(60, 220, 70), np.linspace(230, 215, 70)], axis=1)
    dot = np.array([[200.0, 40.0]])
    return [a.astype(np.float32) for a in (loop, bar, dot)]


def _draw(session: DigitSession, reader: PenReader, strokes: list[np.ndarray], every: int = 1) -> list[np.ndarray]:
    """Draw through the session's pen events; the reader follows after every ``every`` events.
    Returns the reader's probabilities after each follow."""
    seen: list[np.ndarray] = []
    n = 0

    def tick(force: bool = False) -> None:
        nonlocal n
        n += 1
        if force or n % every == 0:
            reader.follow_session(session)
            seen.append(reader.reading().probs.copy())
    for s in strokes:
        session.begin_stroke(*s[0])
        tick()
        for x, y in s[1:]:
            session.extend_stroke(x, y)
            tick()
        session.end_stroke()
        tick(force=True)
    return seen


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
@pytest.mark.parametrize("every", [1, 7])
def test_live_reading_equals_reading_the_finished_strokes(cell: str, every: int) -> None:
    model = random_pen_model(cell, hidden=24, seed=3)
    session, reader = DigitSession(default_digit_model()), PenReader(model)
    strokes = _strokes()
    seen = _draw(session, reader, strokes, every)
    once = read_at_once(model, strokes)
    live = reader.reading().probs
    assert live.shape == once.shape and len(once) > 30
    np.testing.assert_allclose(live, once, atol=1e-6, rtol=0)
    # every intermediate reading is a prefix of the final one: rows never change afterwards
    for probs in seen:
        np.testing.assert_allclose(probs, once[: len(probs)], atol=1e-6, rtol=0)
    assert reader.rereads == 0                        # drawing never made it start again
    np.testing.assert_allclose(reader.probabilities(), once[-1], atol=1e-6, rtol=0)
    # the rows are the contract's causal encoding, bit for bit
    np.testing.assert_array_equal(reader.reading().rows, pen_features(strokes, reader.spec))


def test_reading_is_the_model_forward_on_the_pen_features() -> None:
    model = random_pen_model("LSTM", hidden=16, seed=1)
    strokes = _strokes()
    logits = model.forward(pen_features(strokes, check_pen_model(model)[1])[None])
    np.testing.assert_allclose(read_at_once(model, strokes), softmax(logits[0]), atol=1e-7)
    # a negative control: the same strokes in another order read differently
    assert not np.allclose(read_at_once(model, strokes[::-1])[-1], read_at_once(model, strokes)[-1], atol=1e-6)


def test_hidden_and_gates_per_pen_step_match_a_full_run() -> None:
    model = random_pen_model("LSTM", hidden=12, seed=5)
    reader = PenReader(model)
    strokes = _strokes()
    _draw(DigitSession(default_digit_model()), reader, strokes)
    y, _, gates = model.layers[0].run(pen_features(strokes, reader.spec)[None])
    r = reader.reading()
    np.testing.assert_allclose(r.hidden, y[0], atol=1e-6)
    assert set(r.gates) == {"i", "f", "g", "o"}
    for k in "ifgo":
        np.testing.assert_allclose(r.gates[k], gates[k][0], atol=1e-6)
    assert r.stroke.tolist() == sorted(r.stroke.tolist()) and r.stroke[-1] == len(strokes) - 1


def test_undo_erase_clear_and_redraw_read_again_from_scratch() -> None:
    model = random_pen_model("GRU", hidden=16, seed=2)
    session, reader = DigitSession(default_digit_model()), PenReader(model)
    strokes = _strokes()
    _draw(session, reader, strokes)
    assert session.undo()
    reader.follow_session(session)
    np.testing.assert_allclose(reader.reading().probs, read_at_once(model, strokes[:2]), atol=1e-6)
    assert reader.rereads == 1
    # the eraser cuts the loop in two: the reader reads the cut strokes
    session.begin_stroke(140, 50, width=30, erase=True)
    session.extend_stroke(140, 60)
    session.end_stroke()
    reader.follow_session(session)
    cut = [s.points for s in session.state.strokes]
    assert len(cut) == 3
    np.testing.assert_allclose(reader.reading().probs, read_at_once(model, cut), atol=1e-6)
    session.clear()
    reader.follow_session(session)
    assert reader.probabilities() is None and reader.reading().steps == 0
    _draw(session, reader, strokes[1:2])
    np.testing.assert_allclose(reader.reading().probs, read_at_once(model, strokes[1:2]), atol=1e-6)


def test_an_opened_image_says_it_has_no_pen() -> None:
    session, reader = DigitSession(default_digit_model()), PenReader(random_pen_model())
    session.set_background(np.zeros((280, 280), np.float32) + 0.5)
    reader.follow_session(session)
    r = reader.reading()
    assert r.steps == 0 and reader.probabilities() is None
    assert r.note is not None and "no pen" in r.note
    _draw(session, reader, _strokes()[1:2])
    assert reader.reading().steps > 0 and "only strokes drawn on it" in (reader.reading().note or "")


def test_knew_at_is_the_first_step_from_which_the_answer_stays_right() -> None:
    def probs(labels: list[int]) -> np.ndarray:
        p = np.full((len(labels), 10), 0.01, np.float32)
        p[np.arange(len(labels)), labels] = 0.91
        return p
    assert knew_at(probs([1, 7, 7, 1, 7, 7, 7]), 7) == 4
    assert knew_at(probs([7, 7, 7]), 7) == 0
    assert knew_at(probs([7, 7, 1]), 7) is None                # wrong at the end: it never knew
    assert knew_at(probs([3, 1, 1]), None) == 1                # default target: the last answer
    assert knew_at(probs([2, 2, 9, 2]), 2) == 3
    p = probs([7, 7, 7])
    p[1] = np.nan
    assert knew_at(p, 7) is None                              # an unknown step: not decided yet
    assert knew_at(np.zeros((0, 10)), 7) is None


def test_the_cnn_over_pen_time_reads_the_drawing_cut_at_each_step() -> None:
    cnn = default_digit_model(1)
    session, reader = DigitSession(cnn), PenReader(random_pen_model(hidden=8))
    strokes = _strokes()[:2]
    over = CnnOverPenTime()
    for s in strokes:                              # a frame every 5 pen events, the CNN offered each time
        session.begin_stroke(*s[0])
        for i, (x, y) in enumerate(s[1:]):
            session.extend_stroke(x, y)
            if i % 5 == 0:
                reader.follow_session(session)
                now = [st.points for st in session.state.strokes]
                over.sync(reader, now)
                over.offer(session.classify_strokes(now), now)
        session.end_stroke()
    reader.follow_session(session)
    now = [st.points for st in session.state.strokes]
    over.sync(reader, now)
    calls: list[int] = []

    def classify(part: list[np.ndarray]) -> np.ndarray | None:
        calls.append(1)
        return session.classify_strokes(part)
    left = over.fill(classify, 4)
    assert len(calls) == 4 and left > 0
    while over.fill(classify, 50):
        pass
    got = over.probs
    assert got.shape == (reader.steps, 10) and not np.isnan(got).any()
    for t, (s, p) in enumerate(reader.cuts):                  # each step: the CNN on the drawing as it was
        part = strokes[: s - 1] + [strokes[s - 1][:p]]
        want = session.classify_strokes(part)
        np.testing.assert_array_equal(got[t], want)
    # undo the second stroke: the steps of the first stay, nothing is recomputed
    assert session.undo()
    reader.follow_session(session)
    over.sync(reader, [st.points for st in session.state.strokes])
    assert over.fill(lambda part: pytest.fail("recomputed a step it had"), 10) == 0   # type: ignore[func-returns-value]


def test_only_pen_models_are_read() -> None:
    with pytest.raises(NotAPenModel, match="pen"):
        PenReader(default_digit_model())
    m = random_pen_model()
    m.meta["pen"] = {"encoding": "nope"}
    with pytest.raises(NotAPenModel, match="unusable"):
        check_pen_model(m)
    odd = Model([random_pen_model().layers[0]], meta=random_pen_model().meta)
    with pytest.raises(NotAPenModel):
        check_pen_model(odd)


def test_a_stream_fed_point_by_point_gives_the_reader_rows() -> None:
    # the reader feeds PenStream exactly the points drawn: its rows equal a stream of its own
    reader = PenReader(random_pen_model(hidden=8))
    stream = PenStream(reader.spec)
    s = _strokes()[0]
    reader.begin_stroke(*s[0])
    stream.begin_stroke(*s[0])
    for x, y in s[1:40]:
        reader.extend(x, y)
        stream.extend(x, y)
    np.testing.assert_array_equal(reader.reading().rows, stream.rows())
    assert reader.steps == stream.n_rows
    _ = Stroke  # the session's stroke type is what the lab hands over


def test_following_a_stroke_lines_the_cnn_up_with_the_new_steps_only() -> None:
    """Pen moves that only add steps skip the step-by-step comparison and end exactly where a
    full comparison at every sync ends (same cuts, same readings, same NaN rows), through two
    strokes and an undo (the reader reads again: the full comparison runs)."""
    cnn = default_digit_model(1)
    session, reader = DigitSession(cnn), PenReader(random_pen_model(hidden=8))
    fast, slow = CnnOverPenTime(), CnnOverPenTime()

    def frame(i: int) -> None:
        reader.follow_session(session)
        now = [st.points for st in session.state.strokes]
        probs = session.classify_strokes(now) if i % 3 == 0 else None
        slow._source = None                                  # never the fast path: compare every step
        for over in (fast, slow):
            over.sync(reader, now)
            over.offer(probs, now)
        assert fast._cuts == slow._cuts == list(reader.cuts)
        assert np.array_equal(fast.probs, slow.probs, equal_nan=True)

    for stroke in _strokes()[:2]:
        session.begin_stroke(*stroke[0])
        for i, (x, y) in enumerate(stroke[1:]):
            session.extend_stroke(x, y)
            frame(i)
        session.end_stroke()
        frame(0)
    assert fast.scans <= 2 < slow.scans                      # the first sync, and little else
    assert (~np.isnan(fast.probs[:, 0])).sum() > 0
    scans = fast.scans
    assert session.undo()
    frame(0)
    assert fast.scans == scans + 1                           # the reader read again: every step compared
    assert np.array_equal(fast.probs, slow.probs, equal_nan=True)
