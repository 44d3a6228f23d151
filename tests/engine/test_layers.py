"""Layers: finite-difference gradient checks (float64), fast == naive, shapes, init, losses, optim."""

import numpy as np
import pytest

from explorer.engine import (
    SGD,
    Adam,
    Conv1d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    GlobalMaxPool1d,
    Linear,
    MaxPool1d,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Tanh,
    clip_grad_norm,
    conv2d_naive,
    cross_entropy,
    log_softmax,
    maxpool2d_naive,
    mse,
    softmax,
)
from explorer.engine.gradcheck import analytic_grads, layer_errors, numeric_grad, rel_error

TOL = 1e-6

# (id, layer factory, input shape)
CASES = [
    ("conv2d-1x1x5x5", lambda r: Conv2d(1, 3, 3, rng=r), (1, 1, 5, 5)),
    ("conv2d-stride2-pad1", lambda r: Conv2d(2, 3, 3, stride=2, padding=1, rng=r), (3, 2, 6, 7)),
    ("conv2d-k2-odd", lambda r: Conv2d(2, 2, 2, rng=r), (2, 2, 7, 6)),
    ("conv2d-rect-nobias", lambda r: Conv2d(1, 2, (2, 3), stride=(1, 2), padding=(1, 0),
                                            bias=False, rng=r), (2, 1, 5, 6)),
    ("conv1d", lambda r: Conv1d(1, 2, 3, rng=r), (1, 1, 5)),
    ("conv1d-stride2-pad1", lambda r: Conv1d(2, 3, 3, stride=2, padding=1, rng=r), (3, 2, 8)),
    ("maxpool2d-2", lambda r: MaxPool2d(2), (1, 1, 4, 4)),
    ("maxpool2d-2-odd", lambda r: MaxPool2d(2), (3, 2, 5, 7)),
    ("maxpool2d-3s2-overlap", lambda r: MaxPool2d(3, stride=2), (2, 2, 7, 7)),
    ("maxpool2d-3", lambda r: MaxPool2d(3), (2, 1, 6, 7)),
    ("maxpool1d-2", lambda r: MaxPool1d(2), (2, 3, 8)),
    ("maxpool1d-3s2", lambda r: MaxPool1d(3, stride=2), (1, 2, 9)),
    ("globalmaxpool1d", lambda r: GlobalMaxPool1d(), (3, 2, 5)),
    ("linear", lambda r: Linear(5, 4, rng=r), (3, 5)),
    ("linear-leading-dims", lambda r: Linear(5, 3, rng=r), (2, 3, 5)),
    ("linear-nobias", lambda r: Linear(4, 2, bias=False, rng=r), (1, 4)),
    ("flatten", lambda r: Flatten(), (2, 3, 4, 5)),
    ("relu", lambda r: ReLU(), (3, 4, 5)),
    ("tanh", lambda r: Tanh(), (3, 4, 5)),
    ("sigmoid", lambda r: Sigmoid(), (3, 4, 5)),
]


def _setup(factory, shape, seed=0):
    rng = np.random.default_rng(seed)
    layer = factory(rng).astype(np.float64)
    x = rng.standard_normal(shape)
    dy = rng.standard_normal(layer.forward(x)[0].shape)
    return layer, x, dy


@pytest.mark.parametrize("factory,shape", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_gradients_match_finite_differences(factory, shape):
    layer, x, dy = _setup(factory, shape)
    errors = layer_errors(layer, x, dy, n_checks=30)
    assert set(errors) == {"input", *layer.params}
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("factory,shape", [CASES[1][1:], CASES[5][1:], CASES[8][1:], CASES[14][1:]],
                         ids=["conv2d", "conv1d", "maxpool2d", "linear"])
def test_negative_control_corrupted_gradient_fails(factory, shape):
    layer, x, dy = _setup(factory, shape)
    grads = analytic_grads(layer, x, dy)
    name = "weight" if "weight" in grads else "input"
    grads[name] = grads[name] * 1.01          # a 1 % error must be caught
    errors = layer_errors(layer, x, dy, analytic=grads)
    assert errors[name] > 1e-3
    assert max((v for k, v in errors.items() if k != name), default=0.0) < TOL


def test_dropout_gradient_with_fixed_mask():
    layer = Dropout(0.3).astype(np.float64)
    rng = np.random.default_rng(1)
    x, dy = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    forward = layer.forward

    def fixed_mask_forward(inp):
        layer.rng = np.random.default_rng(7)  # same mask on every call
        return forward(inp)

    layer.forward = fixed_mask_forward
    assert layer_errors(layer, x, dy)["input"] < TOL


def test_embedding_weight_gradient_with_repeated_ids():
    rng = np.random.default_rng(2)
    layer = Embedding(5, 3, rng=rng).astype(np.float64)
    ids = np.array([[0, 1, 1, 4], [4, 4, 2, 0]])
    dy = rng.standard_normal((2, 4, 3))
    errors = layer_errors(layer, ids, dy, check_input=False, n_checks=15)
    assert errors["weight"] < TOL
    layer.zero_grad()
    layer.backward(dy, layer.forward(ids)[1])
    np.testing.assert_allclose(layer.grads["weight"][3], 0.0)        # id 3 never used
    np.testing.assert_allclose(layer.grads["weight"][1], dy[0, 1] + dy[0, 2])


def test_backward_accumulates_and_zero_grad_resets():
    layer, x, dy = _setup(CASES[0][1], CASES[0][2])
    layer.zero_grad()
    for _ in range(2):
        layer.backward(dy, layer.forward(x)[1])
    twice = layer.grads["weight"].copy()
    layer.zero_grad()
    layer.backward(dy, layer.forward(x)[1])
    np.testing.assert_allclose(twice, 2 * layer.grads["weight"])
    layer.zero_grad()
    assert not layer.grads["weight"].any()


# -- fast paths against the slow references ---------------------------------------
@pytest.mark.parametrize("n,c,h,w,co,k,s,p", [
    (1, 1, 5, 5, 2, 3, 1, 0), (2, 3, 8, 7, 4, 3, 1, 1), (3, 2, 9, 6, 3, 3, 2, 1),
    (2, 2, 6, 6, 2, 2, 2, 0), (1, 3, 7, 8, 2, 5, 1, 2), (2, 1, 28, 28, 8, 3, 1, 1)])
def test_conv2d_fast_equals_naive(n, c, h, w, co, k, s, p):
    rng = np.random.default_rng(3)
    layer = Conv2d(c, co, k, stride=s, padding=p, rng=rng).astype(np.float64)
    x = rng.standard_normal((n, c, h, w))
    fast = layer.forward(x)[0]
    naive = conv2d_naive(x, layer.params["weight"], layer.params["bias"], s, p)
    assert fast.shape == naive.shape
    np.testing.assert_allclose(fast, naive, rtol=1e-12, atol=1e-12)


def test_conv1d_equals_naive_2d():
    rng = np.random.default_rng(4)
    layer = Conv1d(3, 4, 5, stride=2, padding=2, rng=rng).astype(np.float64)
    x = rng.standard_normal((2, 3, 11))
    naive = conv2d_naive(x[:, :, None, :], layer.params["weight"][:, :, None, :],
                         layer.params["bias"], (1, 2), (0, 2))[:, :, 0, :]
    np.testing.assert_allclose(layer.forward(x)[0], naive, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,k,s", [((2, 3, 8, 8), 2, None), ((1, 2, 7, 5), 2, None),
                                       ((2, 2, 9, 9), 3, 2), ((1, 1, 6, 6), 3, 3),
                                       ((2, 1, 5, 8), (2, 3), (1, 2))])
@pytest.mark.parametrize("ties", [False, True])
def test_maxpool2d_fast_equals_naive_incl_winners(shape, k, s, ties):
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, shape).astype(np.float32) if ties else rng.standard_normal(shape)
    layer = MaxPool2d(k, stride=s)
    y, cache = layer.forward(x)
    y_naive, win_naive = maxpool2d_naive(x, k, s)
    np.testing.assert_array_equal(y, y_naive)
    np.testing.assert_array_equal(layer.extras(cache)["winner"], win_naive)
    np.testing.assert_array_equal(layer.infer(x), y_naive)
    # the gradient goes to the winner only, even when a window holds several maxima
    dx = layer.backward(np.ones_like(y), cache)
    n, c, h, w = shape
    expected = np.zeros((n, c, h * w))
    for i in range(n):
        for j in range(c):
            np.add.at(expected[i, j], win_naive[i, j].ravel(), 1.0)
    np.testing.assert_array_equal(dx.reshape(n, c, -1), expected)


def test_pool1d_winners():
    x = np.array([[[1.0, 5.0, 2.0, 2.0, 7.0, 0.0]]])
    layer = MaxPool1d(2)
    y, cache = layer.forward(x)
    np.testing.assert_array_equal(y, [[[5.0, 2.0, 7.0]]])
    np.testing.assert_array_equal(layer.extras(cache)["winner"], [[[1, 2, 4]]])
    g = GlobalMaxPool1d()
    y, cache = g.forward(x)
    assert y.shape == (1, 1) and y[0, 0] == 7.0
    np.testing.assert_array_equal(g.extras(cache)["winner"], [[4]])


# -- shapes, errors, init -------------------------------------------------------------
@pytest.mark.parametrize("layer,bad", [
    (Conv2d(1, 8, 3), np.zeros((1, 28, 28), np.float32)),
    (Conv2d(1, 8, 3), np.zeros((1, 3, 28, 28), np.float32)),
    (Conv1d(2, 4, 3), np.zeros((1, 3, 10), np.float32)),
    (MaxPool2d(2), np.zeros((4, 4), np.float32)),
    (MaxPool1d(2), np.zeros((1, 4), np.float32)),
    (GlobalMaxPool1d(), np.zeros((2, 5), np.float32)),
    (Linear(784, 10), np.zeros((1, 783), np.float32)),
])
def test_wrong_input_shape_says_expected_and_received(layer, bad):
    with pytest.raises(ValueError, match="expects.*got shape") as info:
        layer.forward(bad)
    assert str(tuple(bad.shape)) in str(info.value)


def test_embedding_rejects_out_of_range_and_float_ids():
    layer = Embedding(4, 2)
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        layer.forward(np.array([[0, 4]]))
    with pytest.raises(ValueError, match="integer"):
        layer.forward(np.zeros((1, 2)))


def test_default_init_follows_pytorch_bounds():
    rng = np.random.default_rng(6)
    conv = Conv2d(8, 16, 3, rng=rng)
    lin = Linear(784, 64, rng=rng)
    emb = Embedding(1000, 16, rng=rng)
    for layer, fan_in in ((conv, 72), (lin, 784)):
        bound = 1 / np.sqrt(fan_in)
        for p in layer.params.values():
            assert p.dtype == np.float32
            assert np.abs(p).max() <= bound
        w = layer.params["weight"]                      # >= 1,152 draws: uniform on the full range
        assert np.abs(w).max() > 0.99 * bound and abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound
    assert abs(emb.params["weight"].std() - 1.0) < 0.05
    same = Conv2d(8, 16, 3, rng=np.random.default_rng(0)).params["weight"]
    np.testing.assert_array_equal(same, Conv2d(8, 16, 3, rng=np.random.default_rng(0)).params["weight"])


def test_dropout_train_and_eval():
    layer = Dropout(0.25, rng=np.random.default_rng(0))
    x = np.ones((200, 100), np.float32)
    y, cache = layer.forward(x)
    zeroed = (y == 0).mean()
    assert 0.22 < zeroed < 0.28
    np.testing.assert_allclose(y[y != 0], 1 / 0.75)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(layer.backward(x, cache), y)
    layer.eval()
    assert layer.forward(x)[0] is x


# -- losses --------------------------------------------------------------------------
def test_cross_entropy_gradient_and_mask():
    rng = np.random.default_rng(8)
    z = rng.standard_normal((3, 4, 5))
    t = rng.integers(0, 5, (3, 4))
    mask = rng.random((3, 4)) > 0.3
    loss, grad = cross_entropy(z, t, mask)
    logp = log_softmax(z)
    expected = -np.mean([logp[i, j, t[i, j]] for i in range(3) for j in range(4) if mask[i, j]])
    assert loss == pytest.approx(expected, rel=1e-12)
    assert not grad[~mask].any()
    for idx in [(0, 0, 0), (1, 2, 3), (2, 3, 4), (0, 1, 2)]:
        num = numeric_grad(lambda: cross_entropy(z, t, mask)[0], z, idx)
        assert rel_error(grad[idx], num) < TOL or abs(grad[idx] - num) < 1e-10


def test_softmax_is_stable_and_normalised():
    z = np.array([[1000.0, 1000.0, -1000.0]])
    p = softmax(z)
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0]])
    assert np.isfinite(log_softmax(z)).all()


def test_mse_and_its_gradient():
    rng = np.random.default_rng(9)
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    loss, grad = mse(pred, target)
    assert loss == pytest.approx(np.mean((pred - target) ** 2))
    num = numeric_grad(lambda: mse(pred, target)[0], pred, (2, 1))
    assert rel_error(grad[2, 1], num) < TOL
    with pytest.raises(ValueError, match="shape"):
        mse(pred, target[:2])


# -- optimisers ------------------------------------------------------------------------
def test_sgd_momentum_and_weight_decay_follow_pytorch_rule():
    p = {"w": np.array([1.0, -2.0])}
    opt = SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)
    g1, g2 = np.array([0.5, 0.5]), np.array([-1.0, 2.0])
    opt.step({"w": g1})
    b = g1 + 0.01 * np.array([1.0, -2.0])
    w = np.array([1.0, -2.0]) - 0.1 * b
    np.testing.assert_allclose(p["w"], w)
    opt.step({"w": g2})
    b = 0.9 * b + (g2 + 0.01 * w)
    np.testing.assert_allclose(p["w"], w - 0.1 * b)


def test_adam_updates_in_place_and_first_step_is_lr_sized():
    w = np.array([1.0, 1.0, 1.0], np.float32)
    params = {"w": w}
    opt = Adam(params, lr=0.01)
    opt.step({"w": np.array([3.0, -0.5, 0.0], np.float32)})
    assert params["w"] is w
    np.testing.assert_allclose(w, [0.99, 1.01, 1.0], atol=1e-6)
    assert w.dtype == np.float32


def test_clip_grad_norm_scales_to_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    total = clip_grad_norm(grads, 1.0)
    assert total == pytest.approx(5.0)
    norm = np.sqrt(sum((g ** 2).sum() for g in grads.values()))
    assert norm == pytest.approx(1.0, rel=1e-5)
    small = {"a": np.array([0.1])}
    clip_grad_norm(small, 1.0)
    assert small["a"][0] == 0.1
