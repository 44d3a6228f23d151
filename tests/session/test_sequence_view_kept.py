"""A view built on the last one (its heat-map window and unrolled steps reused where the ids
before them are the same) equals a view built from nothing, through every kind of edit; and
``SequenceSession.same_before`` says how many leading ids an edit left alone."""

import numpy as np
import pytest

from explorer.session import sequence as sequence_mod
from explorer.session import sequence_view
from explorer.session.sequence import SequenceSession, random_model
from explorer.session.sequence_transformer import TransformerSession, random_transformer
from explorer.session.sequence_view import FrameRequest, build_view

TEXT = "def f(x):\n    return x * 2  # twice\n" * 4


def _new(cell: str, seed: int = 1) -> SequenceSession:
    if cell == "transformer":
        return TransformerSession(random_transformer(d_model=16, nhead=2, layers=1, context=32, seed=seed),
                                  name="tiny transformer")
    return SequenceSession(random_model(cell, hidden=8, seed=seed), name=f"tiny {cell}")


def _request(**kw) -> FrameRequest:
    base = dict(window=30, trail=5, strip_cells=7, unit=2, colour_mode="selected unit", visible=(0, 400))
    base.update(kw)
    return FrameRequest(**base)


def _edits():
    """(text, cursor, request) in the order a user might make them."""
    text = TEXT
    for ch in "y = 3":                                         # typing at the end
        text += ch
        yield text, len(text), _request()
    text = text[:-1]                                           # backspace
    yield text, len(text), _request()
    yield text, len(text) - 10, _request()                     # the cursor moved back
    text = text[:40] + "zz" + text[40:]                        # typing in the middle
    yield text, 42, _request()
    yield text, 42, _request(rows="unit")                      # another row order
    yield text, 42, _request(rows="unit", unit_state="c")      # the cell state's values
    yield text, 42, _request(rows="unit", unit=5)              # another unit
    yield text, 42, _request(rows="unit", visible=(20, 90))    # scrolled
    text = text[:30] + text[60:]                               # a cut
    yield text, 30, _request(rows="unit")
    text = text + "\u00e9\u00e9 ok"                            # unknown characters (one id for both)
    yield text, len(text), _request()
    text = text[:-5] + "\u00e8" + text[-4:]                    # one unknown for another: the same ids
    yield text, len(text), _request()
    text = text + "x" * 60                                     # the window hops
    yield text, len(text), _request()
    yield text, len(text), _request(unrolled=False)
    yield text, len(text), _request(colour_mode="surprise (P of actual)")
    for ch in "abc":                                           # typing, colouring by c
        text += ch
        yield text, len(text), _request(unit_state="c")
    yield text, len(text), _request()
    yield "", 0, _request()                                    # all of it deleted
    yield "ab", 2, _request()


def _same_view(a, b) -> None:
    for name in ("cursor", "start", "stop", "chars", "unit_row", "trail_first", "trail_chars", "top"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("h", "h_rows", "rows", "trail"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert (a.colour is None) == (b.colour is None) and a.colour_palette == b.colour_palette
    if a.colour is not None:
        assert a.colour[1] == b.colour[1]
        np.testing.assert_array_equal(a.colour[0], b.colour[0], err_msg="colour")
    assert len(a.steps) == len(b.steps) == 3
    for x, y in zip(a.steps, b.steps):
        assert (x is None) == (y is None)
        if x is not None:
            assert (x.step, x.char, [label for label, _ in x.top]) == (y.step, y.char, [label for label, _ in y.top])
            # (the session's output rows are computed in batches of whatever was read before,
            # so their last float32 bits follow the reads: the same before and after this reuse)
            assert [p for _, p in x.top] == pytest.approx([p for _, p in y.top], rel=1e-5)
            np.testing.assert_array_equal(x.x, y.x)
            np.testing.assert_array_equal(x.h, y.h)


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN", "transformer"])
def test_a_view_built_on_the_last_equals_one_built_from_nothing(cell):
    s, ref = _new(cell), _new(cell)
    reused = 0
    for text, cursor, req in _edits():
        s.set_text(text)
        ref.set_text(text)
        v = build_view(s, cursor, req)
        sequence_view._KEPT.pop(ref, None)                     # the reference: nothing kept
        _same_view(v, build_view(ref, cursor, req))
        # the slow reads: the trail and the steps' states straight from the session
        np.testing.assert_array_equal(v.trail, s.trajectory_basis().transform(s.hidden_states(v.trail_first, v.step + 1)))
        for st in v.steps:
            if st is not None:
                np.testing.assert_array_equal(st.h, s.hidden_states(st.step, st.step + 1)[0])
        reused += any(st is not None and sequence_view._KEPT[s].steps.get(st.step) is st for st in v.steps)
    assert reused >= 3


def test_a_new_model_on_the_same_text_is_not_read_from_the_last_view():
    s = _new("LSTM", seed=1)
    s.set_text(TEXT)
    before = build_view(s, len(TEXT), _request())
    s.set_model(random_model("LSTM", hidden=8, seed=2), name="other")
    after = build_view(s, len(TEXT), _request())
    ref = _new("LSTM", seed=2)
    ref.set_text(TEXT)
    _same_view(after, build_view(ref, len(TEXT), _request()))
    assert not np.array_equal(before.h, after.h)


def test_reuse_that_ignores_an_edit_is_caught(monkeypatch):
    """Negative control: a session that says nothing changed gives a stale window, which the
    comparison above sees."""
    s, ref = _new("LSTM"), _new("LSTM")
    for x in (s, ref):
        x.set_text(TEXT)
    build_view(s, len(TEXT), _request())
    monkeypatch.setattr(s, "same_before", lambda revision: len(s.ids))
    edited = TEXT[:-8] + "Q" + TEXT[-7:]                       # a character inside the window
    for x in (s, ref):
        x.set_text(edited)
    with pytest.raises(AssertionError):
        _same_view(build_view(s, len(TEXT), _request()), build_view(ref, len(TEXT), _request()))


def test_same_before_follows_the_edits(monkeypatch):
    s = _new("LSTM")
    s.set_text("abcdef")
    r0 = s.revision
    assert s.same_before(r0) == 6
    s.set_text("abcdef")                                       # no change: no new revision
    assert s.revision == r0
    s.set_text("abcdefgh")
    r1 = s.revision
    assert r1 != r0 and s.same_before(r0) == 6 and s.same_before(r1) == 8
    s.set_text("abXdefgh")
    assert s.same_before(r0) == 2 and s.same_before(r1) == 2
    s.set_text("ab")
    assert s.same_before(r1) == 2
    s.set_model(random_model("LSTM", hidden=8, seed=5), name="other")
    assert s.same_before(r1) == 0                              # another model: nothing is the same
    monkeypatch.setattr(sequence_mod, "EDIT_LOG", 3)
    r2 = s.revision
    for ch in "cdef":
        s.set_text(s.text + ch)
    assert s.same_before(r2) == 0                              # older than the edits remembered
    assert s.same_before(s.revision) == len(s.text)


@pytest.mark.parametrize("toy", [False, True])
def test_typed_characters_get_the_ids_and_states_of_a_fresh_encode(toy):
    """Typing at the end encodes each new character once per model (no array per key): the
    ids and states equal those of the whole text set at once, unknown and astral characters
    included; a deletion, then typing again, too."""
    from explorer.data.vocab import Vocab
    model = random_model("GRU", hidden=6, seed=0, vocab=Vocab("01", unknown=False) if toy else None)
    if toy:
        model.meta.update({"toy_task": "parity", "alphabet": "01", "classes": ["even", "odd"]})
    s, ref = SequenceSession(model, name="typed"), SequenceSession(model, name="fresh")
    text = ""
    for ch in ("0110 1x\u00e9\U0001F600" if toy else "def f(x):\u00e9\U0001F600 ok\u00e9"):
        text += ch
        s.set_text(text)
    s.set_text(text[:-3])
    s.set_text(text[:-3] + text[-3:])
    ref.set_text(text)
    np.testing.assert_array_equal(s.ids, ref.ids)
    np.testing.assert_array_equal(s.ids, s.encode(text))
    np.testing.assert_array_equal(s.hidden_states(), ref.hidden_states())
    assert (s.ids == (-1 if toy else 0)).sum() >= 2            # the unknown ones were typed too
    s._typed_ids["z"] = 1                                      # negative control: a wrong kept id is seen
    s.set_text(text + "z")
    assert not np.array_equal(s.ids, s.encode(text + "z"))
