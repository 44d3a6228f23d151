"""RNN / LSTM / GRU / LastStep: gradient checks, step == run == forward, fast == reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from explorer.engine import cells
from explorer.engine.gradcheck import numeric_grad
from explorer.engine.recurrent import GRU, LSTM, RNN, LastStep

D, H = 3, 4
NOISE = 1e-9
KINDS: dict[str, Callable[..., Any]] = {
    "rnn-tanh": lambda **kw: RNN(D, H, **kw),
    "rnn-relu": lambda **kw: RNN(D, H, nonlinearity="relu", **kw),
    "lstm": lambda **kw: LSTM(D, H, **kw),
    "gru": lambda **kw: GRU(D, H, **kw),
}


def _random_state(layer: Any, n: int, rng: np.random.Generator) -> Any:
    parts = [0.5 * rng.standard_normal((n, H)) for _ in layer.state_names]
    return tuple(parts) if len(parts) > 1 else parts[0]


def _state_arrays(state: Any) -> list[np.ndarray]:
    return list(state) if isinstance(state, tuple) else [state]


def max_rel_error(layer: Any, x: np.ndarray, state: Any, dy: np.ndarray, eps: float = 1e-6,
                  corrupt: Callable[[Any], None] | None = None) -> dict[str, float]:
    """Analytic vs central-difference gradients of L = sum(y * dy) over every entry of every
    parameter, of the input and of the initial state; worst relative error per array.

    Entries that agree to within ``NOISE`` in absolute terms count as exact: in float64 the
    central difference itself carries ~1e-10 of rounding noise (|L| ~ 10, eps = 1e-6), so
    a true gradient of 5e-5 would otherwise "fail" at 2e-6 relative error.
    """

    def loss() -> float:
        return float(np.sum(layer.forward(x, state)[0] * dy))

    layer.zero_grad()
    _, cache = layer.forward(x, state)
    dx = layer.backward(dy, cache)
    if corrupt is not None:
        corrupt(layer)
    targets = dict(layer.params)
    targets["input"] = x
    analytic = {**layer.grads, "input": dx}
    for k, (s, ds) in enumerate(zip(_state_arrays(state), _state_arrays(layer.last_dstate))):
        targets[f"state{k}"], analytic[f"state{k}"] = s, ds
    worst: dict[str, float] = {}
    for name, arr in targets.items():
        worst[name] = 0.0
        for i in np.ndindex(arr.shape):
            num, ana = numeric_grad(loss, arr, i, eps), analytic[name][i]
            err = abs(num - ana) / max(abs(num) + abs(ana), 1e-12)
            err = 0.0 if abs(num - ana) < NOISE else err
            worst[name] = max(worst[name], err)
    return worst


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("n,t", [(1, 1), (1, 5), (3, 1), (3, 5)])
def test_gradients_match_finite_differences(kind: str, n: int, t: int) -> None:
    rng = np.random.default_rng([list(KINDS).index(kind), n, t])
    layer = KINDS[kind](rng=rng).astype(np.float64)
    x = rng.standard_normal((n, t, D))
    state = _random_state(layer, n, rng)
    dy = rng.standard_normal((n, t, H))
    worst = max_rel_error(layer, x, state, dy)
    names = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "input", "state0"}
    assert set(worst) >= names | ({"state1"} if kind == "lstm" else set())
    assert max(worst.values()) < 1e-6, worst


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gradients_without_bias(kind: str) -> None:
    rng = np.random.default_rng(5)
    layer = KINDS[kind](rng=rng, bias=False).astype(np.float64)
    assert set(layer.params) == {"weight_ih_l0", "weight_hh_l0"}
    x, dy = rng.standard_normal((2, 4, D)), rng.standard_normal((2, 4, H))
    worst = max_rel_error(layer, x, _random_state(layer, 2, rng), dy)
    assert max(worst.values()) < 1e-6, worst


@pytest.mark.parametrize("kind", ["rnn-tanh", "lstm", "gru"])
def test_gradient_check_catches_a_wrong_gradient(kind: str) -> None:
    """Negative control: one corrupted entry of weight_hh_l0 must fail the check."""
    rng = np.random.default_rng(11)
    layer = KINDS[kind](rng=rng).astype(np.float64)
    x, dy = rng.standard_normal((2, 3, D)), rng.standard_normal((2, 3, H))

    def corrupt(lay: Any) -> None:
        lay.grads["weight_hh_l0"][1, 2] += 1e-3

    worst = max_rel_error(layer, x, _random_state(layer, 2, rng), dy, corrupt=corrupt)
    assert worst["weight_hh_l0"] > 1e-4
    assert worst["weight_ih_l0"] < 1e-6                   # the rest still passes


def test_last_step_forward_backward() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, H))
    layer = LastStep()
    y, cache = layer.forward(x)
    np.testing.assert_array_equal(y, x[:, -1])
    dy = rng.standard_normal((2, H))
    dx = layer.backward(dy, cache)
    np.testing.assert_array_equal(dx[:, -1], dy)
    assert not dx[:, :-1].any()
    assert layer.type_name == "LastStep" and layer.config() == {}
    with pytest.raises(ValueError, match=r"\(N, T, H\).*\(2, 4\)"):
        layer.forward(np.zeros((2, 4)))


@pytest.mark.parametrize("kind", list(KINDS))
def test_step_by_step_equals_run_equals_forward(kind: str) -> None:
    rng = np.random.default_rng(1)
    layer = KINDS[kind](rng=rng)
    x = rng.standard_normal((2, 9, D)).astype(np.float32)
    state0 = tuple(s.astype(np.float32) for s in _state_arrays(_random_state(layer, 2, rng)))
    state0 = state0 if len(state0) > 1 else state0[0]
    y_fwd, _ = layer.forward(x, state0)
    y_run, final, gates = layer.run(x, state0)
    np.testing.assert_array_equal(y_run, y_fwd)            # same code path: bit-identical
    assert y_run.dtype == np.float32 and y_run.shape == (2, 9, H)
    state, hs, step_gates = state0, [], []
    for t in range(x.shape[1]):
        h, state, g = layer.step(x[:, t], state)
        hs.append(h)
        step_gates.append(g)
    # the input projection is one matmul over all steps in run() and a 1-row matmul in
    # step(); BLAS may round those differently in the last bit, nothing more
    np.testing.assert_allclose(np.stack(hs, axis=1), y_run, rtol=0, atol=1e-6)
    for a, b in zip(_state_arrays(state), _state_arrays(final)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    for name, seq in gates.items():
        np.testing.assert_allclose(np.stack([g[name] for g in step_gates], axis=1), seq, atol=1e-6)


@pytest.mark.parametrize("kind", list(KINDS))
def test_run_from_mid_sequence_state_continues_the_sequence(kind: str) -> None:
    """An edit at position p only needs the state at p and a re-run of x[p:]."""
    rng = np.random.default_rng(2)
    layer = KINDS[kind](rng=rng).astype(np.float64)
    x = rng.standard_normal((1, 12, D))
    y_full, final_full, _ = layer.run(x)
    p = 7
    _, state_p, _ = layer.run(x[:, :p])
    y_tail, final_tail, _ = layer.run(x[:, p:], state_p)
    np.testing.assert_allclose(y_tail, y_full[:, p:], rtol=0, atol=1e-12)
    for a, b in zip(_state_arrays(final_tail), _state_arrays(final_full)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    edited = x.copy()
    edited[0, p] += 1.0                                    # the edit changes the tail only
    y_edit, _, _ = layer.run(edited[:, p:], state_p)
    assert not np.allclose(y_edit[:, 0], y_full[:, p])


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", list(KINDS))
def test_fast_path_equals_reference(kind: str, bias: bool) -> None:
    rng = np.random.default_rng(3)
    layer = KINDS[kind](rng=rng, bias=bias).astype(np.float64)
    x = rng.standard_normal((3, 6, D))
    state = _random_state(layer, 3, rng)
    y, final, gates = layer.run(x, state)
    p = layer.params
    if kind.startswith("rnn"):
        ref, ref_gates = cells.rnn_reference(p, x, state, relu=kind == "rnn-relu"), {}
    elif kind == "lstm":
        ref, _, ref_gates = cells.lstm_reference(p, x, *state)
    else:
        ref, ref_gates = cells.gru_reference(p, x, state)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_state_arrays(final)[0], ref[:, -1], rtol=0, atol=1e-12)
    assert set(gates) == set(ref_gates)
    for name in ref_gates:
        np.testing.assert_allclose(gates[name], ref_gates[name], rtol=0, atol=1e-12)


def test_gate_names_and_shapes() -> None:
    x = np.zeros((2, 3, D), np.float32)
    assert set(LSTM(D, H, rng=np.random.default_rng(0)).run(x)[2]) == {"i", "f", "g", "o", "c"}
    assert set(GRU(D, H, rng=np.random.default_rng(0)).run(x)[2]) == {"r", "z", "n"}
    assert RNN(D, H, rng=np.random.default_rng(0)).run(x)[2] == {}
    h, (h1, c1), g = LSTM(D, H, rng=np.random.default_rng(0)).step(x[:, 0], None)
    assert h.shape == h1.shape == c1.shape == (2, H) and g["f"].shape == (2, H)


@pytest.mark.parametrize("cls,g", [(RNN, 1), (LSTM, 4), (GRU, 3)])
def test_pytorch_names_shapes_init_and_config(cls: Any, g: int) -> None:
    layer = cls(5, 8, rng=np.random.default_rng(0))
    shapes = {k: v.shape for k, v in layer.params.items()}
    assert shapes == {"weight_ih_l0": (g * 8, 5), "weight_hh_l0": (g * 8, 8),
                      "bias_ih_l0": (g * 8,), "bias_hh_l0": (g * 8,)}
    bound = 1 / np.sqrt(8)
    for v in layer.params.values():
        assert v.dtype == np.float32 and np.abs(v).max() <= bound and v.std() > bound / 4
    again = cls(5, 8, rng=np.random.default_rng(0))
    assert all(np.array_equal(layer.params[k], again.params[k]) for k in shapes)
    cfg = layer.config()
    expected = {"input_size": 5, "hidden_size": 8, "bias": True, "batch_first": True}
    assert cfg == ({**expected, "nonlinearity": "tanh"} if cls is RNN else expected)
    assert cls.from_config(**cfg).config() == cfg
    assert layer.type_name == cls.__name__ and cls.recurrent


def test_bad_shapes_and_options_raise_clear_errors() -> None:
    layer = LSTM(D, H, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"\(N, T, 3\).*\(2, 3\)"):
        layer.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(N, T, 3\).*\(2, 5, 4\)"):
        layer.run(np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match=r"\(N, 3\).*\(2, 4\)"):
        layer.step(np.zeros((2, 4)), None)
    with pytest.raises(ValueError, match=r"c0 of shape \(2, 4\).*\(2, 5\)"):
        layer.run(np.zeros((2, 5, D)), (np.zeros((2, H)), np.zeros((2, 5))))
    with pytest.raises(ValueError, match="tuple"):
        layer.run(np.zeros((2, 5, D)), np.zeros((2, H)))
    _, cache = layer.forward(np.zeros((2, 5, D)))
    with pytest.raises(ValueError, match=r"\(2, 5, 4\)"):
        layer.backward(np.zeros((2, 4, H)), cache)
    with pytest.raises(ValueError, match="relu"):
        RNN(D, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="batch_first"):
        GRU(D, H, batch_first=False)
    with pytest.raises(ValueError, match="num_layers=1"):
        LSTM(D, H, num_layers=2)
    assert LSTM(D, H, num_layers=1, dropout=0.0, bidirectional=False).config()["hidden_size"] == H


def test_empty_sequence_keeps_the_state() -> None:
    layer = LSTM(D, H, rng=np.random.default_rng(0))
    state = (np.ones((1, H), np.float32), np.full((1, H), 2.0, np.float32))
    y, (h, c), gates = layer.run(np.zeros((1, 0, D), np.float32), state)
    assert y.shape == (1, 0, H) and gates["i"].shape == (1, 0, H)
    np.testing.assert_array_equal(h, state[0])
    np.testing.assert_array_equal(c, state[1])


def test_backward_accumulates() -> None:
    rng = np.random.default_rng(4)
    layer = GRU(D, H, rng=rng).astype(np.float64)
    x, dy = rng.standard_normal((2, 3, D)), rng.standard_normal((2, 3, H))
    layer.zero_grad()
    layer.backward(dy, layer.forward(x)[1])
    once = {k: v.copy() for k, v in layer.grads.items()}
    layer.backward(dy, layer.forward(x)[1])
    for k, v in layer.grads.items():
        np.testing.assert_allclose(v, 2 * once[k])
