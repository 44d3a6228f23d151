"""LayerNorm, LearnedPositions and TransformerEncoderLayer: finite-difference gradient checks
(float64) with negative controls, the exact GELU's erf, model files, Model.trace's attention,
and TransformerStream (incremental reading) against whole forward passes."""

import json
import math

import numpy as np
import pytest

from explorer.engine import (
    Embedding,
    LayerNorm,
    LearnedPositions,
    Linear,
    Model,
    ModelFileError,
    TransformerEncoderLayer,
    cross_entropy,
    load_model,
    save_model,
)
from explorer.engine.attention import erf, gelu, gelu_grad
from explorer.engine.gradcheck import analytic_grads, model_errors, numeric_grad
from explorer.engine.stream import TransformerStream, from_scratch, window_start

TOL = 1e-6
FLOOR = 1e-2   # |a - n| / max(|a| + |n|, FLOOR): the key bias's true gradient is exactly 0


def layer_errors(layer, x, dy, analytic=None, n_checks=25, seed=0):
    """Worst error per gradient, relative, but measured against at least FLOOR: softmax
    ignores a constant added to a row of scores, so the key part of ``in_proj_bias`` has a
    gradient of exactly 0, where finite differences give rounding noise (~1e-10)."""
    rng = np.random.default_rng(seed)
    grads = analytic if analytic is not None else analytic_grads(layer, x, dy)

    def loss():
        return float(np.sum(layer.forward(x)[0] * dy))

    errors = {}
    for name, arr in {"input": x, **layer.params}.items():
        flat = rng.choice(arr.size, min(arr.size, n_checks), replace=False)
        worst = 0.0
        for i in flat:
            idx = np.unravel_index(int(i), arr.shape)
            a, n = float(grads[name][idx]), numeric_grad(loss, arr, idx)
            worst = max(worst, abs(a - n) / max(abs(a) + abs(n), FLOOR))
        errors[name] = worst
    return errors

LAYERS = {
    "layernorm": (lambda r: LayerNorm(6), (3, 4, 6)),
    "layernorm-2d": (lambda r: LayerNorm([5]), (7, 5)),
    "positions": (lambda r: LearnedPositions(9, 4, rng=r), (2, 6, 4)),
    "post-norm-relu": (lambda r: TransformerEncoderLayer(8, 2, 12, rng=r), (2, 5, 8)),
    "post-norm-gelu": (lambda r: TransformerEncoderLayer(8, 4, 6, activation="gelu", rng=r), (2, 6, 8)),
    "pre-norm-relu": (lambda r: TransformerEncoderLayer(6, 3, 10, norm_first=True, rng=r), (3, 4, 6)),
    "pre-norm-gelu": (lambda r: TransformerEncoderLayer(4, 1, 8, activation="gelu", norm_first=True,
                                                        rng=r), (2, 7, 4)),
    "not-causal": (lambda r: TransformerEncoderLayer(4, 2, 8, causal=False, rng=r), (2, 5, 4)),
}


def _setup(name, seed=0):
    factory, shape = LAYERS[name]
    rng = np.random.default_rng(seed)
    layer = factory(rng).astype(np.float64)
    for k, p in layer.params.items():          # norms start at 1 / 0: move them off it
        if k.endswith(("norm1.weight", "norm2.weight")) or (isinstance(layer, LayerNorm)):
            p += 0.3 * rng.standard_normal(p.shape)
        if k.endswith("bias") and not p.any():
            p += 0.1 * rng.standard_normal(p.shape)
    x = rng.standard_normal(shape)
    dy = rng.standard_normal(layer.forward(x)[0].shape)
    return layer, x, dy


@pytest.mark.parametrize("name", list(LAYERS))
def test_gradients_match_finite_differences(name):
    layer, x, dy = _setup(name)
    errors = layer_errors(layer, x, dy, n_checks=25)
    assert set(errors) == {"input", *layer.params}
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("name,param", [("post-norm-gelu", "self_attn.in_proj_weight"),
                                        ("pre-norm-relu", "linear1.weight"),
                                        ("pre-norm-gelu", "input"), ("layernorm", "weight")])
def test_negative_control_corrupted_gradient_fails(name, param):
    layer, x, dy = _setup(name)
    grads = analytic_grads(layer, x, dy)
    grads[param] = grads[param] * 1.01          # a 1 % error must be caught
    errors = layer_errors(layer, x, dy, analytic=grads, n_checks=25)
    assert errors[param] > 1e-3
    assert max(v for k, v in errors.items() if k != param) < TOL


def test_negative_control_future_leak_is_caught():
    """A causal layer's output at t must not move when a later input moves (and does when
    the mask is off): the check that catches a missing mask."""
    rng = np.random.default_rng(4)
    layer = TransformerEncoderLayer(8, 2, 16, rng=rng).astype(np.float64)
    x = rng.standard_normal((1, 6, 8))
    x2 = x.copy()
    x2[0, 4] += 1.0
    y, y2 = layer.forward(x)[0], layer.forward(x2)[0]
    np.testing.assert_array_equal(y[0, :4], y2[0, :4])
    assert np.abs(y[0, 4:] - y2[0, 4:]).max() > 1e-3
    layer.causal = False
    assert np.abs(layer.forward(x)[0][0, :4] - layer.forward(x2)[0][0, :4]).max() > 1e-3


def test_erf_and_gelu_are_exact():
    xs = np.r_[np.linspace(-7, 7, 2801), -3.5, 3.5, 3.4999999, 0.0, 1e-9, -40, 40]
    np.testing.assert_allclose(erf(xs), [math.erf(v) for v in xs], rtol=1e-14, atol=2e-16)
    np.testing.assert_allclose(gelu(xs), [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in xs],
                               rtol=1e-13, atol=1e-14)
    h = 1e-6
    np.testing.assert_allclose(gelu_grad(xs), (gelu(xs + h) - gelu(xs - h)) / (2 * h), atol=1e-8)
    assert erf(np.float32([0.5])).dtype == np.float32


def _char_model(seed=0, norm_first=True, final_norm=True, max_len=12, layers=2, heads=2,
                act="relu", vocab=7, d=8):
    rng = np.random.default_rng(seed)
    body = [Embedding(vocab, d, rng=rng), LearnedPositions(max_len, d, rng=rng)]
    body += [TransformerEncoderLayer(d, heads, 2 * d, activation=act, norm_first=norm_first, rng=rng)
             for _ in range(layers)]
    if final_norm:
        body.append(LayerNorm(d))
    body.append(Linear(d, vocab, rng=rng))
    model = Model(body).eval()
    for k, p in model.parameters().items():     # away from the init's exact ones and zeros
        if "norm" in k or k.endswith("bias") or k.startswith("1."):
            p += (0.2 * rng.standard_normal(p.shape)).astype(p.dtype)
    return model


def test_model_gradients_through_a_char_transformer():
    model = _char_model(norm_first=False, act="gelu").astype(np.float64)
    ids = np.random.default_rng(1).integers(0, 7, (2, 9))
    tgt = np.random.default_rng(2).integers(0, 7, (2, 9))
    model.zero_grad()
    loss, d = cross_entropy(model.forward(ids), tgt)
    model.backward(d)
    grads = model.gradients()
    rng = np.random.default_rng(0)

    def f():
        return cross_entropy(model.forward(ids), tgt)[0]

    worst = 0.0
    for name, arr in model.parameters().items():
        for _ in range(3):
            idx = tuple(int(rng.integers(0, s)) for s in arr.shape)
            if name == "0.weight":
                idx = (int(ids[0, 0]),) + idx[1:]
            a, n = grads[name][idx], numeric_grad(f, arr, idx)
            worst = max(worst, abs(a - n) / max(abs(a) + abs(n), FLOOR))
    assert worst < TOL


def test_model_errors_input_gradient_of_the_blocks():
    rng = np.random.default_rng(3)
    model = Model([LearnedPositions(6, 4, rng=rng), TransformerEncoderLayer(4, 2, 8, rng=rng),
                   TransformerEncoderLayer(4, 1, 4, activation="gelu", norm_first=True, rng=rng),
                   LayerNorm(4)]).astype(np.float64)
    x = rng.standard_normal((2, 6, 4))
    w = rng.standard_normal((2, 6, 4))
    errors = model_errors(model, x, lambda y: (float(np.sum(y * w)), w), n_checks=6)
    # in_proj_bias holds the key bias, whose gradient is exactly 0 (checked with a floor above)
    assert max(v for k, v in errors.items() if not k.endswith("in_proj_bias")) < TOL, errors
    d = 4
    for i in (1, 2):
        assert np.abs(model.gradients()[f"{i}.self_attn.in_proj_bias"][d:2 * d]).max() < 1e-12


def test_trace_exposes_attention_per_layer():
    model = _char_model()
    ids = np.array([[1, 2, 3, 4, 5, 6, 0]])
    tr = model.trace(ids)
    for i in (2, 3):
        a = tr.extras[i]["attn"]
        assert a.shape == (1, 2, 7, 7)
        np.testing.assert_allclose(a.sum(-1), 1.0, rtol=1e-5)
        assert not np.triu(a[0, 0], 1).any()       # causal: nothing above the diagonal
    np.testing.assert_allclose(tr.outputs[-1], model.predict(ids), rtol=1e-5, atol=1e-6)


def test_model_file_round_trip_and_pytorch_names(tmp_path):
    model = _char_model()
    path = tmp_path / "t.npz"
    save_model(model, path)
    back = load_model(path)
    keys = list(back.state_dict())
    assert "2.self_attn.in_proj_weight" in keys and "3.norm2.bias" in keys and "1.weight" in keys
    ids = np.arange(7)[None] % 7
    np.testing.assert_array_equal(back.predict(ids), model.predict(ids))
    arch = back.arch()["layers"]
    assert arch[2]["causal"] is True and arch[2]["dropout"] == 0 and arch[2]["batch_first"] is True
    assert arch[1] == {"type": "LearnedPositions", "max_len": 12, "d_model": 8}


def test_model_file_with_a_wrong_transformer_shape_is_refused(tmp_path):
    model = _char_model()
    arrays = {k: v for k, v in model.state_dict().items()}
    arrays["2.linear1.weight"] = arrays["2.linear1.weight"][:, :4]
    path = tmp_path / "bad.npz"
    np.savez(path, arch=np.array(json.dumps(model.arch())), **arrays)
    with pytest.raises(ModelFileError, match="linear1.weight"):
        load_model(path)
    arch = model.arch()
    arch["layers"][2]["nhead"] = 3                  # 8 is not divisible by 3
    np.savez(path, arch=np.array(json.dumps(arch)), **model.state_dict())
    with pytest.raises(ModelFileError, match="divisible"):
        load_model(path)


def test_window_rule():
    assert [window_start(p, 8) for p in range(20)] == [0] * 8 + [4] * 4 + [8] * 4 + [12] * 4
    for p in range(200):
        s = window_start(p, 10)
        assert 10 // 2 + 1 <= p - s + 1 <= 10 or s == 0


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-9), (np.float32, 2e-6)])
@pytest.mark.parametrize("norm_first,final_norm", [(True, True), (False, False)])
def test_incremental_equals_from_scratch(dtype, tol, norm_first, final_norm):
    model = _char_model(norm_first=norm_first, final_norm=final_norm).astype(dtype)
    ids = np.random.default_rng(5).integers(0, 7, 41)     # > 3 windows of 12
    ref = from_scratch(model, ids)
    stream = TransformerStream(model)
    parts = [stream.extend([i]) for i in ids[:20]] + [stream.extend(ids[20:33]), stream.extend(ids[33:])]
    assert len(stream) == 41

    def cat(key):
        return np.concatenate([getattr(p, key) for p in parts])

    np.testing.assert_allclose(cat("logits"), ref.logits, atol=tol, rtol=0)
    np.testing.assert_allclose(cat("residual"), ref.residual, atol=tol, rtol=0)
    np.testing.assert_array_equal(cat("window_start"), ref.window_start)
    for j in range(2):
        np.testing.assert_allclose(np.concatenate([p.layer_outputs[j] for p in parts]),
                                   ref.layer_outputs[j], atol=tol, rtol=0)
        for p, lo in zip(parts, np.cumsum([0] + [len(p.logits) for p in parts])):
            hi = lo + len(p.logits)
            np.testing.assert_allclose(p.attn[j], ref.attn[j][:, lo:hi, :hi], atol=tol, rtol=0)
    # the residual is the last block's output, before the final LayerNorm
    np.testing.assert_allclose(cat("residual"), ref.layer_outputs[-1], atol=tol, rtol=0)


@pytest.mark.parametrize("record", [False, True])
def test_window_attention_and_no_logits_are_the_dense_reads_numbers(record):
    """``attn="window"`` (what the Sequence Lab keeps) holds the dense rows' weights with
    columns counted from each row's window start; ``logits=False`` changes nothing else. Keys
    one at a time, then reads that cross a window boundary (12 positions, windows jump by 6)."""
    model = _char_model(norm_first=False, final_norm=True).astype(np.float32)
    ids = np.random.default_rng(9).integers(0, 7, 41)
    dense, window = TransformerStream(model, record=record), TransformerStream(model, record=record)

    def same(rows, d, a):
        """rows (t, L, H, 12) hold the dense read d's weights, 0 past each row's keys."""
        for i, ws in enumerate(d.window_start):
            k = a + i + 1 - ws
            for j in range(2):
                if not np.array_equal(rows[i, j, :, :k], d.attn[j][:, i, ws:a + i + 1]) or rows[i, j, :, k:].any():
                    return False
        return True

    for a, b in [(p, p + 1) for p in range(14)] + [(14, 25), (25, 26), (26, 41)]:
        d = dense.extend(ids[a:b])
        w = window.extend(ids[a:b], attn="window", logits=False)
        assert w.attn is None and d.window_attn is None and w.logits.shape == (b - a, 0)
        np.testing.assert_array_equal(w.residual, d.residual)
        np.testing.assert_array_equal(w.window_start, d.window_start)
        assert w.window_attn is not None and w.window_attn.shape == (b - a, 2, 2, 12)
        assert same(w.window_attn, d, a)
    assert not same(np.roll(w.window_attn, 1, axis=-1), d, a)     # negative control: a column off
    with pytest.raises(ValueError, match="attn must be"):
        window.extend(ids[:1], attn="dense")
    assert len(window) == 41                                      # (refused before reading anything)


def test_a_cache_of_separate_key_and_value_arrays_reads_the_same():
    """``new_cache`` keeps keys and values in one array (one write per read); a cache built
    from two arrays takes the other path to the same numbers."""
    from explorer.engine.attention import KVCache
    block = _char_model().layers[2]
    x = np.random.default_rng(3).standard_normal((9, 8)).astype(np.float32)
    one = block.new_cache(12)
    two = KVCache(np.zeros_like(one.k), np.zeros_like(one.v))
    assert one.kv is not None and two.kv is None
    for a, b in ((0, 4), (4, 5), (5, 9)):
        y1, a1 = block.extend(x[a:b], one)
        y2, a2 = block.extend(x[a:b], two)
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(one.k[:, :9], two.k[:, :9])
    np.testing.assert_array_equal(one.v[:, :9], two.v[:, :9])
    assert not np.array_equal(one.k[:, :9], one.v[:, :9])        # (keys and values are not one array)


def test_incremental_matches_the_model_within_its_context():
    model = _char_model(max_len=16).astype(np.float64)
    ids = np.random.default_rng(6).integers(0, 7, 16)
    stream = TransformerStream(model)
    out = stream.extend(ids)
    np.testing.assert_allclose(out.logits, model.predict(ids[None])[0], atol=1e-12)


def test_truncate_then_extend_recomputes_from_the_edit():
    model = _char_model().astype(np.float64)
    rng = np.random.default_rng(7)
    ids = rng.integers(0, 7, 35)
    stream = TransformerStream(model)
    stream.extend(ids)
    for p in (34, 30, 17, 12, 5, 0):                 # inside a window, at and before its start
        edited = ids.copy()
        edited[p:] = rng.integers(0, 7, 35 - p)
        stream.truncate(p)
        assert len(stream) == p
        out = stream.extend(edited[p:], attn=False)
        assert out.attn is None
        np.testing.assert_allclose(out.logits, from_scratch(model, edited).logits[p:], atol=1e-9)
        ids = edited
    with pytest.raises(ValueError):
        stream.truncate(-1)
    with pytest.raises(ValueError):
        stream.extend([7])


def test_stream_refuses_a_model_that_is_not_a_char_transformer():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="LearnedPositions"):
        TransformerStream(Model([Embedding(5, 4, rng=rng), Linear(4, 5, rng=rng)]))
