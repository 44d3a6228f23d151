"""The eraser's incremental network input equals the from-scratch one (issue 16).

A cut stroke keeps its other segments, so ``StrokeRaster`` re-renders only where the lost
segments reached; after every eraser move the input must be ``preprocess_strokes``'s.
"""

import numpy as np

from explorer.data.preprocess import StrokeRaster, preprocess_strokes
from explorer.session.digits import DigitSession
from explorer.session.drawing import densify, erase_strokes
from tests.perf.test_incremental_drawing import eight, tiny_model


def test_cutting_strokes_move_by_move_equals_from_scratch_and_stays_local():
    strokes = [densify(eight(3000)), densify(eight(200, 150, 130, 0.4)),
               densify(np.array([[30.0, 240.0], [250.0, 40.0]], np.float32))]
    from explorer.session.drawing import Stroke
    state = tuple(Stroke(p) for p in strokes)
    raster = StrokeRaster()
    raster.update([s.points for s in state])
    rebuilds, cuts = raster.rebuilds, 0
    path = np.stack([np.linspace(60, 220, 40), np.linspace(60, 200, 40)], 1).astype(np.float32)
    for i in range(1, len(path)):
        cut = erase_strokes(state, path[i - 1:i + 1], 6.0)
        cuts += cut != state
        state = cut
        lines = [s.points for s in state]
        x = raster.update(lines)
        np.testing.assert_array_equal(x, preprocess_strokes(lines))
    assert len(state) > 3 and cuts > 10                    # strokes were cut into pieces
    assert raster.patches >= cuts - 2 and raster.rebuilds - rebuilds <= 2


def test_patch_handles_removal_undo_and_a_changed_scale():
    a, b = densify(eight(800)), densify(eight(300, 140, 140, 0.3))
    raster = StrokeRaster()
    for lines in ([a, b], [a], [a, b], [b], [a[:400], b], [a[:400], a[500:], b], [a, b]):
        np.testing.assert_array_equal(raster.update(lines), preprocess_strokes(lines))
    assert raster.patches >= 2 and raster.rebuilds >= 3       # both paths were taken


def test_session_eraser_moves_give_the_from_scratch_input():
    from explorer.session.drawing import network_input
    session = DigitSession(tiny_model())
    for pts in (eight(600), eight(150, 200, 60, 0.3)):
        session.begin_stroke(*pts[0])
        for x, y in pts[1:]:
            session.extend_stroke(float(x), float(y))
        session.end_stroke()
    session.compute()
    before = session.drawing.raster.rebuilds
    session.begin_stroke(80.0, 40.0, width=14.0, erase=True)
    moves = 0
    for t in np.linspace(0, 1, 30)[1:]:
        session.extend_stroke(80.0 + 120 * t, 40.0 + 200 * t)
        np.testing.assert_array_equal(session.compute().x, network_input(session.state))
        moves += 1
    session.end_stroke()
    assert len(session.strokes) > 2                        # the eraser cut the eight
    assert session.drawing.raster.rebuilds - before <= 3 < moves
