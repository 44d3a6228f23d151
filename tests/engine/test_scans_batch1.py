"""RNN and GRU scans at batch 1 (1-D rows in the time loop) and at batch > 1: against the slow
references, and one step at a time == a whole scan, bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from explorer.engine import cells
from explorer.engine.recurrent import GRU, RNN


def _make(kind: str, d: int, h: int, bias: bool) -> Any:
    rng = np.random.default_rng(0)
    if kind == "gru":
        return GRU(d, h, bias=bias, rng=rng).astype(np.float64)
    return RNN(d, h, nonlinearity=kind[4:], bias=bias, rng=rng).astype(np.float64)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("n,t,d,h", [(1, 30, 4, 7), (1, 5, 3, 16), (3, 8, 4, 5)])
@pytest.mark.parametrize("kind", ["gru", "rnn-tanh", "rnn-relu"])
def test_scan_matches_the_reference(kind, n, t, d, h, bias):
    layer = _make(kind, d, h, bias)
    rng = np.random.default_rng(1)
    x, h0 = rng.standard_normal((n, t, d)), rng.standard_normal((n, h))
    y, final, gates = layer.run(x, h0)
    if kind == "gru":
        ref, ref_gates = cells.gru_reference(layer.params, x, h0)
    else:
        ref, ref_gates = cells.rnn_reference(layer.params, x, h0, relu=kind == "rnn-relu"), {}
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(final, ref[:, -1], rtol=0, atol=1e-12)
    assert set(gates) == set(ref_gates)
    for name, seq in ref_gates.items():
        np.testing.assert_allclose(gates[name], seq, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("kind", ["gru", "rnn-tanh"])
def test_one_step_at_a_time_equals_a_whole_scan_exactly(kind, n):
    layer = _make(kind, 4, 9, True).astype(np.float32)
    rng = np.random.default_rng(2)
    x, h0 = rng.standard_normal((n, 12, 4)).astype(np.float32), rng.standard_normal((n, 9)).astype(np.float32)
    xp = layer.project(x)
    hs, (h_end,), saved = layer.scan(xp.copy(), (h0,))
    y, _, gates = layer.run(x, h0)
    np.testing.assert_array_equal(hs.swapaxes(0, 1), y)
    st = (h0,)
    for k in range(12):
        h_k, st, saved_k = layer.scan(xp[k:k + 1].copy(), st)
        np.testing.assert_array_equal(h_k[0], hs[k])
        if kind == "gru":                                       # saved = ([r, z, n], hn)
            np.testing.assert_array_equal(saved_k[0][0], saved[0][k])
            np.testing.assert_array_equal(saved_k[1][0], saved[1][k])
    np.testing.assert_array_equal(st[0], h_end)
