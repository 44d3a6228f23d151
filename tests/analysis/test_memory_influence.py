"""The memory view's numbers equal a finite-difference check on a tiny float64 model."""

import numpy as np
import pytest

from explorer.session.sequence import SequenceSession, random_model


def numeric_influence(session: SequenceSession, start: int, t: int, target: int, eps: float = 1e-6):
    """sum_e (d logit_target(t) / d x[s, e])^2 by central differences on the inputs x."""
    x = session._embed(session.ids[start:t + 1]).copy()
    state = session.state_before(start)

    def logit(xx):
        y, _, _ = session.rec.run(xx, state)
        return session._head(y[0, -1:])[0, target]

    out = np.zeros(x.shape[1])
    for s in range(x.shape[1]):
        for e in range(x.shape[2]):
            old = x[0, s, e]
            x[0, s, e] = old + eps
            up = logit(x)
            x[0, s, e] = old - eps
            down = logit(x)
            x[0, s, e] = old
            out[s] += ((up - down) / (2 * eps)) ** 2
    return out


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("window", [8, 100])
def test_memory_matches_finite_differences(cell, window):
    model = random_model(cell, hidden=5, embed=3, seed=11).astype(np.float64)
    s = SequenceSession(model)
    s.set_text('x = "ab" + (c)\nprint(x)')
    cursor = 15
    mem = s.memory(cursor, window=window)
    t = cursor - 1
    assert mem.start == max(0, t - window + 1) and len(mem.weights) == t - mem.start + 1
    assert mem.actual and mem.target == s.ids[cursor]
    ref = numeric_influence(s, mem.start, t, mem.target)
    np.testing.assert_allclose(mem.weights, ref, rtol=1e-5, atol=1e-14)
    assert mem.weights[-1] > 0


def test_memory_at_end_uses_the_best_guess_and_leaves_grads_alone():
    model = random_model("LSTM", hidden=4, embed=3, seed=12).astype(np.float64)
    s = SequenceSession(model)
    s.set_text("abc")
    before = {k: g.copy() for k, g in model.gradients().items()}
    mem = s.memory(3)
    assert not mem.actual and mem.target == int(np.argmax(s.output_probs(2, 3)[0]))
    for k, g in model.gradients().items():
        np.testing.assert_array_equal(g, before[k])


def test_negative_control_wrong_target_differs():
    model = random_model("GRU", hidden=4, embed=3, seed=13).astype(np.float64)
    s = SequenceSession(model)
    s.set_text("hello world")
    mem = s.memory(6, window=6)
    wrong = numeric_influence(s, mem.start, 5, (mem.target + 1) % 98)
    assert not np.allclose(mem.weights, wrong, rtol=1e-3)


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_influence_from_cached_states_equals_the_forward_rerun(cell):
    """The batched path (cached states + the cell's BPTT) gives the re-run's numbers exactly."""
    from explorer.analysis.memory import influence, influence_from_states
    model = random_model(cell, hidden=6, embed=4, seed=21).astype(np.float64)
    s = SequenceSession(model)
    s.set_text("def f(a):\n    return [a, 'b']")
    start, t, target = 5, 20, 7
    x = s._embed(s.ids[start:t + 1])
    slow = influence(s.rec, s.post, x, s.state_before(start), target)
    h_prev, c_prev = s._prev_rows(start, t + 1)
    before = {k: g.copy() for k, g in model.gradients().items()}
    fast = influence_from_states(s.rec, s.post, x[0], h_prev, c_prev, target)
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-15)
    assert not np.allclose(fast, influence(s.rec, s.post, x, s.state_before(start), target + 1))
    for k, g in model.gradients().items():
        np.testing.assert_array_equal(g, before[k])


def test_the_memory_panel_reads_the_kept_gate_window_instead_of_stepping_again(monkeypatch):
    """Issue 16: a keystroke's frame computes the gate window first; the Memory panel's BPTT
    reads its rows from there (no second batched step) and gives the stepped numbers."""
    from explorer.analysis.memory import influence_from_states
    from explorer.session.sequence_view import FrameRequest, build_view
    s = SequenceSession(random_model("LSTM", hidden=8, embed=4, seed=5))
    s.set_text("def f(a):\n    return [a, 'b'] + g(a) * 2  # x\n" * 3)
    c = len(s.text) - 3
    calls = []
    real_step = s.rec.step
    monkeypatch.setattr(s.rec, "step", lambda *a, **k: calls.append(1) or real_step(*a, **k))
    build_view(s, c, FrameRequest(window=200))                 # the gate window, then the memory
    stepped = len(calls)
    mem = s.memory(c, window=40)
    assert len(calls) == stepped                          # read from the kept window
    t = c - 1
    x = s._embed(s.ids[mem.start:t + 1])[0]
    h_prev, c_prev = s._prev_rows(mem.start, t + 1)
    want = influence_from_states(s.rec, s.post, x, h_prev, c_prev, mem.target)   # steps again
    np.testing.assert_allclose(mem.weights, want, rtol=2e-5, atol=1e-12)
    s.set_text(s.text[:c - 10] + "Z" + s.text[c - 9:])   # an edit inside the window: the gate window's
    edited = s.memory(c, window=40)                       # rows are stale, the re-read's gates are new
    x = s._embed(s.ids[edited.start:t + 1])[0]
    h_prev, c_prev = s._prev_rows(edited.start, t + 1)
    want = influence_from_states(s.rec, s.post, x, h_prev, c_prev, edited.target)
    np.testing.assert_allclose(edited.weights, want, rtol=2e-5, atol=1e-12)
    assert not np.allclose(edited.weights, mem.weights, rtol=1e-3)   # the edit shows


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_norm", [False, True])
def test_the_input_only_head_gradient_equals_the_layers_backward_to_the_bit(dtype, with_norm):
    """A Linear / LayerNorm head's gradient without parameter gradients: the very numbers of the
    layers' own forward + backward, and their parameter gradients untouched."""
    from explorer.analysis.memory import _head_gradient, _input_gradient_only
    from explorer.engine.dense import Linear
    from explorer.engine.norm import LayerNorm
    rng = np.random.default_rng(3)
    norm = LayerNorm(12)
    norm.params["weight"] = rng.normal(size=12).astype(np.float32)
    norm.params["bias"] = rng.normal(size=12).astype(np.float32)
    head = ([norm] if with_norm else []) + [Linear(12, 9, rng=rng)]
    for layer in head:
        for k in layer.params:
            layer.params[k] = layer.params[k].astype(dtype)
        for k in layer.grads:
            layer.grads[k] = rng.normal(size=layer.grads[k].shape).astype(dtype)
    before = [{k: g.copy() for k, g in layer.grads.items()} for layer in head]
    h = rng.normal(size=(1, 12)).astype(dtype)
    out, caches = h[None], []
    for layer in head:                                 # the reference: forward, one-hot backward
        out, cache = layer.forward(out)
        caches.append(cache)
    d = np.zeros_like(out)
    d[..., 4] = 1.0
    for layer, cache in zip(reversed(head), reversed(caches)):
        d = layer.backward(d, cache)
    want = d[0]
    for layer, grads in zip(head, before):
        layer.grads.update({k: g.copy() for k, g in grads.items()})
    got = _input_gradient_only(head, h, 4)
    assert got is not None and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(_head_gradient(head, h, 4), want)
    for layer, grads in zip(head, before):
        for k, g in layer.grads.items():
            np.testing.assert_array_equal(g, grads[k])
    assert not np.allclose(_input_gradient_only(head, h, 5), want)          # negative control
    with pytest.raises(ValueError):
        _input_gradient_only(head, h, 9)


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_a_typed_keys_memory_reads_its_steps_gates_from_the_read_not_a_second_step(monkeypatch, cell):
    """The frame starts Memory before the gate window: the new step's gates come from the read
    that computed its state (as the gate window's do), with the stepped numbers."""
    from explorer.analysis.memory import influence_from_states
    from explorer.session.sequence_view import FrameRequest, build_view
    s = SequenceSession(random_model(cell, hidden=8, embed=4, seed=5))
    text = "def f(a):\n    return [a, 'b'] + g(a) * 2  # x\n" * 3
    s.set_text(text)
    assert build_view(s, len(text), FrameRequest(window=200)).memory is not None
    calls = []
    real_step = s.rec.step
    monkeypatch.setattr(s.rec, "step", lambda *a, **k: calls.append(1) or real_step(*a, **k))
    for key in "x(y)":
        text += key
        s.set_text(text)
        mem = build_view(s, len(text), FrameRequest(window=200)).memory
        assert calls == []
        t = len(text) - 1
        x = s._embed(s.ids[mem.start:t + 1])[0]
        h_prev, c_prev = s._prev_rows(mem.start, t + 1)
        want = influence_from_states(s.rec, s.post, x, h_prev, c_prev, mem.target)   # steps again
        np.testing.assert_allclose(mem.weights, want, rtol=2e-5, atol=1e-12)
        calls.clear()
