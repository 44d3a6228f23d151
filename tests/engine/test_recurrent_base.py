"""RecurrentLayer: the one type RNN, LSTM and GRU share; scan_states gives every state part."""

import numpy as np
import pytest

from explorer.engine.recurrent import GRU, LSTM, RNN, RecurrentLayer


@pytest.mark.parametrize("cls, parts", [(RNN, 1), (GRU, 1), (LSTM, 2)])
def test_every_cell_is_a_recurrent_layer_and_scan_states_matches_step(cls, parts):
    rng = np.random.default_rng(0)
    layer = cls(3, 5, rng=rng)
    assert isinstance(layer, RecurrentLayer) and layer.hidden_size == 5
    x = rng.normal(size=(1, 7, 3)).astype(np.float32)
    state0 = layer.initial_state(1)
    st = state0 if isinstance(state0, tuple) else (state0,)
    got = layer.scan_states(layer.project(x), tuple(s.copy() for s in st))
    assert len(got) == parts and all(g.shape == (7, 1, 5) for g in got)
    state = state0
    for t in range(7):
        h, state, _ = layer.step(x[:, t], state)
        np.testing.assert_allclose(got[0][t], h, atol=1e-5)
        if parts == 2:
            np.testing.assert_allclose(got[1][t], state[1], atol=1e-5)
