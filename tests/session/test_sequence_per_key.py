"""A keystroke's fast paths give the slow references' numbers: the Memory panel's kept step
factors while typing, editing and moving the cursor; one unit's values for the text colouring;
the three unrolled steps read at once."""

import numpy as np
import pytest

from explorer.analysis.memory import influence, influence_from_factors, influence_from_states, step_factors
from explorer.engine import cells
from explorer.session.sequence import SequenceSession, random_model
from explorer.session.sequence_catalogue import open_session
from explorer.session.sequence_transformer import random_transformer
from explorer.session.sequence_view import FrameRequest, build_view

TEXT = "def f(a, b):\n    return [a * 2, 'b' + b]  # x\n" * 5


def _fresh_memory(s, cursor, window):
    """The memory computed from scratch: the states' batched step and the cells' BPTT."""
    t = cursor - 1
    start = max(t - window + 1, 0)
    x = s._embed(s.ids[start:t + 1])[0]
    h_prev, c_prev = s._prev_rows(start, t + 1)
    target = int(s.ids[t + 1]) if t + 1 < s.length else int(s.output_probs(t, t + 1)[0].argmax())
    return start, influence_from_states(s.rec, s.post, x, h_prev, c_prev, target), target


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_memory_with_kept_factors_equals_a_fresh_one_while_typing_editing_and_moving(cell, dtype, rtol):
    s = SequenceSession(random_model(cell, hidden=12, embed=5, seed=3).astype(dtype))
    text = TEXT[:120]
    s.set_text(text)
    cursors = []
    for k in range(12):                                   # typing at the end, then edits and moves
        if k < 6:
            text += "xy(z) "[k]
        elif k == 6:
            text = text[:100] + "Q" + text[101:]          # an edit inside the window
        elif k == 8:
            text = text[:-4]                              # a deletion at the end
        s.set_text(text)
        cursors.append(len(text) - (7 if k in (7, 10) else 0))   # the cursor moved back and forth
        build_view(s, cursors[-1], FrameRequest(window=40, unit=0))   # the gate window, as the lab
        mem = s.memory(cursors[-1], window=30)
        start, want, target = _fresh_memory(s, cursors[-1], 30)
        assert (mem.start, mem.target) == (start, target)
        np.testing.assert_allclose(mem.weights, want, rtol=rtol, atol=rtol * 1e-3 * float(want.max()))
    # negative control: a kept factor row that went stale (an edit not told) would show
    for kept in s._factor_cache[1].values():
        kept[:] += 0.5
    stale = s.memory(cursors[-1] - 1, window=30).weights
    assert not np.allclose(stale, _fresh_memory(s, cursors[-1] - 1, 30)[1], rtol=1e-3)


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_the_last_step_backward_loops_equal_the_cells_bptt_exactly(cell):
    """influence_from_factors' loops (a gradient entering at the last step only) do the same
    operations as explorer.engine.cells' BPTT: equal to the bit, float32."""
    s = SequenceSession(random_model(cell, hidden=16, embed=6, seed=4))
    s.set_text(TEXT)
    start, t, target = 30, 89, 5
    x = s._embed(s.ids[start:t + 1])[0]
    h_prev, c_prev = s._prev_rows(start, t + 1)
    factors, h = step_factors(s.rec, x, h_prev, c_prev)
    got = influence_from_factors(s.rec, s.post, factors, h[-1:], target)
    # the reference: the cells' BPTT with dys zero but at the last step (what the loops replace)
    from explorer.analysis.memory import _head_gradient
    hid, w_hh = s.hidden_size, s.rec.params["weight_hh_l0"]
    _, _, gates = s.rec.step(x, (h_prev, c_prev) if cell == "LSTM" else h_prev)
    n = len(x)
    dys = np.zeros((n, 1, hid), np.float32)
    dys[-1] = _head_gradient(s.post, h[-1:], target)
    col = lambda a: np.ascontiguousarray(a, np.float32)[:, None, :]  # noqa: E731
    if cell == "LSTM":
        acts = np.concatenate([gates[k] for k in "ifgo"], axis=1)
        dxp = cells.lstm_bptt(dys, col(acts), col(gates["c"]), col(c_prev), w_hh)[0]
    elif cell == "GRU":
        hn = h_prev @ w_hh[2 * hid:].T + s.rec.params["bias_hh_l0"][2 * hid:]
        acts = np.concatenate([gates[k] for k in "rzn"], axis=1)
        dxp = cells.gru_bptt(dys, col(acts), col(hn), col(h_prev), w_hh)[0]
    else:
        dxp = cells.rnn_bptt(dys, col(h), w_hh, False)[0]
    dx = dxp[:, 0] @ s.rec.params["weight_ih_l0"]
    want = (np.asarray(dx, np.float64) ** 2).sum(axis=-1)
    np.testing.assert_array_equal(got, want)
    slow = influence(s.rec, s.post, x[None], s.state_before(start), target)   # the layer's own backward
    np.testing.assert_allclose(got, slow, rtol=2e-4, atol=1e-3 * float(slow.max()))
    assert not np.allclose(got, influence_from_factors(s.rec, s.post, factors, h[-1:], target + 1), rtol=1e-3)


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "transformer"])
def test_unit_values_are_one_column_of_the_states(cell):
    model = random_transformer(d_model=8, nhead=2, layers=1, context=32) if cell == "transformer" \
        else random_model(cell, hidden=6, seed=2)
    s = open_session(model)
    s.set_text(TEXT)                                      # several blocks of kept states
    for a, b in ((0, len(TEXT)), (60, 70), (63, 65), (5, 5), (200, 10_000)):
        np.testing.assert_array_equal(s.unit_values(a, b, 3), s.hidden_states(a, b)[:, 3])
        if cell == "LSTM":
            np.testing.assert_array_equal(s.unit_values(a, b, 3, "c"), np.tanh(s.cell_states(a, b))[:, 3])
    assert not np.array_equal(s.unit_values(0, 50, 3), s.unit_values(0, 50, 4))   # negative control


@pytest.mark.parametrize("cursor", [0, 1, 2, 40, len(TEXT)])
def test_unrolled_steps_read_at_once_equal_one_by_one(cursor):
    s = SequenceSession(random_model("LSTM", hidden=8, seed=6))
    s.set_text(TEXT)
    steps = build_view(s, cursor, FrameRequest(window=20)).steps
    for t, got in zip((cursor - 2, cursor - 1, cursor), steps):
        if not 0 <= t < s.length:
            assert got is None
            continue
        p = s.output_probs(t, t + 1)[0]
        assert got.step == t and got.char == TEXT[t]
        np.testing.assert_allclose(got.x, s.embed(s.ids[t:t + 1])[0, 0], rtol=1e-6)
        np.testing.assert_allclose(got.h, s.hidden_states(t, t + 1)[0], rtol=1e-6)
        assert [label for label, _ in got.top] == [s.labels[i] for i in np.argsort(-p)[:3]]
        np.testing.assert_allclose([q for _, q in got.top], np.sort(p)[::-1][:3], rtol=1e-5)


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_the_gate_window_reads_the_gates_kept_from_reading_the_key(cell, monkeypatch):
    """A key typed at the end: the gate window's new row comes from the read itself (no second
    step) and equals a batched step from the cached states; an edit of that character drops it."""
    s = SequenceSession(random_model(cell, hidden=10, embed=4, seed=8))
    text = TEXT[:150]
    s.set_text(text)
    s.gates(100, 150)
    steps = []
    real_step = s.rec.step
    monkeypatch.setattr(s.rec, "step", lambda *a, **k: steps.append(1) or real_step(*a, **k))
    for ch in "ab(":
        text += ch
        s.set_text(text)
        got = s.gates(100, len(text))
        assert not steps                                   # read, not stepped again
        x = s._embed(s.ids[len(text) - 1:])[0]
        h_prev, c_prev = s._prev_rows(len(text) - 1, len(text))
        _, _, want = real_step(x, (h_prev, c_prev) if cell == "LSTM" else h_prev)
        for k in s.gate_names:
            np.testing.assert_allclose(got[k][-1], want[k][0], rtol=1e-5, atol=1e-6)
    text = text[:-1] + "Z"                                 # the last character replaced
    s.set_text(text)
    s.advance()
    got = s.gates(100, len(text))
    x = s._embed(s.ids[len(text) - 1:])[0]
    h_prev, c_prev = s._prev_rows(len(text) - 1, len(text))
    _, _, want = real_step(x, (h_prev, c_prev) if cell == "LSTM" else h_prev)
    for k in s.gate_names:
        np.testing.assert_allclose(got[k][-1], want[k][0], rtol=1e-5, atol=1e-6)
    s._read_gates[1][s.gate_names[0]][-1] += 0.5          # negative control: a stale kept row would show
    s._gates_valid = 0
    assert not np.allclose(s.gates(len(text) - 1, len(text))[s.gate_names[0]][-1], want[s.gate_names[0]][0],
                           atol=1e-3)


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_scan_gates_are_the_states_and_gates_of_run(cell):
    layer = random_model(cell, hidden=7, embed=3, seed=9).layers[1]
    x = np.random.default_rng(0).standard_normal((1, 9, 3)).astype(np.float32)
    y, _, gates = layer.run(x)
    states, got = layer.scan_gates(layer.project(x), tuple(np.zeros((1, 7), np.float32) for _ in layer.state_names))
    np.testing.assert_array_equal(states[0][:, 0], y[0])
    assert set(got) == set(gates)
    for k in gates:
        np.testing.assert_array_equal(got[k][:, 0], gates[k][0])


@pytest.mark.parametrize("vocab_unknown", [True, False])
def test_typing_and_deleting_at_the_end_encode_as_the_whole_text(vocab_unknown):
    """set_text encodes only what was typed at the end (or cuts what was deleted there): the
    ids, and the first changed position, equal encoding the whole text afresh."""
    if vocab_unknown:
        s = SequenceSession(random_model("GRU", hidden=6, seed=1))
        edits = ["def f", "def f(x)", "def f(x)\u00e9\U0001F600", "def f(", "", "x = 1", "y = 1", "y = 1"]
    else:
        from explorer.data.vocab import Vocab
        m = random_model("GRU", hidden=6, seed=1, vocab=Vocab("ab", unknown=False))
        m.meta.update({"toy_task": "parity", "alphabet": "ab", "classes": ["even", "odd"]})
        s = SequenceSession(m)
        edits = ["ab", "abba", "abbaxb", "abb", "bbb", "bbb"]
    before = ""
    for text in edits:
        p = s.set_text(text)
        np.testing.assert_array_equal(s.ids, s.encode(text))
        same = next((i for i, (a, b) in enumerate(zip(before, text)) if a != b), min(len(before), len(text)))
        assert p == same
        np.testing.assert_array_equal(s.hidden_states(), SequenceSession(s.model).hidden_states() if not text
                                      else _fresh_states(s.model, text))
        before = text


def _fresh_states(model, text):
    fresh = SequenceSession(model)
    fresh.set_text(text)
    return fresh.hidden_states()


@pytest.mark.parametrize("family", ["LSTM", "transformer"])
def test_kept_output_rows_equal_fresh_ones_while_typing_editing_and_jumping(family):
    from explorer.engine.losses import softmax
    model = random_transformer(d_model=8, nhead=2, layers=1, context=32, seed=4) if family == "transformer" \
        else random_model("LSTM", hidden=8, seed=4)
    s = open_session(model)
    text = TEXT[:100]

    def fresh(a, b):
        h = s.hidden_states(a, b)
        return softmax(s._head(h)).astype(np.float32)

    for k in range(40):
        text = text + "ab(x)\n"[k % 6] if k != 20 else text[:50] + "Z" + text[51:]   # typing, one edit
        s.set_text(text)
        n = len(text)
        for a, b in ((n - 1, n), (n - 40, n - 1), (n - 3, n), (0, 5), (n - 60, n - 20)):
            np.testing.assert_allclose(s.output_probs(a, b), fresh(a, b), rtol=1e-5, atol=1e-7)
    assert s.output_probs(-1, 2).shape == (3, len(s.labels))
    s._probs[1][:] = 0.5                                   # negative control: kept rows are what is read
    assert not np.allclose(s.output_probs(s._probs_stop - 2, s._probs_stop), fresh(s._probs_stop - 2, s._probs_stop))


@pytest.mark.parametrize("norm_first", [True, False])
def test_growing_influence_of_a_gelu_stack_equals_influence_through(norm_first):
    """The kept activation slopes (GELU: computed once per position) give the fresh gradient."""
    from explorer.analysis.memory import GrowingInfluence, influence_through
    from explorer.engine import LayerNorm, LearnedPositions, Linear, TransformerEncoderLayer
    rng = np.random.default_rng(3)
    layers = [LearnedPositions(16, 8, rng=rng)]
    layers += [TransformerEncoderLayer(8, 2, 16, norm_first=norm_first, activation="gelu", rng=rng) for _ in range(2)]
    layers += [LayerNorm(8), Linear(8, 5, rng=rng)]
    for layer in layers:
        layer.astype(np.float64)
    grow = GrowingInfluence(layers, per_position=2)
    x = rng.standard_normal((14, 8))
    for n in range(1, 15):
        want = influence_through(layers, x[:n], n % 5, per_position=2)
        np.testing.assert_allclose(grow(x[:n], n % 5), want, rtol=1e-10, atol=1e-14 * float(want.max()))
    assert not np.allclose(grow(x, 0), influence_through(layers, x, 1, per_position=2), rtol=1e-3)


def test_an_lstm_key_read_alone_equals_the_scan_to_the_bit():
    """The one-key LSTM step (W_hh^T scaled once per model) gives the layer scan's states and
    gates exactly, key after key."""
    model = random_model("LSTM", hidden=13, embed=5, seed=3)
    typed, read = SequenceSession(model), SequenceSession(model)
    read.set_text(TEXT)
    xp = read._projection()[read.ids][:, None, :]
    h0 = tuple(np.zeros((1, 13), np.float32) for _ in range(2))
    (hs, cs), gates = model.layers[1].scan_gates(xp.copy(), h0)
    for i in range(1, len(TEXT) + 1):
        typed.set_text(TEXT[:i])
        kept = typed._read_gates[1]
        for k in "ifgoc":
            np.testing.assert_array_equal(kept[k][-1], gates[k][i - 1, 0])
    np.testing.assert_array_equal(typed.hidden_states(), hs[:, 0])
    np.testing.assert_array_equal(typed.cell_states(), cs[:, 0])
    np.testing.assert_array_equal(typed.hidden_states(), read.hidden_states())
    other = SequenceSession(random_model("LSTM", hidden=13, embed=5, seed=4))   # negative control
    other.set_text(TEXT)
    assert not np.allclose(other.hidden_states(), typed.hidden_states())


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_the_gate_window_is_kept_in_place_and_never_rewrites_a_row_it_handed_out(cell):
    """Typing at the end writes the window's one new row in place: the frame's arrays are
    read-only views that ``kept_rows`` knows share the last frame's rows. Whatever happens next
    (typing, deleting, an edit inside the window, a scroll), every frame keeps its numbers and
    equals a fresh session's gates."""
    from explorer.session.sequence import kept_rows
    model = random_model(cell, hidden=9, embed=4, seed=21)
    s = SequenceSession(model)
    text = TEXT[:150]
    s.set_text(text)
    frames = []

    def frame(start, stop):
        got = s.gates(start, stop)
        frames.append(({k: v for k, v in got.items()}, {k: v.copy() for k, v in got.items()}))
        fresh = SequenceSession(model)
        fresh.set_text(s.text)
        want = fresh.gates(start, stop)
        for k in s.gate_names:
            assert not got[k].flags.writeable
            np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6)
        return got

    last = frame(100, 150)
    for ch in "ab(x":                                        # keys at the end: kept by index
        text += ch
        s.set_text(text)
        got = frame(100, len(text))
        assert all(kept_rows(last[k], got[k]) == len(last[k]) for k in s.gate_names)
        last = got
    text = text[:-2]                                         # two deleted: the same rows, fewer
    s.set_text(text)
    got = frame(100, len(text))
    assert all(kept_rows(last[k], got[k]) == len(got[k]) for k in s.gate_names)
    text += "Z"                                              # retyped: a row it handed out changes
    s.set_text(text)
    last, got = got, frame(100, len(text))
    assert all(kept_rows(last[k], got[k]) == 0 for k in s.gate_names)
    text = text[:120] + "Q" + text[121:]                     # an edit inside the window
    s.set_text(text)
    last, got = got, frame(100, len(text))
    assert all(kept_rows(last[k], got[k]) == 0 for k in s.gate_names)
    s._kept_gate_rows(110, 130)                              # the Memory panel reads rows: handed out too
    text = text[:125] + "W" + text[126:]
    s.set_text(text)
    got = frame(100, len(text))
    last, got = got, frame(125, len(text))                   # scrolled: a new window
    assert all(kept_rows(last[k], got[k]) == 0 for k in s.gate_names)
    for arrays, copies in frames:                            # no frame's numbers changed afterwards
        for k in s.gate_names:
            assert np.array_equal(arrays[k], copies[k])


def test_kept_rows_knows_only_the_sessions_windows():
    """Any other arrays (writable, or views of a buffer the session did not hand out) are not
    known to be unchanged: 0, so a panel compares their values."""
    from explorer.session.sequence import kept_rows
    s = SequenceSession(random_model("LSTM", hidden=6, embed=3, seed=2))
    s.set_text(TEXT[:80])
    a = s.gates(40, 79)["i"]
    s.set_text(TEXT[:81])
    b = s.gates(40, 81)["i"]
    assert kept_rows(a, b) == 39 and kept_rows(b, a) == 39
    own = np.zeros((50, 6), np.float32)
    x, y = own[:39], own[:41]
    assert kept_rows(x, y) == 0                              # writable
    x.flags.writeable = y.flags.writeable = False
    assert kept_rows(x, y) == 0                              # read-only, but not a kept window's
    assert kept_rows(a, b.copy()) == 0 and kept_rows(a[1:], b) == 0    # a copy; another first row
    assert kept_rows(a, s.gates(40, 81)["f"]) == 0           # another gate's buffer


@pytest.mark.parametrize("family", ["LSTM", "RNN", "transformer"])
def test_the_heat_maps_window_is_kept_in_place_and_equals_the_states_in_row_order(family):
    """hidden_rows(start, stop, rows) is hidden_states(start, stop)[:, rows] (a fresh session's),
    read-only; typing at the end keeps the last frame's rows by index (kept_rows), and after
    deleting, retyping, an edit, a scroll or another row order no frame's numbers have changed."""
    from explorer.session.sequence import kept_rows
    if family == "transformer":
        from explorer.session.sequence_transformer import TransformerSession
        model = random_transformer(d_model=16, nhead=2, layers=1, context=32, seed=4)
        make = TransformerSession
    else:
        model = random_model(family, hidden=11, embed=4, seed=23)
        make = SequenceSession
    s = make(model)
    rng = np.random.default_rng(1)
    order = rng.permutation(s.hidden_size)
    text = TEXT[:120]
    s.set_text(text)
    frames = []

    def frame(start, rows=order):
        got = s.hidden_rows(start, len(s.text), rows)
        frames.append((got, got.copy()))
        fresh = make(model)
        fresh.set_text(s.text)
        assert not got.flags.writeable
        np.testing.assert_allclose(got, fresh.hidden_states(start, len(s.text))[:, rows], rtol=1e-5, atol=1e-6)
        return got

    last = frame(80)
    for ch in "ab(":                                          # keys at the end
        text += ch
        s.set_text(text)
        got = frame(80)
        assert kept_rows(last, got) == len(last)
        last = got
    for change in (lambda t: t[:-2], lambda t: t + "Z", lambda t: t[:90] + "Q" + t[91:]):
        text = change(text)
        s.set_text(text)
        got = frame(80)
        assert kept_rows(last, got) == (len(got) if len(got) < len(last) else 0)
        last = got
    got = frame(80, order[::-1].copy())                       # another row order: a new window
    assert kept_rows(last, got) == 0
    last, got = got, frame(100, order[::-1].copy())           # scrolled
    assert kept_rows(last, got) == 0
    for arrays, copies in frames:
        assert np.array_equal(arrays, copies)
    assert s.hidden_rows(5, 5, order).shape == (0, s.hidden_size)


def test_build_view_gives_the_heat_map_the_sessions_kept_window():
    """What the lab routes: h_rows is h in row order, read-only, and one key later the
    rows it had are known by index (the heat map colours only the new column)."""
    from explorer.session.sequence import kept_rows
    s = SequenceSession(random_model("LSTM", hidden=9, embed=4, seed=3))
    s.set_text(TEXT[:150])
    v = build_view(s, 150)
    assert np.array_equal(v.h_rows, v.h[:, v.rows]) and not v.h_rows.flags.writeable
    s.set_text(TEXT[:151])
    w = build_view(s, 151)
    assert w.start == v.start and kept_rows(v.h_rows, w.h_rows) == len(v.h_rows)
    assert np.array_equal(w.h_rows, w.h[:, w.rows])


@pytest.mark.parametrize("family", ["LSTM", "transformer"])
def test_a_key_computes_one_output_row_for_the_frames_reads(family, monkeypatch):
    """A frame reads the prediction at the cursor (row n-1), then the strip's rows (ending at
    n-2): the kept run grows by the key's one row instead of restarting at the strip's first."""
    import explorer.session.sequence as seq
    model = random_transformer(d_model=8, nhead=2, layers=1, context=32, seed=4) if family == "transformer" \
        else random_model("LSTM", hidden=8, seed=4)

    def rows_per_key(gap):
        monkeypatch.setattr(seq, "PROB_GAP", gap)
        s = open_session(model)
        computed = []
        real = s._prob_rows_now
        monkeypatch.setattr(s, "_prob_rows_now", lambda lo, hi: computed.append(hi - lo) or real(lo, hi))
        text = TEXT[:150]
        counts = []
        for k in range(10):
            text += "ab(x)\n"[k % 6]
            s.set_text(text)
            del computed[:]
            n = len(text)
            top = s.top_k(n)                                  # build_view's order: the cursor, the strip
            strip = s.actual_probs(n - 60, n)
            counts.append(sum(computed))
        fresh = open_session(model)
        fresh.set_text(text)
        want = fresh.top_k(n)
        assert [t[2] for t in top] == [t[2] for t in want]
        np.testing.assert_allclose([t[1] for t in top], [t[1] for t in want], rtol=1e-5)
        np.testing.assert_allclose(strip, fresh.actual_probs(n - 60, n), rtol=1e-5)
        return counts[2:]

    assert rows_per_key(seq.PROB_GAP) == [1] * 8
    assert rows_per_key(0) != [1] * 8                          # negative control: the run restarted every key


@pytest.mark.parametrize("family", ["LSTM", "transformer"])
def test_output_rows_after_an_edit_before_the_kept_run_are_fresh(family):
    """An edit before the kept run's first row leaves none of it valid: a read a few rows past
    the edit (close enough to extend a run) gets fresh rows, not the stale ones."""
    from explorer.engine.losses import softmax
    model = random_transformer(d_model=8, nhead=2, layers=1, context=32, seed=4) if family == "transformer" \
        else random_model("LSTM", hidden=8, seed=4)
    s = open_session(model)
    text = TEXT[:160]
    s.set_text(text)
    n = len(text)
    s.output_probs(n - 60, n - 20)                                  # a run from n - 60
    s.set_text(text[:n - 70] + "Q" + text[n - 69:])                 # an edit before it
    got = s.output_probs(n - 55, n - 50)
    want = softmax(s._head(s.hidden_states(n - 55, n - 50))).astype(np.float32)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert not np.allclose(want, softmax(s._head(s.hidden_states(n - 54, n - 49))), atol=1e-4)   # rows differ


@pytest.mark.parametrize("family", ["LSTM", "transformer"])
def test_output_rows_are_the_kept_rows_read_only(family):
    """A frame's reads of kept output rows are views of the kept run (no copy per read), which
    nobody can write through; the row before the first character is the model's own."""
    model = random_transformer(d_model=8, nhead=2, layers=1, context=32, seed=4) if family == "transformer" \
        else random_model("LSTM", hidden=8, seed=4)
    s = open_session(model)
    s.set_text(TEXT[:80])
    rows = s.output_probs(20, 60)
    assert np.shares_memory(rows, s._probs[1])
    with pytest.raises(ValueError):
        rows[0, 0] = 1.0
    first = s.output_probs(-1, 3)
    assert first.shape == (4, len(s.labels)) and not first.flags.writeable
    np.testing.assert_array_equal(first[1:], s.output_probs(0, 3))
    np.testing.assert_allclose(first[0].sum(), 1.0, rtol=1e-6)
    if family == "transformer":                             # no prediction before reading anything
        np.testing.assert_array_equal(first[0], np.full(len(s.labels), 1 / len(s.labels), np.float32))
