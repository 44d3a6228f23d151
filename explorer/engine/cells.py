"""Time loops of the recurrent cells: fast scans, their BPTT, and slow references.

Everything here is *time-major*: xp (T, N, G*H), hs (T, N, H), so one step is one contiguous
block. ``xp`` is the input projection x @ W_ih^T + biases, computed for the whole sequence
in one matmul by the caller (the RNN and GRU scans overwrite it in place with the gate
activations; the LSTM scan copies it into its own rows), so per step only h @ W_hh^T is
computed (``w_hh_t`` = W_hh^T, C-contiguous). Sigmoids are computed as
sigma(a) = (tanh(a/2) + 1) / 2 (no overflow, and the /2 and *1/2 are exact).
Per-step cost at batch 1 (H = 128, float32, this machine's numpy 2.4 + OpenBLAS, 1 thread):
the matrix-vector product ~2.6 us, any elementwise call ~0.25-0.3 us whatever its length
(<= 512), a view ~0.03-0.05 us; so the time loop's floor is its number of numpy calls.
The scans' internal layouts keep W_hh's gate order: permuting its columns changes
OpenBLAS's float32 rounding (gemv when H % 4 != 0, gemm at batch > 1), and only powers of
two are factored out, so the values stay bit-identical whatever the layout.
A BPTT function returns the gradients w.r.t. the input projection (dxp) and w.r.t. the
hidden projection h @ W_hh^T + b_hh (dhp) per step, plus the gradient w.r.t. the initial
state; the layer turns those into parameter and input gradients with a few big matmuls.
The ``*_reference`` functions recompute every step from scratch with one matrix per gate
and 1 / (1 + exp(-a)): slow, obviously right, used by the tests to pin the fast paths.
"""

from __future__ import annotations

import functools
from typing import cast

import numpy as np

Array = np.ndarray
Gates = dict[str, Array]


def rnn_scan(xp: Array, h0: Array, w_hh_t: Array, relu: bool) -> Array:
    """xp: (T, N, H) -> hs: (T, N, H) (xp itself, overwritten); h_t = act(xp_t + h_{t-1} W^T)."""
    buf, h, steps = np.empty_like(h0), h0, xp
    if xp.shape[1] == 1:                      # batch 1: 1-D rows (cheaper numpy calls)
        buf, h, steps = buf[0], h0[0], xp[:, 0]
    for a in steps:
        np.dot(h, w_hh_t, buf)
        a += buf
        if relu:
            np.maximum(a, 0, out=a)
        else:
            np.tanh(a, a)
        h = a
    return xp


def rnn_bptt(dys: Array, hs: Array, w_hh: Array, relu: bool) -> tuple[Array, Array]:
    """dys, hs: (T, N, H) -> (dxp (T, N, H), dh0 (N, H)); here dhp is dxp."""
    deriv = (hs > 0).astype(hs.dtype) if relu else 1.0 - hs * hs
    dxp, dh, dh_next = np.empty_like(hs), np.empty_like(hs[0]), np.zeros_like(hs[0])
    for t in reversed(range(hs.shape[0])):
        np.add(dys[t], dh_next, out=dh)
        np.multiply(dh, deriv[t], out=dxp[t])
        np.dot(dxp[t], w_hh, out=dh_next)
    return dxp, dh_next


@functools.lru_cache(maxsize=64)
def _sigmoid_tanh_scales(sigmoid: tuple[bool, ...], n: int, h: int, dtype: str
                         ) -> tuple[Array, Array]:
    """(scale, shift), each (n, len(sigmoid) * h): a*scale -> tanh -> *scale + shift gives
    sigma(a) on the blocks flagged True and tanh(a) on the others. Same shape as the gate
    block on purpose: numpy's in-place ops are ~2x faster without broadcasting. Cached and
    shared, so read-only."""
    scale = np.concatenate([np.full(h, 0.5 if sig else 1.0) for sig in sigmoid])
    shift = np.concatenate([np.full(h, 0.5 if sig else 0.0) for sig in sigmoid])
    return np.tile(scale.astype(dtype), (n, 1)), np.tile(shift.astype(dtype), (n, 1))


@functools.lru_cache(maxsize=64)
def _lstm_constants(n: int, h: int, dtype: str) -> tuple[Array, Array, Array, Array]:
    """(scale (4H,), scale / 2, shift, half) for the LSTM scan; shift and half have the shape of one
    step's gate block and cell state ((4H,) and (H,) when n == 1, else (n, 4H) and (n, H)).
    Cached and shared, so read-only."""
    scale = np.repeat(np.array([0.5, 0.5, 1.0, 0.5], dtype), h)
    shift = np.repeat(np.array([1.0, 1.0, -0.0, 1.0], dtype), h)   # -0.0: g + -0.0 == g, even -0
    half = np.full(h, 0.5, dtype)
    if n > 1:
        shift, half = np.tile(shift, (n, 1)), np.tile(half, (n, 1))
    return scale, scale * 0.5, shift, half


def lstm_scale(hidden: int, dtype: np.dtype) -> Array:
    """(4H,) [1/2, 1/2, 1, 1/2] per gate [i, f, g, o]: what ``lstm_rows`` wants the
    pre-activations multiplied by, and what turns ``lstm_scan``'s [2i, 2f, g, 2o] into
    [i, f, g, o]. Shared, so read-only."""
    return _lstm_constants(1, hidden, np.dtype(dtype).str)[0]


def lstm_rows(n_steps: int, n: int, hidden: int, dtype: np.dtype) -> tuple[Array, Array]:
    """The work buffer of ``lstm_scan_rows`` (T + 1, 5NH), one row per step laid out as
    [c_{t-1} (N, H) | gates (N, 4H)] (both contiguous), and the view of the gate parts
    (T, N, 4H) for the caller to fill with the pre-activations (x W_ih^T + biases) times
    ``lstm_scale``."""
    rows = np.empty((n_steps + 1, 5 * n * hidden), dtype)
    return rows, rows[:n_steps, n * hidden:].reshape(n_steps, n, 4 * hidden)


def lstm_scan(xp: Array, h0: Array, c0: Array, w_hh_t: Array) -> tuple[Array, Array, Array]:
    """xp: (T, N, 4H), not modified -> (hs, cs, acts2): hs and cs (T, N, H), acts2 the
    activations as [2i, 2f, g, 2o] (T, N, 4H) (``lstm_acts`` gives [i, f, g, o])."""
    rows, pre = lstm_rows(xp.shape[0], xp.shape[1], h0.shape[1], xp.dtype)
    np.multiply(xp, lstm_scale(h0.shape[1], xp.dtype), out=pre)
    return lstm_scan_rows(rows, h0, c0, w_hh_t)


def lstm_scan_rows(rows: Array, h0: Array, c0: Array, w_hh_t: Array) -> tuple[Array, Array, Array]:
    """rows from ``lstm_rows``, filled -> (hs, cs, acts2) as ``lstm_scan``.

    With 2i, 2f, 2o = 1 + tanh(a/2) the sigmoids are ONE add, and the state carried to the
    next step is 2h (the product 2o * tanh(c)), used with W_hh^T / 4 (W_hh^T / 2 for g).
    At batch 1 a step's row is [c_{t-1} | 2i 2f g 2o], so f*c and i*g are ONE multiply
    ([2f g] * [c 2i]): nine numpy calls per step (one matrix-vector product, eight
    elementwise), on 1-D contiguous blocks (numpy's per-call cost is lower than on 2-D).
    At batch N > 1 a step is [c_{t-1} (N, H) | gates (N, 4H)], each contiguous (strided
    2-D blocks measured 2-4x slower per call there): ten calls per step. Only powers of two
    are factored out, so every value is bit-identical to computing
    sigma(a) = (tanh(a/2) + 1) / 2, c = f*c + i*g and h = o * tanh(c) directly.
    """
    n_steps, (n, hidden), dtype = rows.shape[0] - 1, h0.shape, rows.dtype
    nh = n * hidden
    _, w_scale, shift, half = _lstm_constants(n, hidden, dtype.str)
    c_rows = rows[:, :nh].reshape(n_steps + 1, n, hidden)
    gates = rows[:n_steps, nh:].reshape(n_steps, n, 4 * hidden)
    c_rows[0] = c0
    w = w_hh_t * w_scale                                       # W_hh^T / [4, 4, 2, 4]
    hs = np.empty((n_steps, n, hidden), dtype)                 # 2h during the loop
    h2, buf, tc = h0 * 2.0, np.empty((n, 4 * hidden), dtype), np.empty_like(h0)
    dot, add, mul, tanh = np.dot, np.add, np.multiply, np.tanh
    if n == 1:                                                 # batch 1: 1-D rows
        h2, buf, tc, prod = h2[0], buf[0], tc[0], np.empty(2 * hidden, dtype)
        fc, ig = prod[:hidden], prod[hidden:]
        views = (rows[:n_steps, hidden:], rows[:n_steps, 2 * hidden:4 * hidden],
                 rows[:n_steps, :2 * hidden], rows[:n_steps, 4 * hidden:], rows[1:, :hidden])
        for a, fg_t, ci_t, o_t, c_t, h_t in zip(*views, hs[:, 0]):  # hot loop
            dot(h2, w, buf)
            add(a, buf, a)                    # = pre-activation * [1/2, 1/2, 1, 1/2]
            tanh(a, a)
            add(a, shift, a)                  # a = [2i, 2f, g, 2o]
            mul(fg_t, ci_t, prod)             # [2f c, 2i g]
            add(fc, ig, c_t)                  # 2 c_t, where the next step reads c_t
            mul(c_t, half, c_t)               # c_t
            tanh(c_t, tc)
            mul(o_t, tc, h_t)                 # 2 h_t = 2o * tanh(c_t)
            h2 = h_t
    else:
        tmp, c = np.empty_like(h0), c_rows[0]
        i2, f2, g, o2 = (gates[:, :, k * hidden:(k + 1) * hidden] for k in range(4))
        for a, i_t, f_t, g_t, o_t, c_t, h_t in zip(gates, i2, f2, g, o2, c_rows[1:], hs):
            dot(h2, w, buf)
            add(a, buf, a)
            tanh(a, a)
            add(a, shift, a)                  # a = [2i, 2f, g, 2o]
            mul(f_t, c, c_t)
            mul(i_t, g_t, tmp)
            add(c_t, tmp, c_t)                # 2 c_t
            mul(c_t, half, c_t)
            tanh(c_t, tc)
            mul(o_t, tc, h_t)                 # 2 h_t
            h2, c = h_t, c_t
    hs *= 0.5
    return hs, c_rows[1:].copy(), gates


def lstm_acts(acts2: Array) -> Array:
    """[2i, 2f, g, 2o] (T, N, 4H) from lstm_scan -> a new array [i, f, g, o] (exact)."""
    return cast("Array", acts2 * lstm_scale(acts2.shape[2] // 4, acts2.dtype))


def lstm_bptt(dys: Array, acts: Array, cs: Array, c_prev: Array, w_hh: Array, rows: bool | None = None
              ) -> tuple[Array, Array, Array]:
    """dys (T, N, H), acts (T, N, 4H) -> (dxp (T, N, 4H), dh0, dc0); here dhp is dxp.

    rows: loop on 1-D rows (one sequence, N = 1; the default then) or on (N, .) blocks; the
    same operations in the same order either way, so the same numbers."""
    n_steps, n, hidden = cs.shape
    i, f, g, o = (acts[:, :, k * hidden:(k + 1) * hidden] for k in range(4))
    tc = np.tanh(cs)
    k_c = o * (1.0 - tc * tc)                         # dc/dh through h = o * tanh(c)
    p = np.empty((n_steps, n, 4, hidden), acts.dtype)  # d(pre-activation)/dc, and /dh for o
    p[:, :, 0], p[:, :, 1] = g * i * (1.0 - i), c_prev * f * (1.0 - f)
    p[:, :, 2], p[:, :, 3] = i * (1.0 - g * g), tc * o * (1.0 - o)
    dxp = np.empty_like(p)
    dh, dc, tmp = np.empty_like(cs[0]), np.empty_like(cs[0]), np.empty_like(cs[0])
    dh_next, dc_next = np.zeros_like(cs[0]), np.zeros_like(cs[0])
    if rows if rows is not None else n == 1:   # one sequence (the Memory panel's window): 1-D rows
        _lstm_bptt_rows(dys[:, 0], k_c[:, 0], p[:, 0], dxp[:, 0], f[:, 0], w_hh,
                        dh[0], dc[0], tmp[0], dh_next[0], dc_next[0])
        return dxp.reshape(n_steps, n, 4 * hidden), dh_next, dc_next
    for t in reversed(range(n_steps)):
        np.add(dys[t], dh_next, out=dh)
        np.multiply(dh, k_c[t], out=tmp)
        np.add(dc_next, tmp, out=dc)
        np.multiply(p[t, :, :3], dc[:, None, :], out=dxp[t, :, :3])
        np.multiply(p[t, :, 3], dh, out=dxp[t, :, 3])
        np.dot(dxp[t].reshape(n, 4 * hidden), w_hh, out=dh_next)
        np.multiply(dc, f[t], out=dc_next)
    return dxp.reshape(n_steps, n, 4 * hidden), dh_next, dc_next


def _lstm_bptt_rows(dys: Array, k_c: Array, p: Array, dxp: Array, f: Array, w_hh: Array,
                    dh: Array, dc: Array, tmp: Array, dh_next: Array, dc_next: Array) -> None:
    """``lstm_bptt``'s loop for one sequence on 1-D rows: dys, k_c, f (T, H); p, dxp (T, 4, H);
    the rest (H,)."""
    dxp_flat = dxp.reshape(len(dxp), -1)
    for dy_t, kc_t, p_t, d_t, d_flat, f_t in zip(dys[::-1], k_c[::-1], p[::-1], dxp[::-1],
                                                  dxp_flat[::-1], f[::-1]):
        np.add(dy_t, dh_next, dh)
        np.multiply(dh, kc_t, tmp)
        np.add(dc_next, tmp, dc)
        np.multiply(p_t[:3], dc, d_t[:3])
        np.multiply(p_t[3], dh, d_t[3])
        np.dot(d_flat, w_hh, dh_next)
        np.multiply(dc, f_t, dc_next)


def gru_scan(xp: Array, h0: Array, w_hh_t: Array, b_hn: Array) -> tuple[Array, Array]:
    """xp: (T, N, 3H) -> (hs, hn) each (T, N, H); xp becomes [r, z, n]; hn = W_hn h + b_hn.

    Eleven numpy calls per step: a step's row is laid out as [r z hn (N, 3H) | n (N, H)]
    (each block contiguous), hn starting as b_hn, with the r, z pre-activations and W_hr,
    W_hz halved beforehand (exact), so ONE add gives both (a_r, a_z) / 2 and
    hn = W_hn h + b_hn. For a few rows (T * N < 32) halving W would cost more than it
    saves: a_r, a_z are halved in the loop instead (the same values). At batch 1 the steps
    work on 1-D rows."""
    n_steps, n, hidden = xp.shape[0], xp.shape[1], h0.shape[1]
    half = _sigmoid_tanh_scales((True, True), n, hidden, xp.dtype.str)[0]
    rows = np.empty((n_steps, 4 * n * hidden), xp.dtype)
    rzh = rows[:, :3 * n * hidden].reshape(n_steps, n, 3 * hidden)   # [r z | hn]
    nx = rows[:, 3 * n * hidden:].reshape(n_steps, n, hidden)        # n
    halve_w = n_steps * n >= 32
    if halve_w:
        np.multiply(xp[:, :, :2 * hidden], 0.5, out=rzh[:, :, :2 * hidden])
        w = w_hh_t.copy()
        w[:, :2 * hidden] *= 0.5
    else:
        rzh[:, :, :2 * hidden], w = xp[:, :, :2 * hidden], w_hh_t
    rzh[:, :, 2 * hidden:] = b_hn
    nx[...] = xp[:, :, 2 * hidden:]
    hs = np.empty((n_steps, n, hidden), xp.dtype)
    buf, tmp, h, steps, n_rows, h_rows = np.empty(xp.shape[1:], xp.dtype), np.empty_like(h0), \
        h0, rzh, nx, hs
    if n == 1:                                                  # batch 1: 1-D rows
        half, buf, tmp, h = half[0], buf[0], tmp[0], h0[0]
        steps, n_rows, h_rows = rzh[:, 0], nx[:, 0], hs[:, 0]
    parts = (steps, steps[..., :2 * hidden], steps[..., :hidden], steps[..., hidden:2 * hidden],
             steps[..., 2 * hidden:], n_rows, h_rows)
    dot, add, mul, sub, tanh = np.dot, np.add, np.multiply, np.subtract, np.tanh
    for a3, rz, r, z, hn_t, nt, h_t in zip(*parts):            # hot loop
        dot(h, w, buf)
        add(a3, buf, a3)                      # [(a_r, a_z) / 2, W_hn h + b_hn]
        if not halve_w:
            mul(rz, half, rz)
        tanh(rz, rz)
        mul(rz, half, rz)
        add(rz, half, rz)                     # [r, z] = sigma(...)
        mul(r, hn_t, tmp)
        add(nt, tmp, nt)
        tanh(nt, nt)                          # n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        sub(h, nt, tmp)
        mul(tmp, z, tmp)
        add(nt, tmp, h_t)                     # h' = (1 - z) n + z h = n + z (h - n)
        h = h_t
    xp[:, :, :2 * hidden] = rzh[:, :, :2 * hidden]
    xp[:, :, 2 * hidden:] = nx
    return hs, np.ascontiguousarray(rzh[:, :, 2 * hidden:])


def gru_bptt(dys: Array, acts: Array, hn: Array, h_prev: Array, w_hh: Array
             ) -> tuple[Array, Array, Array]:
    """dys (T, N, H), acts (T, N, 3H) -> (dxp (T, N, 3H), dhp (T, N, 3H), dh0 (N, H))."""
    n_steps, n, hidden = hn.shape
    r, z, nn = (acts[:, :, k * hidden:(k + 1) * hidden] for k in range(3))
    k_n = (1.0 - z) * (1.0 - nn * nn)                  # d(pre-n)/dh'
    k = np.empty((n_steps, n, 3, hidden), acts.dtype)  # d(hidden projection)/dh'
    k[:, :, 0] = k_n * hn * r * (1.0 - r)
    k[:, :, 1] = (h_prev - nn) * z * (1.0 - z)
    k[:, :, 2] = k_n * r
    dhp, dhs = np.empty_like(k), np.empty_like(hn)
    tmp, dh_next = np.empty_like(hn[0]), np.zeros_like(hn[0])
    for t in reversed(range(n_steps)):
        dh = dhs[t]
        np.add(dys[t], dh_next, out=dh)
        np.multiply(k[t], dh[:, None, :], out=dhp[t])
        np.dot(dhp[t].reshape(n, 3 * hidden), w_hh, out=dh_next)
        np.multiply(dh, z[t], out=tmp)
        dh_next += tmp
    dxp = dhp.copy()
    dxp[:, :, 2] = dhs * k_n
    return dxp.reshape(n_steps, n, 3 * hidden), dhp.reshape(n_steps, n, 3 * hidden), dh_next


# -- slow references: one step at a time, one matrix per gate -------------------------
def _sig(a: Array) -> Array:
    return cast("Array", 1.0 / (1.0 + np.exp(-a)))


def _split(params: dict[str, Array], n_gates: int) -> tuple[list[Array], list[Array], list[Array]]:
    """Per-gate (W_i*, W_h*, b_i* + b_h*) lists; missing biases count as zero."""
    w_ih, w_hh = params["weight_ih_l0"], params["weight_hh_l0"]
    b_ih = params.get("bias_ih_l0", np.zeros(w_ih.shape[0], w_ih.dtype))
    b_hh = params.get("bias_hh_l0", np.zeros(w_ih.shape[0], w_ih.dtype))
    return (np.split(w_ih, n_gates), np.split(w_hh, n_gates),
            np.split(b_ih, n_gates) + np.split(b_hh, n_gates))


def rnn_reference(params: dict[str, Array], x: Array, h0: Array, relu: bool = False) -> Array:
    """x: (N, T, D), h0: (N, H) -> hs: (N, T, H); h_t = act(W_ih x_t + b_ih + W_hh h + b_hh)."""
    (w_i,), (w_h,), (b_i, b_h) = _split(params, 1)
    h, out = h0, []
    for t in range(x.shape[1]):
        a = x[:, t] @ w_i.T + b_i + h @ w_h.T + b_h
        h = np.maximum(a, 0) if relu else np.tanh(a)
        out.append(h)
    return np.stack(out, axis=1)


def lstm_reference(params: dict[str, Array], x: Array, h0: Array, c0: Array
                   ) -> tuple[Array, Array, Gates]:
    """x: (N, T, D) -> (hs (N, T, H), cs (N, T, H), gates name -> (N, T, H))."""
    (wii, wif, wig, wio), (whi, whf, whg, who), (bii, bif, big, bio, bhi, bhf, bhg, bho) = \
        _split(params, 4)
    h, c, rows = h0, c0, []
    for t in range(x.shape[1]):
        xt = x[:, t]
        i = _sig(xt @ wii.T + bii + h @ whi.T + bhi)
        f = _sig(xt @ wif.T + bif + h @ whf.T + bhf)
        g = np.tanh(xt @ wig.T + big + h @ whg.T + bhg)
        o = _sig(xt @ wio.T + bio + h @ who.T + bho)
        c = f * c + i * g
        h = o * np.tanh(c)
        rows.append({"h": h, "c": c, "i": i, "f": f, "g": g, "o": o})
    seq = {k: np.stack([r[k] for r in rows], axis=1) for k in rows[0]}
    return seq.pop("h"), seq["c"], seq


def gru_reference(params: dict[str, Array], x: Array, h0: Array) -> tuple[Array, Gates]:
    """x: (N, T, D) -> (hs (N, T, H), gates {"r", "z", "n"} each (N, T, H))."""
    (wir, wiz, win), (whr, whz, whn), (bir, biz, bin_, bhr, bhz, bhn) = _split(params, 3)
    h, rows = h0, []
    for t in range(x.shape[1]):
        xt = x[:, t]
        r = _sig(xt @ wir.T + bir + h @ whr.T + bhr)
        z = _sig(xt @ wiz.T + biz + h @ whz.T + bhz)
        n = np.tanh(xt @ win.T + bin_ + r * (h @ whn.T + bhn))
        h = (1.0 - z) * n + z * h
        rows.append({"h": h, "r": r, "z": z, "n": n})
    seq = {k: np.stack([r[k] for r in rows], axis=1) for k in rows[0]}
    return seq.pop("h"), seq
