"""The shipped transformers: what their model cards say, checked on the files."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.data.vocab import Vocab
from explorer.engine import load_model
from explorer.engine.stream import TransformerStream, from_scratch
from explorer.paths import model_path
from explorer.training.text_models import task_accuracy


@pytest.mark.parametrize("task", ["recall", "motif", "depth"])
def test_toy_transformers_solve_their_task_within_their_context(task):
    path = model_path(f"task_{task}_transformer.npz")
    if not path.is_file():
        pytest.skip(f"{path.name} is not shipped")
    model = load_model(path)
    meta = model.meta
    assert meta["task"] == "toy" and meta["toy_task"] == task and meta["cell"] == "transformer"
    assert meta["context"] == meta["train_length"]
    assert task_accuracy(model, task, meta["train_length"], seed=12345, n=300) >= 0.99
    TransformerStream(model)                          # the Sequence Lab can read it


def test_code_transformer_card():
    path = model_path("code_transformer.npz")
    if not path.is_file():
        pytest.skip("code_transformer.npz is not shipped")
    model = load_model(path)
    lstm = load_model(model_path("code_lstm.npz"))
    assert abs(model.n_params() / lstm.n_params() - 1) <= 0.10      # within ±10 % of the LSTM
    meta = model.meta
    assert meta["task"] == "text" and meta["cell"] == "transformer" and meta["context"] == 128
    assert meta["valid_bpc"] < meta["baseline_bpc"] + 1.0 and "command" in meta
    text = "import os\n\ndef main(argv):\n    for name in sorted(os.listdir(argv[1])):\n" * 6
    ids = Vocab.from_meta(meta["vocab"]).encode(text)
    out = TransformerStream(model).extend(ids)
    ref = from_scratch(model, ids)                    # > 2 windows of 128
    np.testing.assert_allclose(out.logits, ref.logits, atol=2e-4)
