"""SequenceSession: cached states per position, edits recompute from the first change only."""

import numpy as np
import pytest

from explorer.data.vocab import Vocab
from explorer.engine.dense import Embedding, Linear
from explorer.engine.model import Model
from explorer.engine.recurrent import GRU, LSTM, RNN
from explorer.session.sequence import SequenceSession, random_model
from explorer.session.sequence_parts import SequenceModelError

CELLS = {"LSTM": LSTM, "GRU": GRU, "RNN": RNN}
TEXT = 'def f(x):\n    return "a, b" + x  # sum\n' * 3


def reference(model: Model, ids: np.ndarray) -> np.ndarray:
    """The engine's own whole-sequence run: (T, H)."""
    return model.trace(ids[None]).outputs[1][0]


def toy_model(alphabet: str = "01", hidden: int = 3, seed: int = 0) -> Model:
    rng = np.random.default_rng(seed)
    layers = [Embedding(len(alphabet), 4, rng=rng), GRU(4, hidden, rng=rng), Linear(hidden, 2, rng=rng)]
    return Model(layers, meta={"toy_task": "parity", "alphabet": alphabet, "classes": ["even", "odd"]})


@pytest.mark.parametrize("cell", list(CELLS))
def test_states_match_engine_run(cell):
    model = random_model(cell, hidden=8, embed=5, seed=1)
    s = SequenceSession(model)
    s.set_text(TEXT)
    np.testing.assert_allclose(s.hidden_states(), reference(model, s.ids), atol=1e-6)
    assert s.hidden_states().shape == (len(TEXT), 8)


@pytest.mark.parametrize("cell", list(CELLS))
def test_typing_one_char_costs_one_step_and_matches(cell):
    model = random_model(cell, hidden=6, seed=2)
    s = SequenceSession(model)
    text = ""
    for ch in TEXT[:40]:
        before = s.steps_computed
        text += ch
        s.set_text(text)
        assert s.steps_computed - before == 1
    np.testing.assert_allclose(s.hidden_states(), reference(model, s.ids), atol=1e-5)


def test_middle_edit_recomputes_from_there_only():
    model = random_model("LSTM", hidden=6, seed=3)
    s = SequenceSession(model)
    s.set_text(TEXT)
    before, p = s.steps_computed, 25
    edited = TEXT[:p] + "Z" + TEXT[p:]
    assert s.set_text(edited) == p
    assert s.steps_computed - before == len(edited) - p
    assert s.last_recomputed_from == p
    np.testing.assert_allclose(s.hidden_states(), reference(model, s.ids), atol=1e-5)
    # deleting the tail costs nothing
    before = s.steps_computed
    s.set_text(edited[:10])
    assert s.steps_computed == before and s.hidden_states().shape[0] == 10


def test_chunked_advance_equals_one_run():
    model = random_model("GRU", hidden=5, seed=4)
    s = SequenceSession(model)
    s.set_text(TEXT * 5, compute=False)
    assert s.pending == len(TEXT) * 5
    while s.pending:
        s.advance(37)
    np.testing.assert_allclose(s.hidden_states(), reference(model, s.ids), atol=1e-5)


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_batched_gates_equal_the_run(cell):
    model = random_model(cell, hidden=5, seed=5)
    s = SequenceSession(model)
    s.set_text(TEXT)
    gates = model.trace(s.ids[None]).extras[1]
    got = s.gates(10, 50)
    assert set(got) == set(s.gate_names)
    for name, g in got.items():
        np.testing.assert_allclose(g, gates[name][0, 10:50], atol=1e-6)
    assert s.gates(0, 3)["r" if cell == "GRU" else "i"].shape == (3, 5)


def test_probabilities_and_top_k():
    model = random_model("LSTM", hidden=6, seed=6)
    s = SequenceSession(model)
    s.set_text(TEXT)
    logits = model.predict(s.ids[None])[0]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(s.output_probs(0, len(TEXT)), p, atol=1e-6)
    # the strip: P(char t | chars before t) = p[t-1, id_t]
    strip = s.actual_probs(1, 20)
    np.testing.assert_allclose(strip, p[np.arange(0, 19), s.ids[1:20]], atol=1e-6)
    top = s.top_k(10, 5)
    assert len(top) == 5 and top[0][1] >= top[-1][1]
    assert top[0][2] == int(np.argmax(p[9]))


def test_unknown_characters_map_to_unknown_never_crash():
    s = SequenceSession(random_model("LSTM", hidden=4, seed=7))
    text = "caf\u00e9 \U0001F600\x07\ttab" + "x" * 5000
    s.set_text(text)
    unk = s.unknown_mask()
    assert unk[3] and unk[5] and unk[6] and not unk[0] and not unk[7]
    assert np.isfinite(s.hidden_states()).all()


def test_toy_alphabet_carries_state_over_foreign_characters():
    model = toy_model()
    s = SequenceSession(model)
    s.set_text("01x1")
    assert s.kind == "task" and list(s.ids) == [0, 1, -1, 1]
    h = s.hidden_states()
    np.testing.assert_array_equal(h[2], h[1])
    ref = reference(model, np.array([0, 1, 1]))
    np.testing.assert_allclose(h[[0, 1, 3]], ref, atol=1e-6)
    assert s.unknown_mask().tolist() == [False, False, True, False]
    assert s.labels == ["even", "odd"]
    # parity targets are known for any input: P(right answer) is defined
    assert np.isfinite(s.actual_probs(0, 4)[[0, 1, 3]]).all()


def test_empty_text():
    s = SequenceSession(random_model("GRU", hidden=4))
    s.set_text("")
    assert s.hidden_states().shape == (0, 4)
    assert s.memory(0) is None
    assert len(s.top_k(0)) == 5          # the prediction from the initial state
    assert s.actual_probs(0, 10).shape == (0,)


def test_model_without_recurrent_layer_is_refused():
    with pytest.raises(SequenceModelError, match="RNN, LSTM or GRU"):
        SequenceSession(Model([Embedding(98, 4), Linear(4, 98)], meta={"vocab": Vocab.text().to_meta()}))


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_gate_window_cache_follows_edits(cell):
    """gates() reuses the rows of the last window; after an edit they must still be right."""
    model = random_model(cell, hidden=5, seed=11)
    s = SequenceSession(model)
    s.set_text("abcdefghij" * 8)
    s.gates(10, 50)
    s.gates(20, 60)                                    # overlapping window: partly from the cache
    s.set_text(s.text[:30] + "XYZ" + s.text[30:])      # edit inside the cached window
    got = s.gates(20, 60)
    fresh = SequenceSession(model)
    fresh.set_text(s.text)
    want = fresh.gates(20, 60)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], atol=1e-6)
