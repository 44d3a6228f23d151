"""The LSTM scan (cells.lstm_scan / lstm_scan_rows and LSTM.run's fused projection) against
the slow reference and against the plain formulas, bit for bit where the arithmetic is the
same: one step at a time == a whole run, run() == project() + scan(), batch 1 (1-D rows)
and batch > 1, float32 and float64, hidden sizes that are not multiples of 4."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import cells
from explorer.engine.recurrent import LSTM

SIZES = [(1, 9, 3, 5), (1, 40, 6, 33), (3, 7, 4, 5), (4, 12, 5, 16)]   # (N, T, D, H)


def _layer(d: int, h: int, dtype: type, bias: bool = True, seed: int = 0) -> LSTM:
    layer = LSTM(d, h, bias=bias, rng=np.random.default_rng(seed))
    return layer.astype(np.float64) if dtype is np.float64 else layer


def _inputs(n: int, t: int, d: int, h: int, dtype: type, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, t, d)).astype(dtype)
    state = tuple((1.5 * rng.standard_normal((n, h))).astype(dtype) for _ in range(2))
    return x, state


def _plain_scan(xp: np.ndarray, h0: np.ndarray, c0: np.ndarray, w_hh: np.ndarray):
    """The LSTM equations written out with sigma(a) = (tanh(a/2) + 1) / 2: no rows, no
    doubled gates, no pre-scaled weights. (T, N, 4H) -> hs, cs, [i, f, g, o]."""
    hidden, w_t = h0.shape[1], np.ascontiguousarray(w_hh.T)
    h, c, hs, cs, acts = h0, c0, [], [], []
    for xp_t in xp:
        a = xp_t + h @ w_t
        i, f, g, o = (a[:, k * hidden:(k + 1) * hidden] for k in range(4))
        i, f, o = ((np.tanh(v * 0.5) + 1.0) * 0.5 for v in (i, f, o))
        g = np.tanh(g)
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
        acts.append(np.concatenate([i, f, g, o], axis=1))
    return np.stack(hs), np.stack(cs), np.stack(acts)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n,t,d,h", SIZES)
def test_scan_is_bit_identical_to_the_plain_formulas(n, t, d, h, dtype):
    layer = _layer(d, h, dtype)
    x, state = _inputs(n, t, d, h, dtype)
    xp = layer.project(x)
    want_hs, want_cs, want_acts = _plain_scan(xp, *state, layer.params["weight_hh_l0"])
    hs, cs, acts2 = cells.lstm_scan(xp.copy(), *state, layer._w_hh_t())
    assert hs.dtype == cs.dtype == dtype
    np.testing.assert_array_equal(hs, want_hs)
    np.testing.assert_array_equal(cs, want_cs)
    np.testing.assert_array_equal(cells.lstm_acts(acts2), want_acts)
    # the comparison sees one ulp: the plain scan from c0 nudged by one ulp differs
    nudged = np.nextafter(state[1], np.inf).astype(dtype)
    assert not np.array_equal(_plain_scan(xp, state[0], nudged, layer.params["weight_hh_l0"])[1], cs)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("n,t,d,h", SIZES)
def test_run_matches_the_reference(n, t, d, h, bias):
    layer = _layer(d, h, np.float64, bias=bias)
    x, state = _inputs(n, t, d, h, np.float64)
    y, (h_last, c_last), gates = layer.run(x, state)
    ref_h, ref_c, ref_gates = cells.lstm_reference(layer.params, x, *state)
    np.testing.assert_allclose(y, ref_h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_last, ref_h[:, -1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_last, ref_c[:, -1], rtol=0, atol=1e-12)
    assert set(gates) == {"i", "f", "g", "o", "c"}
    for name, seq in gates.items():
        assert seq.shape == (n, t, h) and seq.flags.c_contiguous
        np.testing.assert_allclose(seq, ref_gates[name], rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n,t,d,h", SIZES)
def test_one_step_at_a_time_equals_a_whole_run_exactly(n, t, d, h, dtype):
    layer = _layer(d, h, dtype)
    x, state = _inputs(n, t, d, h, dtype)
    xp = layer.project(x)
    y, (h_end, c_end), gates = layer.run(x, state)
    hs, (h_scan, c_scan), saved = layer.scan(xp.copy(), state)
    np.testing.assert_array_equal(hs.swapaxes(0, 1), y)          # run == project + scan
    np.testing.assert_array_equal(h_scan, h_end)
    np.testing.assert_array_equal(c_scan, c_end)
    np.testing.assert_array_equal(saved[1].swapaxes(0, 1), gates["c"])
    st = state
    for k in range(t):                                          # T scans of one step each
        h_k, st, _ = layer.scan(xp[k:k + 1].copy(), st)
        np.testing.assert_array_equal(h_k[0], y[:, k])
    np.testing.assert_array_equal(st[0], h_end)
    np.testing.assert_array_equal(st[1], c_end)
    states = layer.scan_states(xp.copy(), state)
    np.testing.assert_array_equal(states[0].swapaxes(0, 1), y)
    np.testing.assert_array_equal(states[1].swapaxes(0, 1), gates["c"])


def test_scan_leaves_its_input_and_state_untouched_and_handles_no_steps():
    layer = _layer(3, 5, np.float32)
    x, state = _inputs(1, 4, 3, 5, np.float32)
    xp = layer.project(x)
    xp0, st0 = xp.copy(), tuple(s.copy() for s in state)
    layer.scan(xp, state)
    np.testing.assert_array_equal(xp, xp0)
    for a, b in zip(state, st0):
        np.testing.assert_array_equal(a, b)
    hs, (h, c), saved = layer.scan(xp[:0], state)
    assert hs.shape == (0, 1, 5) and saved[1].shape == (0, 1, 5)
    np.testing.assert_array_equal(h, state[0])
    np.testing.assert_array_equal(c, state[1])


@pytest.mark.parametrize("steps,hidden,dtype", [(60, 128, np.float32), (7, 5, np.float64), (1, 33, np.float32)])
def test_lstm_bptt_for_one_sequence_equals_the_batched_loop_exactly(steps, hidden, dtype):
    """The Memory panel's BPTT (batch 1) runs on 1-D rows: the same numbers as the 2-D loop."""
    rng = np.random.default_rng(steps)
    acts = rng.random((steps, 1, 4 * hidden)).astype(dtype)
    acts[:, :, 2 * hidden:3 * hidden] = rng.uniform(-1, 1, (steps, 1, hidden))
    cs, c_prev, dys = (rng.standard_normal((steps, 1, hidden)).astype(dtype) for _ in range(3))
    w_hh = (rng.standard_normal((4 * hidden, hidden)) / np.sqrt(hidden)).astype(dtype)   # no explosion
    got = cells.lstm_bptt(dys, acts, cs, c_prev, w_hh)              # N = 1: the 1-D rows
    want = cells.lstm_bptt(dys, acts, cs, c_prev, w_hh, rows=False)  # the (N, .) blocks' loop
    for a, b in zip(got, want):
        assert a.shape == b.shape and np.array_equal(a, b)
    dys2 = dys.copy()
    dys2[0, 0, 0] += 1.0                                    # negative control: the input matters
    assert not np.array_equal(cells.lstm_bptt(dys2, acts, cs, c_prev, w_hh)[1], want[1])
