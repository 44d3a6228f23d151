"""Torch oracle: our RNN/LSTM/GRU with torch's state dict give torch's outputs and gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from explorer.engine.recurrent import GRU, LSTM, RNN

torch = pytest.importorskip("torch")

N, T, D, H = 3, 6, 5, 7
ATOL = 1e-5
CASES = {
    "rnn-tanh": (lambda: RNN(D, H), lambda: torch.nn.RNN(D, H, batch_first=True)),
    "rnn-relu": (lambda: RNN(D, H, nonlinearity="relu"),
                 lambda: torch.nn.RNN(D, H, nonlinearity="relu", batch_first=True)),
    "lstm": (lambda: LSTM(D, H), lambda: torch.nn.LSTM(D, H, batch_first=True)),
    "gru": (lambda: GRU(D, H), lambda: torch.nn.GRU(D, H, batch_first=True)),
}


def _as_tuple(state: Any) -> tuple[Any, ...]:
    return tuple(state) if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("kind", list(CASES))
def test_matches_torch_outputs_and_gradients(kind: str, with_state: bool) -> None:
    torch.manual_seed(0)
    make_ours, make_torch = CASES[kind]
    ref = make_torch()
    ours = make_ours()
    state_dict = {k: v.detach().numpy().copy() for k, v in ref.state_dict().items()}
    assert set(state_dict) == set(ours.params)
    for k, v in state_dict.items():
        assert v.shape == ours.params[k].shape
        ours.params[k][...] = v
    ours.zero_grad()

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    dy = rng.standard_normal((N, T, H)).astype(np.float32)
    n_state = 2 if kind == "lstm" else 1
    states = [0.5 * rng.standard_normal((N, H)).astype(np.float32) for _ in range(n_state)]
    state = (tuple(states) if n_state == 2 else states[0]) if with_state else None

    xt = torch.from_numpy(x).requires_grad_()
    st = [torch.from_numpy(s[None]).requires_grad_() for s in states]  # torch: (layers, N, H)
    if with_state:
        yt, final_t = ref(xt, tuple(st) if n_state == 2 else st[0])
    else:
        yt, final_t = ref(xt)
    yt.backward(torch.from_numpy(dy))

    y, cache = ours.forward(x, state)
    dx = ours.backward(dy, cache)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=ATOL)
    grads = dict(ref.named_parameters())
    for name, g in ours.grads.items():
        np.testing.assert_allclose(g, grads[name].grad.numpy(), rtol=0, atol=ATOL, err_msg=name)

    _, final, _ = ours.run(x, state)
    for ours_s, torch_s in zip(_as_tuple(final), _as_tuple(final_t)):
        np.testing.assert_allclose(ours_s, torch_s.detach().numpy()[0], rtol=0, atol=ATOL)
    if with_state:
        for d_ours, s_t in zip(_as_tuple(ours.last_dstate), st):
            np.testing.assert_allclose(d_ours, s_t.grad.numpy()[0], rtol=0, atol=ATOL)


def test_lstm_step_matches_torch_lstm_cell() -> None:
    """One step() of our LSTM is one torch.nn.LSTMCell call with the same weights."""
    torch.manual_seed(1)
    cell = torch.nn.LSTMCell(D, H)
    ours = LSTM(D, H)
    for k, v in cell.state_dict().items():
        ours.params[f"{k}_l0"][...] = v.numpy()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, D)).astype(np.float32)
    h0, c0 = (rng.standard_normal((N, H)).astype(np.float32) for _ in range(2))
    h, (h1, c1), gates = ours.step(x, (h0, c0))
    with torch.no_grad():
        ht, ct = cell(torch.from_numpy(x), (torch.from_numpy(h0), torch.from_numpy(c0)))
    np.testing.assert_allclose(h, ht.numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(c1, ct.numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(gates["c"], ct.numpy(), rtol=0, atol=ATOL)
