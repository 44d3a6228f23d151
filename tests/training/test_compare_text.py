"""CNN vs RNN on text: closers found by the tokenizer, a causal CNN, the compare table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.data.vocab import Vocab
from explorer.engine import load_model, save_model
from explorer.training.compare_text import closers, held_out_code, text_compare
from explorer.training.text_cnn import (
    build_char_cnn,
    channels_for,
    cnn_params,
    receptive_field,
    stream_logprobs,
    train_char_cnn,
)
from explorer.training.text_models import build_sequence_model


def test_closers_and_their_distances():
    src = "x = f(a, [1, 2]) + 'ab' + r\"q\"\ns = '''no'''\n"
    got = sorted((src[c.pos], c.distance, c.kind) for c in closers(src))
    assert got == sorted([("]", 5, "bracket"), (")", 10, "bracket"), ("'", 3, "quote"),
                          ('"', 2, "quote")])
    assert closers("f(\n") == []                     # does not tokenize: nothing


@pytest.mark.parametrize("field", [4, 16])
def test_char_cnn_is_causal_with_the_stated_field(field):
    model = build_char_cnn(98, field, 6, np.random.default_rng(0))
    assert receptive_field(model) == field
    assert model.n_params() == cnn_params(98, 6, field)
    rng = np.random.default_rng(1)
    ids = rng.integers(1, 98, size=300)
    lp = stream_logprobs(model, ids, chunk=64)       # chunked: the seams must not matter
    assert lp.shape == (299, 98)
    np.testing.assert_allclose(lp, stream_logprobs(model, ids, chunk=1000), atol=1e-5)
    p = 200                                          # predicting ids[p] reads ids[p-field .. p-1]
    far, near = ids.copy(), ids.copy()
    far[p - field - 1] = (far[p - field - 1] % 97) + 1
    near[p - field] = (near[p - field] % 97) + 1
    assert np.allclose(stream_logprobs(model, far)[p - 1], lp[p - 1])
    assert not np.allclose(stream_logprobs(model, near)[p - 1], lp[p - 1])


def test_widths_match_the_lstm_budget():
    for field in (8, 16, 32, 64):
        c = channels_for(98, field)
        assert abs(cnn_params(98, c, field) - 195_618) < 0.02 * 195_618


@pytest.mark.numeric
def test_training_lowers_the_loss():
    model, _ = train_char_cnn(4, steps=200, batch=16, length=32, train_chars=60_000, lr=1e-2, progress=False,
                              channels=16)
    ids = Vocab.text().encode("def f(x):\n    return [x, x + 1]\n" * 20).astype(np.int64)
    bits = -stream_logprobs(model, ids)[np.arange(len(ids) - 1), ids[1:]].mean() / np.log(2)
    # measured over seeds 0-3, Haswell and Prescott alike: 4.53-4.65 bits
    assert bits < 5.5                               # from about log2(98) = 6.6 bits untrained


def test_text_compare_json(tmp_path):
    vocab = Vocab.text()
    cnn = build_char_cnn(vocab.size, 8, 8, np.random.default_rng(0), {"task": "text-cnn"})
    lstm = build_sequence_model(vocab.size, vocab.size, "lstm", 8, 4, np.random.default_rng(0),
                                {"task": "text", "vocab": vocab.to_meta()})
    save_model(cnn, tmp_path / "c.npz")
    save_model(lstm, tmp_path / "l.npz")
    res = text_compare(20_000, {"LSTM": str(tmp_path / "l.npz"), "CNN-8": str(tmp_path / "c.npz")})
    json.loads(json.dumps(res, allow_nan=False))
    assert res["models"]["CNN-8"]["receptive_field"] == 8
    assert res["models"]["LSTM"]["params"] == lstm.n_params()
    assert sum(r["n"] for r in res["rows"]) == res["held_out"]["n_closers"] > 50
    for r in res["rows"]:
        for name in ("LSTM", "CNN-8"):
            assert r[name] is None or 0.0 <= r[name] <= 1.0
    assert 5.0 < res["models"]["LSTM"]["bpc"] < 8.0  # an untrained model: about log2(98)


def test_text_compare_with_a_transformer(tmp_path):
    """A transformer joins the table with its bpc, its context and the closers whose opener
    lies outside its window; its bpc is the stream's (the Sequence Lab's) figure."""
    from explorer.engine.stream import TransformerStream
    from explorer.training.text_transformer import build_transformer
    vocab = Vocab.text()
    lstm = build_sequence_model(vocab.size, vocab.size, "lstm", 8, 4, np.random.default_rng(0),
                                {"task": "text", "vocab": vocab.to_meta()})
    tr = build_transformer(vocab.size, vocab.size, 8, 2, 1, 16, 8, np.random.default_rng(1),
                           meta={"task": "text", "vocab": vocab.to_meta()})
    save_model(lstm, tmp_path / "l.npz")
    save_model(tr, tmp_path / "t.npz")
    res = text_compare(20_000, {"LSTM": str(tmp_path / "l.npz"), "Transformer": str(tmp_path / "t.npz")})
    json.loads(json.dumps(res, allow_nan=False))
    info = res["models"]["Transformer"]
    assert info["kind"] == "transformer" and info["context"] == 8 and info["receptive_field"] is None
    b = info["beyond_context"]
    assert 0 < b["n"] < res["held_out"]["n_closers"]
    text = held_out_code(20_000)[0]
    ids = vocab.encode(text).astype(np.int64)
    logits = TransformerStream(load_model(tmp_path / "t.npz")).extend(ids[:-1], attn=False).logits
    lp = np.log(np.exp(logits.astype(np.float64)) / np.exp(logits.astype(np.float64)).sum(-1, keepdims=True))
    assert info["bpc"] == pytest.approx(-lp[np.arange(len(ids) - 1), ids[1:]].mean() / np.log(2), rel=1e-4)
