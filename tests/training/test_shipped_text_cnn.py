"""The shipped causal char-CNNs: fields as named, LSTM-sized, and `compare --task text` on them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.engine import load_model
from explorer.paths import model_path
from explorer.training.text_cnn import receptive_field

REPO = Path(__file__).resolve().parents[2]
FIELDS = (8, 16, 32, 64)


@pytest.mark.parametrize("field", FIELDS)
def test_cnn_files(field):
    model = load_model(model_path(f"code_cnn{field}.npz"))
    lstm = load_model(model_path("code_lstm.npz"))
    assert receptive_field(model) == field == model.meta["receptive_field"]
    assert abs(model.n_params() - lstm.n_params()) < 0.02 * lstm.n_params()
    assert model.meta["task"] == "text-cnn" and model.meta["command"].startswith("python -m explorer.training.text_cnn")
    assert {layer.type_name for layer in model.layers} == {"Conv1d", "ReLU"}


def test_compare_text_on_the_shipped_models():
    done = subprocess.run([sys.executable, "-m", "explorer.training.compare", "--task", "text",
                           "--json", "--chars", "150000"], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    res = json.loads(done.stdout)
    assert set(res["models"]) == {"LSTM", "CNN-8", "CNN-16", "CNN-32", "CNN-64"}
    for info in res["models"].values():
        assert 0.5 < info["bpc"] < 5.0 and info["params"] > 100_000
    rows = res["rows"]
    assert sum(r["n"] for r in rows) == res["held_out"]["n_closers"] > 500
    # what a field cannot see it cannot use: beyond its field each CNN is below the LSTM
    for name in ("CNN-8", "CNN-16", "CNN-32", "CNN-64"):
        b = res["models"][name]["beyond_field"]
        assert b["n"] > 0 and b["accuracy"] <= b["rnn_accuracy"]
        assert b["accuracy"] < b["rnn_accuracy"] or b["n"] < 50
