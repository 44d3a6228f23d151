"""CNN vs RNN experiment: structural facts that could fail (numpy only, a few seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.data import tasks
from explorer.engine import Adam
from explorer.training import compare as C

ROOT = Path(__file__).resolve().parents[2]
RF = C.receptive_field()
RECALL = tasks.get_task("recall")
VOCAB, K = len(RECALL.alphabet), RECALL.n_classes


def recall_with_keys(distance: int, seed: int = 0) -> np.ndarray:
    """The same fillers with each of the 4 keys: (4, distance + 2) ids."""
    x, _ = tasks.make_sequences("recall", 1, distance + 2, np.random.default_rng(seed))
    x = np.repeat(x, K, axis=0)
    x[:, 0] = np.arange(K)
    return x


def train_cnn(distance: int, steps: int, seed: int = 0) -> C.Contender:
    rng = np.random.default_rng(seed)
    cnn = C.make_cnn(VOCAB, K, C.CNN_CHANNELS, rng, global_pool=False)
    opt = Adam(cnn.model.parameters(), lr=1e-2)
    for s in range(steps):
        x, y = C.recall_batch(s, steps, distance, 32, rng)
        C.train_step(cnn, opt, x, y)
    return cnn


def test_receptive_field_formula():
    assert C.receptive_field(5, 2) == 9
    assert C.receptive_field(3, 1) == 3
    assert C.receptive_field(3, 4) == 9


def test_one_hot_left_pad():
    x = np.array([[2, 0, 1]])
    h = C.one_hot(x, 3, left_pad=2)
    assert h.shape == (1, 3, 5)
    assert (h[0, :, :2] == 0).all()
    assert h[0, 2, 2] == 1 and h[0, 0, 3] == 1 and h[0, 1, 4] == 1
    assert h.sum() == 3


@pytest.mark.parametrize("trained", [False, True])
def test_cnn_cannot_see_a_key_beyond_its_field(trained):
    """Distance RF-1: the key lies one step outside the field, so the answer is key-blind."""
    cnn = train_cnn(RF - 1, 60) if trained else C.make_cnn(
        VOCAB, K, C.CNN_CHANNELS, np.random.default_rng(1), global_pool=False)
    far = cnn.model.predict(cnn.encode(recall_with_keys(RF - 1)))
    np.testing.assert_allclose(far, np.broadcast_to(far[0], far.shape), rtol=0, atol=1e-6)
    near = cnn.model.predict(cnn.encode(recall_with_keys(RF - 2)))  # key at the field's edge
    assert np.abs(near - near[0]).max() > 1e-4


def test_cnn_learns_within_its_field_and_not_beyond():
    near = train_cnn(4, 120)
    xt, yt = C.balanced_test("recall", 200, 6, np.random.default_rng(5))
    assert C.accuracy(near, xt, yt) >= 0.95
    far = train_cnn(RF + 3, 120)
    xt, yt = C.balanced_test("recall", 200, RF + 5, np.random.default_rng(5))
    assert C.accuracy(far, xt, yt) <= 0.40


def test_lstm_with_curriculum_beats_the_field():
    cnn, lstm = C.train_recall_pair(RF + 6, seed=0, steps=200)
    xt, yt = C.balanced_test("recall", 200, RF + 8, np.random.default_rng(9))
    assert C.accuracy(lstm, xt, yt) >= 0.9
    assert C.accuracy(cnn, xt, yt) <= 0.40
    assert 0.7 < cnn.n_params / lstm.n_params < 1.3  # a similar parameter count


def test_forget_gate_bias_starts_at_one():
    lstm = C.make_rnn(VOCAB, K, 6, np.random.default_rng(0)).model.layers[1]
    b = lstm.params["bias_ih_l0"] + lstm.params["bias_hh_l0"]
    np.testing.assert_allclose(b[6:12], 1.0)
    assert np.abs(b[:6]).max() < 1.0  # other gates untouched (PyTorch-like init)


def test_influence_is_zero_outside_the_cnn_field_not_for_the_lstm():
    d = RF + 4
    x = recall_with_keys(d)[1:2]
    cnn = train_cnn(4, 30)  # a few steps: live ReLUs at the last position
    lstm = C.make_rnn(VOCAB, K, 6, np.random.default_rng(0))
    before = {k: g.copy() for k, g in cnn.model.gradients().items()}
    g_cnn = C.input_influence(cnn, x, 1)
    assert g_cnn.shape == (d + 2,)
    assert (g_cnn[: d + 2 - RF] == 0).all()
    assert (g_cnn[-RF:] > 0).sum() >= RF // 2
    for k, g in cnn.model.gradients().items():  # parameter gradients untouched
        np.testing.assert_array_equal(g, before[k])
    g_rnn = C.input_influence(lstm, x, 1)
    assert g_rnn.shape == (d + 2,)
    assert g_rnn[0] > 0 and np.isfinite(g_rnn).all()


def test_balanced_test_and_curriculum():
    _, y = C.balanced_test("recall", 100, 5, np.random.default_rng(0))
    assert np.bincount(y, minlength=K).tolist() == [25] * 4
    rng = np.random.default_rng(0)
    ds = [C.curriculum_distance(s, 100, 30, rng) for s in range(100)]
    assert min(ds) >= 1 and 25 <= max(ds) <= 30
    assert max(ds[:10]) <= 6  # starts short


def test_motif_cnn_small_and_position_invariant():
    r = C.motif(seed=0, lengths=(20, 60), steps=120, n_test=200)
    assert r.params["CNN"] < r.params["LSTM"]
    assert all(row["CNN"] >= 0.95 for row in r.rows)


def _run(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout)


def test_json_long_range_small():
    data = _run(["-m", "explorer.training.compare", "--task", "long-range", "--json",
                 "--distances", "2,12", "--steps", "60"])
    assert data["task"] == "long-range" and data["axis"] == "distance"
    assert data["cnn_receptive_field"] == RF and data["chance"] == 0.25
    assert [r["distance"] for r in data["rows"]] == [2, 12]
    assert [r["in_field"] for r in data["rows"]] == [True, False]
    assert set(data["params"]) == {"CNN", "LSTM", "Transformer"}
    assert all(0.0 <= r[n] <= 1.0 for r in data["rows"] for n in ("CNN", "LSTM", "Transformer"))
    assert data["transformer_context"] == C.CONTEXT
    assert [r["in_context"] for r in data["rows"]] == [True, True]
    assert set(data["train_seconds"]) == {"CNN", "LSTM", "Transformer"}
    sc = data["step_cost"]
    assert sc["lengths"] == list(C.STEP_COST_LENGTHS)
    assert all(len(sc[k][n]) == len(sc["lengths"]) for k in ("ms", "ms_windowed") for n in data["params"])


def test_cli_compare_motif_json():
    data = _run(["-m", "explorer.cli", "compare", "--task", "motif", "--json"])
    assert data["task"] == "motif" and [r["length"] for r in data["rows"]] == list(C.MOTIF_LENGTHS)
    assert data["params"]["CNN"] < data["params"]["LSTM"]
    assert min(r["CNN"] for r in data["rows"]) >= 0.98
