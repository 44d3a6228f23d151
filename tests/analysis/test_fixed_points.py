"""Fixed points: known ones are found, each is a fixed point of the engine's own step, and
its stability agrees with an independent (PyTorch autograd) Jacobian."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.analysis.fixed_points import FixedPointError, StepMap, find_fixed_points
from explorer.engine import RNN, Embedding, Linear, Model
from explorer.paths import model_path
from explorer.training.text_models import build_sequence_model

torch = pytest.importorskip("torch")


def bistable_rnn(w: float = 2.0) -> Model:
    """One tanh unit, h' = tanh(w h + x): for input "0" (x = 0) the fixed points are 0 and
    +-h* with h* = tanh(w h*); for w = 2, h* = 0.957678..., slope there w (1 - h*^2) < 1."""
    emb = Embedding(2, 1)
    emb.params["weight"][...] = [[0.0], [3.0]]
    rnn = RNN(1, 1)
    rnn.params["weight_ih_l0"][...] = 1.0
    rnn.params["weight_hh_l0"][...] = w
    rnn.params["bias_ih_l0"][...] = 0.0
    rnn.params["bias_hh_l0"][...] = 0.0
    return Model([emb, rnn, Linear(1, 2)], {"alphabet": "01"})


def test_bistable_unit_has_its_three_known_points():
    pts = [p for p in find_fixed_points(bistable_rnn()) if p.symbol == "0"]
    h = sorted(float(p.hidden[0]) for p in pts)
    h_star = 1.0
    for _ in range(200):                    # h* = tanh(2 h*) by fixed-point iteration (stable)
        h_star = float(np.tanh(2 * h_star))
    np.testing.assert_allclose(h, [-h_star, 0.0, h_star], atol=1e-5)
    stable = {round(float(p.hidden[0]), 3): p.stable for p in pts}
    assert stable == {-0.958: True, 0.0: False, 0.958: True}
    slope0 = [p for p in pts if abs(p.hidden[0]) < 1e-6][0]
    assert slope0.eigenvalues_abs_max == pytest.approx(2.0, rel=1e-6)
    ones = [p for p in find_fixed_points(bistable_rnn()) if p.symbol == "1"]
    assert len(ones) == 1 and ones[0].stable and ones[0].hidden[0] > 0.99


def torch_step(model: Model, x_id: int, s: np.ndarray) -> np.ndarray:
    """F(s, x) by torch in float64 (state s = h, or [h, c] for an LSTM)."""
    emb, rec, _ = model.layers
    cls = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[rec.type_name]
    net = cls(rec.input_size, rec.hidden_size, batch_first=True).double()
    net.load_state_dict({k: torch.from_numpy(np.array(v, np.float64)) for k, v in rec.params.items()})
    x = torch.from_numpy(np.array(emb.params["weight"][[x_id]], np.float64))[None]
    h = rec.hidden_size

    def f(st):
        if rec.type_name == "LSTM":
            _, (hn, cn) = net(x, (st[None, None, :h], st[None, None, h:]))
            return torch.cat([hn[0, 0], cn[0, 0]])
        return net(x, st[None, None])[1][0, 0]

    return f, torch.from_numpy(np.array(s, np.float64))


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_points_are_fixed_and_classified_like_torch(cell):
    rng = np.random.default_rng(3)
    model = build_sequence_model(3, 3, cell, 4, 3, rng, {"alphabet": "abc"})
    for p in model.parameters().values():
        p *= 2.5                              # strong recurrence: several points
    pts = find_fixed_points(model, n_starts=24)
    assert pts
    for p in pts:
        f, s = torch_step(model, p.input_id, p.state)
        assert float((f(s) - s).detach().norm()) <= 1e-7
        jac = torch.autograd.functional.jacobian(f, s).numpy()
        assert p.stable == bool(np.abs(np.linalg.eigvals(jac)).max() < 1.0)
        assert p.eigenvalues_abs_max == pytest.approx(np.abs(np.linalg.eigvals(jac)).max(), abs=1e-5)
        # the float32 engine step barely moves it either
        fmap = StepMap(model)
        assert np.abs(fmap(p.state[None], p.input_id)[0] - p.state).max() <= 1e-7


def test_shipped_parity_points():
    from explorer.engine import load_model
    model = load_model(model_path("task_parity.npz"))
    pts = find_fixed_points(model)
    assert pts and all(p.residual <= 1e-5 for p in pts)
    for p in pts:
        assert p.stable == (p.eigenvalues_abs_max < 1.0)
    # a long run of "0" from the start settles on a stable point of input "0" that was found
    fmap = StepMap(model)
    end = fmap.visited(np.zeros((1, 400), np.int64))[-1]
    stable0 = [p.state for p in pts if p.symbol == "0" and p.stable]
    assert min(np.linalg.norm(s - end) for s in stable0) < 1e-4


def test_shipped_parity_has_two_attractors_under_zero():
    """Parity's two memories: under "0" both the even and the odd state are stable fixed points,
    distinct, and the model reads them as different parities; a run of zeros after a "1" ends
    on the other one than a run from the start."""
    from explorer.engine import load_model
    model = load_model(model_path("task_parity.npz"))
    pts = [p for p in find_fixed_points(model) if p.symbol == "0" and p.stable]
    assert len(pts) >= 2
    assert all(p.residual <= 1e-5 and p.eigenvalues_abs_max < 1.0 for p in pts)
    states = np.array([p.hidden for p in pts])
    gaps = np.linalg.norm(states[:, None] - states[None], axis=-1)[np.triu_indices(len(pts), 1)]
    assert gaps.min() > 0.1
    model.eval()
    classes = model.layers[-1].infer(states.astype(np.float32)).argmax(-1)
    assert set(classes.tolist()) == {0, 1}  # one even attractor, one odd attractor
    fmap = StepMap(model)
    ids = np.zeros((2, 2000), np.int64)
    ids[1, 0] = 1  # "1" then 1999 zeros: odd must be held, not drift back to even
    ends = [fmap.visited(ids[i:i + 1])[-1] for i in range(2)]
    near = [int(np.argmin(np.linalg.norm(states - e, axis=1))) for e in ends]
    assert near[0] != near[1]
    assert max(np.linalg.norm(states[n] - e) for n, e in zip(near, ends)) < 1e-4


def test_large_state_is_refused():
    model = build_sequence_model(3, 3, "lstm", 80, 3, np.random.default_rng(0), {"alphabet": "abc"})
    with pytest.raises(FixedPointError, match="small models"):
        find_fixed_points(model)
