"""Char and toy transformers: training, reading a stream by the window rule (the same numbers
as the Sequence Lab's TransformerStream), score-text, and the Compare contender."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.data import tasks
from explorer.data.vocab import Vocab
from explorer.engine import Adam, load_model, log_softmax, save_model
from explorer.engine.stream import TransformerStream
from explorer.training import compare as C
from explorer.training import text_transformer as TT
from explorer.training.text import TextConfig, score_text_file, train_text
from explorer.training.text_models import chunk_bits, stream_bits_per_char, train_task


def small_model(seed=0, context=16, vocab=11):
    return TT.build_transformer(vocab, vocab, 8, 2, 2, 16, context, np.random.default_rng(seed)).eval()


def stream_bits(model, ids):
    """Bits of characters 1.. of one lane, read one position at a time by the stream."""
    out = TransformerStream(model).extend(ids[:-1], attn=False)
    logp = log_softmax(out.logits.astype(np.float64))
    return -logp[np.arange(len(ids) - 1), ids[1:]] / np.log(2)


def test_chunk_bits_carry_the_window_like_the_stream():
    model = small_model()
    lanes = np.random.default_rng(1).integers(0, 11, (3, 71))
    state, got = None, []
    for s in range(0, 70, 13):                      # chunks that cross window boundaries
        e = min(s + 13, 70)
        bits, state = chunk_bits(model, lanes[:, s:e], lanes[:, s + 1:e + 1], state)
        got.append(bits)
    got = np.concatenate(got, axis=1)
    for k in range(3):
        np.testing.assert_allclose(got[k], stream_bits(model, lanes[k]), atol=2e-4)
    arg, bits = TT.argmax_bits(model, lanes[0], chunk=9)
    np.testing.assert_allclose(bits, stream_bits(model, lanes[0]), atol=2e-4)


def test_predict_windows_equals_the_model_within_its_context():
    model = small_model()
    x = np.random.default_rng(2).integers(0, 11, (2, 16))
    np.testing.assert_allclose(TT.predict_windows(model, x), model.predict(x), atol=1e-6)
    assert TT.predict_windows(model, np.zeros((1, 40), np.int64)).shape == (1, 40, 11)


def test_sees_follows_the_window_rule():
    # context 8: position 12 is predicted from the window of 11, which starts at 4
    assert TT.sees(8, np.array([12, 12]), np.array([8, 9])).tolist() == [True, False]
    assert TT.sees(8, np.array([5]), np.array([5])).tolist() == [True]


def test_train_text_transformer_learns_and_is_reproducible(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("def f(x):\n    return (x + 1) * [x, 2]\n" * 400)
    cfg = TextConfig(corpus=str(corpus), cell="transformer", hidden=16, layers=1, heads=2,
                     context=32, steps=150, valid_chars=2000)
    m1, s1 = train_text(cfg, progress=False)
    m2, _ = train_text(cfg, progress=False)
    for k, v in m1.state_dict().items():
        np.testing.assert_array_equal(v, m2.state_dict()[k])
    assert s1["valid_bpc"] < 2.5 and s1["context"] == 32 and s1["ff"] == 48
    assert s1["batch_size"] == 16 and s1["clip"] == 1.0
    path = tmp_path / "t.npz"
    save_model(m1, path)
    res = score_text_file(corpus, str(path))            # small file: one lane, batch 1
    ids = Vocab.text().encode(corpus.read_text()).astype(np.int64)
    model = load_model(path)
    assert res["bits_per_char"] == pytest.approx(stream_bits(model, ids).mean(), rel=1e-4)
    assert stream_bits_per_char(model, ids, lanes=1)[0] == pytest.approx(res["bits_per_char"], rel=1e-4)


def test_a_width_the_heads_do_not_divide_is_a_user_error(tmp_path):
    from explorer.training.text import TrainingError
    corpus = tmp_path / "c.txt"
    corpus.write_text("abc " * 500)
    with pytest.raises(TrainingError, match="divisible"):
        train_text(TextConfig(corpus=str(corpus), cell="transformer", hidden=10, heads=4,
                              steps=1), progress=False)


def test_toy_transformer_recall_within_its_context():
    model, meta = train_task("recall", cell="transformer", steps=150, progress=False)
    assert meta["context"] == meta["train_length"] == tasks.get_task("recall").default_length
    assert meta["acc_train_length"] >= 0.95
    assert meta["acc_double_length"] <= 0.45         # the key is outside its window at 2x


def test_compare_transformer_is_key_blind_beyond_its_context():
    rng = np.random.default_rng(0)
    spec = tasks.get_task("recall")
    tr = C.make_transformer(len(spec.alphabet), spec.n_classes, rng)
    for d, blind in ((C.CONTEXT - 2, False), (C.CONTEXT + 2, True)):
        x, _ = tasks.make_sequences("recall", 1, d + 2, np.random.default_rng(3))
        x = np.repeat(x, spec.n_classes, axis=0)
        x[:, 0] = np.arange(spec.n_classes)
        out = tr.model.predict(tr.encode(x))
        same = np.abs(out - out[0]).max() < 1e-6
        assert same == blind
        g = C.input_influence(tr, x[:1], 1)
        assert g.shape == (d + 2,) and (g[0] == 0) == blind


def test_compare_transformer_learns_recall_where_the_cnn_cannot():
    d = C.receptive_field() + 8                      # beyond the CNN's field, within the context
    cnn, lstm, tr = C.train_recall_pair(d, seed=0, steps=250, transformer=True)
    xt, yt = C.balanced_test("recall", 200, d + 2, np.random.default_rng(9))
    assert C.accuracy(tr, xt, yt) >= 0.95
    assert C.accuracy(cnn, xt, yt) <= 0.40
    assert tr.train_seconds > 0
    assert 0.6 < tr.n_params / lstm.n_params < 1.3


def test_step_costs_shape():
    spec = tasks.get_task("recall")
    rng = np.random.default_rng(0)
    group = (C.make_cnn(len(spec.alphabet), spec.n_classes, 4, rng, global_pool=False),
             C.make_rnn(len(spec.alphabet), spec.n_classes, 4, rng),
             C.make_transformer(len(spec.alphabet), spec.n_classes, rng))
    sc = C.step_costs(group, lengths=(4, 40), repeats=3)
    assert sc["lengths"] == [4, 40]
    assert set(sc["ms"]) == set(sc["ms_windowed"]) == {"CNN", "LSTM", "Transformer"}
    assert all(len(v) == 2 and min(v) > 0 for v in sc["ms"].values())


def test_train_step_lowers_the_loss():
    model = small_model(context=8)
    model.train()
    opt = Adam(model.parameters(), lr=1e-2)
    x = np.tile(np.arange(8), (4, 1)) % 11
    y = (x + 1) % 11
    first = TT.train_step(model, x, y, opt, 1.0)
    for _ in range(30):
        last = TT.train_step(model, x, y, opt, 1.0)
    assert last < 0.5 * first
