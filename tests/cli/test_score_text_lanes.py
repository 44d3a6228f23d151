"""score-text on long files: lanes cut at newlines, read side by side, give exactly the bits
of scoring each lane alone from a fresh state with "\\n" as its first input."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.data.vocab import Vocab
from explorer.engine import load_model
from explorer.training import text
from explorer.training.text_models import chunk_bits


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, train_tiny_text):
    corpus = "".join(f"y{i % 6} = ({i % 11},)\n" for i in range(500))
    return train_tiny_text(tmp_path_factory.mktemp("lanes"), corpus, "lstm", 12, 3)


def test_lane_starts_follow_newlines_and_cover_the_file(tmp_path):
    body = "".join(f"line {i} caf\u00e9 \u20ac\r\n" for i in range(400)).encode("utf-8")
    path = tmp_path / "a.txt"
    path.write_bytes(body)
    starts = text.lane_starts(path, len(body), 7)
    assert len(starts) == 7 and starts[0] == (0, False)
    for b, after_newline in starts[1:]:
        assert after_newline and body[b - 1:b] == b"\n"
    one_line = tmp_path / "b.txt"                       # no newline at all: UTF-8 boundaries
    one_line.write_bytes("\u20ac".encode("utf-8") * 5000)
    for b, after_newline in text.lane_starts(one_line, 15000, 4)[1:]:
        assert not after_newline and b % 3 == 0


def test_lanes_equal_scoring_each_lane_alone(tiny_model, tmp_path, monkeypatch):
    body = "".join(f"y{i % 6} = ({i},)\r\n" for i in range(3000)) + "fin\u00e9"
    path = tmp_path / "long.py"
    path.write_bytes(body.encode("utf-8"))
    monkeypatch.setattr(text, "LANE_BYTES", 4000)
    monkeypatch.setattr(text, "READ_BYTES", 999)
    monkeypatch.setattr(text, "SCORE_STEPS", 37)
    result = text.score_text_file(path, tiny_model)
    assert result["lanes"] == min(text.MAX_LANES, path.stat().st_size // 4000) == 10
    norm = body.replace("\r\n", "\n")
    assert result["n_chars"] == len(norm) and result["n_scored"] == len(norm) - 1

    model, vocab = load_model(tiny_model), Vocab.text()
    raw = path.read_bytes()
    starts = [b for b, _ in text.lane_starts(path, len(raw), 10)] + [len(raw)]
    total = 0.0
    for k in range(len(starts) - 1):
        lane = raw[starts[k]:starts[k + 1]].decode("utf-8").replace("\r\n", "\n")
        ids = vocab.encode(("\n" if k else "") + lane)
        bits, _ = chunk_bits(model, ids[None, :-1], ids[None, 1:], None)
        total += float(bits.sum(dtype=np.float64))
    assert result["bits_per_char"] == pytest.approx(total / (len(norm) - 1), rel=1e-5)
    monkeypatch.setattr(text, "LANE_BYTES", 10**9)        # one lane: the old, exact stream
    single = text.score_text_file(path, tiny_model)
    assert single["lanes"] == 1 and single["n_scored"] == result["n_scored"]
    assert single["bits_per_char"] == pytest.approx(result["bits_per_char"], rel=0.05)
    assert single["baseline_bits_per_char"] == pytest.approx(result["baseline_bits_per_char"],
                                                             rel=0.01)
