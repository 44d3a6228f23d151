"""The incremental drawing pipeline equals the from-scratch one (issue 16).

Pen moves are fed one at a time to ``StrokeRaster`` / ``DigitSession``; after every move
the network input must be the one ``preprocess_strokes`` computes from all points at once.
No timing here: the bench measures speed; these tests pin down that speed costs nothing.
"""

import numpy as np
import pytest

from explorer.data.preprocess import EmptyDrawing, StrokeRaster, preprocess_strokes
from explorer.engine import Model
from explorer.session.digits import DigitSession
from explorer.session.drawing import Stroke, network_input


def eight(n: int, cx: float = 140.0, cy: float = 140.0, size: float = 1.0) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n)
    return np.stack([cx + 60 * size * np.sin(2 * t), cy + 100 * size * np.sin(t)], 1).astype(np.float32)


def test_network_input_after_each_move_equals_from_scratch():
    rng = np.random.default_rng(0)
    strokes = [eight(400), np.array([[300.0, 10.0]], np.float32),           # a stray click
               (rng.uniform(40, 240, (150, 2))).astype(np.float32)]
    raster, done = StrokeRaster(), []
    checked = 0
    for s in strokes:
        buf = np.empty((len(s), 2), np.float32)
        for n in range(1, len(s) + 1):
            buf[n - 1] = s[n - 1]
            x = raster.update(done + [buf[:n]])
            if n % 7 == 0 or n < 12 or n == len(s):
                ref = preprocess_strokes(done + [buf[:n]])
                assert x.shape == ref.shape == (1, 28, 28)
                np.testing.assert_allclose(x, ref, rtol=0, atol=1e-6)
                checked += 1
        done.append(buf)
    assert checked > 100
    assert raster.rebuilds < 400                          # most moves only added a segment


def test_incremental_path_starts_over_when_the_drawing_is_not_an_extension():
    raster = StrokeRaster()
    a, b = eight(200), eight(120, 100, 120, 0.5)
    raster.update([a])
    np.testing.assert_array_equal(raster.update([b]), preprocess_strokes([b]))   # replaced
    np.testing.assert_array_equal(raster.update([b[:60]]), preprocess_strokes([b[:60]]))  # shrank
    moved = b.copy()
    moved[10] += 30.0                                                         # edited in place
    np.testing.assert_array_equal(raster.update([moved]), preprocess_strokes([moved]))
    with pytest.raises(EmptyDrawing):
        raster.update([])
    with pytest.raises(ValueError, match="finite"):
        raster.update([np.array([[1.0, np.nan]])])


def test_a_new_stroke_beside_a_long_one_renders_only_its_own_segments():
    long = eight(5000)
    raster = StrokeRaster()
    raster.update([long])
    before = raster.rebuilds
    new = np.empty((100, 2), np.float32)
    path = np.stack([np.linspace(120, 160, 100), np.full(100, 140.0)], 1)
    for n in range(1, 101):
        new[n - 1] = path[n - 1]
        x = raster.update([long, new[:n]])
    assert raster.rebuilds == before                      # the 5,000 points were not re-rendered
    np.testing.assert_array_equal(x, preprocess_strokes([long, new]))


def tiny_model() -> Model:
    from explorer.engine import Conv2d, Flatten, Linear, MaxPool2d, ReLU

    rng = np.random.default_rng(0)
    return Model([Conv2d(1, 2, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2), Flatten(),
                  Linear(392, 10, rng=rng)])


def test_session_moves_give_the_from_scratch_input_and_strokes_stay_immutable():
    session = DigitSession(tiny_model())
    pts = eight(700)
    session.begin_stroke(*pts[0])
    seen = []
    for i, (x, y) in enumerate(pts[1:], start=2):
        session.extend_stroke(float(x), float(y))
        if i % 50 == 0:
            frame = session.compute()
            ref = network_input(session.state)              # no raster: from scratch
            np.testing.assert_array_equal(frame.x, ref)
            seen.append((session.state.strokes[-1].points, i))
    session.end_stroke()
    for points, n in seen:                                  # earlier views were never rewritten
        np.testing.assert_array_equal(points, pts[:n])
    assert len(session.strokes) == 1 and len(session.strokes[0].points) == 700
    session.begin_stroke(20.0, 20.0)                        # second stroke beside it
    for t in range(1, 40):
        session.extend_stroke(20.0 + 2 * t, 20.0 + t)
    np.testing.assert_array_equal(session.compute().x, network_input(session.state))
    session.end_stroke()
    assert session.undo() and len(session.strokes) == 1
    np.testing.assert_array_equal(session.compute().x, network_input(session.state))
    session.set_strokes([Stroke(eight(50))])
    np.testing.assert_array_equal(session.compute().x, preprocess_strokes([eight(50)])[None])
