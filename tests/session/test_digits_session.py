"""DigitSession: drawing history, network input, inspector numbers = engine numbers (no Qt)."""

import numpy as np
import pytest

from explorer.analysis.cnn_explain import explain_conv, explain_pool, receptive_field, worked_conv_example, worked_pool_example
from explorer.engine import Conv2d, Flatten, Linear, MaxPool2d, Model, ReLU
from explorer.session.digits import DigitSession, stages_of
from explorer.session.drawing import Stroke, densify, erase_strokes


def tiny(seed=0):
    rng = np.random.default_rng(seed)
    return Model([Conv2d(1, 2, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
                  Conv2d(2, 3, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2), Flatten(),
                  Linear(147, 8, rng=rng), ReLU(), Linear(8, 10, rng=rng)])


def draw(session, pts, **kw):
    session.begin_stroke(*pts[0], **kw)
    for p in pts[1:]:
        session.extend_stroke(*p)
    session.end_stroke()


SEVEN = [(80 + t, 60) for t in np.linspace(0, 120, 20)] + [(200 - 0.55 * t, 60 + t) for t in np.linspace(0, 170, 30)]
BAR = [(140, 40 + t) for t in np.linspace(0, 200, 20)]


def test_empty_drawing_has_no_guess():
    s = DigitSession(tiny())
    assert s.is_empty and s.compute() is None and s.classify_strokes([]) is None


def test_compute_matches_classify_strokes_and_undo_redo():
    s = DigitSession(tiny())
    draw(s, SEVEN)
    one = s.compute().probs
    assert one.shape == (10,) and abs(float(one.sum()) - 1) < 1e-5
    np.testing.assert_array_equal(one, s.classify_strokes([np.array(SEVEN)]))
    draw(s, BAR)
    two = s.compute().probs
    assert not np.allclose(one, two)
    assert s.undo()
    np.testing.assert_array_equal(s.compute().probs, one)
    assert s.redo()
    np.testing.assert_array_equal(s.compute().probs, two)
    s.clear()
    assert s.compute() is None
    assert s.undo() and len(s.strokes) == 2


def test_eraser_cuts_strokes_and_is_one_undo_step():
    s = DigitSession(tiny())
    draw(s, BAR)
    draw(s, [(100, 140), (180, 140)], width=20, erase=True)
    assert len(s.strokes) == 2                                  # the bar was cut in two
    assert all(np.all(np.abs(st.points[:, 1] - 140) > 10) for st in s.strokes)
    assert s.undo() and len(s.strokes) == 1


def test_erase_far_away_keeps_strokes_identical():
    strokes = (Stroke(densify(np.array(BAR, np.float32))),)
    assert erase_strokes(strokes, np.array([[10.0, 10.0]]), 5.0) == strokes


@pytest.mark.parametrize("cell", [(0, 1, 5, 7), (0, 0, 0, 0), (3, 2, 6, 3), (3, 1, 13, 13)])
def test_conv_explanation_equals_engine(cell):
    s = DigitSession(tiny(1))
    draw(s, SEVEN)
    frame = s.compute()
    ex = s.explain_conv_cell(frame, *cell)
    assert ex.engine == pytest.approx(ex.pre, rel=1e-5, abs=1e-6)
    assert ex.post == max(ex.pre, 0.0)
    relu = float(frame.trace.outputs[cell[0] + 1][0, cell[1], cell[2], cell[3]])
    assert relu == pytest.approx(ex.post, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(ex.products, ex.patch * ex.kernel)


def test_pool_explanation_equals_engine():
    s = DigitSession(tiny(2))
    draw(s, SEVEN)
    frame = s.compute()
    for c, r, col in [(0, 3, 4), (1, 7, 7), (1, 13, 0)]:
        ex = s.explain_pool_cell(frame, 2, c, r, col)
        assert ex.value == ex.engine == ex.window.max()
        assert ex.window[ex.winner] == ex.value


def test_worked_examples():
    assert worked_conv_example().pre == 4.0 and worked_conv_example().post == 4.0
    assert worked_pool_example().value == 3.0 and worked_pool_example().winner == (1, 0)
    assert explain_conv(np.ones((3, 3)), -np.ones((3, 3)), 2.0).post == 0.0
    assert explain_pool(np.array([[0.0, -1.0], [-2.0, -3.0]])).winner == (0, 0)


def test_stages_and_receptive_fields():
    m = tiny()
    names = [st.name for st in stages_of(m)]
    assert names == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "dense1"]
    assert stages_of(m)[0].title == "conv1 · 2 × 28×28"
    assert receptive_field(m, 0, 5, 5) == (4, 4, 6, 6)
    assert receptive_field(m, 2, 5, 5) == (9, 9, 12, 12)       # 2x2 window of 3x3 fields
    assert receptive_field(m, 3, 5, 5) == (7, 7, 14, 14)      # 3x3 over pooled -> 8x8 on input


def test_pool_winner_mask_marks_one_cell_per_window():
    s = DigitSession(tiny())
    draw(s, SEVEN)
    frame = s.compute()
    mask = s.pool_winner_mask(frame, 2, positive_only=False)
    assert mask.shape == (2, 28, 28)
    assert (mask.reshape(2, 14, 2, 14, 2).sum(axis=(2, 4)) == 1).all()


def test_saliency_matches_finite_difference():
    s = DigitSession(tiny(3).astype(np.float64))
    draw(s, SEVEN)
    frame = s.compute()
    g = s.saliency(frame)
    top = int(np.argmax(frame.probs))
    x = frame.x.astype(np.float64)
    i, j = np.unravel_index(int(np.argmax(np.abs(g))), g.shape)
    eps = 1e-6
    up, down = x.copy(), x.copy()
    up[0, 0, i, j] += eps
    down[0, 0, i, j] -= eps
    num = (s.model.predict(up)[0, top] - s.model.predict(down)[0, top]) / (2 * eps)
    assert g[i, j] == pytest.approx(num, rel=1e-3)


def test_save_and_load_roundtrip(tmp_path):
    s = DigitSession(tiny())
    draw(s, SEVEN)
    ink = np.zeros((280, 280), np.float32)
    s.save(tmp_path / "d.npz")
    t = DigitSession(tiny())
    t.load(tmp_path / "d.npz")
    np.testing.assert_array_equal(t.compute().probs, s.compute().probs)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError):
        t.load(tmp_path / "bad.npz")
    ink[100:180, 130:150] = 1.0
    t.set_background(ink)
    t.save(tmp_path / "bg.npz")
    u = DigitSession(tiny())
    u.load(tmp_path / "bg.npz")
    np.testing.assert_allclose(u.compute().x, t.compute().x, atol=1e-2)
