"""The Sequence Lab's transformer session: typing = reading from scratch, attention rows, memory."""

import numpy as np
import pytest

from explorer.analysis.memory import influence_through
from explorer.data.vocab import Vocab
from explorer.engine.stream import from_scratch, window_start
from explorer.session.sequence import SequenceSession, random_model
from explorer.session.sequence_catalogue import open_session
from explorer.session.sequence_transformer import TransformerSession, random_transformer
from explorer.session.sequence_view import ATTENTION_MODE, FrameRequest, build_view

TEXT = 'def mean(xs):\n    """Average."""\n    return sum(xs) / len(xs)  # float\n' * 3


@pytest.fixture(scope="module")
def model():
    return random_transformer(d_model=16, nhead=2, layers=2, context=32, seed=1)


def typed(model, text):
    s = open_session(model, name="t")
    for i in range(1, len(text) + 1):
        s.set_text(text[:i])
    return s


def test_any_sequence_model_opens_the_same_way(model):
    assert type(open_session(model)) is TransformerSession
    assert type(open_session(random_model("LSTM", hidden=8))) is SequenceSession
    s = open_session(model)
    assert s.gate_names == () and s.gates(0, 5) == {} and s.cell_states() is None
    assert (s.n_layers, s.n_heads, s.context, s.hidden_size) == (2, 2, 32, 16)


def test_typing_one_key_at_a_time_equals_reading_at_once(model):
    s = typed(model, TEXT)                        # 3x the context: the windows jump twice+
    assert len(TEXT) > 3 * s.context and s.steps_computed == len(TEXT)
    ref = from_scratch(model, s.ids)
    np.testing.assert_allclose(s.hidden_states(), ref.residual, atol=2e-5)
    probs = s.output_probs(0, len(TEXT))
    e = np.exp(ref.logits - ref.logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probs, e / e.sum(axis=1, keepdims=True), atol=2e-5)


def test_an_edit_in_the_middle_recomputes_from_there_only(model):
    s = typed(model, TEXT)
    before = s.steps_computed
    edited = TEXT[:70] + "Z" + TEXT[71:]
    p = s.set_text(edited)
    assert p == 70 and s.steps_computed - before == len(TEXT) - 70
    np.testing.assert_allclose(s.hidden_states(), from_scratch(model, s.ids).residual, atol=2e-5)
    s.set_text(edited[:50])                                   # a cut: nothing to compute
    assert s.steps_computed - before == len(TEXT) - 70
    np.testing.assert_allclose(s.hidden_states(), from_scratch(model, s.ids).residual, atol=2e-5)


@pytest.mark.parametrize("how", ["typed", "pasted"])
def test_attention_at_the_cursor_and_the_pattern_are_the_models(model, how):
    if how == "typed":
        s = typed(model, TEXT)                 # every row kept as it was read
    else:
        s = open_session(model)
        s.set_text(TEXT)                       # one long read: no rows kept, re-read when looked at
    ref = from_scratch(model, s.ids)
    for cursor in (len(TEXT), 90, 1):                          # the end (kept rows), the middle (re-read)
        v = build_view(s, cursor, FrameRequest(attention_layer=1)).attention
        q = cursor - 1
        assert v.query == q and v.key_start == window_start(q, 32) and v.layer == 1
        np.testing.assert_allclose(v.rows.sum(axis=-1), 1.0, atol=1e-5)
        for layer in range(2):
            np.testing.assert_allclose(v.rows[layer], ref.attn[layer][:, q, v.key_start:q + 1], atol=2e-5)
        n = v.pattern.shape[-1]
        assert v.start <= q < v.start + n and v.pattern_chars == s.text[v.start:v.start + n]
        np.testing.assert_allclose(v.pattern, ref.attn[1][:, v.start:v.start + n, v.start:v.start + n],
                                   atol=2e-5)
        assert not np.triu(v.pattern, 1).any()                  # nothing looks ahead
        assert v.entropy.shape == (2, 2) and (v.entropy >= 0).all()
        assert (v.entropy <= np.log2(v.rows.shape[-1]) + 1e-4).all()
    assert (s.steps_replayed > 0) == (how == "pasted")


def test_the_pattern_axes_move_in_hops_while_typing(model):
    s = open_session(model)
    starts = []
    for i in range(60, 90):
        s.set_text(TEXT[:i])
        v = s.attention_view(i, 0, None)
        assert v.start <= v.query < v.start + v.span and v.span == 32        # the context: 32 < 48
        starts.append(v.start)
    assert len(set(starts)) <= 4 and starts == sorted(starts)               # 30 keys, hops of 10


def test_colour_by_a_head(model):
    s = typed(model, TEXT[:60])
    f = build_view(s, 60, FrameRequest(colour_mode=ATTENTION_MODE, attention_head=(1, 0), visible=(0, 60)))
    values, offset = f.colour
    assert f.colour_palette == "attention" and offset == f.attention.key_start
    w = f.attention.rows[1, 0]
    np.testing.assert_allclose(values, np.sqrt(w / w.max()), atol=1e-6)
    assert build_view(s, 60, FrameRequest(colour_mode=ATTENTION_MODE)).colour is None   # no head chosen


def test_memory_reaches_every_character_of_the_window(model):
    s = typed(model, TEXT)
    c = len(TEXT) - 5
    mem = s.memory(c)
    q = c - 1
    assert mem.start == window_start(q, 32) and len(mem.weights) == q + 1 - mem.start
    assert (mem.weights > 0).all()                 # attention: every character in the window matters
    assert mem.actual and mem.target == s.ids[c]


def test_influence_through_is_the_gradient_float64():
    """Finite differences of the logit in float64, and a negative control (another target)."""
    m = random_transformer(d_model=8, nhead=2, layers=1, context=8, seed=3, vocab=Vocab("ab", unknown=True))
    for layer in m.layers:
        for k in layer.params:
            layer.params[k] = layer.params[k].astype(np.float64)
    layers = m.layers[1:]
    x = np.random.default_rng(0).normal(size=(5, 8))
    target = 1

    def logit(xx):
        out = xx[None]
        for layer in layers:
            out = layer.infer(out)
        return out[0, -1, target]

    eps, num = 1e-6, np.zeros(5)
    for s in range(5):
        for j in range(8):
            d = np.zeros_like(x)
            d[s, j] = eps
            num[s] += ((logit(x + d) - logit(x - d)) / (2 * eps)) ** 2
    got = influence_through(layers, x, target)
    np.testing.assert_allclose(got, num, rtol=1e-6)
    np.testing.assert_allclose(influence_through(layers, x, target, per_position=2), got, rtol=1e-12)
    wrong = influence_through(layers, x, 0)                  # negative control: another output
    assert not np.allclose(wrong, num, rtol=1e-3)


def test_characters_outside_a_toy_alphabet_are_read_and_marked():
    vocab = Vocab("ab", unknown=False)
    m = random_transformer(d_model=8, nhead=2, layers=1, context=16, vocab=vocab)
    m.meta.update({"toy_task": "parity", "alphabet": "ab", "classes": ["even", "odd"]})
    m.layers[-1] = type(m.layers[-1])(8, 2)
    s = open_session(m)
    s.set_text("abxab")
    assert s.unknown_mask().tolist() == [False, False, True, False, False]
    assert s.hidden_states().shape == (5, 8) and np.isfinite(s.hidden_states()).all()
    assert build_view(s, 5).attention.rows.shape == (1, 2, 5)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("norm_first", [True, False])
def test_memory_from_the_streams_recorded_forward_equals_influence_through(dtype, rtol, norm_first, monkeypatch):
    """Memory reads the forward values the reading stream recorded (no forward of its own) while
    typing, editing, moving the cursor and crossing a window boundary: influence_through's numbers."""
    from explorer.analysis.memory import GrowingInfluence
    m = random_transformer(d_model=16, nhead=2, layers=2, context=16, seed=2, norm_first=norm_first,
                           activation="gelu" if norm_first else "relu").astype(dtype)
    s = open_session(m, name="t")
    text = TEXT[:20]
    s.set_text(text)
    own_forward = []
    monkeypatch.setattr(GrowingInfluence, "__call__", lambda self, x, target: own_forward.append(1) or
                        influence_through(self.layers, x, target, self.per_position))
    for k in range(16):                         # typing (across the window jump at 24), an edit, moves
        if k == 10:
            text = text[:25] + "Q" + text[26:]
        elif k != 12:
            text += "xy(z) = 'a' #"[k % 13]
        s.set_text(text)
        c = len(text) - (3 if k == 12 else 0)
        mem = s.memory(c)
        t = c - 1
        start = window_start(t, 16)
        x = s._embed(np.maximum(s.ids[start:t + 1], 0))[0]
        want = influence_through(s._after_embedding, x, mem.target, per_position=len(s.post))
        assert mem.start == start and len(mem.weights) == t + 1 - start
        np.testing.assert_allclose(mem.weights, want, rtol=rtol, atol=rtol * 1e-3 * float(want.max()))
    assert not own_forward                      # every frame read the stream's record
    s.stream.caches[0].record.slope[:] = 0.0    # negative control: the record is what is read
    assert not np.allclose(s.memory(len(text)).weights, want, rtol=1e-3)


def test_one_layers_attention_rows_are_that_layer_of_all_rows(model):
    """attention_rows(a, b, layer) copies one layer: the same numbers as every layer's rows, kept
    or re-read (a block that was dropped), inside a window and across its jumps."""
    s = typed(model, TEXT[:70])
    for a, b in ((0, 20), (30, 70), (60, 66)):
        every = s.attention_rows(a, b)
        for layer in range(2):
            np.testing.assert_array_equal(s.attention_rows(a, b, layer), every[:, layer])
    want = s.attention_rows(10, 50)[:, 1]
    s._att_blocks.clear()                                  # re-read from the windows' starts (batched:
    np.testing.assert_allclose(s.attention_rows(10, 50, 1), want, rtol=1e-5, atol=1e-7)   # rounding only)
    assert not np.array_equal(s.attention_rows(30, 70, 0), s.attention_rows(30, 70, 1))   # negative control


def _pattern_row_by_row(s, a, n, layer):
    """The pattern written row by row from the kept attention rows: row i's keys max(a, w)..a+i
    are columns max(a, w)-w.. of its row, w its window."""
    rows = s.attention_rows(a, a + n, layer)
    pattern = np.zeros((s.n_heads, n, n), np.float32)
    for i in range(n):
        w = window_start(a + i, s.context)
        lo = max(a, w)
        pattern[:, i, lo - a:i + 1] = rows[i, :, lo - w:a + i + 1 - w]
    return pattern


def test_the_pattern_copied_per_window_run_is_the_row_by_row_pattern(model):
    """Each run of rows read in one window is one copy: the same numbers, bit for bit, as the
    pattern written row by row, for every cursor over several window jumps (one run or more)."""
    s = typed(model, TEXT)
    runs = set()
    for cursor in range(1, len(TEXT) + 1):
        v = s.attention_view(cursor, 1, None)
        n = v.pattern.shape[-1]
        np.testing.assert_array_equal(v.pattern, _pattern_row_by_row(s, v.start, n, 1))
        runs.add(len({window_start(v.start + i, 32) for i in range(n)}))
    assert {1, 2, 3} <= runs                                 # one run, two and three were seen
    # negative control: one copy for every row, as if all were read in the first row's window
    # (what a single copy gives when the window moves inside the image), is another pattern
    v = s.attention_view(len(TEXT), 1, None)
    n, a = v.pattern.shape[-1], v.start
    assert len({window_start(a + i, 32) for i in range(n)}) >= 2
    w0 = window_start(a, 32)
    rows = np.zeros((n, s.n_heads, 32 + n), np.float32)
    rows[:, :, :32] = s.attention_rows(a, a + n, 1)
    one_copy = rows[:, :, a - w0:a - w0 + n].swapaxes(0, 1)
    assert not np.array_equal(v.pattern, one_copy)
    assert np.array_equal(v.pattern[:, :1], one_copy[:, :1])          # (its first row is right)
