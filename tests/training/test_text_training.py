"""Char-model training (truncated BPTT), streaming evaluation, scoring and toy-task training.

Tiny models and a few steps each, so the whole file runs in seconds.
"""

from __future__ import annotations

import numpy as np
import pytest

from explorer.data.corpora import CorpusError
from explorer.data.vocab import Vocab
from explorer.engine import Flatten, Linear, Model, ModelFileError, load_model, save_model
from explorer.training import text
from explorer.training.text_models import (
    build_sequence_model,
    chunk_bits,
    final_state,
    stream_bits_per_char,
    train_task,
)

TINY = dict(hidden=12, embed=8, batch_size=4, seq_len=16, lr=1e-2)


@pytest.fixture()
def corpus_file(tmp_path):
    """A repetitive little text: easy to learn, long enough for 4 lanes x 16 steps."""
    lines = [f"def f{i % 7}(x):\n    return x + {i % 3}\n" for i in range(400)]
    path = tmp_path / "tiny.txt"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _train(corpus_file, steps=20, seed=0, cell="gru", callback=None):
    cfg = text.TextConfig(corpus=str(corpus_file), cell=cell, steps=steps, seed=seed, **TINY)
    return text.train_text(cfg, progress=False, callback=callback)


def test_train_text_writes_a_loadable_model(corpus_file, tmp_path):
    model, summary = _train(corpus_file, steps=10)
    out = tmp_path / "m.npz"
    save_model(model, out)
    again = load_model(out)
    assert [layer.type_name for layer in again.layers] == ["Embedding", "GRU", "Linear"]
    meta = again.meta
    assert meta["task"] == "text" and meta["corpus"] == str(corpus_file) and meta["cell"] == "gru"
    assert Vocab.from_meta(meta["vocab"]) == Vocab.text()
    assert np.isfinite(meta["valid_bpc"]) and np.isfinite(meta["baseline_bpc"])
    assert meta["steps"] == 10 and summary["valid_bpc"] == meta["valid_bpc"]
    ids = Vocab.text().encode("def f1(x):")[None]
    np.testing.assert_array_equal(again.predict(ids), model.predict(ids))


@pytest.mark.numeric
def test_loss_decreases_on_repetitive_text(corpus_file):
    bpcs: list[float] = []
    model, summary = _train(corpus_file, steps=80,
                            callback=lambda ev: ev.kind == "step" and bpcs.append(ev.metrics["bpc"]))
    assert len(bpcs) == 80
    # measured over seeds 0-3, Haswell and Prescott alike: drop 3.5-4.45 bits, valid 2.23-3.04 bpc
    assert np.mean(bpcs[-10:]) < np.mean(bpcs[:10]) - 2.0   # log2(98) = 6.6 bits at the start
    assert summary["valid_bpc"] < 4.0


def test_same_seed_same_weights(corpus_file):
    a, _ = _train(corpus_file, steps=6, seed=3)
    b, _ = _train(corpus_file, steps=6, seed=3)
    c, _ = _train(corpus_file, steps=6, seed=4)
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(v, b.state_dict()[k])
    assert any(not np.array_equal(v, c.state_dict()[k]) for k, v in a.state_dict().items())


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_carried_state_equals_one_long_forward(cell):
    """Chunk by chunk with the state carried == running the concatenated text at once."""
    rng = np.random.default_rng(0)
    model = build_sequence_model(20, 20, cell, 6, 5, rng)
    emb, rec, _ = model.layers
    x = emb.infer(rng.integers(0, 20, (3, 37)))
    whole, whole_state, _ = rec.run(x)
    state, outs = None, []
    for s in range(0, 37, 10):
        y, cache = rec.forward(x[:, s:s + 10], state)
        state = final_state(rec, cache)
        outs.append(y)
    np.testing.assert_allclose(np.concatenate(outs, axis=1), whole, rtol=1e-5, atol=1e-6)
    if cell != "lstm":
        state, whole_state = (state,), (whole_state,)
    assert len(state) == len(whole_state)
    for got, want in zip(state, whole_state):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_training_step_carries_the_state(monkeypatch, corpus_file):
    """Within an epoch every chunk starts from the previous chunk's final state."""
    seen = []
    real = text.tbptt_step

    def spy(model, x, y, state, opt, clip, *rest):
        loss, new = real(model, x, y, state, opt, clip, *rest)
        seen.append((state, new))
        return loss, new

    monkeypatch.setattr(text, "tbptt_step", spy)
    _train(corpus_file, steps=4)
    assert seen[0][0] is None
    for (_, prev_new), (state, _) in zip(seen, seen[1:]):
        assert state is prev_new


def test_stream_bits_do_not_depend_on_chunking():
    rng = np.random.default_rng(1)
    model = build_sequence_model(30, 30, "lstm", 8, 4, rng)
    ids = rng.integers(0, 30, 501)
    whole, _ = chunk_bits(model, ids[None, :-1], ids[None, 1:], None)
    for chunk in (7, 64, 1000):
        bpc, n = stream_bits_per_char(model, ids, lanes=1, chunk=chunk)
        assert n == 500
        assert bpc == pytest.approx(float(whole.mean()), rel=1e-5)


# ----------------------------------------------------------------------------- scoring
@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    corpus = folder / "corpus.txt"
    corpus.write_text("".join(f"x{i % 5} = [{i % 9}]\n" for i in range(600)), encoding="utf-8")
    cfg = text.TextConfig(corpus=str(corpus), cell="lstm", steps=5, **TINY)
    model, _ = text.train_text(cfg, progress=False)
    path = folder / "tiny_lstm.npz"
    save_model(model, path)
    return path


def test_score_streams_like_one_pass(tiny_model_file, tmp_path, monkeypatch):
    body = "".join(f"x{i % 5} = [{i}]\r\n" for i in range(300)) + "caf\u00e9\n"
    path = tmp_path / "s.txt"
    path.write_bytes(body.encode("utf-8"))
    whole = text.score_text_file(path, tiny_model_file)
    monkeypatch.setattr(text, "SCORE_CHUNK_CHARS", 97)
    monkeypatch.setattr(text, "READ_BYTES", 50)     # CR/LF and the 2-byte "é" split across reads
    pieces = text.score_text_file(path, tiny_model_file)
    norm = body.replace("\r\n", "\n")
    assert whole["n_chars"] == pieces["n_chars"] == len(norm)
    assert whole["n_scored"] == len(norm) - 1
    assert pieces["bits_per_char"] == pytest.approx(whole["bits_per_char"], rel=1e-5)
    assert pieces["baseline_bits_per_char"] == pytest.approx(whole["baseline_bits_per_char"], rel=1e-9)
    model = load_model(tiny_model_file)
    ids = Vocab.text().encode(norm)
    direct, _ = chunk_bits(model, ids[None, :-1], ids[None, 1:], None)
    assert whole["bits_per_char"] == pytest.approx(float(direct.mean()), rel=1e-5)
    assert whole["model"] == "tiny_lstm"


def test_score_replaces_undecodable_bytes(tiny_model_file, tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("x1 = 'caf\u00e9'\n".encode("latin-1") * 20)
    result = text.score_text_file(path, tiny_model_file)
    assert result["n_chars"] == 12 * 20 and np.isfinite(result["bits_per_char"])


def test_score_refuses_empty_and_binary_files(tiny_model_file, tmp_path):
    empty = tmp_path / "empty.py"
    empty.write_bytes(b"")
    with pytest.raises(CorpusError, match="is empty"):
        text.score_text_file(empty, tiny_model_file)
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CorpusError, match="binary"):
        text.score_text_file(binary, tiny_model_file)


def test_score_refuses_a_digit_model_and_unknown_names(tmp_path):
    digit = Model([Flatten(), Linear(784, 10, rng=np.random.default_rng(0))], {"task": "digits"})
    save_model(digit, tmp_path / "digits.npz")
    sample = tmp_path / "a.py"
    sample.write_text("print(1)\n")
    with pytest.raises(ModelFileError, match="is a digit model, not a text model"):
        text.score_text_file(sample, tmp_path / "digits.npz")
    with pytest.raises(ModelFileError, match="neither a file nor a shipped model"):
        text.score_text_file(sample, "no_such_model_name")


@pytest.mark.numeric
def test_parity_model_learns_quickly():
    model, summary = train_task("parity", hidden=3, length=12, steps=300, seed=0, progress=False)
    # 300 steps solve parity for some seeds only: measured 0.997, 1.0, 0.770, 0.814 for seeds 0-3
    # (Haswell and Prescott alike). >= 0.95 held for seed 0 by luck of the path; learned = well
    # above chance (0.5) on every seed measured
    assert summary["acc_train_length"] >= 0.7
    assert model.meta["task"] == "toy" and model.meta["toy_task"] == "parity"
    assert model.layers[1].hidden_size == 3 and model.layers[-1].out_features == 2


@pytest.mark.parametrize("how", ["plain", "descriptions", "reflow"])
def test_the_baseline_is_fitted_on_the_models_own_corpus(monkeypatch, how):
    """A prose model trained with the package descriptions, or with reflowed paragraphs, is
    judged against a 5-gram fitted on the same text (``meta.descriptions``, ``meta.reflow``),
    not on the corpus without them."""
    from explorer.data.corpora import Corpus

    asked = []
    texts = {"plain": "plain docstrings. " * 40, "descriptions": "a README with descriptions. " * 40,
             "reflow": "one long line of reflowed English, " * 40}

    def fake(name, split="train", max_chars=None, descriptions=False, reflow=False):
        asked.append((name, split, max_chars, descriptions, reflow))
        key = "descriptions" if descriptions else "reflow" if reflow else "plain"
        return Corpus(texts[key], ["x"], "fake", len(texts[key]))

    monkeypatch.setattr(text, "load_corpus", fake)
    meta = {"corpus": "prose", "train_chars_cap": 3_000_000, "vocab": Vocab.text().to_meta()}
    if how != "plain":
        meta[how] = True
    base = text.baseline_for(meta)
    assert asked == [("prose", "train", 3_000_000, how == "descriptions", how == "reflow")]
    assert base is not None
    own, other = texts[how], texts["plain" if how != "plain" else "reflow"]
    assert base.bits_per_char(own) < base.bits_per_char(other)
