"""Vocab: round trips, the unknown symbol, meta, vectorised encoding."""

import json
import string

import numpy as np
import pytest

from explorer.data.vocab import UNKNOWN, Vocab, VocabError


def test_text_vocab_holds_printable_ascii_plus_unknown():
    v = Vocab.text()
    assert v.size == 98 and v.symbols[0] == UNKNOWN
    assert set(v.chars) == set(string.printable) - set("\x0b\x0c\r")


def test_round_trip_of_printable_text():
    v = Vocab.text()
    text = "def f(x):\n\treturn {'a': x ** 2}  # ok ~`|\\^\n"
    ids = v.encode(text)
    assert ids.dtype == np.int32 and ids.shape == (len(text),)
    assert (ids > 0).all()
    assert v.decode(ids) == text


@pytest.mark.parametrize("char", ["é", "😀", "\x00", "\r", "\x0b", "\x7f", "\ud800", "ß"])
def test_foreign_characters_map_to_unknown(char):
    v = Vocab.text()
    ids = v.encode(f"a{char}b")
    assert ids.tolist() == [v.encode("a")[0], 0, v.encode("b")[0]]
    assert v.decode(ids) == f"a{UNKNOWN}b"


def test_meta_round_trip_through_json():
    for v in (Vocab.text(), Vocab("()", unknown=False), Vocab("ab?", unknown=True)):
        again = Vocab.from_meta(json.loads(json.dumps(v.to_meta())))
        assert again == v and again.symbols == v.symbols


@pytest.mark.parametrize("bad", [None, [], {"chars": ""}, {"chars": 3},
                                 {"kind": "words", "chars": "ab"},
                                 {"chars": "aa"}, {"chars": "ab", "unknown": "yes"}])
def test_from_meta_rejects_malformed(bad):
    with pytest.raises(VocabError):
        Vocab.from_meta(bad)


def test_toy_alphabet_without_unknown():
    v = Vocab("()", unknown=False)
    assert v.size == 2
    assert v.encode("(()").tolist() == [0, 0, 1]
    with pytest.raises(VocabError, match="not in the alphabet"):
        v.encode("(x)")
    w = Vocab("()", unknown=True)
    assert w.encode("(x)").tolist() == [1, 0, 2]


def test_decode_rejects_out_of_range_ids():
    with pytest.raises(VocabError):
        Vocab("ab", unknown=False).decode([0, 2])


def test_100k_encode_matches_per_character_reference():
    rng = np.random.default_rng(0)
    pool = list(string.printable) + ["é", "😀", "\x00", "中"]
    text = "".join(pool[i] for i in rng.integers(0, len(pool), size=100_000))
    v = Vocab.text()
    ids = v.encode(text)
    assert ids.shape == (100_000,)
    index = {c: i for i, c in enumerate(v.symbols)}
    reference = np.array([index.get(c, 0) for c in text], dtype=np.int32)
    np.testing.assert_array_equal(ids, reference)


def test_encode_is_vectorised_not_a_python_loop(monkeypatch):
    # A per-character Python loop would call the lookup once per character; the table
    # path does a fixed number of numpy calls whatever the length.
    v = Vocab.text()
    calls = []
    real = np.frombuffer
    monkeypatch.setattr(np, "frombuffer", lambda *a, **k: calls.append(1) or real(*a, **k))
    v.encode("x" * 100_000)
    assert calls == [1]


def test_labels_make_whitespace_visible():
    v = Vocab.text()
    assert v.label(int(v.encode(" ")[0])) == "\u2423"
    assert v.label(int(v.encode("\n")[0])) == "\u23ce"
    assert v.label(0) == UNKNOWN and len(v.labels()) == v.size
