"""The drawing without a model (strokes, undo, eraser, network input, its file), and Listeners."""

import numpy as np
import pytest

from explorer.session.digits import DigitSession
from explorer.session.drawing import DamagedDrawing, Drawing, network_input
from explorer.session.listeners import Listeners
from explorer.training.digits import build_model

SEVEN = [(80 + t, 60) for t in np.linspace(0, 120, 20)] + [(200 - 0.55 * t, 60 + t) for t in np.linspace(0, 170, 30)]


def draw(drawing, pts, **kw):
    drawing.begin_stroke(*pts[0], **kw)
    for p in pts[1:]:
        drawing.extend_stroke(*p)
    drawing.end_stroke()


def test_a_drawing_needs_no_model_and_keeps_its_history():
    d = Drawing()
    assert d.is_empty and d.network_input() is None and not d.can_undo()
    draw(d, SEVEN)
    x = d.network_input()
    assert x is not None and x.shape == (1, 1, 28, 28)
    np.testing.assert_array_equal(x, network_input(d.state))          # the incremental input = from scratch
    before = d.version
    draw(d, [(60, 200), (220, 200)], erase=True)                       # the eraser cuts the 7's diagonal
    assert d.version > before and len(d.strokes) == 2
    assert d.undo() and len(d.strokes) == 1 and d.redo() and len(d.strokes) == 2
    d.clear()
    assert d.is_empty and d.undo() and len(d.strokes) == 2


def test_a_drawing_round_trips_through_its_file_and_refuses_a_foreign_one(tmp_path):
    d = Drawing()
    draw(d, SEVEN)
    d.save(tmp_path / "seven.npz")
    other = Drawing()
    other.load(tmp_path / "seven.npz")
    np.testing.assert_array_equal(other.strokes[0].points, d.strokes[0].points)
    (tmp_path / "junk.npz").write_bytes(b"not a drawing")
    with pytest.raises(DamagedDrawing):
        other.load(tmp_path / "junk.npz")
    assert len(other.strokes) == 1                                    # left as it was


def test_the_session_hands_its_drawing_on_and_counts_model_changes_in_its_version():
    s = DigitSession(build_model("cnn", 0))
    draw(s, SEVEN)
    assert s.strokes is s.drawing.strokes and s.state is s.drawing.state
    v, drawn = s.version, s.drawing.version
    s.set_channel_scale(0, 1, 0.0)                                     # an edit: the drawing did not change
    assert s.drawing.version == drawn and s.version == v + 1
    s.load_weights(build_model("cnn", 1).state_dict())
    assert s.version == v + 3 and not s.edits.active                 # new weights drop the edits (reset, load)


def test_listeners_are_told_in_order_and_one_removed_hears_nothing():
    heard: list[str] = []
    listeners: Listeners[str] = Listeners()

    def first(what: str) -> None:
        heard.append("first " + what)
        listeners.remove(first)                                        # a callback may leave while told

    def second(what: str) -> None:
        heard.append("second " + what)

    listeners.add(first)
    listeners.add(second)
    assert first in listeners and second in listeners
    listeners.tell("model")
    listeners.tell("weights")
    listeners.remove(first)                                            # gone already: nothing happens
    assert heard == ["first model", "second model", "second weights"] and first not in listeners
