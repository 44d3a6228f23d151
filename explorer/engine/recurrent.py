"""Recurrent layers with PyTorch's names, shapes, gate order and equations: RNN, LSTM, GRU.

x: (N, T, D) float32 -> y: (N, T, H), the whole hidden sequence (PyTorch's ``output`` with
``batch_first=True``, one layer). Parameters: weight_ih_l0 (G*H, D), weight_hh_l0 (G*H, H),
bias_ih_l0, bias_hh_l0 (G*H,), with G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n).
Three ways to run one layer:

- ``forward(x, state) -> (y, cache)`` and ``backward(dy, cache) -> dx`` (BPTT) to train;
  the gradient w.r.t. the initial state is left in ``last_dstate``;
- ``run(x, state) -> (y, final_state, gates)``: inference, no cache, gates (N, T, H) each;
- ``step(x_t, state) -> (h_t, new_state, gates)``: one time step (typing one character).

Fast path: the input projection x @ W_ih^T + b for the whole sequence is one matmul; the
time loop (``explorer.engine.cells``) computes only h @ W_hh^T per step. weight_hh_l0 is
kept in Fortran order so that W_hh^T is C-contiguous without a copy per call.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

import numpy as np

from explorer.engine import cells
from explorer.engine.layer import Array, Layer, check_ndim

State = Any  # (N, H) array for RNN/GRU, tuple (h, c) of (N, H) arrays for LSTM


def _bf(a: Array) -> Array:
    """(T, N, ...) time-major -> (N, T, ...) batch-first, C-contiguous."""
    return np.ascontiguousarray(a.swapaxes(0, 1))


def _shift(s0: Array, seq: Array) -> Array:
    """s0 (N, H), seq (T, N, H) -> the previous values (T, N, H): [s0, seq_0 .. seq_{T-2}]."""
    return np.concatenate([s0[None], seq[:-1]])[:len(seq)]


class RecurrentLayer(Layer):
    """What every recurrent layer offers (RNN, LSTM, GRU): its width, its initial state, a run
    over a sequence and one step; callers (``Model``, the sessions) dispatch on this type."""

    recurrent: ClassVar[bool] = True
    input_size: int
    hidden_size: int
    bias: bool

    @property
    def dtype(self) -> np.dtype:
        """The parameters' dtype (float32 in the app, float64 in gradient checks)."""
        return self.params["weight_ih_l0"].dtype

    def forward(self, x: Array, state: State = None) -> tuple[Array, Any]:
        raise NotImplementedError

    def initial_state(self, n: int, dtype: Any = np.float32) -> State:
        raise NotImplementedError

    def run(self, x: Array, state: State = None) -> tuple[Array, State, dict[str, Array]]:
        raise NotImplementedError

    def step(self, x_t: Array, state: State = None) -> tuple[Array, State, dict[str, Array]]:
        raise NotImplementedError

    def project(self, x: Array) -> Array:
        raise NotImplementedError

    def scan(self, xp: Array, state: tuple[Array, ...]) -> tuple[Array, tuple[Array, ...], Any]:
        raise NotImplementedError

    def scan_states(self, xp: Array, state: tuple[Array, ...]) -> tuple[Array, ...]:
        """Every state part after every step: (hs,) or, for an LSTM, (hs, cs), each (T, N, H)."""
        raise NotImplementedError

    def scan_gates(self, xp: Array, state: tuple[Array, ...]) -> tuple[tuple[Array, ...], dict[str, Array]]:
        """``scan_states`` and every step's gate activations (the names ``run`` gives, each
        (T, N, H), time-major): what reading a text computes anyway, kept for the gate panels."""
        raise NotImplementedError


class _Recurrent(RecurrentLayer):
    """Shared machinery; subclasses define the cell (``_run``, ``_bptt``, ``_gates``)."""

    recurrent: ClassVar[bool] = True
    n_gates: ClassVar[int] = 1
    state_names: ClassVar[tuple[str, ...]] = ("h0",)

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 batch_first: bool = True, rng: np.random.Generator | None = None,
                 num_layers: int = 1, dropout: float = 0.0, bidirectional: bool = False) -> None:
        super().__init__()
        if not batch_first or num_layers != 1 or dropout or bidirectional:
            raise ValueError(f"{self.type_name} supports only batch_first=True, num_layers=1, "
                             "dropout=0 and bidirectional=False")
        if int(input_size) < 1 or int(hidden_size) < 1:
            raise ValueError(f"{self.type_name} needs input_size >= 1 and hidden_size >= 1, "
                             f"got {input_size} and {hidden_size}")
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bool(bias)
        self.last_dstate: State = None
        rng = np.random.default_rng() if rng is None else rng
        k, gh = 1.0 / np.sqrt(self.hidden_size), self.n_gates * self.hidden_size
        shapes: dict[str, tuple[int, ...]] = {"weight_ih_l0": (gh, self.input_size), "weight_hh_l0": (gh, self.hidden_size)}
        if self.bias:
            shapes.update(bias_ih_l0=(gh,), bias_hh_l0=(gh,))
        for name, shape in shapes.items():               # PyTorch: U(-1/sqrt(H), 1/sqrt(H))
            self.params[name] = rng.uniform(-k, k, size=shape).astype(np.float32)
        self.params["weight_hh_l0"] = np.asfortranarray(self.params["weight_hh_l0"])
        self.zero_grad()

    def config(self) -> dict[str, Any]:
        return {"input_size": self.input_size, "hidden_size": self.hidden_size,
                "bias": self.bias, "batch_first": True}

    def initial_state(self, n: int, dtype: Any = np.float32) -> State:
        """Zeros: (n, H), or (h0, c0) for LSTM."""
        zeros = tuple(np.zeros((n, self.hidden_size), dtype) for _ in self.state_names)
        return zeros if len(zeros) > 1 else zeros[0]

    # -- public API -------------------------------------------------------------------
    def forward(self, x: Array, state: State = None) -> tuple[Array, Any]:
        """x: (N, T, D), state (N, H) | (h0, c0) | None -> (y (N, T, H), cache)."""
        x, st = self._inputs(x, state)
        hs, _, saved = self._run(x, st)
        return _bf(hs), (x, st, hs, saved)

    def run(self, x: Array, state: State = None) -> tuple[Array, State, dict[str, Array]]:
        """x: (N, T, D) -> (y (N, T, H), final state, gates name -> (N, T, H)); no cache."""
        x, st = self._inputs(x, state)
        hs, final, saved = self._run(x, st)
        gates = {k: _bf(v) for k, v in self._gates(hs, saved).items()}
        return _bf(hs), self._external(final), gates

    def infer(self, x: Array) -> Array:
        return self.run(x)[0]

    def step(self, x_t: Array, state: State = None) -> tuple[Array, State, dict[str, Array]]:
        """x_t: (N, D) -> (h_t (N, H), new state, gates name -> (N, H)); one time step."""
        x_t = np.asarray(x_t)
        if x_t.ndim != 2 or x_t.shape[1] != self.input_size:
            raise ValueError(f"{self.type_name}.step expects x_t of shape (N, {self.input_size}), "
                             f"got shape {tuple(x_t.shape)}")
        y, final, gates = self.run(x_t[:, None, :], state)
        return y[:, 0], final, {k: v[:, 0] for k, v in gates.items()}

    def backward(self, dy: Array, cache: Any) -> Array:
        """dy: (N, T, H) -> dx: (N, T, D); accumulates parameter grads, sets last_dstate."""
        x, st, hs, saved = cache
        n, n_steps, d = x.shape
        if np.shape(dy) != (n, n_steps, self.hidden_size):
            raise ValueError(f"{self.type_name}.backward expects dy of shape "
                             f"{(n, n_steps, self.hidden_size)}, got shape {np.shape(dy)}")
        dys = np.ascontiguousarray(np.asarray(dy, self.dtype).swapaxes(0, 1))
        dxp, dhp, dstate = self._bptt(dys, st, hs, saved)
        gh = self.n_gates * self.hidden_size
        dxp_bf = _bf(dxp).reshape(n * n_steps, gh)
        dhp = dhp.reshape(n_steps * n, gh)
        h_prev = _shift(st[0], hs).reshape(n_steps * n, self.hidden_size)
        self.grads["weight_ih_l0"] += dxp_bf.T @ x.reshape(n * n_steps, d)
        self.grads["weight_hh_l0"] += dhp.T @ h_prev
        if self.bias:
            self.grads["bias_ih_l0"] += dxp_bf.sum(axis=0)
            self.grads["bias_hh_l0"] += dhp.sum(axis=0)
        self.last_dstate = self._external(dstate)
        return (dxp_bf @ self.params["weight_ih_l0"]).reshape(n, n_steps, d)

    # -- helpers ------------------------------------------------------------------------
    def _inputs(self, x: Array, state: State) -> tuple[Array, tuple[Array, ...]]:
        x = np.asarray(x)
        check_ndim(self, x, 3, f"(N, T, {self.input_size})")
        if x.shape[2] != self.input_size:
            raise ValueError(f"{self.type_name} expects input of shape (N, T, {self.input_size}), "
                             f"got shape {tuple(x.shape)}")
        x = np.ascontiguousarray(x, dtype=self.dtype)
        n, want = x.shape[0], (x.shape[0], self.hidden_size)
        if state is None:
            return x, tuple(np.zeros(want, self.dtype) for _ in self.state_names)
        parts = (state,) if len(self.state_names) == 1 else state
        if not isinstance(parts, (tuple, list)) or len(parts) != len(self.state_names):
            raise ValueError(f"{self.type_name} expects state as a tuple (h0, c0), "
                             f"got {type(state).__name__}")
        st = []
        for name, s in zip(self.state_names, parts):
            if np.shape(s) != want:
                raise ValueError(f"{self.type_name} expects {name} of shape {want} for a batch of "
                                 f"{n}, got shape {np.shape(s)}")
            st.append(np.ascontiguousarray(s, dtype=self.dtype))
        return x, tuple(st)

    def _external(self, st: tuple[Array, ...]) -> State:
        return st if len(st) > 1 else st[0]

    def _project(self, x: Array, bias: Array | None) -> Array:
        """x: (N, T, D) -> xp: (T, N, G*H) = x W_ih^T + bias, one matmul for all steps."""
        n, n_steps, d = x.shape
        xp = x.reshape(n * n_steps, d) @ self.params["weight_ih_l0"].T
        if bias is not None:
            xp += bias
        return _bf(xp.reshape(n, n_steps, xp.shape[1]))

    def _w_hh_t(self) -> Array:
        """W_hh^T (H, G*H) C-contiguous (free while weight_hh_l0 is in Fortran order)."""
        return np.ascontiguousarray(self.params["weight_hh_l0"].T)

    def _w_hh(self) -> Array:
        """W_hh (G*H, H) C-contiguous, for BPTT's dh = d(projection) @ W_hh."""
        return np.ascontiguousarray(self.params["weight_hh_l0"])

    def _final(self, seqs: tuple[Array, ...], st: tuple[Array, ...]) -> tuple[Array, ...]:
        return tuple(s[-1].copy() if len(s) else s0.copy() for s, s0 in zip(seqs, st))

    def project(self, x: Array) -> Array:
        """x: (N, T, D) -> xp: (T, N, G*H), the input projection with the biases the scan
        does not add. A row depends only on its x row, so a table of it per input symbol
        (``scan(table[ids], state)``) gives the same states however the text is cut."""
        return self._project(np.ascontiguousarray(x, self.dtype), self._input_bias())

    def scan(self, xp: Array, state: tuple[Array, ...]) -> tuple[Array, tuple[Array, ...], Any]:
        """xp: (T, N, G*H) (overwritten), state tuple of (N, H) -> (hs (T, N, H), final, saved).

        The same arithmetic per step whatever T is: one step and a run of many agree exactly."""
        raise NotImplementedError

    def scan_states(self, xp: Array, state: tuple[Array, ...]) -> tuple[Array, ...]:
        hs, _, saved = self.scan(xp, state)
        return (hs, saved[1]) if len(self.state_names) == 2 else (hs,)   # LSTM: saved = (acts2, cs)

    def scan_gates(self, xp: Array, state: tuple[Array, ...]) -> tuple[tuple[Array, ...], dict[str, Array]]:
        hs, _, saved = self.scan(xp, state)
        states = (hs, saved[1]) if len(self.state_names) == 2 else (hs,)
        return states, self._gates(hs, saved)

    def _input_bias(self) -> Array | None:
        p = self.params
        return p["bias_ih_l0"] + p["bias_hh_l0"] if self.bias else None

    def _run(self, x: Array, st: tuple[Array, ...]) -> tuple[Array, tuple[Array, ...], Any]:
        return self.scan(self._project(x, self._input_bias()), st)

    def _bptt(self, dys: Array, st: tuple[Array, ...], hs: Array, saved: Any
              ) -> tuple[Array, Array, tuple[Array, ...]]:
        raise NotImplementedError

    def _gates(self, hs: Array, saved: Any) -> dict[str, Array]:
        return {}



class RNN(_Recurrent):
    """Elman RNN, x: (N, T, D) -> y: (N, T, H).

    h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),  act = tanh (default) or relu.
    """

    type_name: ClassVar[str] = "RNN"

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = True,
                 rng: np.random.Generator | None = None, **kwargs: Any) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, batch_first, rng, **kwargs)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "nonlinearity": self.nonlinearity}

    def scan(self, xp: Array, st: tuple[Array, ...]) -> tuple[Array, tuple[Array, ...], Any]:
        hs = cells.rnn_scan(xp, st[0], self._w_hh_t(), self.nonlinearity == "relu")
        return hs, self._final((hs,), st), None

    def _bptt(self, dys: Array, st: tuple[Array, ...], hs: Array, saved: Any
              ) -> tuple[Array, Array, tuple[Array, ...]]:
        dxp, dh0 = cells.rnn_bptt(dys, hs, self._w_hh(), self.nonlinearity == "relu")
        return dxp, dxp, (dh0,)


class LSTM(_Recurrent):
    """Long short-term memory, x: (N, T, D) -> y: (N, T, H); state (h, c).

    i_t = sigma(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
    f_t = sigma(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
    o_t = sigma(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

    x_t input at step t; h_t hidden state (the output); c_t cell state; i input gate;
    f forget gate; g candidate cell; o output gate; sigma logistic sigmoid; * elementwise.
    weight_ih_l0 = [W_ii; W_if; W_ig; W_io] (4H, D), weight_hh_l0 = [W_hi; ...] (4H, H).
    """

    type_name: ClassVar[str] = "LSTM"
    n_gates: ClassVar[int] = 4
    state_names: ClassVar[tuple[str, ...]] = ("h0", "c0")

    def scan(self, xp: Array, st: tuple[Array, ...]) -> tuple[Array, tuple[Array, ...], Any]:
        hs, cs, acts2 = cells.lstm_scan(xp, st[0], st[1], self._w_hh_t())
        return hs, self._final((hs, cs), st), (acts2, cs)

    def _run(self, x: Array, st: tuple[Array, ...]) -> tuple[Array, tuple[Array, ...], Any]:
        """As project + scan, with the input projection written straight into the scan's
        rows: x (W_ih * scale)^T + bias * scale equals (x W_ih^T + bias) * scale exactly
        (scale: powers of two), and the transpose to time-major is the add's output view."""
        n, n_steps, d = x.shape
        if n * n_steps < 32:                  # a few rows: scaling W_ih would cost more
            return self.scan(self._project(x, self._input_bias()), st)
        scale = cells.lstm_scale(self.hidden_size, self.dtype)
        rows, pre = cells.lstm_rows(n_steps, n, self.hidden_size, self.dtype)
        w_ih = self.params["weight_ih_l0"] * scale[:, None]
        proj = (x.reshape(n * n_steps, d) @ w_ih.T).reshape(n, n_steps, w_ih.shape[0])
        bias = self._input_bias()
        if bias is None:
            np.copyto(pre.swapaxes(0, 1), proj)
        else:
            np.add(proj, bias * scale, out=pre.swapaxes(0, 1))
        hs, cs, acts2 = cells.lstm_scan_rows(rows, st[0], st[1], self._w_hh_t())
        return hs, self._final((hs, cs), st), (acts2, cs)

    def _bptt(self, dys: Array, st: tuple[Array, ...], hs: Array, saved: Any
              ) -> tuple[Array, Array, tuple[Array, ...]]:
        acts2, cs = saved
        c_prev = _shift(st[1], cs)
        dxp, dh0, dc0 = cells.lstm_bptt(dys, cells.lstm_acts(acts2), cs, c_prev, self._w_hh())
        return dxp, dxp, (dh0, dc0)

    def _gates(self, hs: Array, saved: Any) -> dict[str, Array]:
        acts2, cs = saved                     # [2i, 2f, g, 2o]: halving is exact
        h = self.hidden_size
        gates = {k: acts2[:, :, j * h:(j + 1) * h] * 0.5 for j, k in enumerate("if")}
        return {**gates, "g": acts2[:, :, 2 * h:3 * h], "o": acts2[:, :, 3 * h:] * 0.5, "c": cs}


class GRU(_Recurrent):
    """Gated recurrent unit, x: (N, T, D) -> y: (N, T, H).

    r_t = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    x_t input at step t; h_t hidden state (the output); r reset gate; z update gate
    (how much of h_{t-1} is kept); n candidate state; sigma logistic sigmoid; * elementwise.
    weight_ih_l0 = [W_ir; W_iz; W_in] (3H, D), weight_hh_l0 = [W_hr; W_hz; W_hn] (3H, H).
    """

    type_name: ClassVar[str] = "GRU"
    n_gates: ClassVar[int] = 3

    def _input_bias(self) -> Array | None:
        if not self.bias:
            return None
        p, h = self.params, self.hidden_size
        bias = p["bias_ih_l0"].copy()
        bias[:2 * h] += p["bias_hh_l0"][:2 * h]           # b_hn stays inside r * (...)
        return cast("Array | None", bias)

    def scan(self, xp: Array, st: tuple[Array, ...]) -> tuple[Array, tuple[Array, ...], Any]:
        h = self.hidden_size
        b_hn = self.params["bias_hh_l0"][2 * h:] if self.bias else np.zeros(h, self.dtype)
        hs, hn = cells.gru_scan(xp, st[0], self._w_hh_t(), b_hn)
        return hs, self._final((hs,), st), (xp, hn)

    def _bptt(self, dys: Array, st: tuple[Array, ...], hs: Array, saved: Any
              ) -> tuple[Array, Array, tuple[Array, ...]]:
        acts, hn = saved
        h_prev = _shift(st[0], hs)
        dxp, dhp, dh0 = cells.gru_bptt(dys, acts, hn, h_prev, self._w_hh())
        return dxp, dhp, (dh0,)

    def _gates(self, hs: Array, saved: Any) -> dict[str, Array]:
        acts, h = saved[0], self.hidden_size
        return {k: acts[:, :, j * h:(j + 1) * h] for j, k in enumerate("rzn")}


class LastStep(Layer):
    """x: (N, T, H) -> y: (N, H), the last time step (a sequence-to-one head)."""

    type_name: ClassVar[str] = "LastStep"

    def forward(self, x: Array) -> tuple[Array, Any]:
        x = np.asarray(x)
        check_ndim(self, x, 3, "(N, T, H)")
        if x.shape[1] == 0:
            raise ValueError(f"LastStep needs at least one time step, got shape {tuple(x.shape)}")
        return x[:, -1].copy(), x.shape

    def backward(self, dy: Array, cache: Any) -> Array:
        """dy: (N, H) -> dx: (N, T, H), zero except at the last step."""
        shape = cache
        if np.shape(dy) != (shape[0], shape[2]):
            raise ValueError(f"LastStep.backward expects dy of shape {(shape[0], shape[2])}, "
                             f"got shape {np.shape(dy)}")
        dx = np.zeros(shape, dtype=np.asarray(dy).dtype)
        dx[:, -1] = dy
        return dx
