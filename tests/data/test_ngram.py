"""Character n-gram baseline: normalised, matches a dict-based reference, orders behave."""

import math
from collections import Counter, defaultdict

import numpy as np
import pytest

from explorer.data.corpora import load_corpus
from explorer.data.ngram import NGramModel
from explorer.data.vocab import Vocab


@pytest.fixture(scope="module")
def code():
    return load_corpus("code", "train", max_chars=300_000), load_corpus("code", "valid", max_chars=40_000)


def test_probabilities_sum_to_one(code):
    model = NGramModel(5).fit(code[0].text)
    for ctx in ["", "d", "def f", "    return self.", "zqzq\x00", "é😀 x", "\n\n\n\n"]:
        p = model.next_char_probs(ctx)
        assert p.shape == (model.vocab.size,) and (p > 0).all()
        assert abs(p.sum() - 1.0) < 1e-6
    assert model.next_char_probs("    retur").argmax() == model.vocab.encode("n")[0]


def test_repetitive_text_is_cheap_random_text_is_not():
    rng = np.random.default_rng(0)
    chars = Vocab.text().chars
    repetitive = "the cat sat on the mat. " * 400
    random_text = "".join(chars[i] for i in rng.integers(0, len(chars), 10_000))
    rep = NGramModel(5).fit(repetitive).bits_per_char(repetitive[:2000])
    rnd = NGramModel(5).fit(random_text[:8000]).bits_per_char(random_text[8000:])
    assert rep < 0.2
    assert rnd > 6.0  # log2(97) = 6.6: nothing to learn


def test_order_five_beats_order_one_on_stdlib_code(code):
    train, valid = code
    b1 = NGramModel(1).fit(train.text).bits_per_char(valid.text)
    b5 = NGramModel(5).fit(train.text).bits_per_char(valid.text)
    assert 4.0 < b1 < 5.5
    assert b5 < b1 - 1.5


def _reference_kn(train: str, order: int, vocab: Vocab):
    """A direct dict-of-strings implementation of interpolated modified Kneser-Ney."""
    grams = [Counter() for _ in range(order + 1)]
    for m in range(1, order + 1):
        for i in range(len(train) - m + 1):
            grams[m][train[i : i + m]] += 1
    counts = [None] * (order + 1)
    counts[order] = grams[order]
    for m in range(1, order):
        counts[m] = Counter(g[1:] for g in grams[m + 1])  # distinct left neighbours
    tables = {}
    for m in range(1, order + 1):
        n = [sum(1 for c in counts[m].values() if c == r) for r in (1, 2, 3, 4)]
        y = n[0] / (n[0] + 2 * n[1]) if n[0] and n[1] else 0.5
        d = [1 - 2 * y * n[1] / n[0] if n[0] else 0.5,  # documented fallbacks for
             2 - 3 * y * n[2] / n[1] if n[1] else 1.0,  # empty count-of-counts
             3 - 4 * y * n[3] / n[2] if n[2] else 1.5]
        d = [min(max(v, 0.05), hi) for v, hi in zip(d, (0.95, 1.95, 2.95))]
        total, mass = defaultdict(float), defaultdict(float)
        for g, c in counts[m].items():
            total[g[:-1]] += c
            mass[g[:-1]] += d[min(c, 3) - 1]
        tables[m] = (d, total, mass)
    symbols = vocab.symbols

    def prob(history: str, w: str) -> float:
        p = 1.0 / len(symbols)
        for m in range(1, order + 1):
            if m - 1 > len(history):
                break
            h = history[len(history) - (m - 1) :] if m > 1 else ""
            d, total, mass = tables[m]
            if total[h] == 0:
                continue
            c = counts[m][h + w]
            disc = d[min(c, 3) - 1] if c else 0.0
            p = (max(c - disc, 0) + mass[h] * p) / total[h]
        return p

    return prob


def test_matches_a_dict_based_reference():
    rng = np.random.default_rng(1)
    words = ["alpha", "beta", "gamma", "delta", "(x)", "[y]", "\n", " ", "if ", "else: "]
    words += list("abcdefghijklmnopqrstuvwxyz0123456789")  # noise: every count-of-count > 0
    train = "".join(words[i] for i in rng.integers(0, len(words), 1500))
    test = "".join(words[i] for i in rng.integers(0, len(words), 60)) + "zeta!"
    vocab = Vocab.text()
    model = NGramModel(3, vocab).fit(train)
    prob = _reference_kn(train, 3, vocab)
    expected = [math.log2(prob(test[max(0, i - 2) : i], test[i])) for i in range(len(test))]
    np.testing.assert_allclose(model.log2_probs(test), expected, rtol=1e-9, atol=1e-12)


def test_misuse_is_reported():
    with pytest.raises(ValueError, match="order"):
        NGramModel(0)
    with pytest.raises(RuntimeError, match="fit"):
        NGramModel(3).bits_per_char("abc")
    with pytest.raises(ValueError, match="empty"):
        NGramModel(2).fit("abcabc").bits_per_char("")
