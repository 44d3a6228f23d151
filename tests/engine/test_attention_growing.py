"""The Memory panel's transformer fast path: a causal layer's forward grown one position at a
time (``forward_more``) equals ``forward``; its input-only backward (``input_grad``) equals
``backward`` and finite differences (float64), with negative controls; ``GrowingInfluence``
equals ``influence_through`` while typing, after edits and window jumps."""

import numpy as np
import pytest

from explorer.analysis.memory import GrowingInfluence, influence_through
from explorer.engine import LayerNorm, LearnedPositions, Linear, TransformerEncoderLayer
from explorer.engine.gradcheck import numeric_grad

KINDS = {"pre-norm-relu": dict(norm_first=True), "pre-norm-gelu": dict(norm_first=True, activation="gelu"),
         "post-norm-relu": dict(norm_first=False), "post-norm-gelu": dict(norm_first=False, activation="gelu")}


def _layer(kind, dtype=np.float64, seed=0, d=8, heads=2):
    rng = np.random.default_rng(seed)
    layer = TransformerEncoderLayer(d, heads, 12, rng=rng, **KINDS[kind]).astype(dtype)
    for p in layer.params.values():          # away from the init's exact ones and zeros
        p += (0.2 * rng.standard_normal(p.shape)).astype(dtype)
    return layer


@pytest.mark.parametrize("kind", list(KINDS))
def test_forward_grown_a_position_at_a_time_equals_forward(kind):
    layer = _layer(kind)
    x = np.random.default_rng(1).standard_normal((2, 7, 8))
    want_y, want_cache = layer.forward(x)
    y, cache = layer.forward_more(x[:, :3])                   # three at once, then one by one
    ys = [y]
    for t in range(3, 7):
        y, cache = layer.forward_more(x[:, t:t + 1], cache)
        ys.append(y)
    np.testing.assert_allclose(np.concatenate(ys, axis=1), want_y, rtol=1e-12, atol=1e-12)
    flat = lambda c: [a for part in c for a in (part if isinstance(part, tuple) else (part,))]  # noqa: E731
    for got, want in zip(flat(cache), flat(want_cache)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    x2 = x.copy()
    x2[:, 6] += 1.0                                           # negative control: the new row matters
    assert not np.allclose(layer.forward_more(x2[:, 6:], layer.forward_more(x[:, :6])[1])[0], want_y[:, 6:])
    with pytest.raises(ValueError, match="causal"):
        TransformerEncoderLayer(8, 2, 12, causal=False).forward_more(x)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("first", [0, 3, 6])
def test_input_grad_equals_backward_and_leaves_the_parameter_gradients(kind, first):
    layer = _layer(kind)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 7, 8))
    dy = rng.standard_normal((2, 7, 8))
    dy[:, :first] = 0.0
    _, cache = layer.forward(x)
    layer.zero_grad()
    want = layer.backward(dy, cache)
    grads = {k: g.copy() for k, g in layer.grads.items()}
    got = layer.input_grad(dy[:, first:], cache, first)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for k, g in layer.grads.items():
        assert np.array_equal(g, grads[k])                    # untouched
    wrong = dy.copy()
    wrong[:, -1, 0] += 1.0                                    # negative control: dy matters
    assert not np.allclose(layer.input_grad(wrong[:, first:], cache, first), want)


@pytest.mark.parametrize("kind", list(KINDS))
def test_input_grad_of_the_last_position_is_the_finite_difference(kind):
    """float64: d sum(y[:, -1] * w) / dx by central differences, and a corrupted gradient fails."""
    layer = _layer(kind, seed=3)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 6, 8))
    w = rng.standard_normal((1, 1, 8))

    def loss():
        return float(np.sum(layer.forward(x)[0][:, -1:] * w))

    _, cache = layer.forward_more(x)
    got = layer.input_grad(w, cache, 5)
    worst = wrong_worst = 0.0
    bad = got * 1.01
    for idx in np.ndindex(*x.shape):
        n = numeric_grad(loss, x, idx)
        worst = max(worst, abs(got[idx] - n) / max(abs(got[idx]) + abs(n), 1e-2))
        wrong_worst = max(wrong_worst, abs(bad[idx] - n) / max(abs(bad[idx]) + abs(n), 1e-2))
    assert worst < 1e-6
    assert wrong_worst > 1e-3                                 # negative control: a 1 % error is caught


def _stack(dtype=np.float32, norm_first=True, final_norm=True, seed=0, d=8, context=16):
    rng = np.random.default_rng(seed)
    layers = [LearnedPositions(context, d, rng=rng)]
    layers += [TransformerEncoderLayer(d, 2, 2 * d, norm_first=norm_first, rng=rng) for _ in range(2)]
    layers += ([LayerNorm(d)] if final_norm else []) + [Linear(d, 5, rng=rng)]
    for layer in layers:
        layer.astype(dtype)
        for p in layer.params.values():
            p += (0.2 * rng.standard_normal(p.shape)).astype(dtype)
    return layers, 2 if final_norm else 1


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("norm_first", [True, False])
def test_growing_influence_equals_influence_through_while_typing_editing_and_jumping(dtype, rtol, norm_first):
    layers, tail = _stack(dtype, norm_first)
    rng = np.random.default_rng(5)
    text = rng.standard_normal((40, 8)).astype(dtype)
    grow = GrowingInfluence(layers, per_position=tail)
    grads = [{k: g.copy() for k, g in layer.grads.items()} for layer in layers]
    windows = [(0, n) for n in range(1, 13)]                  # typing
    windows += [(0, 12), (0, 12)]                             # the same window again
    windows += [(0, 9), (0, 10)]                              # cursor moved back, then typing
    windows += [(8, 20), (8, 21), (8, 22)]                    # the window jumped
    for k, (a, b) in enumerate(windows):
        x = text[a:b]
        if k == 14:                                           # an edit inside the window
            text[3] += 1
            x = text[a:b]
        target = k % 5
        want = influence_through(layers, x, target, per_position=tail)
        got = grow(x, target)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-3 * float(want.max()))
    for layer, g in zip(layers, grads):
        for name, v in layer.grads.items():
            assert np.array_equal(v, g[name])                 # parameter gradients untouched
    wrong = grow(text[8:22], 0)                               # negative control: another output
    assert not np.allclose(wrong, influence_through(layers, text[8:22], 1, per_position=tail), rtol=1e-3)


def test_growing_influence_of_another_stack_is_influence_through():
    rng = np.random.default_rng(6)
    layers = [Linear(4, 6, rng=rng), Linear(6, 3, rng=rng)]
    x = rng.standard_normal((5, 4))
    got = GrowingInfluence(layers)(x, 2)
    np.testing.assert_array_equal(got, influence_through(layers, x, 2))
