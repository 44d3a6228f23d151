"""build_view(session, cursor): one typed view per render, with the documented shapes."""

import dataclasses

import numpy as np
import pytest

from explorer.session.sequence import SequenceSession, random_model
from explorer.session.sequence_view import FrameRequest, SequenceView, StepView, build_view

TEXT = "def f(x):\n    return x * 2  # twice\n"


def session(cell="LSTM", hidden=8, seed=1, text=TEXT):
    s = SequenceSession(random_model(cell, hidden=hidden, seed=seed), name=f"tiny {cell}")
    s.set_text(text)
    return s


def request(**kw):
    base = dict(window=12, trail=5, strip_cells=7, unit=2, colour_mode="selected unit", visible=(0, len(TEXT)))
    base.update(kw)
    return FrameRequest(**base)


@pytest.mark.parametrize("cell, gates", [("LSTM", ("i", "f", "o", "c")), ("GRU", ("r", "z")), ("RNN", ())])
def test_frame_has_the_documented_shapes(cell, gates):
    s = session(cell)
    c = 20
    v = build_view(s, c, request())
    assert isinstance(v, SequenceView)
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.cursor = 3  # type: ignore[misc]
    assert v.cursor == c and v.step == c - 1 and v.start <= v.step < v.stop <= v.start + 12
    assert v.h.shape == (v.stop - v.start, 8) and v.chars == TEXT[v.start:v.stop]
    np.testing.assert_array_equal(v.h, s.hidden_states(v.start, v.stop))
    assert tuple(v.gates) == gates
    assert all(g.shape == v.h.shape for g in v.gates.values())
    basis = s.trajectory_basis()
    assert v.trail.shape == (5, basis.n_components) and v.trail_first == c - 5 and v.trail_chars == TEXT[c - 5:c]
    np.testing.assert_allclose(v.trail, basis.transform(s.hidden_states(c - 5, c)), atol=1e-6)
    assert len(v.top) == 5 and [p for _, p, _ in v.top] == sorted((p for _, p, _ in v.top), reverse=True)
    assert v.actual == s.ids[c]                              # the next character is the right answer
    assert len(v.strip_probs) == len(v.strip_chars) == len(v.strip_unknown) == 7
    assert v.strip_start <= c - 1 < v.strip_start + 7
    assert v.memory is not None and v.memory.start + len(v.memory.weights) == c
    assert v.memory_chars == TEXT[v.memory.start:c]
    assert [st.step if st else None for st in v.steps] == [c - 2, c - 1, c]
    assert all(isinstance(st, StepView) and st.h.shape == (8,) for st in v.steps)
    values, offset = v.colour
    assert offset == 0
    np.testing.assert_array_equal(values, s.hidden_states()[:, 2])
    assert cell in v.description and "8 units" in v.description


def test_frame_at_the_start_and_the_colour_modes():
    s = session()
    v = build_view(s, 0, request(colour_mode="memory (influence)"))
    assert v.step == -1 and v.trail.shape[0] == 0 and v.memory is None and v.colour is None
    assert v.top[0][1] == pytest.approx(float(s.output_probs(-1, 0).max()))
    v = build_view(s, 10, request(colour_mode="surprise (P of actual)", visible=(4, 9)))
    values, offset = v.colour
    assert offset == 4
    np.testing.assert_allclose(values, 2 * s.actual_probs(4, 9) - 1)
    v = build_view(s, 10, request(colour_mode="memory (influence)"))
    assert v.colour_palette == "memory" and v.colour[1] == v.memory.start
    assert build_view(s, 10, request(colour_mode="nothing")).colour is None


def test_cell_state_colour_is_tanh_of_c():
    s = session()
    v = build_view(s, 10, request(unit_state="c"))
    np.testing.assert_allclose(v.colour[0], np.tanh(s.cell_states()[:, 2]))


def test_hidden_states_equal_a_run_from_zero_and_typed_equals_pasted():
    for text in ("a", TEXT, "x = [1, 2, (3)]\n" * 20):
        s = session(text=text)
        h = s.hidden_states()
        ref = s.rec.forward(s.embed(s.ids))[0][0]
        np.testing.assert_allclose(h, ref, atol=1e-5)
        typed = SequenceSession(s.model)
        for k in range(1, len(text) + 1, 7):
            typed.set_text(text[:k])
        typed.set_text(text)
        np.testing.assert_array_equal(typed.hidden_states(), h)


def test_set_model_and_load_weights_go_through_the_session_and_tell_the_listeners():
    s = session()
    heard = []
    s.listeners.add(heard.append)
    before = s.hidden_states()
    other = random_model("GRU", hidden=5, seed=2)
    s.set_model(other, name="other")
    assert heard == [s] and s.text == TEXT and s.cell == "GRU"
    assert s.hidden_states().shape == (len(TEXT), 5)
    state = {k: v * 0.5 for k, v in other.state_dict().items()}
    old = s.hidden_states()
    s.load_weights(state)
    assert len(heard) == 2 and s.model is other
    assert not np.allclose(s.hidden_states(), old)
    assert before.shape == (len(TEXT), 8)


def test_the_basis_is_fitted_once_per_key():
    a, b = session(), session()
    a.basis_key = b.basis_key = "test-basis-key-shared"
    assert a.trajectory_basis() is b.trajectory_basis()
    c = session()
    assert c.trajectory_basis() is not a.trajectory_basis() and c.trajectory_basis() is c.trajectory_basis()


def test_row_order_is_fixed_per_model_and_puts_correlated_units_together():
    from explorer.analysis.unit_order import similarity_order
    s = session(hidden=12)
    order = s.row_order()
    assert sorted(order.tolist()) == list(range(12))
    s.set_text(TEXT + "more text typed later\n")
    assert s.row_order() is order                                  # fixed: typing does not reshuffle
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 500))
    states = np.stack([a, b, a + 0.01 * rng.normal(size=500), b + 0.01 * rng.normal(size=500),
                       -a + 0.05 * rng.normal(size=500)], axis=1)
    o = similarity_order(states).tolist()
    pos = {u: o.index(u) for u in range(5)}
    assert abs(pos[0] - pos[2]) == 1 and abs(pos[1] - pos[3]) == 1      # near twins are neighbours
    np.testing.assert_array_equal(s.row_order("unit"), np.arange(12))


def test_clamped_run_matches_generates_clamp_and_drives_predictions_and_surprise():
    from explorer.analysis.generate import Writer
    from explorer.engine.losses import softmax
    s = session(hidden=8)
    c, stop, unit, value = 12, 20, 3, 0.9
    got = s.clamped_probs(c, unit, value, stop)
    w = Writer(s.model, (unit, value))
    w.read(TEXT[:c])
    ref = [softmax(w.logits[None])[0]]
    for t in range(c, stop):
        w._advance(s.ids[t:t + 1])
        w._clamp()
        w._predict()
        ref.append(softmax(w.logits[None])[0])
    np.testing.assert_allclose(got, np.array(ref), atol=1e-5)
    assert not np.allclose(got[0], s.output_probs(c - 1, c)[0], atol=1e-3)   # the clamp changes it
    v = build_view(s, c, request(clamp=(unit, value), colour_mode="surprise (P of actual)", visible=(0, stop)))
    np.testing.assert_allclose(v.clamped_p, got[0, [i for _, _, i in v.top]], atol=1e-7)
    values, lo = v.colour
    np.testing.assert_allclose(values[:c], 2 * s.actual_probs(0, c) - 1)              # before the cursor: as trained
    np.testing.assert_allclose(values[c:stop], 2 * got[np.arange(stop - c), s.ids[c:stop]] - 1, atol=1e-6)
    assert build_view(s, c, request()).clamped_p is None
